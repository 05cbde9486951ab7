"""What every page is given: the opened app, the task helper, the signed-in actor, the change bus."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from desktop.app import App
from desktop.changes import Changes
from desktop.services.branch import BranchInfo
from desktop.services.permissions import Actor
from desktop.ui.tasks import TaskManager


class ChangeBus(QObject):
    """Re-emits the `Changes` a write returned, so each page refreshes only what it shows."""

    changed = Signal(object)

    def publish(self, changes: Changes) -> None:
        if changes.any():
            self.changed.emit(changes)


@dataclass
class UiContext:
    """Shared by the main window and its pages for one signed-in session."""

    app: App
    tasks: TaskManager
    actor: Actor
    branch: BranchInfo
    bus: ChangeBus
    sync: QObject | None = None  # the session's sync guard and timer, kept by desktop.ui.sync_controller

    @property
    def db(self):  # -> Database; pages hand it to service calls run by `tasks`
        return self.app.db
