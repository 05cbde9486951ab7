"""Reading rosters as county offices send them: find the header, map columns, stream the rows.

The file itself is read by desktop/transfer/sheets.py (.xlsx, .xls, .xlsb, .ods, .csv).

A roster may have title rows above the header, a two-row header with merged group cells
(基本信息 over 姓名/性别 …, 重点人群 over 高血压/糖尿病), columns in any order and blank rows.
Columns are matched by header synonyms; everything not recognised is listed, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import Any, Self

from desktop.errors import UserFacingError
from desktop.rules.population import KeyPopulation
from desktop.rules.text import squeeze
from desktop.transfer.roster_profile import PROFILE_SYNONYMS, PROFILE_TITLES
from desktop.transfer.sheets import Sheet, SpreadsheetFile
from desktop.transfer.xlsx_stream import column_letter

HEADER_SCAN_ROWS = 30
SAMPLE_ROWS = 5
CONDITION = "condition:"

FIELD_SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "名字", "居民姓名", "患者姓名"),
    "id_number": ("身份证号", "身份证号码", "公民身份号码", "证件号码", "身份证", "居民身份证号", "身份证件号码"),
    "sex": ("性别",),
    "birth_date": ("出生日期", "出生年月日", "出生年月", "生日"),
    "phone": ("联系电话", "电话", "手机号", "手机号码", "手机", "本人电话", "联系方式", "电话号码"),
    "address": ("现住址", "住址", "家庭住址", "居住地址", "地址", "常住地址", "现居住地址"),
    "village": ("所属村", "村", "村名", "村代码", "行政村", "村居", "所属村委会", "村委会", "所在村", "村名称"),
    "relation_to_head": ("与户主关系", "户主关系", "与户主的关系"),
    "ethnicity": ("民族",),
    "insurance_type": ("医保类型", "医疗保险类型", "参保类型"),
    "registered_on": ("建档日期", "建档时间"),
    "record_no": ("健康档案编号", "档案编号", "档案号", "健康档案号"),
    CONDITION + KeyPopulation.HYPERTENSION: ("高血压", "高血压患者"),
    CONDITION + KeyPopulation.DIABETES: ("糖尿病", "2型糖尿病", "糖尿病患者", "2型糖尿病患者"),
    CONDITION + KeyPopulation.SEVERE_MENTAL_ILLNESS: ("严重精神障碍", "严重精神障碍患者", "精神障碍"),
    CONDITION + KeyPopulation.TUBERCULOSIS: ("肺结核", "肺结核患者", "结核病"),
    CONDITION + KeyPopulation.DISABLED: ("残疾", "残疾人"),
    CONDITION + KeyPopulation.PREGNANT: ("孕产妇",),
    CONDITION + KeyPopulation.POVERTY_RELIEF: ("脱贫/低保/特困", "脱贫/低保/特困人口", "脱贫人口", "低保", "特困"),
    **PROFILE_SYNONYMS,
}
FIELD_TITLES = {
    "name": "姓名", "id_number": "身份证号", "sex": "性别", "birth_date": "出生日期", "phone": "联系电话",
    "address": "现住址", "village": "所属村", "relation_to_head": "与户主关系", "ethnicity": "民族",
    "insurance_type": "医保类型", "registered_on": "建档日期", "record_no": "健康档案编号",
    **{CONDITION + kind: kind.label for kind in KeyPopulation if not kind.is_age_based},
    **PROFILE_TITLES,
}
REQUIRED_FIELDS = ("name", "village")
_NOTE = re.compile(r"\(.*?\)|\[.*?\]|[*※:：]")


def normalise_header(value: object) -> str:
    """Header text without spaces, notes in brackets, asterisks or a trailing colon."""
    if value is None:
        return ""
    return _NOTE.sub("", squeeze(str(value))).lower()


class Vocabulary:
    """The fields one kind of sheet holds: header synonyms per field and each field's title."""

    def __init__(self, synonyms: Mapping[str, tuple[str, ...]], titles: Mapping[str, str]) -> None:
        self.titles = dict(titles)
        self._by_header = {normalise_header(s): name for name, words in synonyms.items() for s in words}

    def field_for(self, value: object) -> str | None:
        """The field a header names, or None."""
        return self._by_header.get(normalise_header(value))


RESIDENT_FIELDS = Vocabulary(FIELD_SYNONYMS, FIELD_TITLES)


def field_for_header(value: object) -> str | None:
    """The roster field a header names, or None."""
    return RESIDENT_FIELDS.field_for(value)


@dataclass(frozen=True)
class Column:
    """One column of the roster: position, letter, header text and the field it was matched to."""

    index: int
    letter: str
    header: str
    field: str | None


@dataclass(frozen=True)
class SheetLayout:
    """Where the header is and what each column holds."""

    sheet: str
    first_header_row: int
    last_header_row: int
    columns: tuple[Column, ...]
    vocabulary: Vocabulary = dataclass_field(default=RESIDENT_FIELDS, compare=False, repr=False)

    @property
    def mapped(self) -> dict[str, Column]:
        return {c.field: c for c in self.columns if c.field}

    @property
    def unmatched(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.field is None and c.header)

    def header_of(self, field: str) -> str:
        column = self.mapped.get(field)
        return column.header if column else self.vocabulary.titles.get(field, field)


@dataclass(frozen=True)
class RosterPreview:
    """What the clerk checks before importing: the header found, the mapping, the first rows."""

    path: Path
    layout: SheetLayout
    sample: tuple[tuple[str, ...], ...]
    row_count: int
    missing: tuple[str, ...]

    @property
    def header_row(self) -> int:
        return self.layout.last_header_row

    def mapping(self) -> list[tuple[str, str, str]]:
        """(field title, column letter, header text) for every matched column."""
        titles = self.layout.vocabulary.titles
        return [(titles.get(f, f), c.letter, c.header) for f, c in self.layout.mapped.items()]


def _cell_text(value: object) -> str:
    return "" if value is None else squeeze(str(value))


def _hits(row: Sequence[Any], vocabulary: Vocabulary) -> dict[int, str]:
    return {i: f for i, v in enumerate(row) if (f := vocabulary.field_for(v))}


def _blank_under(row: Sequence[Any], columns: dict[int, str], other: dict[int, str]) -> bool:
    """True when `row` is empty in every matched column it does not itself name (merged cells)."""
    return all(not _cell_text(row[i] if i < len(row) else None) or i in other for i in columns)


def detect_layout(sheet: str, head: list[tuple[Any, ...]],
                  vocabulary: Vocabulary = RESIDENT_FIELDS) -> SheetLayout | None:
    """Find the header among the first rows: a row naming two fields, with a group row above or a sub-row below."""
    for main, row in enumerate(head):
        hits = _hits(row, vocabulary)
        if len(hits) < 2:
            continue
        upper = _hits(head[main - 1], vocabulary) if main > 0 else {}
        upper = {i: f for i, f in upper.items() if i not in hits}
        lower = _hits(head[main + 1], vocabulary) if main + 1 < len(head) else {}
        lower = lower if lower and _blank_under(head[main + 1], hits, lower) else {}
        first = main if not upper else main - 1
        last = main + 1 if lower else main
        columns = _columns(head[first:last + 1], [lower, hits, upper], vocabulary)
        return SheetLayout(sheet, first + 1, last + 1, columns, vocabulary)
    return None


def _columns(rows: list[tuple[Any, ...]], hit_rows: list[dict[int, str]], vocabulary: Vocabulary) -> tuple[Column, ...]:
    """One Column per position: the lowest header row that names a field wins; a field is taken once."""
    width = max(len(r) for r in rows)
    taken: set[str] = set()
    columns = []
    for index in range(width):
        field = next((hits[index] for hits in hit_rows if index in hits), None)
        texts = [_cell_text(r[index]) for r in reversed(rows) if index < len(r) and _cell_text(r[index])]
        header = next((t for t in texts if field and vocabulary.field_for(t) == field), texts[0] if texts else "")
        if field in taken:
            field = None
        if field:
            taken.add(field)
        columns.append(Column(index, column_letter(index), header, field))
    return tuple(columns)


class Roster:
    """An opened sheet file: the sheet with a recognisable header, its layout and its data rows."""

    def __init__(self, path: Path, vocabulary: Vocabulary = RESIDENT_FIELDS) -> None:
        self.path = Path(path)
        self.vocabulary = vocabulary
        self._file = SpreadsheetFile(self.path)
        try:
            self.layout, self._sheet = self._find_sheet()
        except BaseException:
            self.close()
            raise

    def _find_sheet(self) -> tuple[SheetLayout, Sheet]:
        for sheet in self._file.sheets():
            head = [values for _, values in _numbered_head(sheet)]
            layout = detect_layout(sheet.name, head, self.vocabulary) if head else None
            if layout is not None:
                return layout, sheet
        raise UserFacingError("在工作簿中没有找到表头行（需要至少包含“姓名”“身份证号”等两列的表头）。")

    @property
    def estimated_rows(self) -> int:
        """Rows below the header as the sheet declares them (blank rows included)."""
        return max(0, self._sheet.last_row - self.layout.last_header_row)

    def rows(self) -> Iterator[tuple[int, tuple[Any, ...]]]:
        """(sheet row number, values) of every non-blank row below the header."""
        start = self.layout.last_header_row
        width = len(self.layout.columns)
        for number, values in self._sheet.rows():
            if number <= start or all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            yield number, tuple(values[:width]) + (None,) * (width - len(values))

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _numbered_head(sheet: Sheet) -> list[tuple[int, tuple[Any, ...]]]:
    """The sheet's first rows, blank ones included, as rows 1, 2, 3 … (the header search counts them)."""
    head: list[tuple[int, tuple[Any, ...]]] = []
    for number, values in sheet.rows():
        while len(head) + 1 < number and len(head) < HEADER_SCAN_ROWS:
            head.append((len(head) + 1, ()))
        if len(head) >= HEADER_SCAN_ROWS:
            break
        head.append((number, values))
    return head


def display(value: object) -> str:
    """A cell value as the clerk would read it."""
    if value is None:
        return ""
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value).strip()


def resident_missing(layout: SheetLayout) -> tuple[str, ...]:
    """The roster's required columns that the sheet lacks."""
    mapped = layout.mapped
    missing = tuple(FIELD_TITLES[f] for f in REQUIRED_FIELDS if f not in mapped)
    if "id_number" not in mapped and not {"sex", "birth_date"} <= mapped.keys():
        missing += ("身份证号（或 性别 和 出生日期）",)
    return missing


def read_preview(path: Path, *, sample: int = SAMPLE_ROWS, vocabulary: Vocabulary = RESIDENT_FIELDS,
                 missing: Callable[[SheetLayout], tuple[str, ...]] = resident_missing) -> RosterPreview:
    """The header found, the column mapping, the first rows, the row count and the missing columns."""
    with Roster(path, vocabulary) as roster:
        mapped = roster.layout.mapped
        rows = []
        for _, values in roster.rows():
            rows.append(tuple(display(values[c.index]) for c in mapped.values()))
            if len(rows) >= sample:
                break
        count = roster.estimated_rows
    return RosterPreview(Path(path), roster.layout, tuple(rows), count, missing(roster.layout))
