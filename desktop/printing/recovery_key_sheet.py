"""The recovery key on one page, to print and lock away (never saved by the app)."""

from __future__ import annotations

from datetime import date

from desktop.printing.sheet import THICK, Sheet

TITLE = "工作台恢复密钥"


def recovery_key_sheet(recovery_key: str, *, branch_name: str, printed_on: date) -> Sheet:
    """A4: the branch, the date, the key in large digits and what it is for."""
    sheet = Sheet()
    sheet.text(20, 30, f"{TITLE}（{branch_name}）", 18)
    sheet.text(20, 40, f"打印日期：{printed_on:%Y-%m-%d}", 10)
    sheet.rect(15, 50, 180, 30, THICK)
    groups = recovery_key.split("-")
    sheet.text(22, 63, "  ".join(groups[:4]), 20)
    sheet.text(22, 75, "  ".join(groups[4:]), 20)
    lines = (
        "本机密钥文件丢失、重装系统或换电脑时，只有用这串恢复密钥才能打开数据库备份：",
        "township-desk restore 备份文件 --recovery-key 恢复密钥",
        "请交院长或管理员锁柜保管，不要与电脑或备份 U 盘放在一起，不要拍照或存入电脑。",
        "更换密钥（township-desk key rotate）后，这张纸只对更换前的备份有效。",
    )
    for number, line in enumerate(lines):
        sheet.text(20, 95 + number * 8, line, 10)
    return sheet
