"""Starting the window: application, theme, database, first-run setup, sign-in, main window."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication, QDialog

from desktop import APP_NAME, APP_TITLE
from desktop.app import App, configure_logging, open_app
from desktop.backups import daily_backup
from desktop.errors import DatabaseProblem
from desktop.paths import DataPaths
from desktop.services.branch import BranchInfo
from desktop.ui.context import ChangeBus, UiContext
from desktop.ui.errors import install_excepthook
from desktop.ui.tasks import TaskManager
from desktop.ui.theme import apply_theme, configure_high_dpi, install_chinese_translations


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


def open_or_recover(paths: DataPaths) -> App | None:
    """Open the database; when it is damaged, offer a restore and try once more."""
    try:
        return open_app(paths.root)
    except DatabaseProblem as problem:
        from desktop.ui.recovery import offer_recovery

        if offer_recovery(paths, problem):
            return open_app(paths.root)
        return None


class Shell:
    """Runs sessions: sign in, (change password), main window, back to sign in after sign-out."""

    def __init__(self, app: App, tasks: TaskManager, demo_hint: str = "") -> None:
        self.app, self.tasks, self.demo_hint = app, tasks, demo_hint
        self.window = None

    def start_session(self) -> bool:
        """Show sign-in; open the main window. False when the person chose to quit."""
        from desktop.ui.main_window import MainWindow
        from desktop.ui.sign_in import ChangePasswordDialog, SignInDialog

        branch: BranchInfo = self.app.branch  # type: ignore[assignment]
        dialog = SignInDialog(self.app.db, self.tasks, branch, demo_hint=self.demo_hint)
        if dialog.exec() != QDialog.DialogCode.Accepted or dialog.result_sign_in is None:
            return False
        result = dialog.result_sign_in
        if result.must_change_password:
            change = ChangePasswordDialog(self.app.db, self.tasks, result.actor, forced=True)
            if change.exec() != QDialog.DialogCode.Accepted:
                return self.start_session()
        ctx = UiContext(app=self.app, tasks=self.tasks, actor=result.actor, branch=branch, bus=ChangeBus())
        self.window = MainWindow(ctx)
        self.window.signed_out.connect(self._after_sign_out)
        self.window.resize(1280, 720)
        self.window.show()
        self.tasks.run_db(lambda: daily_backup(self.app.paths), parent=self.window)
        return True

    def _after_sign_out(self) -> None:
        if not self.start_session():
            QApplication.instance().quit()


def _first_run(app: App, tasks: TaskManager, *, demo_if_empty: bool) -> str | None:
    """Set up the branch when nothing is there. Returns the demo hint, or None if cancelled."""
    if app.is_set_up():
        branch = app.branch
        return _demo_hint(app) if branch and branch.is_demo else ""
    if demo_if_empty:
        from desktop.demo import build_demo

        result = build_demo(app.db)
        print(result.sign_in_text(), flush=True)
        return result.sign_in_text()
    from desktop.ui.setup_wizard import SetupWizard

    wizard = SetupWizard(app.db, tasks)
    if wizard.exec() != QDialog.DialogCode.Accepted:
        return None
    return wizard.demo.sign_in_text() if wizard.demo else ""


def _demo_hint(app: App) -> str:
    from desktop.demo import build_demo

    return build_demo(app.db).sign_in_text()


def run_gui(*, data_dir: Path, demo_if_empty: bool = False, verbose: bool = False) -> int:
    """The window's main loop; returns the process exit code."""
    paths = DataPaths(data_dir)
    configure_logging(paths, verbose=verbose)
    qt_app = create_application()
    app = open_or_recover(paths)
    if app is None:
        return 1
    tasks = TaskManager()
    try:
        hint = _first_run(app, tasks, demo_if_empty=demo_if_empty)
        if hint is None:
            return 0
        shell = Shell(app, tasks, hint)
        if not shell.start_session():
            return 0
        return qt_app.exec()
    finally:
        tasks.shutdown()
        app.close()
