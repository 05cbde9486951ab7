"""A saved visit or health check opened read-only, and from there 更正…, 作废… and 修改记录.

`RecordActions` is what the chronic panel calls with a row's id: each step loads on the
database thread (through the task helper) and opens its dialog on the GUI thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.changes import Changes
from desktop.db import Database
from desktop.services.check_corrections import check_history, stored_check, void_health_check
from desktop.services.permissions import Actor, Permission
from desktop.services.record_history import HistoryEntry
from desktop.services.visit_corrections import stored_visit, visit_history, void_visit
from desktop.ui.context import UiContext
from desktop.ui.form_dialog import FormDialog, Work, hint_label
from desktop.ui.theme import ERROR, MUTED_TEXT

HISTORY_COLUMNS = ("时间", "操作", "操作人", "原因", "改动内容")


@dataclass(frozen=True)
class RecordKind:
    """What differs between a visit and a health check for these dialogs."""

    what: str
    load: Callable[[Database, Actor, int], Any]
    history: Callable[[Database, Actor, int], tuple[HistoryEntry, ...]]
    void: Callable[..., Changes]


VISIT = RecordKind("随访记录", stored_visit, visit_history, void_visit)
CHECK = RecordKind("体检记录", stored_check, check_history, void_health_check)


def record_id(stored: Any) -> int:
    """The row id of a stored visit or check."""
    return stored.visit_id if hasattr(stored, "visit_id") else stored.check_id


def status_text(stored: Any) -> str:
    """已作废 / 已更正 with the reason, or '' for a record never changed."""
    if stored.void_reason is not None:
        return f"已作废（{stored.voided_at:%Y-%m-%d %H:%M}）：{stored.void_reason}"
    if stored.correction_reason is not None:
        return f"已更正（{stored.corrected_at:%Y-%m-%d %H:%M}）：{stored.correction_reason}"
    return ""


def _read_only_table(columns: tuple[str, ...], rows: list[tuple[str, ...]]) -> QTableWidget:
    table = QTableWidget(len(rows), len(columns))
    table.setHorizontalHeaderLabels(list(columns))
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setTabKeyNavigation(False)
    table.setWordWrap(True)
    for row, values in enumerate(rows):
        for column, text in enumerate(values):
            item = QTableWidgetItem(text)
            item.setToolTip(text)
            table.setItem(row, column, item)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(len(columns) - 1, QHeaderView.ResizeMode.Stretch)
    table.resizeRowsToContents()
    return table


def _button_row(buttons: list[QPushButton]) -> QHBoxLayout:
    row = QHBoxLayout()
    row.addStretch(1)
    for button in buttons:
        row.addWidget(button)
    return row


class RecordView(QDialog):
    """A saved record read-only: each filled field, its state, and the buttons to correct, void, see history."""

    def __init__(self, ctx: UiContext, kind: RecordKind, stored: Any, title: str, actions: RecordActions,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.stored, self.kind = stored, kind
        self.setWindowTitle(title)
        self.resize(640, 600)
        layout = QVBoxLayout(self)
        heading = QLabel(title)
        heading.setStyleSheet("font-size: 12pt; font-weight: bold;")
        layout.addWidget(heading)
        self.status = QLabel(status_text(stored))
        self.status.setWordWrap(True)
        self.status.setStyleSheet(f"color: {ERROR if stored.voided else MUTED_TEXT}; font-weight: bold;")
        self.status.setVisible(bool(self.status.text()))
        layout.addWidget(self.status)
        self.table = _read_only_table(("项目", "内容"), list(stored.shown))
        layout.addWidget(self.table, 1)
        editable = ctx.actor.can(Permission.EDIT_FOLLOWUPS) and not stored.voided
        self.correct_button = self._button("更正…", lambda: actions.correct(record_id(stored)), editable)
        self.void_button = self._button("作废…", lambda: actions.void(record_id(stored)), editable)
        self.history_button = self._button("修改记录", lambda: actions.history(record_id(stored)), True)
        close = QPushButton("关闭")
        close.clicked.connect(self.reject)
        layout.addLayout(_button_row([self.correct_button, self.void_button, self.history_button, close]))
        self.table.setFocus()

    def _button(self, text: str, slot: Callable[[], None], shown: bool) -> QPushButton:
        button = QPushButton(text)
        button.setVisible(shown)
        button.clicked.connect(lambda _checked=False: (self.accept(), slot()))
        return button


def confirm_void(parent: QWidget, what: str) -> bool:
    """Ask once before voiding (a voided record cannot be brought back)."""
    answer = QMessageBox.question(parent, "确认作废", f"作废后这条{what}不再计入任何统计，也不能恢复。确定作废吗？",
                                  QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                                  QMessageBox.StandardButton.Cancel)
    return answer == QMessageBox.StandardButton.Yes


class VoidDialog(FormDialog):
    """作废: the reason, asked for and confirmed; the record stays visible, marked 已作废."""

    def __init__(self, ctx: UiContext, kind: RecordKind, stored: Any, title: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(ctx, f"作废{kind.what} — {title}", parent)
        self.kind, self.stored = kind, stored
        self.form.addRow(hint_label(f"作废的{kind.what}仍然保留并显示为“已作废”，但不再计入随访次数和考核指标；"
                                    "作废会同步到总院。"))
        self.reason = self.add_field("作废原因", "void_reason", QLineEdit())
        self.reason.setPlaceholderText("必填：例如 录错了病人、重复录入")
        self.reason.setMaxLength(200)
        self.save_button.setText("作废")
        self.finish()

    def save(self) -> None:
        """Ask for confirmation once a reason is typed (an empty one is named under the field)."""
        if self.reason.text().strip() and not confirm_void(self, self.kind.what):
            return
        super().save()

    def submit(self) -> Work:
        ctx, kind, stored, reason = self.ctx, self.kind, self.stored, self.reason.text()
        return lambda: kind.void(ctx.db, ctx.actor, record_id(stored), reason=reason, expected_version=stored.version)


def history_rows(entries: tuple[HistoryEntry, ...]) -> list[tuple[str, ...]]:
    """One row per version: time, step, person, reason, each change on its own line."""
    return [(f"{e.at:%Y-%m-%d %H:%M}", e.step, e.actor_name, e.reason or "—",
             "\n".join(change.text for change in e.changes) or "—") for e in entries]


class HistoryDialog(QDialog):
    """修改记录: each version of the record, oldest first."""

    def __init__(self, what: str, title: str, entries: tuple[HistoryEntry, ...], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{what}修改记录 — {title}")
        self.resize(900, 420)
        layout = QVBoxLayout(self)
        heading = QLabel(f"{title} 的修改记录")
        heading.setStyleSheet("font-size: 12pt; font-weight: bold;")
        layout.addWidget(heading)
        layout.addWidget(hint_label("每次新建、更正、作废都记在这里，同步到总院的是最新的一版。"))
        self.table = _read_only_table(HISTORY_COLUMNS, history_rows(entries))
        layout.addWidget(self.table, 1)
        close = QPushButton("关闭")
        close.clicked.connect(self.accept)
        close.setDefault(True)
        layout.addLayout(_button_row([close]))
        self.table.setFocus()

    def row_texts(self) -> list[list[str]]:
        return [[self.table.item(r, c).text() for c in range(self.table.columnCount())]
                for r in range(self.table.rowCount())]


class RecordActions:
    """Open, correct, void and show the history of a visit or check; `shown` receives each dialog opened."""

    def __init__(self, ctx: UiContext, parent: QWidget, kind: RecordKind, *, title: Callable[[Any], str],
                 correction_form: Callable[[Any], QDialog], shown: Callable[[QDialog], None]) -> None:
        self.ctx, self.parent, self.kind = ctx, parent, kind
        self.title, self.correction_form, self.shown = title, correction_form, shown

    def _loaded(self, fetch: Callable[[], Any], show: Callable[[Any], QDialog]) -> None:
        def open_dialog(value: Any) -> None:
            dialog = show(value)
            dialog.setWindowModality(Qt.WindowModality.WindowModal)
            self.shown(dialog)
            dialog.open()

        self.ctx.tasks.run_db(fetch, on_success=open_dialog, parent=self.parent)

    def _stored(self, row_id: int) -> Callable[[], Any]:
        ctx, kind = self.ctx, self.kind
        return lambda: kind.load(ctx.db, ctx.actor, row_id)

    def view(self, row_id: int) -> None:
        self._loaded(self._stored(row_id), lambda s: RecordView(self.ctx, self.kind, s, self.title(s), self,
                                                                 parent=self.parent))

    def correct(self, row_id: int) -> None:
        self._loaded(self._stored(row_id), self.correction_form)

    def void(self, row_id: int) -> None:
        self._loaded(self._stored(row_id), lambda s: VoidDialog(self.ctx, self.kind, s, self.title(s),
                                                                 parent=self.parent))

    def history(self, row_id: int) -> None:
        ctx, kind = self.ctx, self.kind
        stored = self._stored(row_id)

        def load() -> tuple[Any, tuple[HistoryEntry, ...]]:
            return stored(), kind.history(ctx.db, ctx.actor, row_id)

        self._loaded(load, lambda loaded: HistoryDialog(kind.what, self.title(loaded[0]), loaded[1],
                                                        parent=self.parent))
