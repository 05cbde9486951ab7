"""`township-desk residents import|export|search|status`: the registry from the command line.

`import` and `export` are the same as `import residents` and `export residents`
(desktop/cli/transfer.py). Every command signs in with `--user` (password from
TOWNSHIP_DESK_PASSWORD), so permissions, village scope and the audit apply as in the window.
"""

from __future__ import annotations

import argparse
import json

from desktop.cli.registry import command
from desktop.cli.session import EXIT_OK, USER_HELP, authenticate, open_data, say
from desktop.cli.transfer import add_export_arguments, add_import_arguments, run_export, run_import

RESIDENTS_HELP = "居民健康档案：导入、导出、查找、标记死亡或迁出"


def add_residents_parser(commands) -> None:  # commands: argparse._SubParsersAction
    """The `residents` command and its three actions."""
    from desktop.transfer.resident_export import RESIDENT_EXPORT

    residents = commands.add_parser("residents", help=RESIDENTS_HELP)
    actions = residents.add_subparsers(dest="residents_command", metavar="ACTION", required=True)
    add_import_arguments(actions.add_parser(
        "import", help="从花名册导入（同 import residents；最后一行：imported N, updated U, rejected R）"))
    add_export_arguments(actions.add_parser("export", help="导出居民名单到 Excel（同 export residents）"),
                         RESIDENT_EXPORT)
    searching = actions.add_parser("search", help="查找居民（姓名、拼音首字母、身份证号后几位、档案编号、电话）")
    searching.add_argument("query", help="查找内容")
    searching.add_argument("--limit", type=int, default=20, help="最多显示几条（默认 20）")
    searching.add_argument("--json", action="store_true", help="每条结果输出一行 JSON")
    searching.add_argument("--user", required=True, help=USER_HELP)
    _add_status_parser(actions)
    moves = actions.add_parser("moves", help="迁村申请：卫生院看待审批的申请，村医看自己申请的结果")
    moves.add_argument("--user", required=True, help=USER_HELP)


def _add_status_parser(actions) -> None:  # actions: argparse._SubParsersAction
    """`residents status RECORD_NUMBER --died|--moved-out|--active [--date DATE] [--note TEXT] --user NAME`."""
    status = actions.add_parser("status", help="标记死亡或迁出（同时结束其慢病管理），或误登记后恢复在册")
    status.add_argument("record_no", metavar="RECORD_NUMBER", help="健康档案编号（17 位）")
    which = status.add_mutually_exclusive_group(required=True)
    which.add_argument("--died", dest="new_status", action="store_const", const="deceased", help="标记死亡")
    which.add_argument("--moved-out", dest="new_status", action="store_const", const="moved_out", help="标记迁出")
    which.add_argument("--active", dest="new_status", action="store_const", const="active",
                       help="恢复在册（误登记时；须用 --note 说明原因）")
    status.add_argument("--date", help="死亡或迁出日期（如 2026-05-03 或 20260503）")
    status.add_argument("--note", default="", help="说明（恢复在册时为原因）")
    status.add_argument("--user", required=True, help=USER_HELP)


@command("residents", add_parser=add_residents_parser, rank=20, help=RESIDENTS_HELP)
def cmd_residents(args: argparse.Namespace) -> int:
    """Run the chosen `residents` action."""
    from desktop.transfer.resident_export import RESIDENT_EXPORT
    from desktop.transfer.resident_import import RESIDENT_IMPORT

    if args.residents_command == "import":
        return run_import(RESIDENT_IMPORT, args)
    if args.residents_command == "export":
        return run_export(RESIDENT_EXPORT, args)
    app = open_data(args)
    try:
        actor = authenticate(app, args.user)
        if args.residents_command == "status":
            return _status(app, actor, args)
        return _moves(app, actor) if args.residents_command == "moves" else _search(app, actor, args)
    finally:
        app.close()


def _status(app, actor, args: argparse.Namespace) -> int:
    from desktop.errors import ValidationError
    from desktop.rules.dates import DateError, parse_date
    from desktop.rules.population import ResidentStatus
    from desktop.services.life_events import resident_for_record
    from desktop.services.residents import set_status

    status = ResidentStatus(args.new_status)
    on = None
    if status is not ResidentStatus.ACTIVE:
        if not args.date:
            raise ValidationError.single("status_date", f"请用 --date 给出{status.label}日期。")
        try:
            on = parse_date(args.date)
        except DateError as error:
            raise ValidationError.single("status_date", f"--date：{error}") from None
    resident_id = resident_for_record(app.db, actor, args.record_no)
    saved = set_status(app.db, actor, resident_id, status, on=on, note=args.note)
    when = f"（{on:%Y-%m-%d}）" if on else ""
    say(f"{saved.record_no} 已标记为{status.label}{when}" + (f"，{saved.effect}" if saved.effect else "") + "。")
    return EXIT_OK


def _search(app, actor, args: argparse.Namespace) -> int:
    from desktop.errors import UserFacingError
    from desktop.rules.idnumbers import mask_id
    from desktop.rules.population import SEX_LABELS
    from desktop.services.resident_query import search, search_shown

    if not 1 <= args.limit <= 1000:
        raise UserFacingError("--limit 应在 1 到 1000 之间。")
    rows = search(app.db, actor, args.query, limit=args.limit)
    search_shown(app.db, actor, args.query, count=len(rows))
    for row in rows:
        masked = mask_id(row.id_number) if row.id_number else ""
        if args.json:
            say(json.dumps({"record_no": row.record_no, "name": row.name, "sex": SEX_LABELS.get(row.sex, row.sex),
                             "birth_date": row.birth_date.isoformat(), "village_code": row.village_code,
                             "village": row.village_name, "id_number": masked, "status": row.status},
                            ensure_ascii=False))
        else:
            say(f"{row.record_no}  {row.name}  {SEX_LABELS.get(row.sex, row.sex)}  {row.birth_date:%Y-%m-%d}  "
                 f"{row.village_code} {row.village_name}  {masked}")
    if not rows and not args.json:
        say("没有找到匹配的居民。")
    return EXIT_OK


def _moves(app, actor) -> int:
    from desktop.services.permissions import Permission
    from desktop.services.record_moves import my_move_requests, pending_moves

    if actor.can(Permission.DECIDE_RECORD_MOVES):
        pending = pending_moves(app.db, actor)
        for move in pending:
            say(f"待审批  {move.record_no}  {move.name}  {move.from_village}→{move.to_village}  "
                f"{move.requested_by}  {move.requested_at:%Y-%m-%d}  {move.reason}")
        if not pending:
            say("没有待审批的迁村申请。")
        return EXIT_OK
    requests = my_move_requests(app.db, actor)
    for request in requests:
        who = request.resident_name or request.id_number_masked
        say(f"{request.status.label}  {who}  迁入{request.to_village}  {request.requested_at:%Y-%m-%d}"
            + (f"  {request.decision_note}" if request.decision_note else ""))
    if not requests:
        say("您还没有提交过迁村申请。")
    return EXIT_OK
