"""`township-desk followups import|template|export|due` and `township-desk indicators`.

Registered by desktop/cli.py. Commands that touch data sign in with `--user` (password from
TOWNSHIP_DESK_PASSWORD), so permissions, village scope and the audit apply as in the window.
"""

from __future__ import annotations

import argparse
import json
import threading
from datetime import date
from pathlib import Path

from desktop.cli_session import EXIT_OK, authenticate, open_data, run_import, say

USER_HELP = "操作人用户名（密码取自环境变量 TOWNSHIP_DESK_PASSWORD）"


def add_followups_parsers(commands) -> None:  # commands: argparse._SubParsersAction
    """The `followups` command with its actions, and the `indicators` command."""
    followups = commands.add_parser("followups", help="慢病随访：导入历史随访、模板、导出、待随访名单")
    actions = followups.add_subparsers(dest="followups_command", metavar="ACTION", required=True)
    importing = actions.add_parser("import", help="从 Excel 导入历史随访（最后一行：imported N, updated U, rejected R）")
    importing.add_argument("file", help="Excel 工作簿（.xlsx）")
    importing.add_argument("--dry-run", action="store_true", help="只检查，不写入")
    importing.add_argument("--valid-only", action="store_true", help="只导入有效行（默认：全部成功才导入）")
    importing.add_argument("--errors", metavar="OUT.xlsx", help="把有错误的行写入该工作簿，修正后可再导入")
    importing.add_argument("--user", required=True, help=USER_HELP)
    template = actions.add_parser("template", help="生成历史随访导入模板")
    template.add_argument("out", help="输出文件（.xlsx）")
    exporting = actions.add_parser("export", help="导出一年的随访记录和管理对象到 Excel")
    exporting.add_argument("out", help="输出文件（.xlsx）")
    exporting.add_argument("--year", type=int, required=True, help="年度，例如 2025")
    exporting.add_argument("--village", metavar="CODE", help="只导出该村（3 位村代码）")
    exporting.add_argument("--user", required=True, help=USER_HELP)
    due = actions.add_parser("due", help="待随访、待体检名单（含逾期）")
    due.add_argument("--on", metavar="DATE", help="按哪一天计算（默认今天）")
    due.add_argument("--village", metavar="CODE", help="只看该村（3 位村代码）")
    due.add_argument("--json", action="store_true", help="每人一行 JSON")
    due.add_argument("--user", required=True, help=USER_HELP)

    indicators = commands.add_parser("indicators", help="管理指标（规范管理率、控制率、健康管理率）及明细")
    indicators.add_argument("--year", type=int, required=True, help="年度，例如 2025")
    indicators.add_argument("--village", metavar="CODE", help="只算该村（3 位村代码）")
    indicators.add_argument("--code", help="指标代码，例如 ht_control")
    indicators.add_argument("--list", action="store_true", help="列出该指标分母中的每个人、是否计入及原因（需 --code）")
    indicators.add_argument("--json", action="store_true", help="每项指标（或每人）一行 JSON")
    indicators.add_argument("--out", metavar="FILE.xlsx", help="把指标及明细导出到 Excel")
    indicators.add_argument("--user", required=True, help=USER_HELP)


def cmd_followups(args: argparse.Namespace) -> int:
    """Run the chosen `followups` action."""

    if args.followups_command == "template":
        return _template(args)
    app = open_data(args)
    try:
        actor = authenticate(app, args.user)
        action = {"import": _import, "export": _export, "due": _due}[args.followups_command]
        return action(app, actor, args)
    finally:
        app.close()


def cmd_indicators(args: argparse.Namespace) -> int:
    """Print (or export) a year's indicators, or one indicator's people."""

    app = open_data(args)
    try:
        return _indicators(app, authenticate(app, args.user), args)
    finally:
        app.close()


def _village_id(app, actor, code: str | None) -> int | None:
    from desktop.transfer.resident_export import village_filter

    return village_filter(app.db, actor, code).village_id if code else None


def _template(args: argparse.Namespace) -> int:
    from desktop.transfer.followup_template import followup_template

    say(f"已生成历史随访导入模板：{followup_template(Path(args.out).resolve())}")
    return EXIT_OK


def _import(app, actor, args: argparse.Namespace) -> int:
    from desktop.transfer.followup_import import FollowupImport
    from desktop.transfer.resident_import import ImportMode

    mode = ImportMode.VALID_ONLY if args.valid_only else ImportMode.ALL_OR_NOTHING
    job = FollowupImport(app.db, actor, Path(args.file), mode, dry_run=args.dry_run)
    return run_import(job, args)


def _export(app, actor, args: argparse.Namespace) -> int:
    from desktop.jobs import print_progress
    from desktop.transfer.followup_export import FollowupExport

    job = FollowupExport(app.db, actor, Path(args.out).resolve(), year=args.year,
                         village_id=_village_id(app, actor, args.village))
    say(job(abort=threading.Event(), progress=print_progress).message())
    return EXIT_OK


def _on(text: str | None) -> date:
    from desktop.clock import now
    from desktop.errors import UserFacingError
    from desktop.rules.dates import DateError, parse_date

    if not text:
        return now().date()
    try:
        return parse_date(text)
    except DateError as error:
        raise UserFacingError(f"--on {error}") from None


def _due(app, actor, args: argparse.Namespace) -> int:
    from desktop.services.due import due_list

    on = _on(args.on)
    listed = due_list(app.db, actor, on=on, village_id=_village_id(app, actor, args.village))
    for item in listed.items:
        late = item.days_overdue(on)
        if args.json:
            say(json.dumps({"record_no": item.record_no, "name": item.name, "village": item.village_name,
                             "kind": item.kind.value, "disease": item.disease.value if item.disease else None,
                             "due_on": item.due_on.isoformat(), "days_overdue": late}, ensure_ascii=False))
        else:
            what = f"{item.kind.label}（{item.disease.label}）" if item.disease else item.kind.label
            say(f"{item.record_no}  {item.name}  {item.village_name}  {what}  {item.due_on:%Y-%m-%d}"
                 + (f"  逾期 {late} 天" if late else ""))
    if not args.json:
        counts = "，".join(f"{kind.label} {due}（逾期 {late}）" for kind, (due, late) in listed.counts().items())
        say(f"截至 {on:%Y-%m-%d}：共 {len(listed.items)} 项。{counts}")
    return EXIT_OK


def _indicators(app, actor, args: argparse.Namespace) -> int:
    from desktop.errors import UserFacingError
    from desktop.services.indicators import DEFINITIONS, indicator_report

    if args.code is not None and args.code not in DEFINITIONS:
        raise UserFacingError(f"没有指标“{args.code}”。可用的指标代码：{'、'.join(DEFINITIONS)}。")
    if args.list and (args.code is None or not DEFINITIONS[args.code].has_people):
        with_people = "、".join(code for code, d in DEFINITIONS.items() if d.has_people)
        raise UserFacingError(f"--list 需要 --code，且该指标有人员明细（{with_people}）。")
    village_id = _village_id(app, actor, args.village)
    if args.out:
        return _indicators_out(app, actor, args, village_id)
    report = indicator_report(app.db, actor, args.year, village_id=village_id)
    if args.list:
        _people(report, args.code, as_json=args.json)
    else:
        _figures(report, args.code, as_json=args.json)
    return EXIT_OK


def _indicators_out(app, actor, args: argparse.Namespace, village_id: int | None) -> int:
    from desktop.jobs import print_progress
    from desktop.transfer.indicators_export import IndicatorsExport

    job = IndicatorsExport(app.db, actor, Path(args.out).resolve(), year=args.year, village_id=village_id)
    say(job(abort=threading.Event(), progress=print_progress).message())
    return EXIT_OK


def _figures(report, code: str | None, *, as_json: bool) -> None:
    from desktop.services.indicators import DEFINITIONS

    for each in ([code] if code else list(DEFINITIONS)):
        figure = report.branch(each)
        if as_json:
            say(json.dumps({"code": each, "name": figure.name, "numerator": figure.numerator,
                             "denominator": figure.denominator, "value": figure.value}, ensure_ascii=False))
        else:
            value = "—" if figure.value is None else f"{figure.value * 100:.1f}%"
            say(f"{figure.name}（{each}）：{figure.numerator} / {figure.denominator:g} = {value}")


def _people(report, code: str, *, as_json: bool) -> None:
    for verdict in sorted(report.people[code], key=lambda v: v.record_no):
        if as_json:
            say(json.dumps({"record_no": verdict.record_no, "name": verdict.name, "counted": verdict.counts,
                             "reason": verdict.reason}, ensure_ascii=False))
        else:
            say(f"{verdict.record_no}  {verdict.name}  {'计入' if verdict.counts else '未计入：' + (verdict.reason or '')}")
    if not as_json:
        counted = sum(v.counts for v in report.people[code])
        say(f"共 {len(report.people[code])} 人，计入 {counted} 人。")
