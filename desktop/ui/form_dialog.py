"""A modal form dialog that saves through the background helper and marks errors inline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.changes import Changes
from desktop.errors import ValidationError
from desktop.ui.context import UiContext
from desktop.ui.errors import show_error
from desktop.ui.forms import FieldErrors, confirm_discard, install_form_keys
from desktop.ui.theme import MUTED_TEXT

SAVE_TEXT = "保存"
CANCEL_TEXT = "取消"
Work = Callable[[], Any]
W = TypeVar("W", bound=QWidget)


def password_edit() -> QLineEdit:
    """A line edit that hides what is typed."""
    edit = QLineEdit()
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    return edit


def hint_label(text: str) -> QLabel:
    """A muted, wrapping explanation under a field."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet(f"color: {MUTED_TEXT};")
    return label


def _value(widget: QWidget) -> object:
    """What a field holds, for telling whether anything was changed."""
    if isinstance(widget, QLineEdit):
        return widget.text()
    if isinstance(widget, QComboBox):
        return widget.currentIndex()
    if isinstance(widget, QAbstractButton):
        return widget.isChecked()
    if isinstance(widget, QSpinBox):
        return widget.value()
    if isinstance(widget, QListWidget):
        return tuple(widget.item(i).checkState() == Qt.CheckState.Checked for i in range(widget.count()))
    return None


class FormDialog(QDialog):
    """Fields with inline errors, 保存/取消, Enter/Ctrl+S/Esc; subclasses implement `submit`.

    `submit()` runs on the GUI thread: it reads the fields, may raise ValidationError for
    local checks, and returns the background function that calls the service. That
    function returns `Changes` or `(value, Changes)`; on success the changes are published
    and the dialog accepts, keeping `saved_value`.
    """

    def __init__(self, ctx: UiContext, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.saved_value: Any = None
        self.setWindowTitle(title)
        self.setMinimumWidth(460)
        self.errors = FieldErrors()
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._fields: list[QWidget] = []
        self._initial: tuple[object, ...] = ()
        self._saving = False
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.errors.general)
        self.buttons = QDialogButtonBox()
        self.save_button = self.buttons.addButton(SAVE_TEXT, QDialogButtonBox.ButtonRole.AcceptRole)
        self.save_button.setToolTip("保存（Ctrl+S）")
        self.buttons.addButton(CANCEL_TEXT, QDialogButtonBox.ButtonRole.RejectRole)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

    def add_field(self, label: str, name: str, widget: W) -> W:
        """A labelled field whose errors appear beneath it."""
        self.errors.add_row(self.form, label, name, widget)
        self._fields.append(widget)
        return widget

    def finish(self) -> None:
        """Call after the fields are added: keys, the unchanged state, first focus."""
        install_form_keys(self, save=self.save, fields=self._fields)
        self._initial = self._snapshot()
        first = next((w for w in self._fields if w.isEnabled()), None)
        if first is not None:
            first.setFocus(Qt.FocusReason.OtherFocusReason)

    def is_dirty(self) -> bool:
        """True when any field differs from how the dialog opened."""
        return self._snapshot() != self._initial

    def submit(self) -> Work:
        """Read the fields and return the background call (raise ValidationError to stop)."""
        raise NotImplementedError

    def save(self) -> None:
        """Check locally, then run the service call in the background."""
        if self._saving:
            return
        self.errors.clear()
        try:
            work = self.submit()
        except ValidationError as error:
            self.show_errors(error.errors)
            return
        self._set_saving(True)
        self.ctx.tasks.run_db(work, on_success=self._saved, on_failure=self._failed, parent=self)

    def reject(self) -> None:
        """Esc or 取消: ask only if something was typed."""
        if self._saving or (self.is_dirty() and not confirm_discard(self)):
            return
        super().reject()

    def show_errors(self, errors: dict[str, str]) -> None:
        """Mark the fields and let the dialog grow so no field is squeezed by the messages."""
        self.errors.show(errors)
        layout = self.layout()
        layout.activate()
        needed = layout.totalHeightForWidth(self.width()) if layout.hasHeightForWidth() else 0
        needed = max(needed, layout.totalMinimumSize().height())
        if self.height() < needed:
            self.resize(self.width(), needed)

    def _snapshot(self) -> tuple[object, ...]:
        return tuple(_value(widget) for widget in self._fields)

    def _set_saving(self, saving: bool) -> None:
        self._saving = saving
        self.save_button.setEnabled(not saving)

    def _saved(self, result: Any) -> None:
        self._set_saving(False)
        value, changes = result if isinstance(result, tuple) else (None, result)
        self.saved_value = value
        if isinstance(changes, Changes):
            self.ctx.bus.publish(changes)
        self.done(QDialog.DialogCode.Accepted)

    def _failed(self, error: BaseException) -> None:
        self._set_saving(False)
        if isinstance(error, ValidationError):
            self.show_errors(error.errors)
        else:
            show_error(self, error)


def combine_errors(*checks: dict[str, str]) -> None:
    """Raise one ValidationError holding every non-empty check's errors."""
    errors: dict[str, str] = {}
    for check in checks:
        errors |= check
    if errors:
        raise ValidationError(errors)

