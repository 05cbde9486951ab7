"""`township-desk import|export|template KIND …`: every registered import and export job.

    township-desk import KIND FILE [--dry-run] [--valid-only] [--errors OUT.xlsx] --user NAME
    township-desk export KIND OUT.xlsx [area options: --year, --village …] --user NAME
    township-desk template KIND OUT.xlsx

The kinds come from desktop/transfer/registry.py (imported only when one of these commands runs,
so `--help` stays quick). The areas' own commands (`residents import`,
`followups export` …) call the same functions below, so they print the same lines.
"""

from __future__ import annotations

import argparse
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.cli.registry import command
from desktop.cli.session import EXIT_FAILED, EXIT_OK, MAX_REASONS_SHOWN, USER_HELP, authenticate, open_data, say

if TYPE_CHECKING:  # the registry pulls in the core: imported when one of these commands runs
    from desktop.transfer.export_job import ExportSpec
    from desktop.transfer.import_job import ImportSpec

TRANSFER_RANK = 40
FORMATS = "表格文件（.xlsx、.xls、.xlsb、.ods 或 .csv）"


def add_import_arguments(parser: argparse.ArgumentParser) -> None:
    """FILE, --dry-run, --valid-only, --errors and --user: the same for every import."""
    parser.add_argument("file", help=FORMATS)
    parser.add_argument("--dry-run", action="store_true", help="只检查，不写入")
    parser.add_argument("--valid-only", action="store_true", help="只导入有效行（默认：全部成功才导入）")
    parser.add_argument("--errors", metavar="OUT.xlsx", help="把有错误的行写入该工作簿，修正后可再导入")
    parser.add_argument("--user", required=True, help=USER_HELP)


def add_export_arguments(parser: argparse.ArgumentParser, spec: ExportSpec) -> None:
    """OUT, the export's own options and --user."""
    parser.add_argument("out", help="输出文件（.xlsx）")
    for option in spec.options:
        parser.add_argument(f"--{option.name}", type=option.type, required=option.required, metavar=option.metavar,
                            help=option.help)
    parser.add_argument("--user", required=True, help=USER_HELP)


IMPORT_HELP = "从表格导入（最后一行：imported N, updated U, rejected R）"
EXPORT_HELP = "导出到 Excel"
TEMPLATE_HELP = "生成导入模板（空白 Excel 工作簿，含填写说明）"


def _add_import(commands) -> None:
    from desktop.transfer.registry import IMPORT_JOBS

    kinds = commands.add_parser("import", help=IMPORT_HELP).add_subparsers(dest="kind", metavar="KIND", required=True)
    for spec in IMPORT_JOBS:
        add_import_arguments(kinds.add_parser(spec.kind, help=f"导入{spec.label}"))


def _add_export(commands) -> None:
    from desktop.transfer.registry import EXPORT_JOBS

    kinds = commands.add_parser("export", help=EXPORT_HELP).add_subparsers(dest="kind", metavar="KIND", required=True)
    for spec in EXPORT_JOBS:
        add_export_arguments(kinds.add_parser(spec.kind, help=f"导出{spec.label}"), spec)


def _add_template(commands) -> None:
    from desktop.transfer.registry import template_jobs

    kinds = commands.add_parser("template", help=TEMPLATE_HELP).add_subparsers(dest="kind", metavar="KIND",
                                                                                required=True)
    for spec in template_jobs():
        kinds.add_parser(spec.kind, help=f"{spec.label}导入模板").add_argument("out", help="输出文件（.xlsx）")


def run_import(spec: ImportSpec, args: argparse.Namespace) -> int:
    """Sign in, run the import with progress, list the first rejected rows, write --errors, summarise."""
    from desktop.jobs import print_progress
    from desktop.transfer.import_job import ImportMode, write_error_workbook

    app = open_data(args)
    try:
        actor = authenticate(app, args.user)
        mode = ImportMode.VALID_ONLY if args.valid_only else ImportMode.ALL_OR_NOTHING
        job = spec.job(app.db, actor, Path(args.file), mode, dry_run=args.dry_run)
        result = job(abort=threading.Event(), progress=print_progress)
    finally:
        app.close()
    for rejected in result.rejected[:MAX_REASONS_SHOWN]:
        say(rejected.reason)
    if len(result.rejected) > MAX_REASONS_SHOWN:
        say(f"……另有 {len(result.rejected) - MAX_REASONS_SHOWN} 行有错误（完整清单请用 --errors 输出）。")
    if args.errors and result.rejected:
        say(f"错误清单已写入：{write_error_workbook(result, Path(args.errors))}")
    say(result.message())
    say(result.summary_line())
    return EXIT_FAILED if result.rejected and mode is ImportMode.ALL_OR_NOTHING else EXIT_OK


def run_export(spec: ExportSpec, args: argparse.Namespace) -> int:
    """Sign in and run the export with the options given; say where it went."""
    from desktop.jobs import print_progress

    app = open_data(args)
    try:
        actor = authenticate(app, args.user)
        options = {option.name: getattr(args, option.name) for option in spec.options}
        result = spec.run(app.db, actor, Path(args.out).resolve(), options, abort=threading.Event(),
                          progress=print_progress)
        say(result.message())
    finally:
        app.close()
    return EXIT_OK


def run_template(spec: ImportSpec, args: argparse.Namespace) -> int:
    """Write the blank template workbook (no data directory needed)."""
    assert spec.template is not None
    say(f"已生成{spec.label}导入模板：{spec.template(Path(args.out).resolve())}")
    return EXIT_OK


@command("import", add_parser=_add_import, rank=TRANSFER_RANK, help=IMPORT_HELP)
def cmd_import(args: argparse.Namespace) -> int:
    """Import a sheet of the chosen kind."""
    from desktop.transfer.registry import import_spec

    return run_import(import_spec(args.kind), args)


@command("export", add_parser=_add_export, rank=TRANSFER_RANK, help=EXPORT_HELP)
def cmd_export(args: argparse.Namespace) -> int:
    """Export the chosen kind to a workbook."""
    from desktop.transfer.registry import export_spec

    return run_export(export_spec(args.kind), args)


@command("template", add_parser=_add_template, rank=TRANSFER_RANK, help=TEMPLATE_HELP)
def cmd_template(args: argparse.Namespace) -> int:
    """Write the chosen import's template."""
    from desktop.transfer.registry import import_spec

    return run_template(import_spec(args.kind), args)
