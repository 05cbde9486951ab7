"""`township-desk residents import|export|search`: the registry from the command line.

Registered by desktop/cli.py. Every command signs in with `--user` (password from
TOWNSHIP_DESK_PASSWORD), so permissions, village scope and the audit apply as in the window.
"""

from __future__ import annotations

import argparse
import json
import threading
from pathlib import Path

from desktop.cli_session import EXIT_OK, authenticate, open_data, run_import, say


def add_residents_parser(commands) -> None:  # commands: argparse._SubParsersAction
    """The `residents` command and its three actions."""
    residents = commands.add_parser("residents", help="居民健康档案：导入、导出、查找")
    actions = residents.add_subparsers(dest="residents_command", metavar="ACTION", required=True)
    user_help = "操作人用户名（密码取自环境变量 TOWNSHIP_DESK_PASSWORD）"

    importing = actions.add_parser("import", help="从 Excel 花名册导入（最后一行：imported N, updated U, rejected R）")
    importing.add_argument("file", help="Excel 工作簿（.xlsx）")
    importing.add_argument("--dry-run", action="store_true", help="只检查，不写入")
    importing.add_argument("--valid-only", action="store_true", help="只导入有效行（默认：全部成功才导入）")
    importing.add_argument("--errors", metavar="OUT.xlsx", help="把有错误的行写入该工作簿，修正后可再导入")
    importing.add_argument("--user", required=True, help=user_help)

    exporting = actions.add_parser("export", help="导出居民名单到 Excel")
    exporting.add_argument("out", help="输出文件（.xlsx）")
    exporting.add_argument("--village", metavar="CODE", help="只导出该村（3 位村代码）")
    exporting.add_argument("--user", required=True, help=user_help)

    searching = actions.add_parser("search", help="查找居民（姓名、拼音首字母、身份证号后几位、档案编号、电话）")
    searching.add_argument("query", help="查找内容")
    searching.add_argument("--limit", type=int, default=20, help="最多显示几条（默认 20）")
    searching.add_argument("--json", action="store_true", help="每条结果输出一行 JSON")
    searching.add_argument("--user", required=True, help=user_help)


def cmd_residents(args: argparse.Namespace) -> int:
    """Run the chosen `residents` action."""

    app = open_data(args)
    try:
        actor = authenticate(app, args.user)
        action = {"import": _import, "export": _export, "search": _search}[args.residents_command]
        return action(app, actor, args)
    finally:
        app.close()


def _import(app, actor, args: argparse.Namespace) -> int:
    from desktop.transfer.resident_import import ImportMode, ResidentImport

    mode = ImportMode.VALID_ONLY if args.valid_only else ImportMode.ALL_OR_NOTHING
    job = ResidentImport(app.db, actor, Path(args.file), mode, dry_run=args.dry_run)
    return run_import(job, args)


def _export(app, actor, args: argparse.Namespace) -> int:
    from desktop.jobs import print_progress
    from desktop.services.resident_query import ResidentFilter
    from desktop.transfer.resident_export import ResidentExport, village_filter

    flt = village_filter(app.db, actor, args.village) if args.village else ResidentFilter(status=None)
    result = ResidentExport(app.db, actor, Path(args.out).resolve(), flt)(abort=threading.Event(),
                                                                           progress=print_progress)
    say(result.message())
    return EXIT_OK


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
