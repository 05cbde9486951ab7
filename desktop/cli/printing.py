"""`township-desk print FORM KEY --out FILE.pdf --user NAME [form options]`: any registered form, as a PDF file.

One sub-command per form of `desktop.printing.catalogue` (today `followup` and `self-care`), with
the form's own options. Signs in with `--user` (password from TOWNSHIP_DESK_PASSWORD), so the
permission, the village scope and the audit apply as in the window.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.cli.registry import command
from desktop.cli.session import authenticate, open_data, say

if TYPE_CHECKING:
    from desktop.printing.catalogue import PrintForm

EXIT_OK = 0


def add_print_parser(commands) -> None:  # commands: argparse._SubParsersAction
    """The `print` command with one action per registered form."""
    from desktop.printing.catalogue import registered_forms

    printing = commands.add_parser("print", help="打印表单（输出 PDF）")
    actions = printing.add_subparsers(dest="print_command", metavar="FORM", required=True)
    for form in registered_forms():
        _add_form_parser(actions, form)


def _add_form_parser(actions, form: PrintForm) -> None:  # actions: argparse._SubParsersAction
    """`print FORM KEY` with the form's options, then --out and --user."""
    parser = actions.add_parser(form.key, help=form.label)
    parser.add_argument("key", metavar=form.key_metavar, help=form.key_help)
    for option in form.options:
        parser.add_argument(option.flag, dest=option.name, required=option.required, type=option.parse,
                            choices=option.choices, metavar=option.metavar, help=option.help)
    parser.add_argument("--out", required=True, metavar="FILE.pdf", help="输出的 PDF 文件")
    parser.add_argument("--user", required=True, help="操作人用户名（密码取自环境变量 TOWNSHIP_DESK_PASSWORD）")


@command("print", add_parser=add_print_parser, help="打印表单（输出 PDF）")
def cmd_print(args: argparse.Namespace) -> int:
    """Build the PDF through the form registry and write it whole (never a half-written file)."""
    from desktop.printing.catalogue import get_form
    from desktop.printing.pdf import output_path, save_pdf

    form = get_form(args.print_command)
    options = {option.name: getattr(args, option.name) for option in form.options
               if getattr(args, option.name) is not None}
    target = output_path(Path(args.out))
    app = open_data(args)
    try:
        actor = authenticate(app, args.user)
        pdf = form.build(app.db, actor, args.key, **options)
        save_pdf(target, pdf)
    finally:
        app.close()
    say(f"已生成 {target}（{pdf.page_count} 页）")
    return EXIT_OK
