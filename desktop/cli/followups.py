"""`township-desk followups import|template|export|due` and `township-desk indicators`.

`import`, `template` and `export` are the same as `import|template|export followups`
(desktop/cli/transfer.py). Commands that touch data sign in with `--user` (password from
TOWNSHIP_DESK_PASSWORD), so permissions, village scope and the audit apply as in the window.
"""

from __future__ import annotations

import argparse
import json
import threading
from datetime import date
from pathlib import Path

from desktop.cli.registry import command
from desktop.cli.session import EXIT_OK, USER_HELP, authenticate, open_data, say
from desktop.cli.transfer import add_export_arguments, add_import_arguments, run_export, run_import, run_template

FOLLOWUPS_RANK = 30
FOLLOWUPS_HELP = "慢病随访：导入历史随访、模板、导出、待随访名单"


def add_followups_parser(commands) -> None:  # commands: argparse._SubParsersAction
    """The `followups` command with its actions."""
    from desktop.transfer.followup_export import FOLLOWUP_EXPORT

    followups = commands.add_parser("followups", help=FOLLOWUPS_HELP)
    actions = followups.add_subparsers(dest="followups_command", metavar="ACTION", required=True)
    add_import_arguments(actions.add_parser(
        "import", help="导入历史随访（同 import followups；最后一行：imported N, updated U, rejected R）"))
    template = actions.add_parser("template", help="生成历史随访导入模板（同 template followups）")
    template.add_argument("out", help="输出文件（.xlsx）")
    add_export_arguments(actions.add_parser("export", help="导出一年的随访记录和管理对象到 Excel（同 export followups）"),
                         FOLLOWUP_EXPORT)
    due = actions.add_parser("due", help="待随访、待体检名单（含逾期）")
    due.add_argument("--on", metavar="DATE", help="按哪一天计算（默认今天）")
    due.add_argument("--village", metavar="CODE", help="只看该村（3 位村代码）")
    due.add_argument("--json", action="store_true", help="每人一行 JSON")
    due.add_argument("--user", required=True, help=USER_HELP)


def add_indicators_parser(commands) -> None:  # commands: argparse._SubParsersAction
    """The `indicators` command."""
    indicators = commands.add_parser("indicators", help="管理指标（规范管理率、控制率、健康管理率）及明细")
    indicators.add_argument("--year", type=int, required=True, help="年度，例如 2025")
    indicators.add_argument("--village", metavar="CODE", help="只算该村（3 位村代码）")
    indicators.add_argument("--code", help="指标代码，例如 ht_control")
    indicators.add_argument("--list", action="store_true", help="列出该指标分母中的每个人、是否计入及原因（需 --code）")
    indicators.add_argument("--json", action="store_true", help="每项指标（或每人）一行 JSON")
    indicators.add_argument("--out", metavar="FILE.xlsx", help="把指标及明细导出到 Excel")
    indicators.add_argument("--user", required=True, help=USER_HELP)


@command("followups", add_parser=add_followups_parser, rank=FOLLOWUPS_RANK, help=FOLLOWUPS_HELP)
def cmd_followups(args: argparse.Namespace) -> int:
    """Run the chosen `followups` action."""
    from desktop.transfer.followup_export import FOLLOWUP_EXPORT
    from desktop.transfer.followup_import import FOLLOWUP_IMPORT

    if args.followups_command == "template":
        return run_template(FOLLOWUP_IMPORT, args)
    if args.followups_command == "import":
        return run_import(FOLLOWUP_IMPORT, args)
    if args.followups_command == "export":
        return run_export(FOLLOWUP_EXPORT, args)
    app = open_data(args)
    try:
        return _due(app, authenticate(app, args.user), args)
    finally:
        app.close()


@command("indicators", add_parser=add_indicators_parser, rank=FOLLOWUPS_RANK)
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
                             "due_on": item.due_on.isoformat(), "days_overdue": late, "phone": item.phone,
                             "address": item.address}, ensure_ascii=False))
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
