"""The main window: left navigation, the page stack, the status bar, the lock screen.

Locked, the window shows only the lock screen (menus and status bar hidden, the session's
dialogs hidden); signed out, it is emptied (every page and its models deleted) before the
sign-in box appears over it.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QStackedWidget,
    QWidget,
)

from desktop import APP_TITLE
from desktop.changes import Changes
from desktop.services.auth import record_sign_out
from desktop.services.settings import IDLE_LOCK_MINUTES, get_setting
from desktop.ui.context import UiContext
from desktop.ui.idle import IdleWatcher
from desktop.ui.lock_screen import (
    LOCKED_TITLE,
    HiddenWindows,
    LockScreen,
    SignedOutScreen,
    close_session_windows,
)
from desktop.ui.pages.base import Page, PageSpec
from desktop.ui.pages.registry import SYNC_PAGE, all_pages
from desktop.ui.sign_in import ChangePasswordDialog
from desktop.ui.sync_controller import sync_controller
from desktop.ui.sync_status_bar import SyncStatusWidget

NAVIGATION_ROW_HEIGHT = 38
SMALL_SCREEN_WIDTH = 1440  # on a screen this wide or narrower the window opens maximized
WINDOW_SIZE = QSize(1280, 720)


def opens_maximized(available_width: int) -> bool:
    """Whether the window opens maximized on a screen whose usable width is `available_width` pixels."""
    return available_width <= SMALL_SCREEN_WIDTH


def show_sized_to_screen(window: QMainWindow) -> None:
    """Show the window maximized on a small screen (1366×768 and the like), else at 1280×720."""
    screen = window.screen() or QGuiApplication.primaryScreen()
    if screen is not None and opens_maximized(screen.availableGeometry().width()):
        window.showMaximized()
        return
    window.resize(WINDOW_SIZE)
    window.show()


class MainWindow(QMainWindow):
    """One signed-in session. Emits `signed_out` when the person signs out or is locked out."""

    signed_out = Signal()

    def __init__(self, ctx: UiContext, pages: list[PageSpec] | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.title = f"{APP_TITLE} — {ctx.branch.name}"
        self.setWindowTitle(self.title)
        self.specs = [spec for spec in (pages or all_pages()) if spec.allowed(ctx.actor)]
        self.pages: dict[str, Page] = {}
        self.lock_screen: LockScreen | None = None
        self._hidden: HiddenWindows | None = None
        self._session_actions: list[QAction] = []
        self.sync = sync_controller(ctx, self)
        self._build_frame()
        self._build_status_bar()
        self._build_actions()
        ctx.bus.changed.connect(self._on_changes)
        minutes = int(get_setting(ctx.db, IDLE_LOCK_MINUTES))
        self.idle = IdleWatcher(minutes * 60_000, self)
        self.idle.idle.connect(self.lock)
        self.navigation.setCurrentRow(0)
        self.sync.start()

    def _build_frame(self) -> None:
        self.work = QWidget()
        layout = QHBoxLayout(self.work)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.navigation = QListWidget()
        self.navigation.setObjectName("navigation")
        self.navigation.setFixedWidth(150)
        self.stack = QStackedWidget()
        for index, spec in enumerate(self.specs):
            item = QListWidgetItem(spec.title)
            item.setData(Qt.ItemDataRole.UserRole, spec.key)
            item.setSizeHint(QSize(0, NAVIGATION_ROW_HEIGHT))
            item.setToolTip(f"{spec.title}（Ctrl+{index + 1}）" if index < 9 else spec.title)
            self.navigation.addItem(item)
            self.stack.addWidget(QWidget())
        self.navigation.currentRowChanged.connect(self.show_page)
        layout.addWidget(self.navigation)
        layout.addWidget(self.stack, 1)
        self.screens = QStackedWidget()  # the work area, or the lock / signed-out screen in its place
        self.screens.addWidget(self.work)
        self.setCentralWidget(self.screens)

    def _build_status_bar(self) -> None:
        actor, branch = self.ctx.actor, self.ctx.branch
        self.user_label = QLabel(f"{actor.display_name}（{actor.role.label}）")
        self.branch_label = QLabel(f"{branch.name}{' · 演示数据' if branch.is_demo else ''}")
        self.db_label = QLabel("数据库正常")
        self.db_label.setToolTip(str(self.ctx.app.paths.database))
        self.sync_status = SyncStatusWidget(self.sync)
        self.sync_status.clicked.connect(self.open_sync_page)
        bar = self.statusBar()
        for label in (self.sync_status, self.user_label, self.branch_label, self.db_label):
            bar.addPermanentWidget(label)

    def _build_actions(self) -> None:
        for index in range(min(9, len(self.specs))):
            action = QAction(self)
            action.setShortcut(QKeySequence(f"Ctrl+{index + 1}"))
            action.triggered.connect(lambda _=False, row=index: self.navigation.setCurrentRow(row))
            self.addAction(action)
            self._session_actions.append(action)
        menu = self.menuBar().addMenu("账户(&A)")
        for text, shortcut, slot in (
            ("修改密码…", "", self.change_password),
            ("锁定(&L)", "Ctrl+L", self.lock),
            ("退出登录", "", self.sign_out),
            ("退出程序(&Q)", "Ctrl+Q", self.close),
        ):
            action = menu.addAction(text)
            if shortcut:
                action.setShortcut(QKeySequence(shortcut))
            action.triggered.connect(slot)
            self._session_actions.append(action)

    def page(self, key: str) -> Page:
        """The page for `key`, built on first use."""
        index = next(i for i, spec in enumerate(self.specs) if spec.key == key)
        self.navigation.setCurrentRow(index)
        return self.pages[key]

    def open_sync_page(self) -> None:
        """The status bar's sync corner was clicked: show 数据同步 to those who may use it."""
        if any(spec.key == SYNC_PAGE for spec in self.specs):
            self.page(SYNC_PAGE)

    def show_page(self, row: int) -> None:
        if row < 0:
            return
        spec = self.specs[row]
        if spec.key not in self.pages:
            page = spec.factory(self.ctx)
            self.pages[spec.key] = page
            placeholder = self.stack.widget(row)
            self.stack.insertWidget(row, page)
            self.stack.removeWidget(placeholder)
            placeholder.deleteLater()
        self.stack.setCurrentIndex(row)
        self.pages[spec.key].activated()

    def _on_changes(self, changes: Changes) -> None:
        for page in self.pages.values():
            page.on_changes(changes)
        if changes.settings:
            minutes = int(get_setting(self.ctx.db, IDLE_LOCK_MINUTES))
            self.idle.set_timeout(minutes * 60_000)

    def show_message(self, text: str) -> None:
        """Quiet success: a status-bar message."""
        self.statusBar().showMessage(text, 5000)

    def change_password(self) -> None:
        dialog = ChangePasswordDialog(self.ctx.db, self.ctx.tasks, self.ctx.actor, parent=self)
        if dialog.exec():
            self.show_message("密码已修改。")

    @property
    def locked(self) -> bool:
        """Whether the lock screen is up."""
        return self.lock_screen is not None

    def lock(self) -> None:
        """Hide everything the window and its dialogs show, then ask for the same person's password."""
        if self.locked or self.idle.paused:
            return
        self.idle.pause()
        self.ctx.tasks.run_db(lambda: record_sign_out(self.ctx.db, self.ctx.actor, reason="idle"), parent=self)
        self._hidden = HiddenWindows(self, self._lock_screen)
        screen = self._lock_screen()
        self.lock_screen = screen
        self._cover(screen, title=LOCKED_TITLE)
        if not self._hidden.screens:
            screen.password.setFocus()

    def _lock_screen(self, parent: QWidget | None = None) -> LockScreen:
        screen = LockScreen(self.ctx.db, self.ctx.tasks, self.ctx.actor, parent)
        screen.unlocked.connect(self._unlock)
        screen.sign_out_requested.connect(self._end_session)
        return screen

    def _cover(self, screen: QWidget, *, title: str) -> None:
        """Put `screen` in place of the pages, menus and status bar, and switch the shortcuts off."""
        self.screens.addWidget(screen)
        self.screens.setCurrentWidget(screen)
        self.work.setEnabled(False)
        self.menuBar().hide()
        self.statusBar().hide()
        for action in self._session_actions:
            action.setEnabled(False)
        self.setWindowTitle(title)

    def _unlock(self) -> None:
        if not self.locked:
            return
        screen, self.lock_screen = self.lock_screen, None
        self.screens.setCurrentWidget(self.work)
        if screen is not None:
            self.screens.removeWidget(screen)
            screen.deleteLater()
        self.work.setEnabled(True)
        self.menuBar().show()
        self.statusBar().show()
        for action in self._session_actions:
            action.setEnabled(True)
        self.setWindowTitle(self.title)
        if self._hidden is not None:
            self._hidden.restore()
            self._hidden = None
        self.idle.resume()

    def sign_out(self) -> None:
        self.ctx.tasks.run_db(lambda: record_sign_out(self.ctx.db, self.ctx.actor), parent=self)
        self._end_session()

    def _end_session(self) -> None:
        self.idle.stop()
        self.sync.stop()
        self.clear()
        self.signed_out.emit()
        self.hide()
        self.deleteLater()

    def clear(self) -> None:
        """Empty the window: every dialog, page and model of this session goes; only a blank screen stays."""
        if self._hidden is not None:
            self._hidden.close()
            self._hidden = None
        close_session_windows(self)
        self._cover(SignedOutScreen(), title=APP_TITLE)
        self.navigation.clear()
        for page in [self.stack.widget(index) for index in range(self.stack.count())]:
            self.stack.removeWidget(page)
            page.deleteLater()
        self.pages.clear()
        if self.lock_screen is not None:
            self.screens.removeWidget(self.lock_screen)
            self.lock_screen.deleteLater()
            self.lock_screen = None
        self.menuBar().clear()
        self.setStatusBar(None)
