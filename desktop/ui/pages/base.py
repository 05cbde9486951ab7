"""The page contract: a title bar with actions, a body, and a hook for changes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop.changes import Changes
from desktop.services.permissions import Actor, Permission
from desktop.ui.context import UiContext


class Page(QWidget):
    """A page of the main window. Subclasses fill `self.body` and react in `on_changes`."""

    title = ""

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        outer = QVBoxLayout(self)
        outer.setContentsMargins(16, 10, 16, 10)
        header = QHBoxLayout()
        self.title_label = QLabel(self.title)
        self.title_label.setObjectName("pageTitle")
        header.addWidget(self.title_label)
        header.addStretch(1)
        self.actions_bar = header
        outer.addLayout(header)
        self.body = QVBoxLayout()
        outer.addLayout(self.body, 1)

    def add_action_button(self, text: str, slot: Callable[[], None], *, shortcut: str = "") -> QPushButton:
        """A main action in the page's title bar (with an optional keyboard shortcut)."""
        button = QPushButton(text)
        button.clicked.connect(slot)
        if shortcut:
            action = QAction(self)
            action.setShortcut(shortcut)
            action.triggered.connect(slot)
            self.addAction(action)
            button.setToolTip(f"{text}（{shortcut}）")
        self.actions_bar.addWidget(button)
        return button

    def activated(self) -> None:
        """Called when the page comes into view; load or refresh here."""

    def on_changes(self, changes: Changes) -> None:
        """Called for every write anywhere; refresh what this page shows if it is affected."""


@dataclass(frozen=True)
class PageSpec:
    """A navigation entry: who may see it and how to build it."""

    key: str
    title: str
    factory: Callable[[UiContext], Page]
    permission: Permission | None = None
    visible: Callable[[Actor], bool] | None = None

    def allowed(self, actor: Actor) -> bool:
        if self.permission is not None and not actor.can(self.permission):
            return False
        return self.visible(actor) if self.visible else True
