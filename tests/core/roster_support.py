"""Rosters as county offices send them, built with openpyxl for the import tests (no Qt)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook

from desktop.rules.idnumbers import make_id

DEMO_COUNTY = "341522"
TITLE = "青山镇居民健康档案花名册（2026年3月）"
# Row 2: 姓名 and 身份证号码 merged down over row 3; 基本信息 and 重点人群 merged across their columns.
TOP = ("序号", "姓名", "身份证号码", "基本信息", None, "联系电话", "所属村", "重点人群", None, "备注")
SUB = (None, None, None, "性别", "出生日期", None, None, "高血压", "糖尿病", None)
FIRST_DATA_ROW = 4


def id_for(birth: str, sequence: int) -> str:
    """A valid demo-county ID number (odd sequence: male)."""
    return make_id(DEMO_COUNTY, date.fromisoformat(birth), sequence)


def x_id() -> str:
    """A valid demo-county ID number whose check character is X."""
    return next(number for s in range(1, 999) if (number := id_for("1961-07-15", s)).endswith("X"))


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def write_roster(path: Path, rows: list[tuple], *, blank_after: tuple[int, ...] = ()) -> Path:
    """A sheet with a title row, a merged two-row header and `rows` (10 values each, 序号 first).

    A blank row follows the data rows whose positions are listed in `blank_after`.
    """
    book = Workbook()
    sheet = book.active
    sheet.title = "花名册"
    sheet.append([TITLE])
    sheet.merge_cells("A1:J1")
    sheet.append(list(TOP))
    sheet.append(list(SUB))
    for column in "ABCFGJ":
        sheet.merge_cells(f"{column}2:{column}3")
    sheet.merge_cells("D2:E2")
    sheet.merge_cells("H2:I2")
    for position, row in enumerate(rows):
        sheet.append(list(row))
        if position in blank_after:
            sheet.append([None] * 10)
    book.save(path)
    return path


def good_rows() -> list[tuple]:
    """Five acceptable rows in five different shapes (Excel rows 4-8 without blank rows).

    王建国's old 15-digit ID is stored as a number (exact: 15 digits fit a double).
    """
    return [
        (1, "张 三丰", full_width(id_for("1955-03-02", 11)), "男", "1955.3.2", 13800138000, "101", "2019-05-01", "是", ""),
        (2, "李秀兰", "'" + id_for("1948-11-20", 22), "", datetime(1948, 11, 20), "139 0000 1111", "柳树村",
         None, "2020年1月5日", None),
        (3, "王建国", 341522620109033, "男", "19620109", None, "青山社区", None, None, "户籍在外"),
        (4, "赵桂英", "", "女", 20150, "", 101, "", "", "无身份证"),  # born 1955-03-02, as an Excel serial
        (5, "解放", x_id(), "", "1961年7月15日", "", "桃园村", "", "", None),
    ]
