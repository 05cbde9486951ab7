"""The 健康档案封面 and the 个人基本信息表 on A4, in the layout of the national forms.

Each question lists its options small, with the chosen code written into the box (or boxes,
for multiple choices) at the right of the row, as on the paper form. Nothing here reads the
database: `profile_print.py` loads the record into `CoverRecord` and `ProfileRecord`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from desktop.printing.draw import BOX, MARGIN, PAD, Cell, box, code_box, digit_boxes, form_header, write
from desktop.printing.sheet import THICK, THIN, Sheet
from desktop.rules.profile import (
    BLOOD_TYPES,
    DISABILITIES,
    DRUG_ALLERGIES,
    EDUCATION,
    EXPOSURES,
    FAMILY_DISEASES,
    FAMILY_MEMBERS,
    LIVING_ENVIRONMENT,
    MARITAL_STATUSES,
    OCCUPATIONS,
    PAST_DISEASES,
    PAYMENT_METHODS,
    RESIDENCE_TYPES,
    RH_TYPES,
    CodeTable,
    HistoryEntry,
    Profile,
)

COVER_TITLE = "居民健康档案"
TITLE = "个人基本信息表"
LABEL_W = 24.0
COVER_RULE = 0.4
SLASH_W = 2.2  # the "/" between the boxes of a multiple choice
DISEASE_SLOTS, OTHER_SLOTS, FAMILY_SLOTS = 6, 2, 6
SEX_OPTIONS = "0未知的性别  1男  2女  9未说明的性别"


@dataclass(frozen=True)
class CoverRecord:
    """What the cover shows: the number, the person, where they live, who opened the record and when."""

    record_no: str
    name: str
    address: str
    household_address: str
    phone: str
    township: str
    village: str
    unit: str
    registered_by: str
    doctor: str
    registered_on: date


@dataclass(frozen=True)
class ProfileRecord:
    """The 个人基本信息表's identity part and the checked profile."""

    name: str
    record_no: str
    sex: str
    birth_date: date
    id_number: str
    ethnicity: str
    phone: str
    profile: Profile


def _options(table: CodeTable) -> str:
    """The options as the paper lists them; a line breaks only between options."""
    return "  ".join(f"{code}{label}" for code, label in table.items())


# ----- the cover


def cover_sheet(record: CoverRecord) -> Sheet:
    """The 健康档案封面: 编号 in 17 boxes, the title, then the lines of who and where."""
    sheet = Sheet()
    width = sheet.width - 2 * MARGIN
    side, gap = 6.0, 3.2
    boxes_w = 17 * side + 3 * gap
    x = MARGIN + (width - boxes_w) / 2 + 8
    write(sheet, Cell(x - 16, 40, 15, side), "编号", 12, align="right", pad=0)
    digit_boxes(sheet, x, 40, record.record_no, groups=(6, 3, 3, 5), side=side, size=12)
    write(sheet, Cell(MARGIN, 66, width, 26), COVER_TITLE, 40)
    lines = (("姓名", record.name), ("现住址", record.address), ("户籍地址", record.household_address),
             ("联系电话", record.phone), ("乡镇（街道）名称", record.township), ("村（居）委会名称", record.village))
    y = 120.0
    for label, value in lines:
        y = _cover_line(sheet, y, label, value)
    y += 18
    day = record.registered_on
    for label, value in (("建档单位", record.unit), ("建档人", record.registered_by), ("责任医生", record.doctor),
                         ("建档日期", f"{day.year} 年 {day.month} 月 {day.day} 日")):
        y = _cover_line(sheet, y, label, value)
    return sheet


def _cover_line(sheet: Sheet, y: float, label: str, value: str) -> float:
    """A label and its value written on an underline, as on the printed cover."""
    left, label_w, right = MARGIN + 22, 42.0, sheet.width - MARGIN - 22
    write(sheet, Cell(left, y, label_w, 9), f"{label}：", 14, align="right", pad=0)
    write(sheet, Cell(left + label_w + 2, y, right - left - label_w - 2, 9), value, 14, align="left", pad=1)
    sheet.line(left + label_w + 2, y + 9, right, y + 9, COVER_RULE)
    return y + 14


# ----- the 个人基本信息表


class _Table:
    """Rows of (label | content) down the page with ruled lines; content cells are drawn by the caller."""

    def __init__(self, sheet: Sheet, top: float) -> None:
        self.sheet, self.top, self.y = sheet, top, top
        self.left, self.right = MARGIN, sheet.width - MARGIN

    def row(self, label: str, height: float, *, label_w: float = LABEL_W) -> Cell:
        """A full-width row: the label cell, and the content cell returned."""
        write(self.sheet, Cell(self.left, self.y, label_w, height), label, 9)
        self.sheet.line(self.left + label_w, self.y, self.left + label_w, self.y + height, THIN)
        content = Cell(self.left + label_w, self.y, self.right - self.left - label_w, height)
        self._close(height)
        return content

    def pair(self, height: float, *parts: tuple[str, float]) -> list[Cell]:
        """A row of several (label, share of the width) parts; their content cells."""
        cells, x, total = [], self.left, self.right - self.left
        for index, (label, share) in enumerate(parts):
            w = total * share
            label_w = LABEL_W if index == 0 else min(LABEL_W, max(16.0, w * 0.32))
            write(self.sheet, Cell(x, self.y, label_w, height), label, 9)
            if index:
                self.sheet.line(x, self.y, x, self.y + height, THIN)
            self.sheet.line(x + label_w, self.y, x + label_w, self.y + height, THIN)
            cells.append(Cell(x + label_w, self.y, w - label_w, height))
            x += w
        self._close(height)
        return cells

    def group(self, label: str, rows: Sequence[tuple[str, float]], draw: Callable[[int, Cell], None]) -> None:
        """A label spanning several sub-rows, each with its own small label (既往史, 家族史, 生活环境)."""
        top, sub_w = self.y, 16.0
        for index, (sub, height) in enumerate(rows):
            x = self.left + LABEL_W
            write(self.sheet, Cell(x, self.y, sub_w, height), sub, 8.5)
            self.sheet.line(x + sub_w, self.y, x + sub_w, self.y + height, THIN)
            draw(index, Cell(x + sub_w, self.y, self.right - x - sub_w, height))
            self.y += height
            line_left = self.left if index == len(rows) - 1 else x
            self.sheet.line(line_left, self.y, self.right, self.y, THIN)
        write(self.sheet, Cell(self.left, top, LABEL_W, self.y - top), label, 9)
        self.sheet.line(self.left + LABEL_W, top, self.left + LABEL_W, self.y, THIN)

    def _close(self, height: float) -> None:
        self.y += height
        self.sheet.line(self.left, self.y, self.right, self.y, THIN)

    def frame(self) -> None:
        self.sheet.rect(self.left, self.top, self.right - self.left, self.y - self.top, THICK)


def code_boxes(sheet: Sheet, cell: Cell, options: str, codes: Sequence[str], count: int,
               size: float = 7.5) -> None:
    """The options, then `count` boxes joined by “/” at the right holding the chosen codes in order."""
    boxes_w = count * BOX + (count - 1) * SLASH_W
    x = cell.right - PAD - boxes_w
    write(sheet, Cell(cell.x, cell.y, x - cell.x - 1, cell.h), options, size, align="left", min_size=4.5)
    y = cell.y + (cell.h - BOX) / 2
    for index in range(count):
        box(sheet, x, y, codes[index] if index < len(codes) else "", size=6.5)
        x += BOX
        if index < count - 1:
            write(sheet, Cell(x, y, SLASH_W, BOX), "/", 8, pad=0)
            x += SLASH_W


def _single(sheet: Sheet, cell: Cell, table: CodeTable, code: str | None, extra: str = "") -> None:
    code_box(sheet, cell, _options(table) + extra, code, 7.5)


def _with_other(table: CodeTable, other: str | None) -> str:
    return _options(table) + (f"：{other}" if other else "＿＿＿＿")


def profile_sheet(record: ProfileRecord) -> Sheet:
    """The 个人基本信息表 on one A4 page."""
    sheet = Sheet()
    form_header(sheet, TITLE, record.name, record.record_no)
    table = _Table(sheet, 33.0)
    _identity(sheet, table, record)
    _choices(sheet, table, record.profile)
    _past_history(sheet, table, record.profile)
    _family(sheet, table, record.profile)
    _remaining(sheet, table, record.profile)
    table.frame()
    return sheet


def _identity(sheet: Sheet, table: _Table, record: ProfileRecord) -> None:
    p, birth = record.profile, record.birth_date
    sex, born = table.pair(8, ("性别", 0.5), ("出生日期", 0.5))
    code_box(sheet, sex, SEX_OPTIONS, record.sex, 7.5)
    write(sheet, born, f"{birth.year} 年 {birth.month:02d} 月 {birth.day:02d} 日", 10, align="left")
    number, unit = table.pair(8, ("身份证号", 0.5), ("工作单位", 0.5))
    write(sheet, number, record.id_number, 10, align="left")
    write(sheet, unit, p.work_unit or "", 9, align="left")
    phone, contact, contact_phone = table.pair(8, ("本人电话", 0.34), ("联系人姓名", 0.3), ("联系人电话", 0.36))
    write(sheet, phone, record.phone, 10, align="left")
    write(sheet, contact, p.contact_name or "", 10, align="left")
    write(sheet, contact_phone, p.contact_phone or "", 10, align="left")
    residence, ethnic = table.pair(8, ("常住类型", 0.5), ("民族", 0.5))
    _single(sheet, residence, RESIDENCE_TYPES, p.residence_type)
    han = record.ethnicity == "汉族"
    minority = "" if han or not record.ethnicity else f"：{record.ethnicity}"
    code_box(sheet, ethnic, f"01汉族  99少数民族{minority}", ("01" if han else "99") if record.ethnicity else None,
             7.5)
    blood = table.row("血型", 8)
    code_boxes(sheet, blood, f"{_options(BLOOD_TYPES)}    / RH：{_options(RH_TYPES)}",
               [p.blood_type or "", p.rh or ""], 2)


def _choices(sheet: Sheet, table: _Table, p: Profile) -> None:
    _single(sheet, table.row("文化程度", 10), EDUCATION, p.education)
    _single(sheet, table.row("职业", 13), OCCUPATIONS, p.occupation)
    _single(sheet, table.row("婚姻状况", 8), MARITAL_STATUSES, p.marital_status)
    code_boxes(sheet, table.row("医疗费用\n支付方式", 12), _with_other(PAYMENT_METHODS, p.payment_other),
               p.payment_methods, 3)
    code_boxes(sheet, table.row("药物过敏史", 8), _with_other(DRUG_ALLERGIES, p.drug_allergy_other),
               p.drug_allergies, 4)
    code_boxes(sheet, table.row("暴露史", 8), _options(EXPOSURES), p.exposures, 3)


def _past_history(sheet: Sheet, table: _Table, p: Profile) -> None:
    history = p.past_history
    rows = [("疾病", 26.0), ("手术", 9.0), ("外伤", 9.0), ("输血", 9.0)]

    def draw(index: int, cell: Cell) -> None:
        kind = ("diseases", "operations", "traumas", "transfusions")[index]
        entries = history.get(kind)
        if kind == "diseases":
            _diseases(sheet, cell, entries)
        else:
            _events(sheet, cell, kind, entries)

    table.group("既\n往\n史", rows, draw)


def _month(day: date | None) -> str:
    return f"{day.year} 年 {day.month} 月" if day else "    年    月"


def _diseases(sheet: Sheet, cell: Cell, entries: tuple[HistoryEntry, ...] | None) -> None:
    """The disease list, then six slots: the code in its box and the 确诊时间 (and the name where asked)."""
    options = _options(PAST_DISEASES).replace("6恶性肿瘤", "6恶性肿瘤＿＿").replace("12职业病", "12职业病＿＿")
    top, slots = Cell(cell.x, cell.y, cell.w, 10), Cell(cell.x, cell.y + 10, cell.w, cell.h - 10)
    write(sheet, top, options, 7.5, align="left", min_size=4.5)
    shown = list(entries or ())
    if entries == ():
        shown = [HistoryEntry("", None, "1")]
    slot_w, slot_h = slots.w / 3, slots.h / 2
    for index in range(DISEASE_SLOTS):
        x, y = slots.x + (index % 3) * slot_w, slots.y + (index // 3) * slot_h
        entry = shown[index] if index < len(shown) else None
        box(sheet, x + PAD, y + (slot_h - BOX) / 2, entry.code or "" if entry else "", size=6.5)
        when = _month(entry.day) if entry and entry.code != "1" else "    年    月"
        named = f"{entry.name} " if entry and entry.name else ""
        write(sheet, Cell(x + PAD + BOX + 0.5, y, slot_w - BOX - 2 * PAD, slot_h), f"{named}确诊时间 {when}", 7.5,
              align="left", min_size=4.5)
    if len(shown) > DISEASE_SLOTS:
        write(sheet, Cell(slots.right - 30, slots.bottom - 4, 30, 4), f"另有 {len(shown) - DISEASE_SLOTS} 项见附页", 6,
              align="right", pad=0.3)


def _events(sheet: Sheet, cell: Cell, kind: str, entries: tuple[HistoryEntry, ...] | None) -> None:
    """1 无 2 有: two names (or reasons) with their dates, and the box at the right."""
    what = "原因" if kind == "transfusions" else "名称"
    shown = list(entries or ())
    parts = []
    for index in range(OTHER_SLOTS):
        entry = shown[index] if index < len(shown) else None
        name = entry.name if entry else "＿＿＿＿"
        parts.append(f"{what}{'①②'[index]} {name}  时间 {_month(entry.day if entry else None)}")
    code = None if entries is None else ("2" if shown else "1")
    code_box(sheet, cell, "1无  2有：" + "    ".join(parts), code, 7.5)


def _family(sheet: Sheet, table: _Table, p: Profile) -> None:
    members = list(FAMILY_MEMBERS.items())
    option_h, member_h = 10.0, 8.0
    rows = [("", option_h), ("", member_h), ("", member_h)]

    def draw(index: int, cell: Cell) -> None:
        if index == 0:
            other = f"：{p.family_other}" if p.family_other else "＿＿＿＿"
            write(sheet, cell, _options(FAMILY_DISEASES) + other, 7.5, align="left", min_size=4.5)
            return
        for half, (member, label) in zip(cell.split_h(0.5, 0.5), members[2 * (index - 1):2 * index], strict=True):
            write(sheet, Cell(half.x, half.y, 16, half.h), label, 8.5)
            code_boxes(sheet, Cell(half.x + 16, half.y, half.w - 16, half.h), "",
                       p.family_history.get(member, ()), FAMILY_SLOTS)

    table.group("家族史", rows, draw)


def _remaining(sheet: Sheet, table: _Table, p: Profile) -> None:
    genetic = p.genetic_disease
    code = None if genetic is None else ("1" if genetic == "无" else "2")
    name = genetic if genetic and genetic != "无" else "＿＿＿＿＿＿"
    code_box(sheet, table.row("遗传病史", 8), f"1无  2有：疾病名称 {name}", code, 7.5)
    code_boxes(sheet, table.row("残疾情况", 10), _with_other(DISABILITIES, p.disability_other), p.disabilities, 6)
    rows = [(label, 7.5) for label, _ in LIVING_ENVIRONMENT.values()]
    items = list(LIVING_ENVIRONMENT)

    def draw(index: int, cell: Cell) -> None:
        item = items[index]
        _single(sheet, cell, LIVING_ENVIRONMENT[item][1], p.living_environment.get(item))

    table.group("生活环境*", rows, draw)
    write(sheet, Cell(MARGIN, table.y + 1.5, sheet.width - 2 * MARGIN, 5),
          "* 农村地区在建立居民健康档案时需根据实际情况选择填写此项。", 7.5, align="left", pad=0)


def profile_sheets(cover: CoverRecord, record: ProfileRecord) -> list[Sheet]:
    """The cover, then the 个人基本信息表."""
    return [cover_sheet(cover), profile_sheet(record)]

