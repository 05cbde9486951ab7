"""`township-desk residents import|export|search`: the registry from the command line.

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

RESIDENTS_HELP = "居民健康档案：导入、导出、查找"


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
        return _search(app, authenticate(app, args.user), args)
    finally:
        app.close()


def _search(app, actor, args: argparse.Namespace) -> int:
    from desktop.errors import UserFacingError
    from desktop.rules.idnumbers import mask_id
    from desktop.rules.population import SEX_LABELS
    from desktop.services.resident_query import search

    if not 1 <= args.limit <= 1000:
        raise UserFacingError("--limit 应在 1 到 1000 之间。")
    rows = search(app.db, actor, args.query, limit=args.limit)
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
