"""One reader for every spreadsheet a county office sends: .xlsx, .xlsm, .xls, .xlsb, .ods and .csv.

Workbooks are read with python-calamine (imported when first used; about 14 times faster than
openpyxl's read-only mode on a 50,000-row roster). A .csv is decoded as UTF-8 (with or without
BOM) or, failing that, GB18030 (which covers GBK and GB2312), the way Excel and WPS save it on
a Chinese Windows. Rows come with their sheet row numbers (1-based, as the clerk sees them);
empty cells are None. Anything else is refused with a message naming the file type.
"""

from __future__ import annotations

import csv
import html
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from desktop.errors import UserFacingError

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
CSV_SUFFIXES = (".csv",)
_XML_BOOKS = (".xlsx", ".xlsm")
SUPPORTED_SUFFIXES = WORKBOOK_SUFFIXES + CSV_SUFFIXES
OPEN_FILTER = "表格文件 (*.xlsx *.xlsm *.xls *.xlsb *.ods *.csv);;所有文件 (*)"
_KNOWN_OTHERS = {
    ".et": "WPS 表格（.et）", ".ett": "WPS 表格模板（.ett）", ".wps": "WPS 文字文档（.wps）",
    ".doc": "Word 文档（.doc）", ".docx": "Word 文档（.docx）", ".pdf": "PDF 文件（.pdf）",
    ".txt": "文本文件（.txt）", ".numbers": "Numbers 表格（.numbers）", ".xltx": "Excel 模板（.xltx）",
    ".zip": "压缩包（.zip）", ".rar": "压缩包（.rar）",
}
_CSV_DELIMITERS = ",\t;"


class Sheet(Protocol):
    """One sheet of a spreadsheet file."""

    name: str

    @property
    def last_row(self) -> int: ...

    def rows(self) -> Iterator[tuple[int, tuple[Any, ...]]]: ...


def _cell(value: object) -> object:
    return None if value == "" else value


@dataclass
class _CalamineSheet:
    """A calamine sheet: rows numbered from the sheet's first row, columns from column A.

    calamine reads every number as a float, so an 18-digit integer that another program wrote
    exactly into an .xlsx (`<v>341522196201090332</v>`) would lose its last digits; such cells
    are read again from the sheet's XML (`exact`), only when a number that large is met.
    """

    name: str
    _sheet: Any
    exact: Callable[[], dict[tuple[int, int], int]] | None = None
    _exact: dict[tuple[int, int], int] | None = None

    @property
    def last_row(self) -> int:
        return self._sheet.end[0] + 1 if self._sheet.height else 0

    def rows(self) -> Iterator[tuple[int, tuple[Any, ...]]]:
        if not self._sheet.height:
            return
        first_row, first_column = self._sheet.start
        lead = (None,) * first_column
        for offset, values in enumerate(self._sheet.iter_rows()):
            number = first_row + offset + 1
            row = lead + tuple(None if v == "" else v for v in values)
            if self.exact is not None and any(type(v) is float and abs(v) >= 1e15 for v in row):
                row = self._exactly(number, row)
            yield number, row

    def _exactly(self, number: int, row: tuple[Any, ...]) -> tuple[Any, ...]:
        if self._exact is None:
            assert self.exact is not None
            self._exact = self.exact()
        return tuple(self._exact.get((number, i), v) if type(v) is float else v for i, v in enumerate(row))


_SHEET_ENTRY = re.compile(rb'<sheet\b[^>]*?\bname="([^"]*)"[^>]*?\br:id="([^"]*)"')
_RELATION = re.compile(rb'<Relationship\b[^>]*?\bId="([^"]*)"[^>]*?\bTarget="([^"]*)"|'
                       rb'<Relationship\b[^>]*?\bTarget="([^"]*)"[^>]*?\bId="([^"]*)"')
_BIG_INTEGER_CELL = re.compile(rb'<c\b[^>]*?\br="([A-Z]+)(\d+)"[^>]*>\s*(?:<f[^>]*/>\s*|<f[^>]*>[^<]*</f>\s*)?'
                               rb'<v>(-?\d{16,})</v>')


def _column_index(letters: bytes) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + letter - 64
    return index - 1


def xlsx_exact_integers(path: Path, sheet_name: str) -> dict[tuple[int, int], int]:
    """(row number, column index) -> value of every integer cell of 16 digits or more in an .xlsx sheet."""
    with zipfile.ZipFile(path) as archive:
        book = archive.read("xl/workbook.xml")
        relations = archive.read("xl/_rels/workbook.xml.rels")
        targets = {m[0] or m[3]: m[1] or m[2] for m in _RELATION.findall(relations)}
        ids = {html.unescape(name.decode()): rid for name, rid in _SHEET_ENTRY.findall(book)}
        target = targets.get(ids.get(sheet_name, b""), b"").decode()
        if not target:
            return {}
        part = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        data = archive.read(part)
    return {(int(row), _column_index(column)): int(value) for column, row, value in _BIG_INTEGER_CELL.findall(data)}


@dataclass
class _CsvSheet:
    """A .csv file as one sheet."""

    name: str
    _rows: list[list[str]]

    @property
    def last_row(self) -> int:
        return len(self._rows)

    def rows(self) -> Iterator[tuple[int, tuple[Any, ...]]]:
        for number, values in enumerate(self._rows, start=1):
            yield number, tuple(_cell(v) for v in values)


def decode_csv(data: bytes) -> str:
    """CSV bytes as text: a BOM means UTF-8; else strict UTF-8; else GB18030 (GBK, GB2312)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data.decode("utf-8-sig")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as error:
        raise UserFacingError("无法识别该 CSV 文件的编码（应为 UTF-8 或 GBK/GB18030）。"
                              "请在 Excel 或 WPS 中另存为 .xlsx 后再导入。", details=repr(error)) from None


def _csv_sheet(path: Path) -> _CsvSheet:
    text = decode_csv(path.read_bytes())
    try:
        dialect = csv.Sniffer().sniff(text[:8192], delimiters=_CSV_DELIMITERS)
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    return _CsvSheet(path.stem, rows)


def _refuse(path: Path) -> UserFacingError:
    suffix = path.suffix.lower()
    kind = _KNOWN_OTHERS.get(suffix, f"“{suffix}”文件" if suffix else "没有扩展名的文件")
    return UserFacingError(f"不能导入{kind}：{path.name}。可导入的表格为 Excel（.xlsx、.xls、.xlsb）、"
                           f"WPS/LibreOffice（.ods）或 CSV（.csv）。请在 Excel 或 WPS 中“另存为” .xlsx 后再导入。")


class SpreadsheetFile:
    """An opened spreadsheet file: its sheets in order, each loaded when first asked for."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in SUPPORTED_SUFFIXES:
            raise _refuse(self.path)
        if not self.path.is_file():
            raise UserFacingError(f"找不到文件：{self.path}")
        self._book = None if suffix in CSV_SUFFIXES else self._open_book()

    def _open_book(self):  # -> python_calamine.CalamineWorkbook
        from python_calamine import CalamineWorkbook

        try:
            return CalamineWorkbook.from_path(str(self.path))
        except Exception as error:  # calamine raises its own kinds for a damaged or foreign file
            raise self._unreadable(error) from error

    def _unreadable(self, error: BaseException) -> UserFacingError:
        return UserFacingError(f"无法读取该文件，请确认它是完好的 {self.path.suffix.lower()} 表格：{self.path.name}。"
                               "可在 Excel 或 WPS 中打开它，“另存为” .xlsx 后再导入。", details=repr(error))

    def sheets(self) -> Iterator[Sheet]:
        """Every sheet in the workbook's order (a .csv is one sheet)."""
        if self._book is None:
            yield _csv_sheet(self.path)
            return
        for name in self._book.sheet_names:
            try:
                sheet = self._book.get_sheet_by_name(name)
            except Exception as error:  # a chart sheet or a damaged part
                raise self._unreadable(error) from error
            exact = partial(xlsx_exact_integers, self.path, name) if self.path.suffix.lower() in _XML_BOOKS else None
            yield _CalamineSheet(name, sheet, exact)

    def close(self) -> None:
        """Release the file (calamine keeps it open while sheets are read)."""
        if self._book is not None:
            self._book.close()
            self._book = None
