"""入户随访表: a door-to-door sheet per responsible doctor — who to visit, where, how to call, what is due.

Each doctor's people start on a new A4 page headed by the doctor's name; one table row per
person (姓名, 性别, 年龄, 住址, 联系电话, 应做事项) with an empty 结果/签名 column for the visit's
outcome and the resident's signature, written by hand at the door.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from itertools import groupby

from desktop.printing.draw import MARGIN, Cell, write
from desktop.printing.sheet import THICK, THIN, Sheet

TITLE = "入户随访表"
NO_DOCTOR = "未指定责任医生"
# (header, width in mm); the last column is left blank for the result and the resident's signature
COLUMNS = (("序号", 9.0), ("姓名", 18.0), ("性别", 9.0), ("年龄", 9.0), ("住址", 40.0), ("联系电话", 25.0),
           ("应做事项", 38.0), ("结果/签名", 38.0))
HEAD_TOP = 34.0
ROW_H = 11.0
HEAD_H = 8.0
FOOT_H = 10.0


@dataclass(frozen=True)
class DoorVisit:
    """One person to visit as printed (the phone already masked per role)."""

    doctor: str
    village: str
    record_no: str
    name: str
    sex: str
    age: str
    address: str
    phone: str
    what: str


def door_to_door_sheets(visits: Sequence[DoorVisit], *, subject: str, printed_on: date) -> list[Sheet]:
    """The sheets: one section (from a new page) per doctor, in the order the visits come, sorted by doctor."""
    ordered = sorted(visits, key=lambda v: (v.doctor == "", v.doctor, v.village, v.address, v.record_no))
    sheets: list[Sheet] = []
    for doctor, people in groupby(ordered, key=lambda v: v.doctor):
        sheets += _section(list(people), doctor=doctor or NO_DOCTOR, subject=subject, printed_on=printed_on)
    if not sheets:
        sheet = _page(subject=subject, doctor="", count=0, part=(1, 1), printed_on=printed_on)
        write(sheet, Cell(MARGIN, HEAD_TOP + 4, sheet.width - 2 * MARGIN, 10), "名单中没有人。", 11)
        sheets.append(sheet)
    return sheets


def _rows_per_page(sheet: Sheet) -> int:
    return int((sheet.height - MARGIN - FOOT_H - HEAD_TOP - HEAD_H) // ROW_H)


def _section(people: list[DoorVisit], *, doctor: str, subject: str, printed_on: date) -> list[Sheet]:
    per_page = _rows_per_page(Sheet())
    chunks = [people[i:i + per_page] for i in range(0, len(people), per_page)]
    sheets = []
    for part, chunk in enumerate(chunks, start=1):
        sheet = _page(subject=subject, doctor=doctor, count=len(people), part=(part, len(chunks)),
                      printed_on=printed_on)
        _table(sheet, chunk, first_number=(part - 1) * per_page + 1)
        sheets.append(sheet)
    return sheets


def _page(*, subject: str, doctor: str, count: int, part: tuple[int, int], printed_on: date) -> Sheet:
    sheet = Sheet()
    width = sheet.width - 2 * MARGIN
    write(sheet, Cell(MARGIN, 12, width, 10), TITLE, 16)
    write(sheet, Cell(MARGIN, 22, width, 6), subject, 9.5)
    if doctor:
        write(sheet, Cell(MARGIN, 28, width / 2, 6), f"责任医生：{doctor}（共 {count} 人）", 10.5, align="left", pad=0)
    write(sheet, Cell(MARGIN + width / 2, 28, width / 2, 6), f"打印日期：{printed_on:%Y-%m-%d}", 9, align="right", pad=0)
    bottom = sheet.height - MARGIN - FOOT_H
    write(sheet, Cell(MARGIN, bottom + 2, width / 2, 6), "随访医生签名：", 9.5, align="left", pad=0)
    write(sheet, Cell(MARGIN + width / 2, bottom + 2, width / 2, 6), f"第 {part[0]} / {part[1]} 页", 9,
          align="right", pad=0)
    return sheet


def _edges() -> list[float]:
    edges = [MARGIN]
    for _, width in COLUMNS:
        edges.append(edges[-1] + width)
    return edges


def _table(sheet: Sheet, people: Sequence[DoorVisit], *, first_number: int) -> None:
    edges = _edges()
    y = HEAD_TOP
    for (title, width), x in zip(COLUMNS, edges, strict=False):
        write(sheet, Cell(x, y, width, HEAD_H), title, 9.5)
    y += HEAD_H
    sheet.line(edges[0], y, edges[-1], y, THIN)
    for number, person in enumerate(people, start=first_number):
        values = (str(number), person.name, person.sex, person.age, person.address, person.phone, person.what, "")
        for (_, width), x, text in zip(COLUMNS, edges, values, strict=False):
            write(sheet, Cell(x, y, width, ROW_H), text, 8.5, align="left" if width >= 25 else "center")
        y += ROW_H
        sheet.line(edges[0], y, edges[-1], y, THIN)
    for x in edges[1:-1]:
        sheet.line(x, HEAD_TOP, x, y, THIN)
    sheet.rect(edges[0], HEAD_TOP, edges[-1] - edges[0], y - HEAD_TOP, THICK)
