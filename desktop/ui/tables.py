"""Shared table pieces: a sortable row model over plain dataclasses, the table view, page actions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QPoint, Qt
from PySide6.QtGui import QAction, QColor, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QMainWindow,
    QMenu,
    QPushButton,
    QTableView,
    QWidget,
)

from desktop.ui.pages.base import Page

MAX_FITTED_WIDTH = 280
Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class Column:
    """One column: its Chinese header, how to show a row, and optionally how to sort and colour it."""

    title: str
    text: Callable[[Any], str]
    key: Callable[[Any], Any] | None = None
    tooltip: Callable[[Any], str] | None = None
    colour: Callable[[Any], str | None] | None = None


def _sort_key(value: Any) -> tuple[bool, Any]:
    """Sort None last and never compare None with a value."""
    return (value is None, value if value is not None else 0)


class RowTableModel(QAbstractTableModel):
    """A read-only, sortable table over a list of plain rows (dataclasses)."""

    def __init__(self, columns: Sequence[Column], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.columns = list(columns)
        self._rows: list[Any] = []
        self._sort: tuple[int, Qt.SortOrder] = (-1, Qt.SortOrder.AscendingOrder)

    def set_rows(self, rows: Sequence[Any]) -> None:
        """Replace every row, keeping the current sort column."""
        self.beginResetModel()
        self._rows = list(rows)
        self._apply_sort()
        self.endResetModel()

    def rows(self) -> list[Any]:
        """The rows in their shown order."""
        return list(self._rows)

    def row_at(self, row: int) -> Any:
        """The plain row shown at `row`."""
        return self._rows[row]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802 - Qt override
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802 - Qt override
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Text, tooltip and colour of one cell."""
        if not index.isValid():
            return None
        row, column = self._rows[index.row()], self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(row)
        if role == Qt.ItemDataRole.ToolTipRole:
            return column.tooltip(row) if column.tooltip else column.text(row)
        if role == Qt.ItemDataRole.ForegroundRole and column.colour:
            colour = column.colour(row)
            return QColor(colour) if colour else None
        return None

    def headerData(  # noqa: N802 - Qt override
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """The Chinese column titles."""
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.columns[section].title
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort in place, keeping the selection on the same rows."""
        self._sort = (column, order)
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        moved = [self._rows[index.row()] for index in old]
        self._apply_sort()
        where = {id(row): position for position, row in enumerate(self._rows)}
        new = [self.index(where[id(row)], index.column()) for row, index in zip(moved, old, strict=True)]
        self.changePersistentIndexList(old, new)
        self.layoutChanged.emit()

    def _apply_sort(self) -> None:
        """Order the rows by the remembered sort column (none: the service's order)."""
        column, order = self._sort
        if not 0 <= column < len(self.columns):
            return
        spec = self.columns[column]
        key = spec.key or spec.text
        self._rows.sort(key=lambda row: _sort_key(key(row)), reverse=order == Qt.SortOrder.DescendingOrder)


def make_table(model: QAbstractTableModel, *, actions: Sequence[QAction] = (), sortable: bool = True,
               on_open: Callable[[], None] | None = None) -> QTableView:
    """A row-selecting table: double-click opens, right-click offers `actions`."""
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.verticalHeader().hide()
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 10)
    header = view.horizontalHeader()
    header.setStretchLastSection(True)
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    header.setHighlightSections(False)
    if sortable:
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        view.setSortingEnabled(True)
    if on_open is not None:
        view.doubleClicked.connect(lambda _index: on_open())
    if actions:
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        view.customContextMenuRequested.connect(lambda point: _context_menu(view, point, actions))
    return view


def _context_menu(view: QTableView, point: QPoint, actions: Sequence[QAction]) -> None:
    """Select the row under the mouse, then offer the page's actions."""
    index = view.indexAt(point)
    if index.isValid():
        view.selectRow(index.row())
    shown = [action for action in actions if action.isVisible()]
    if shown:
        menu = QMenu(view)
        menu.addActions(shown)
        menu.exec(view.viewport().mapToGlobal(point))
        menu.deleteLater()


def fit_columns(view: QTableView) -> None:
    """Size columns to their contents (capped), the last one stretching."""
    view.resizeColumnsToContents()
    header = view.horizontalHeader()
    for section in range(header.count() - 1):
        width = min(header.sectionSize(section) + 16, MAX_FITTED_WIDTH)
        header.resizeSection(section, width)
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)


def selected_row(view: QTableView) -> Any | None:
    """The plain row selected in a RowTableModel view, or None."""
    model = view.model()
    rows = view.selectionModel().selectedRows() if view.selectionModel() else []
    if not rows or not isinstance(model, RowTableModel):
        return None
    return model.row_at(rows[0].row())


def page_action(page: Page, text: str, slot: Callable[[], None], *, shortcut: str = "",
                button: bool = True) -> QAction:
    """An action with a title-bar button (kept in step) usable in context menus too."""
    action = QAction(text, page)
    action.triggered.connect(lambda _checked=False: slot())
    if shortcut:
        action.setShortcut(QKeySequence(shortcut))  # window-wide, but only while this page is shown
    page.addAction(action)
    if button:
        push = QPushButton(text)
        push.setToolTip(f"{text}（{shortcut}）" if shortcut else text)
        push.clicked.connect(action.trigger)
        action.changed.connect(lambda: _follow(push, action))
        page.actions_bar.addWidget(push)
    return action


def _follow(push: QPushButton, action: QAction) -> None:
    """Mirror the action's enabled and visible state on its button."""
    push.setEnabled(action.isEnabled())
    push.setVisible(action.isVisible())


def notify(widget: QWidget, text: str) -> None:
    """Quiet success: a status-bar message when the widget sits in a main window."""
    window = widget.window()
    if isinstance(window, QMainWindow):
        window.statusBar().showMessage(text, 5000)
