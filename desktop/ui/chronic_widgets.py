"""Pieces shared by the visit and health-check forms: sectioned columns, tick grids, number fields."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desktop.errors import UserFacingError, ValidationError
from desktop.rules.numbers import decimal_or_none
from desktop.ui.context import UiContext
from desktop.ui.form_dialog import FormDialog
from desktop.ui.theme import BORDER, ERROR, MUTED_TEXT

EMERGENCY_STYLE = f"background: #fbeaea; color: {ERROR}; border: 1px solid {ERROR}; padding: 6px; font-weight: bold;"
NOTE_STYLE = f"background: #eef4f5; border: 1px solid {BORDER}; padding: 6px;"


def typed_number(text: str) -> float | None:
    """The number typed (full-width digits allowed), or None while empty or not a number."""
    return decimal_or_none(text)


def whole(value: float | None) -> int | None:
    return None if value is None or value != int(value) else int(value)


def number_edit(unit: str = "", width: int = 90) -> QLineEdit:
    """A short field for a measured value, its unit as the placeholder."""
    edit = QLineEdit()
    edit.setPlaceholderText(unit)
    edit.setMaximumWidth(width)
    return edit


class CheckGrid(QWidget):
    """Ticks in a grid (symptoms, danger signs, guidance); `only` names the tick that excludes the others."""

    changed = Signal()

    def __init__(self, items: Sequence[tuple[str, str]], columns: int = 3, only: str | None = None) -> None:
        super().__init__()
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setVerticalSpacing(2)
        self.only = only
        self.boxes: dict[str, QCheckBox] = {}
        for index, (value, text) in enumerate(items):
            box = QCheckBox(text)
            box.toggled.connect(lambda on, v=value: self._toggled(v, on))
            grid.addWidget(box, index // columns, index % columns)
            self.boxes[value] = box
        if self.boxes:
            self.setFocusProxy(next(iter(self.boxes.values())))

    def _toggled(self, value: str, on: bool) -> None:
        if on and self.only is not None:
            for other, box in self.boxes.items():
                if (value == self.only) != (other == self.only):
                    box.setChecked(False)
        self.changed.emit()

    def values(self) -> tuple[str, ...]:
        return tuple(value for value, box in self.boxes.items() if box.isChecked())

    def set_values(self, values: Sequence[str]) -> None:
        for value, box in self.boxes.items():
            box.setChecked(value in values)

    def widgets(self) -> list[QWidget]:
        return list(self.boxes.values())


def pair(first: QWidget, second: QWidget, between: str = "") -> QWidget:
    """Two fields on one line (now / target, systolic / diastolic); focus goes to the first."""
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(first)
    if between:
        row.addWidget(QLabel(between))
    row.addWidget(second)
    row.addStretch(1)
    box.setFocusProxy(first)
    return box


def banner(style: str) -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setStyleSheet(style)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.hide()
    return label


class SectionedForm(FormDialog):
    """A form dialog laid out in titled sections over columns, scrolling vertically when short of room.

    Errors for a name in `aliases` show under the field it maps to (now/target pairs share a line);
    the first field on the form with an error gets focus.
    """

    def __init__(self, ctx: UiContext, title: str, columns: int, parent: QWidget | None = None) -> None:
        super().__init__(ctx, title, parent)
        self.aliases: dict[str, str] = {}
        self.names: list[str] = []
        layout = self.layout()
        layout.removeItem(self.form)
        self.header = QLabel()
        self.header.setStyleSheet(f"color: {MUTED_TEXT};")
        layout.insertWidget(0, self.header)
        content = QWidget()
        self.columns = [QVBoxLayout() for _ in range(columns)]
        row = QHBoxLayout(content)
        row.setContentsMargins(0, 0, 8, 0)
        for column in self.columns:
            row.addLayout(column, 1)
        self.scroll = QScrollArea()
        self.scroll.setWidget(content)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout.insertWidget(1, self.scroll, 1)

    def section(self, column: int, title: str) -> QFormLayout:
        box = QGroupBox(title)
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.columns[column].addWidget(box)
        return form

    def end_columns(self) -> None:
        for column in self.columns:
            column.addStretch(1)

    def add_to(self, form: QFormLayout, label: str, name: str, widget: Any, fields: Sequence[QWidget] = ()) -> Any:
        """A labelled field with its inline error; `fields` are the inputs inside a compound widget."""
        self.errors.add_row(form, label, name, widget)
        self.names.append(name)
        self._fields.extend(fields or [widget])
        return widget

    def chain_tabs(self) -> None:
        for first, second in pairwise([*self._fields, self.save_button]):
            QWidget.setTabOrder(first, second)

    def show_errors(self, errors: dict[str, str]) -> None:
        merged: dict[str, str] = {}
        for name, message in errors.items():
            target = self.aliases.get(name, name)
            merged[target] = f"{merged[target]} {message}" if target in merged else message
        place = {name: index for index, name in enumerate(self.names)}  # the first field on the form gets focus
        super().show_errors(dict(sorted(merged.items(), key=lambda item: place.get(item[0], len(place)))))

    def _failed(self, error: BaseException) -> None:
        """Refusals that name no field (not under management, out of scope) show inside the form."""
        if isinstance(error, UserFacingError) and not isinstance(error, ValidationError):
            self._set_saving(False)
            self.show_errors({"_": error.message})
            return
        super()._failed(error)


def connect_all(widgets: Sequence[QWidget], slot: Callable[[], None]) -> None:
    """Call `slot` whenever any of the widgets' values changes."""
    for widget in widgets:
        signal = getattr(widget, "textChanged", None) or getattr(widget, "currentIndexChanged", None) \
            or getattr(widget, "toggled", None) or getattr(widget, "changed", None)
        if signal is not None:
            signal.connect(lambda *_args: slot())
