"""One roster row -> a ResidentInput for `check_resident`, with every problem named by row and column.

Cells arrive as Excel left them: numbers where text was meant (an 18-digit ID stored as a
number has lost its last digits), apostrophes, full-width characters, dates as text, serials
or date cells. Village names or codes are mapped to codes here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from desktop.errors import ValidationError
from desktop.rules.dates import DateError, parse_date
from desktop.rules.population import KeyPopulation
from desktop.rules.resident_checks import FIELD_LABELS, CleanResident, ResidentInput, check_resident
from desktop.rules.text import squeeze
from desktop.transfer.roster_profile import PROFILE_COLUMNS, profile_input
from desktop.transfer.workbook import CONDITION, SheetLayout

_APOSTROPHES = "'‘’`"
_SCIENTIFIC = re.compile(r"\d(\.\d+)?E\+?\d+", re.IGNORECASE)
_TIME_SUFFIX = re.compile(r"^(.+?)[ T]\d{1,2}:\d{2}(:\d{2})?$")
_YES = frozenset({"是", "有", "√", "✓", "✔", "y", "yes", "1", "确诊", "在管"})
_NO = frozenset({"否", "无", "没有", "×", "n", "no", "0", "-", "/"})
RELATION_WORDS = {
    "本人": "户主", "妻": "配偶", "妻子": "配偶", "夫": "配偶", "丈夫": "配偶", "儿子": "子", "长子": "子",
    "次子": "子", "之子": "子", "女儿": "女", "长女": "女", "次女": "女", "之女": "女", "孙子": "孙子女",
    "孙女": "孙子女", "父亲": "父母", "母亲": "父母", "父": "父母", "母": "父母", "儿媳": "儿媳/女婿",
    "女婿": "儿媳/女婿", "兄弟": "兄弟姐妹", "姐妹": "兄弟姐妹",
}
ROW_FIELD_TITLES = {**FIELD_LABELS, "village_code": "所属村"}


class CellProblem(ValueError):
    """A cell that cannot be read as meant; the message is Chinese."""


def cell_text(value: object) -> str:
    """Text of a cell: numbers without '.0', dates as ISO, apostrophes and outer blanks dropped."""
    if type(value) is str:  # most cells: the fast path
        return value.strip().strip(_APOSTROPHES).strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime | date):
        return f"{value:%Y-%m-%d}"
    return str(value).strip().strip(_APOSTROPHES).strip()


def number_text(value: object, title: str) -> str:
    """A long number meant as text (ID or record number); refuse one Excel has rounded."""
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        raise CellProblem(f"Excel 已把{title}存成了数字，最后几位已丢失（显示为 {value:.6g}）。"
                          f"请把该列设为“文本”格式，重新填写{title}后再导入。")
    text = cell_text(value)
    if _SCIENTIFIC.fullmatch(squeeze(text)):
        raise CellProblem(f"{title}“{text}”是科学计数法，最后几位已丢失。请把该列设为“文本”格式，重新填写后再导入。")
    return text


def date_value(value: object) -> object:
    """A date cell as a date; 8-digit numbers as yyyymmdd text; serials and text left to `parse_date`."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, int | float) and not isinstance(value, bool):
        if float(value).is_integer() and 18000101 <= value <= 21001231:
            return str(int(value))
        return value
    text = cell_text(value)
    match = _TIME_SUFFIX.match(text)
    return match.group(1) if match else text


def condition_value(value: object, title: str) -> tuple[bool, date | None]:
    """(present, since) from a key-population cell: a date, 是/√, or 否/blank."""
    text = cell_text(value).lower()
    if not text or text in _NO:
        return False, None
    if text in _YES:
        return True, None
    try:
        return True, parse_date(date_value(value))
    except DateError as error:
        raise CellProblem(f"应填确诊/登记日期或“是”，{error}") from None


class Villages:
    """Village names and codes of the branch, and which of them the actor may import into."""

    def __init__(self, all_villages: Mapping[str, tuple[int, str]], in_scope: Mapping[str, int]) -> None:
        self.in_scope = dict(in_scope)
        self._by_name: dict[str, str] = {}
        for code, (_, name) in all_villages.items():
            for alias in (squeeze(name), squeeze(name).removesuffix("村").removesuffix("社区")):
                self._by_name.setdefault(alias, code)
        self._codes = set(all_villages)
        self._names = {code: name for code, (_, name) in all_villages.items()}

    def code_for(self, value: object) -> str:
        """The code for a village name or code; CellProblem when unknown or outside the actor's villages."""
        text = squeeze(cell_text(value))
        in_brackets = re.search(r"\((\d{1,3})\)", text)
        code = text.zfill(3) if text.isdigit() else self._by_name.get(text) or self._by_name.get(
            re.sub(r"\(.*?\)", "", text)) or (in_brackets.group(1).zfill(3) if in_brackets else None)
        if code is None or code not in self._codes:
            raise CellProblem(f"“{text}”在本分院不存在。")
        if code not in self.in_scope:
            raise CellProblem(f"“{self._names[code]}”不属于您负责的村。")
        return code


@dataclass(frozen=True)
class RowReading:
    """A roster row read into a checked resident, or the reasons it was refused."""

    row: int
    values: tuple[Any, ...]
    clean: CleanResident | None = None
    provided: frozenset[str] = frozenset()
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def reason(self) -> str:
        return f"第 {self.row} 行，" + "；".join(self.problems)


class RowReader:
    """Turns raw rows of one roster into checked residents."""

    def __init__(self, layout: SheetLayout, villages: Villages, *, today: date,
                 default_village: str | None = None) -> None:
        self.layout = layout
        self.columns = layout.mapped
        self.villages = villages
        self.today = today
        self.default_village = default_village
        self.profile_fields = tuple(f for f in self.columns if f in PROFILE_COLUMNS)

    def _value(self, values: tuple[Any, ...], field_name: str) -> Any:
        column = self.columns.get(field_name)
        return values[column.index] if column is not None else None

    def _texts(self, values: tuple[Any, ...]) -> dict[str, str]:
        """field -> cell text of every mapped column that is not blank."""
        return {f: text for f, c in self.columns.items() if (text := cell_text(values[c.index]))}

    def _title(self, field_name: str) -> str:
        if field_name == "conditions":
            return "、".join(c.header for f, c in self.columns.items() if f.startswith(CONDITION)) or "重点人群"
        if field_name == "village_code":
            field_name = "village"
        if field_name in self.columns:
            return self.columns[field_name].header
        return ROW_FIELD_TITLES.get(field_name, field_name)

    def read(self, row: int, values: tuple[Any, ...]) -> RowReading:
        """Read and check one row."""
        problems: dict[str, str] = {}
        data, provided = self._input(values, problems)
        clean = None
        if not problems:
            try:
                clean = check_resident(data, villages=self.villages.in_scope, today=self.today)
            except ValidationError as error:
                problems.update(error.errors)
        if problems:
            return RowReading(row, values, problems=tuple(self._named(f, m) for f, m in problems.items()))
        return RowReading(row, values, clean=clean, provided=provided)

    def _named(self, field_name: str, message: str) -> str:
        title = self._title(field_name)
        label = ROW_FIELD_TITLES.get(field_name, "")
        if label and message.startswith(f"{label}："):
            message = message[len(label) + 1:]
        return f"{title}：{message}"

    def _input(self, values: tuple[Any, ...], problems: dict[str, str]) -> tuple[ResidentInput, frozenset[str]]:
        get, text = self._value, self._texts(values)
        id_number = self._guarded(problems, "id_number", lambda: number_text(get(values, "id_number"), "身份证号"))
        record_no = self._guarded(problems, "record_no", lambda: number_text(get(values, "record_no"), "健康档案编号"))
        relation = text.get("relation_to_head", "")
        data = ResidentInput(
            name=text.get("name", ""), id_number=id_number, sex=text.get("sex", ""),
            birth_date=date_value(get(values, "birth_date")), ethnicity=text.get("ethnicity", ""),
            phone=text.get("phone", ""), address=text.get("address", ""), village_code=self._village(values, problems),
            relation_to_head=RELATION_WORDS.get(squeeze(relation), relation),
            insurance_type=text.get("insurance_type", ""), registered_on=date_value(get(values, "registered_on")),
            record_no=record_no, conditions=self._conditions(values, text, problems),
            profile=profile_input(text, self.profile_fields) if self.profile_fields else None,
        )
        return data, frozenset(text)

    @staticmethod
    def _guarded(problems: dict[str, str], field_name: str, read) -> str:
        try:
            return read()
        except CellProblem as problem:
            problems[field_name] = str(problem)
            return ""

    def _village(self, values: tuple[Any, ...], problems: dict[str, str]) -> str:
        raw = self._value(values, "village")
        if not cell_text(raw):
            return self.default_village or ""
        return self._guarded(problems, "village_code", lambda: self.villages.code_for(raw))

    def _conditions(self, values: tuple[Any, ...], text: dict[str, str],
                    problems: dict[str, str]) -> tuple[tuple[KeyPopulation, Any], ...]:
        found = []
        for field_name, column in self.columns.items():
            if not field_name.startswith(CONDITION) or field_name not in text:
                continue
            try:
                present, since = condition_value(values[column.index], column.header)
            except CellProblem as problem:
                problems[field_name] = str(problem)
                continue
            if present:
                found.append((KeyPopulation(field_name.removeprefix(CONDITION)), since))
        return tuple(found)
