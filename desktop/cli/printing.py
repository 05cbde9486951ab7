"""`township-desk print followup`: a patient's follow-up record forms for a year, as a PDF file.

Registered in desktop/cli/registry.py. Signs in with `--user` (password from TOWNSHIP_DESK_PASSWORD), so
the permission, the village scope and the audit apply as in the window.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from desktop.cli.registry import command
from desktop.cli.session import authenticate, open_data, say

EXIT_OK = 0
DISEASES = ("hypertension", "diabetes")


def add_print_parser(commands) -> None:  # commands: argparse._SubParsersAction
    """The `print` command and its `followup` action."""
    printing = commands.add_parser("print", help="打印表单（输出 PDF）")
    actions = printing.add_subparsers(dest="print_command", metavar="FORM", required=True)
    followup = actions.add_parser("followup", help="高血压或2型糖尿病患者随访服务记录表（每页 4 次随访）")
    followup.add_argument("record_no", metavar="RECORD_NUMBER", help="17 位健康档案编号")
    followup.add_argument("--disease", required=True, choices=DISEASES, help="hypertension（高血压）或 diabetes（2型糖尿病）")
    followup.add_argument("--year", required=True, type=int, help="年度，例如 2025")
    followup.add_argument("--out", required=True, metavar="FILE.pdf", help="输出的 PDF 文件")
    followup.add_argument("--user", required=True, help="操作人用户名（密码取自环境变量 TOWNSHIP_DESK_PASSWORD）")


@command("print", add_parser=add_print_parser)
def cmd_print(args: argparse.Namespace) -> int:
    """Build the PDF through the core and write it whole (never a half-written file)."""
    from desktop.printing.pdf import output_path, save_pdf
    from desktop.printing.service import followup_sheets_pdf

    target = output_path(Path(args.out))
    app = open_data(args)
    try:
        actor = authenticate(app, args.user)
        pdf = followup_sheets_pdf(app.db, actor, args.record_no, args.disease, args.year)
        save_pdf(target, pdf)
    finally:
        app.close()
    say(f"已生成 {target}（{pdf.page_count} 页）")
    return EXIT_OK
