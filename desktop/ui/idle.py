"""Idle lock: after N minutes without keyboard or mouse input the window locks."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from desktop.db import Database
from desktop.errors import UserFacingError
from desktop.services.auth import confirm_identity
from desktop.services.permissions import Actor
from desktop.ui.errors import show_error
from desktop.ui.tasks import TaskManager

INPUT_EVENTS = frozenset({
    QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove,
    QEvent.Type.Wheel, QEvent.Type.InputMethod, QEvent.Type.TouchBegin,
})


class IdleWatcher(QObject):
    """Watches all input to the application; emits `idle` after `timeout_ms` of none."""

    idle = Signal()

    def __init__(self, timeout_ms: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(timeout_ms)
        self._timer.timeout.connect(self.idle)
        self.paused = False
        QApplication.instance().installEventFilter(self)
        self._timer.start()

    def set_timeout(self, timeout_ms: int) -> None:
        self._timer.setInterval(timeout_ms)
        self._timer.start()

    def pause(self) -> None:
        self.paused = True
        self._timer.stop()

    def resume(self) -> None:
        self.paused = False
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        QApplication.instance().removeEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if not self.paused and event.type() in INPUT_EVENTS:
            self._timer.start()
        return False


class LockDialog(QDialog):
    """The locked screen: the same person's password unlocks, or sign out."""

    SIGN_OUT = 2

    def __init__(self, db: Database, tasks: TaskManager, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db, self.tasks, self.actor = db, tasks, actor
        self.setWindowTitle("已锁定")
        self.setModal(True)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"工作台已锁定。请 {actor.display_name}（{actor.username}）输入密码解锁。"))
        form = QFormLayout()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow("密码", self.password)
        layout.addLayout(form)
        self.message = QLabel()
        self.message.setObjectName("fieldError")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        buttons = QDialogButtonBox()
        self.unlock_button = buttons.addButton("解锁", QDialogButtonBox.ButtonRole.AcceptRole)
        sign_out = buttons.addButton("退出登录", QDialogButtonBox.ButtonRole.DestructiveRole)
        buttons.accepted.connect(self.unlock)
        sign_out.clicked.connect(lambda: self.done(self.SIGN_OUT))
        layout.addWidget(buttons)
        self.password.returnPressed.connect(self.unlock)

    def reject(self) -> None:
        """Esc does not unlock."""

    def unlock(self) -> None:
        password = self.password.text()
        self.unlock_button.setEnabled(False)
        self.tasks.run_db(lambda: confirm_identity(self.db, self.actor, password),
                          on_success=lambda _: self.accept(), on_failure=self._failed, parent=self)

    def _failed(self, error: BaseException) -> None:
        self.unlock_button.setEnabled(True)
        self.password.clear()
        if isinstance(error, UserFacingError):
            self.message.setText(error.message)
        else:
            show_error(self, error)
