"""Writing openpyxl cells so that text stays text: one helper for every workbook either side writes.

openpyxl stores a string that starts with "=" as a formula. `put` stores every string as a
text cell (formula-like ones also marked "quote prefix", so Excel keeps them text when the cell
is edited) and leaves numbers, dates and booleans as they are. openpyxl is imported only when
a row is appended: the helpers work on the cells and sheets the caller made.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from township_wire.text import looks_like_formula


def put(cell: Any, value: object) -> Any:
    """Set `cell` to `value`; a string is stored as text, never as a formula."""
    cell.value = value
    if isinstance(value, str) and value:
        cell.data_type = "s"
        if looks_like_formula(value):
            cell.quotePrefix = True
    return cell


def append_row(sheet: Any, values: Iterable[object]) -> None:
    """`sheet.append(values)` with every string stored as text (see `put`)."""
    from openpyxl.cell import Cell  # openpyxl is heavy: imported when a workbook is written

    sheet.append([put(Cell(sheet), value) if isinstance(value, str) else value for value in values])
