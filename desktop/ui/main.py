"""Starting the window: application, theme, database, first-run setup, sign-in, main window.

The sign-in window is shown as soon as the file has been checked with the keyed driver; the
ORM is imported and the database opened on the database thread while the person types.
A first run, a schema upgrade or a plain file to encrypt takes the slower path: the backup, the
encryption, the migration and the demo build run on the database thread too, behind a progress
window, before sign-in. A recovery key not yet shown is shown once to the first admin who signs in.
"""

from __future__ import annotations

import sys
from concurrent.futures import Future
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog

from desktop import APP_NAME, APP_TITLE
from desktop.at_rest import finish_rotation
from desktop.branch_info import BranchInfo
from desktop.dbfile import SCHEMA_HEAD, check_openable, read_branch
from desktop.errors import DatabaseProblem
from desktop.logs import configure_logging
from desktop.paths import DataPaths
from desktop.site_secrets import SecretsUnreadable, load_secrets
from desktop.sqlite_driver import KeyRejected, is_plain
from desktop.ui.errors import install_excepthook
from desktop.ui.tasks import TaskManager
from desktop.ui.theme import apply_theme, configure_high_dpi, install_chinese_translations

OPEN_DELAY_MS = 100
OPENING_LABEL = "正在打开数据库（首次运行或升级后需备份并更新数据库）……"
DEMO_LABEL = "正在创建演示分院……"

if TYPE_CHECKING:
    from desktop.app import App
    from desktop.services.auth import SignIn


def create_application() -> QApplication:
    """The QApplication with the house look (bundled font, Fusion, light palette)."""
    existing = QApplication.instance()
    if existing is not None:
        return existing  # type: ignore[return-value]
    configure_high_dpi()
    app = QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_TITLE)
    apply_theme(app)
    install_chinese_translations(app)
    install_excepthook()
    return app


def probe(paths: DataPaths) -> tuple[str | None, BranchInfo | None]:
    """(schema revision, branch) of the data directory's file; raises if it cannot be used."""
    if not paths.database.exists():
        return None, None
    if is_plain(paths.database):
        return check_openable(paths.database, key=None), read_branch(paths.database, key=None)
    try:
        finish_rotation(paths)
        key = load_secrets(paths.secrets).database_key
    except SecretsUnreadable as error:
        raise KeyRejected(error.message, details=error.details) from error
    return check_openable(paths.database, key=key), read_branch(paths.database, key=key)


def probe_or_recover(paths: DataPaths) -> tuple[str | None, BranchInfo | None] | None:
    """Probe the file; when it is damaged, offer a restore and probe once more. None = give up."""
    try:
        return probe(paths)
    except DatabaseProblem as problem:
        from desktop.ui.recovery import offer_recovery

        return probe(paths) if offer_recovery(paths, problem) else None


def demo_hint_text(app: App) -> str:
    """The demo accounts to show on the sign-in window (runs on the database thread)."""
    from desktop.demo import build_demo

    return build_demo(app.db).sign_in_text()


class Shell:
    """Runs sessions: sign in, (change password), main window, back to sign in after sign-out."""

    def __init__(self, paths: DataPaths, tasks: TaskManager) -> None:
        self.paths, self.tasks = paths, tasks
        self._app: Future[App] | None = None
        self.window = None

    @property
    def app(self) -> App:
        """The opened app. Used from the database thread, where the background open ran first."""
        return self._app.result() if self._app is not None else self.open_now()

    def open_in_background(self) -> None:
        """Import the ORM and open the database on the database thread (once)."""
        if self._app is None:
            self._app = self.tasks.run_db(lambda: self._open())

    def _open(self) -> App:
        from desktop.app import open_app

        return open_app(self.paths.root)

    def open_behind_progress(self) -> App:
        """Open (back up, migrate) on the database thread behind a progress window; the GUI keeps running."""
        app = self.tasks.run_db_and_wait(self._open, label=OPENING_LABEL)
        future: Future[App] = Future()
        future.set_result(app)
        self._app = future
        return app

    def open_now(self) -> App:
        """Open the database on the calling thread (first run, upgrade, or a very fast typist)."""
        future: Future[App] = Future()
        future.set_result(self._open())
        self._app = future
        return future.result()

    def authenticate(self, username: str, password: str) -> SignIn:
        from desktop.services.auth import sign_in

        return sign_in(self.app.db, username, password)

    def start_session(self, branch: BranchInfo, demo_hint: str = "") -> bool:
        """Show sign-in; open the main window. False when the person chose to quit."""
        from desktop.ui.sign_in import SignInDialog

        dialog = SignInDialog(self.authenticate, self.tasks, branch, demo_hint=demo_hint)
        # Opening imports the ORM, which holds the interpreter for a third of a second:
        # start it only once the window has had a moment to paint.
        QTimer.singleShot(OPEN_DELAY_MS, lambda: self._after_paint(dialog, branch.is_demo and not demo_hint))
        if dialog.exec() != QDialog.DialogCode.Accepted or dialog.result_sign_in is None:
            return False
        return self._enter(branch, dialog.result_sign_in)

    def _after_paint(self, dialog: QDialog, wants_demo_hint: bool) -> None:
        self.open_in_background()
        if wants_demo_hint:
            self.tasks.run_db(lambda: demo_hint_text(self.app), on_success=dialog.set_demo_hint, parent=dialog)

    def _enter(self, branch: BranchInfo, result: SignIn) -> bool:
        from desktop.backups import daily_backup
        from desktop.services.permissions import Role
        from desktop.ui.context import ChangeBus, UiContext
        from desktop.ui.main_window import MainWindow, show_sized_to_screen
        from desktop.ui.sign_in import ChangePasswordDialog

        if result.must_change_password:
            change = ChangePasswordDialog(self.app.db, self.tasks, result.actor, forced=True)
            if change.exec() != QDialog.DialogCode.Accepted:
                return self.start_session(branch)
        ctx = UiContext(app=self.app, tasks=self.tasks, actor=result.actor, branch=branch, bus=ChangeBus())
        self.window = MainWindow(ctx)
        self.window.signed_out.connect(lambda: self._after_sign_out(branch))
        show_sized_to_screen(self.window)
        key = self.app.db.secrets.database_key
        self.tasks.run_db(lambda: daily_backup(self.paths, key=key), parent=self.window)
        if self.app.pending_recovery_key and result.actor.role == Role.ADMIN:
            from desktop.ui.recovery import show_pending_recovery_key

            show_pending_recovery_key(self.app, self.tasks, self.window)
        return True

    def _after_sign_out(self, branch: BranchInfo) -> None:
        if not self.start_session(branch):
            QApplication.instance().quit()

    def close(self) -> None:
        if self._app is not None and self._app.done() and self._app.exception() is None:
            self._app.result().close()


def first_run(shell: Shell, *, demo_if_empty: bool) -> tuple[BranchInfo, str] | None:
    """Set up the branch when nothing is there: the wizard, or a demo. None if cancelled.

    Every database step runs on the database thread through `shell.tasks`, behind a progress window.
    """
    app, tasks = shell.open_behind_progress(), shell.tasks
    branch = tasks.run_db_and_wait(lambda: app.branch, label=None)
    if branch is not None:
        hint = tasks.run_db_and_wait(lambda: demo_hint_text(app), label=DEMO_LABEL) if branch.is_demo else ""
        return branch, hint
    if demo_if_empty:
        from desktop.demo import build_demo

        result = tasks.run_job_and_wait(partial(build_demo, app.db), label=DEMO_LABEL)
        print(result.sign_in_text(), flush=True)
        return tasks.run_db_and_wait(lambda: app.branch, label=None), result.sign_in_text()
    from desktop.ui.setup_wizard import SetupWizard

    wizard = SetupWizard(app.db, tasks, recovery_key_shown=app.recovery_key_shown)
    if wizard.exec() != QDialog.DialogCode.Accepted:
        return None
    branch = tasks.run_db_and_wait(lambda: app.branch, label=None)
    return branch, wizard.demo.sign_in_text() if wizard.demo else ""


def run_gui(*, data_dir: Path, demo_if_empty: bool = False, verbose: bool = False) -> int:
    """The window's main loop; returns the process exit code."""
    paths = DataPaths(data_dir)
    configure_logging(paths, verbose=verbose)
    qt_app = create_application()
    probed = probe_or_recover(paths)
    if probed is None:
        return 1
    revision, branch = probed
    tasks = TaskManager()
    shell = Shell(paths, tasks)
    try:
        hint = ""
        if branch is None or revision != SCHEMA_HEAD or is_plain(paths.database):
            started = first_run(shell, demo_if_empty=demo_if_empty)
            if started is None:
                return 0
            branch, hint = started
        if not shell.start_session(branch, hint):
            return 0
        return qt_app.exec()
    finally:
        tasks.shutdown()
        shell.close()
