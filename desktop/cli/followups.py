"""`township-desk followups import|template|export|due` (`indicators` is in desktop/cli/indicators.py).

`import`, `template` and `export` are the same as `import|template|export followups`
(desktop/cli/transfer.py). Commands that touch data sign in with `--user` (password from
TOWNSHIP_DESK_PASSWORD), so permissions, village scope and the audit apply as in the window.
"""

from __future__ import annotations

import argparse
import json
from datetime import date

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
