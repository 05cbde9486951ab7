"""Form conventions and widgets shared by every dialog: inline field errors, Enter to move on, Ctrl+S, Esc,
the date field and the drop-down of (text, value) pairs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from desktop.errors import ValidationError
from desktop.rules.dates import DateError, parse_date

DATE_HINT = "如 20260315 或 2026-3-15"


class FieldErrors:
    """Maps field names to their widgets and shows each error in a red label under the field."""

    def __init__(self) -> None:
        self._widgets: dict[str, QWidget] = {}
        self._labels: dict[str, QLabel] = {}
        self.general = QLabel()
        self.general.setObjectName("fieldError")
        self.general.setWordWrap(True)
        self.general.hide()

    def add_row(self, form: QFormLayout, label: str, field: str, widget: QWidget) -> None:
        """Add `widget` to the form with a hidden error label beneath it."""
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(widget)
        error = QLabel()
        error.setObjectName("fieldError")
        error.setWordWrap(True)
        error.hide()
        layout.addWidget(error)
        form.addRow(label, box)
        self._widgets[field] = widget
        self._labels[field] = error

    def widget(self, field: str) -> QWidget:
        return self._widgets[field]

    def clear(self) -> None:
        for label in self._labels.values():
            label.clear()
            label.hide()
        self.general.clear()
        self.general.hide()

    def show(self, errors: dict[str, str]) -> None:
        """Mark each field; errors for unknown fields go to the general label. Focus the first."""
        self.clear()
        unplaced = []
        first: QWidget | None = None
        for field, message in errors.items():
            label = self._labels.get(field)
            if label is None:
                unplaced.append(message)
                continue
            label.setText(message)
            label.show()
            first = first or self._widgets[field]
        if unplaced:
            self.general.setText("；".join(unplaced))
            self.general.show()
        if first is not None:
            first.setFocus(Qt.FocusReason.OtherFocusReason)
            if isinstance(first, QLineEdit):
                first.selectAll()

    def show_validation(self, error: ValidationError) -> None:
        self.show(error.errors)

    def message(self, field: str) -> str:
        label = self._labels.get(field)
        return label.text() if label is not None and not label.isHidden() else ""


class EnterMovesOn(QObject):
    """Return/Enter in a line edit or combo box moves to the next field, like Tab."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.KeyPress and isinstance(watched, QLineEdit | QComboBox):
            key_event: QKeyEvent = event  # type: ignore[assignment]
            if key_event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not key_event.modifiers():
                watched.focusNextChild() if isinstance(watched, QWidget) else None
                return True
        return False


def install_form_keys(dialog: QDialog, *, save: Callable[[], None], fields: list[QWidget]) -> None:
    """Enter moves on through `fields`, Ctrl+S saves; Esc (QDialog's own) rejects."""
    mover = EnterMovesOn(dialog)
    for widget in fields:
        if not isinstance(widget, QPlainTextEdit | QTextEdit | QAbstractButton):
            widget.installEventFilter(mover)
    shortcut = QShortcut(QKeySequence.StandardKey.Save, dialog)
    shortcut.activated.connect(save)


def confirm_discard(parent: QWidget) -> bool:
    """Ask once whether to drop what was typed."""
    answer = QMessageBox.question(
        parent, "放弃修改", "已填写的内容尚未保存，确定放弃吗？",
        QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
        QMessageBox.StandardButton.Cancel,
    )
    return answer == QMessageBox.StandardButton.Discard


def date_edit(value: date | None = None, placeholder: str = DATE_HINT) -> QLineEdit:
    """A date typed as 20260315, 2026-3-15 or 2026.3.15, shown as 2026-03-15 once understood."""
    edit = QLineEdit(f"{value:%Y-%m-%d}" if value else "")
    edit.setPlaceholderText(placeholder)
    edit.setMaximumWidth(200)

    def tidy() -> None:
        try:
            edit.setText(f"{parse_date(edit.text()):%Y-%m-%d}")
        except DateError:
            pass

    edit.editingFinished.connect(tidy)
    return edit


def combo(items: list[tuple[str, Any]], current: Any = None) -> QComboBox:
    """A drop-down of (text, value) pairs with `current` chosen."""
    widget = QComboBox()
    for text, value in items:
        widget.addItem(text, value)
    widget.setCurrentIndex(max(0, widget.findData(current)))
    return widget
