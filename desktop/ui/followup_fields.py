"""Fields of the follow-up visit form that are more than a line edit: coded drop-downs and small tables."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QComboBox, QHeaderView, QTableWidget, QTableWidgetItem

from desktop.ui.forms import combo


def code_combo(codes: dict[str, str], empty: str = "未填", width: int = 150) -> QComboBox:
    """A drop-down of a national form's codes, starting on `empty` (nothing chosen)."""
    widget = combo([(empty, ""), *((label, code) for code, label in codes.items())], "")
    widget.setMaximumWidth(width)
    return widget


class RowsTable(QTableWidget):
    """A few fixed rows typed cell by cell (用药情况, 用药调整意见); empty rows are left out."""

    def __init__(self, headers: Sequence[str], rows: int, widths: Sequence[int] = ()) -> None:
        super().__init__(rows, len(headers))
        self.setHorizontalHeaderLabels(list(headers))
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column, width in enumerate(widths, start=1):
            self.setColumnWidth(column, width)
        self.setTabKeyNavigation(False)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setEditTriggers(QAbstractItemView.EditTrigger.AllEditTriggers)
        self.setFixedHeight(header.height() + rows * self.verticalHeader().defaultSectionSize() + 6)

    def cell(self, row: int, column: int) -> str:
        item = self.item(row, column)
        return item.text().strip() if item is not None else ""

    def filled_rows(self) -> tuple[tuple[str, ...], ...]:
        """The rows with anything typed, each as its cells' text."""
        rows = (tuple(self.cell(r, c) for c in range(self.columnCount())) for r in range(self.rowCount()))
        return tuple(row for row in rows if any(row))

    def set_rows(self, rows: Sequence[Sequence[str]]) -> None:
        for r, values in enumerate(rows[:self.rowCount()]):
            for c, text in enumerate(values[:self.columnCount()]):
                self.setItem(r, c, QTableWidgetItem(text))
