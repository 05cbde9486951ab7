"""What a locked or signed-out window shows instead of its pages, and the session's other windows.

Locking swaps the whole window for `LockScreen` (the unlock form on a plain page) and hides
every other window of the session, so that nothing a person was looking at stays readable;
unlocking shows them again as they were. Dialogs run with `exec()` cannot wait hidden (hiding
ends their loop): see `HiddenWindows`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, QSize, Qt, Signal
from PySide6.QtPrintSupport import QAbstractPrintDialog
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from desktop import APP_TITLE
from desktop.db import Database
from desktop.errors import UserFacingError
from desktop.services.auth import confirm_identity
from desktop.services.permissions import Actor
from desktop.ui.errors import show_error
from desktop.ui.tasks import TaskManager

LOCKED_TITLE = f"{APP_TITLE} — 已锁定"
PANEL_WIDTH = 420


def _centred(panel: QWidget, parent: QWidget, *, below: int = 2) -> None:
    """Centre `panel` across `parent`, with `below` times as much room under it as above."""
    outer = QVBoxLayout(parent)
    row = QHBoxLayout()
    row.addStretch(1)
    row.addWidget(panel)
    row.addStretch(1)
    outer.addStretch(1)
    outer.addLayout(row)
    outer.addStretch(below)


def _title(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("pageTitle")
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    return label


class LockScreen(QWidget):
    """The locked window: the same person's password unlocks, or they sign out."""

    unlocked = Signal()
    sign_out_requested = Signal()

    def __init__(self, db: Database, tasks: TaskManager, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db, self.tasks, self.actor = db, tasks, actor
        self.setObjectName("lockScreen")
        self.setAutoFillBackground(True)
        panel = QFrame()
        panel.setFrameShape(QFrame.Shape.StyledPanel)
        panel.setFixedWidth(PANEL_WIDTH)
        layout = QVBoxLayout(panel)
        layout.addWidget(_title("工作台已锁定"))
        hint = QLabel(f"请 {actor.display_name} 输入密码解锁。")
        hint.setWordWrap(True)
        layout.addWidget(hint)
        form = QFormLayout()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow("密码", self.password)
        layout.addLayout(form)
        self.message = QLabel()
        self.message.setObjectName("fieldError")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.unlock_button = QPushButton("解锁")
        self.unlock_button.setDefault(True)
        self.sign_out_button = QPushButton("退出登录")
        buttons.addWidget(self.unlock_button)
        buttons.addWidget(self.sign_out_button)
        layout.addLayout(buttons)
        _centred(panel, self)
        self.unlock_button.clicked.connect(self.unlock)
        self.sign_out_button.clicked.connect(self.sign_out_requested)
        self.password.returnPressed.connect(self.unlock)

    def unlock(self) -> None:
        """Check the password on the database thread (with the same lockout as signing in)."""
        password = self.password.text()
        self.unlock_button.setEnabled(False)
        self.tasks.run_db(lambda: confirm_identity(self.db, self.actor, password),
                          on_success=lambda _: self._unlocked(), on_failure=self._failed, parent=self)

    def _unlocked(self) -> None:
        self.password.clear()
        self.unlocked.emit()

    def _failed(self, error: BaseException) -> None:
        self.unlock_button.setEnabled(True)
        self.password.clear()
        if isinstance(error, UserFacingError):
            self.message.setText(error.message)
        else:
            show_error(self, error)


class SignedOutScreen(QWidget):
    """An emptied window after sign-out, behind the sign-in box."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("signedOutScreen")
        self.setAutoFillBackground(True)
        panel = QWidget()
        layout = QVBoxLayout(panel)
        layout.addWidget(_title(APP_TITLE))
        layout.addWidget(QLabel("已退出登录。"), 0, Qt.AlignmentFlag.AlignHCenter)
        _centred(panel, self, below=8)  # above the sign-in box, which opens in the middle


def _depth(widget: QWidget) -> int:
    depth, parent = 0, widget.parentWidget()
    while parent is not None:
        depth, parent = depth + 1, parent.parentWidget()
    return depth


def session_windows(main: QWidget) -> list[QWidget]:
    """The visible windows (dialogs, message boxes) that belong to `main`, outermost first."""
    owned = []
    for widget in QApplication.topLevelWidgets():
        if widget is main or not widget.isVisible():
            continue
        parent = widget.parentWidget()
        while parent is not None and parent is not main:
            parent = parent.parentWidget()
        if parent is main:
            owned.append(widget)
    return sorted(owned, key=_depth)


def _runs_its_own_loop(widget: QWidget) -> bool:
    return isinstance(widget, QDialog) and widget.windowModality() == Qt.WindowModality.ApplicationModal


def _worth_keeping(widget: QWidget) -> bool:
    """A dialog of this app's own (an import under way, say), not a message or a file or printer choice."""
    return not isinstance(widget, QMessageBox | QFileDialog | QAbstractPrintDialog | QProgressDialog)


class _FollowSize(QObject):
    """Keeps a curtain the size of the window it covers."""

    def __init__(self, window: QWidget, curtain: QWidget) -> None:
        super().__init__(curtain)
        self.curtain = curtain
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Resize and isinstance(watched, QWidget):
            self.curtain.setGeometry(watched.rect())
        return False


@dataclass
class _Curtain:
    """A dialog running its own loop (it cannot be hidden without ending it): contents hidden, form on top."""

    window: QWidget
    screen: LockScreen
    children: list[QWidget]
    size: QSize


class HiddenWindows:
    """The session's other windows, hidden while the window is locked and shown again after.

    A dialog that runs its own loop (`exec()`) would end if hidden: an app's own one keeps running
    with its contents hidden behind another lock screen made by `make_screen(parent)`, whose form
    unlocks as well (the main window cannot take input while such a dialog is up); a message,
    file or printer choice is cancelled.
    """

    def __init__(self, main: QWidget, make_screen: Callable[[QWidget], LockScreen]) -> None:
        self._windows: list[QWidget] = []
        self._curtains: list[_Curtain] = []
        self._finished: set[int] = set()
        for widget in session_windows(main):
            if isinstance(widget, QProgressDialog):
                continue  # says only what is being done, and goes by itself
            if _runs_its_own_loop(widget):
                if _worth_keeping(widget):
                    self._curtains.append(_cover_dialog(widget, make_screen))
                else:
                    widget.reject()
                continue
            if isinstance(widget, QDialog):
                widget.finished.connect(lambda _=0, key=id(widget): self._finished.add(key))
            widget.hide()
            self._windows.append(widget)

    @property
    def screens(self) -> list[LockScreen]:
        """The lock screens put over dialogs; the innermost one is where the password is typed."""
        return [curtain.screen for curtain in self._curtains]

    def restore(self) -> None:
        """Show again, outermost first, the windows that are still there and were not closed meanwhile."""
        for widget in self._windows:
            if isValid(widget) and id(widget) not in self._finished:
                widget.show()
        self._windows.clear()
        for curtain in self._curtains:
            if isValid(curtain.window) and isValid(curtain.screen):
                curtain.screen.hide()
                curtain.screen.deleteLater()
                for child in curtain.children:
                    if isValid(child):
                        child.show()
                curtain.window.resize(curtain.size)
        self._curtains.clear()

    def close(self) -> None:
        """Sign-out: close them for good."""
        for widget in reversed(self._windows):
            if isValid(widget):
                widget.close()
                widget.deleteLater()
        self._windows.clear()
        for curtain in reversed(self._curtains):
            if isValid(curtain.window):
                curtain.window.reject()
        self._curtains.clear()


def _cover_dialog(window: QDialog, make_screen: Callable[[QWidget], LockScreen]) -> _Curtain:
    children = [child for child in window.findChildren(QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly)
                if child.isVisibleTo(window) and not child.isWindow()]
    for child in children:
        child.hide()
    size = window.size()
    screen = make_screen(window)
    window.resize(size.expandedTo(screen.minimumSizeHint()))
    screen.setGeometry(window.rect())
    _FollowSize(window, screen)
    screen.show()
    screen.raise_()
    screen.password.setFocus()
    return _Curtain(window, screen, children, size)


def close_session_windows(main: QWidget) -> None:
    """Close every other window of the session (sign-out)."""
    for widget in reversed(session_windows(main)):
        if _runs_its_own_loop(widget):
            widget.reject()
        else:
            widget.close()
            widget.deleteLater()
