"""What the window shows when the database cannot be opened (restore, with the recovery key when this
PC's key does not open it, or explain and quit), and the recovery key not yet shown to an admin."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.backups import newest_good_backup
from desktop.errors import DatabaseProblem, DatabaseTooNew, UserFacingError
from desktop.paths import DataPaths
from desktop.services.backup import restore_from
from desktop.sqlite_driver import KeyRejected
from desktop.ui.errors import show_error

if TYPE_CHECKING:
    from desktop.app import App
    from desktop.ui.tasks import TaskManager

KEY_FIELD_HINT = "恢复密钥：8 组 6 位数字，例如 123456-234567-…"


def offer_recovery(paths: DataPaths, problem: DatabaseProblem, parent: QWidget | None = None) -> bool:
    """Explain the problem; for a damaged file offer the newest good backup. True if restored."""
    if isinstance(problem, DatabaseTooNew):
        box = QMessageBox(QMessageBox.Icon.Critical, "无法打开数据库", problem.message, parent=parent)
        box.setDetailedText(problem.details)
        box.exec()
        return False
    backup = _newest_openable_backup(paths)
    if isinstance(problem, KeyRejected) and backup is None:
        return _offer_recovery_key(paths, problem, parent)
    box = QMessageBox(QMessageBox.Icon.Critical, "数据库损坏", problem.message, parent=parent)
    box.setDetailedText(problem.details)
    restore_newest = None
    if backup is not None:
        box.setInformativeText(f"最近的完好备份：{backup.created:%Y-%m-%d %H:%M}（{backup.path.name}）。"
                               "恢复后，原文件会另存在数据目录中，不会删除。")
        restore_newest = box.addButton("从最近的备份恢复", QMessageBox.ButtonRole.AcceptRole)
    else:
        box.setInformativeText("数据目录中没有可用的备份。可以选择其他备份文件（例如 U 盘上的）。")
    choose = box.addButton("选择备份文件…", QMessageBox.ButtonRole.ActionRole)
    box.addButton("退出", QMessageBox.ButtonRole.RejectRole)
    box.exec()
    clicked = box.clickedButton()
    if restore_newest is not None and clicked is restore_newest:
        return _restore(paths, backup.path, parent)
    if clicked is choose:
        file, _ = QFileDialog.getOpenFileName(parent, "选择备份文件", str(paths.backups), "数据库备份 (*.sqlite)")
        return bool(file) and _restore(paths, Path(file), parent)
    return False


def _newest_openable_backup(paths: DataPaths):  # -> BackupInfo | None
    """The newest backup this PC's key opens (None also when there is no key file)."""
    try:
        return newest_good_backup(paths)
    except UserFacingError:
        return None


def _restore(paths: DataPaths, file: Path, parent: QWidget | None) -> bool:
    try:
        aside, _ = restore_from(paths, file)
    except UserFacingError as error:
        show_error(parent, error)
        return False
    QMessageBox.information(parent, "已恢复", f"已从备份恢复。原数据库文件另存为：\n{aside}")
    return True


def _offer_recovery_key(paths: DataPaths, problem: KeyRejected, parent: QWidget | None) -> bool:
    """This PC's key does not open the database: restore a backup with the recovery key."""
    box = QMessageBox(QMessageBox.Icon.Critical, "无法打开数据库", problem.message, parent=parent)
    box.setDetailedText(problem.details)
    box.setInformativeText("可以选择一份备份（数据目录的 backups 文件夹或 U 盘上的），用恢复密钥恢复。")
    choose = box.addButton("用恢复密钥恢复备份…", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("退出", QMessageBox.ButtonRole.RejectRole)
    box.exec()
    if box.clickedButton() is not choose:
        return False
    file, _ = QFileDialog.getOpenFileName(parent, "选择备份文件", str(paths.backups), "数据库备份 (*.sqlite)")
    if not file:
        return False
    key, ok = QInputDialog.getText(parent, "恢复密钥", KEY_FIELD_HINT)
    if not ok:
        return False
    try:
        aside, _ = restore_from(paths, Path(file), recovery_key=key)
    except UserFacingError as error:
        show_error(parent, error)
        return False
    QMessageBox.information(parent, "已恢复", f"已用恢复密钥从备份恢复。原数据库文件另存为：\n{aside}")
    return True


class RecoveryKeyDialog(QDialog):
    """The recovery key shown once (after an upgrade encrypted the database, or an interrupted rotation)."""

    def __init__(self, recovery_key: str, branch_name: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("请保管恢复密钥")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("数据库和备份已加密。本机密钥文件丢失、重装系统或换电脑时，只有用恢复密钥才能打开备份。\n"
                                "请把下面的恢复密钥抄写（或复制后打印）并交院长或管理员锁柜保管；它只显示这一次。"))
        self.key = QLineEdit(recovery_key)
        self.key.setReadOnly(True)
        copy = QPushButton("复制恢复密钥")
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.key.text()))
        self.print_button = QPushButton("打印…")
        self.print_button.clicked.connect(lambda: print_recovery_key(self, recovery_key, branch_name))
        self.key.setCursorPosition(0)
        self.key.setMinimumWidth(self.key.fontMetrics().horizontalAdvance(recovery_key) + 24)
        layout.addWidget(self.key)
        row = QHBoxLayout()
        row.addWidget(copy)
        row.addWidget(self.print_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.written_down = QCheckBox("我已抄写（或打印）并妥善保管恢复密钥")
        layout.addWidget(self.written_down)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        self.buttons.accepted.connect(self.accept)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("确定")
        ok.setEnabled(False)
        self.written_down.toggled.connect(ok.setEnabled)
        layout.addWidget(self.buttons)


def print_recovery_key(parent: QWidget | None, recovery_key: str, branch_name: str) -> None:
    """The recovery key on paper through the app's print preview (nothing is written to disk)."""
    from desktop.clock import now
    from desktop.printing.pdf import render_pdf
    from desktop.printing.recovery_key_sheet import TITLE, recovery_key_sheet
    from desktop.ui.print_preview import PrintPreviewDialog

    sheet = recovery_key_sheet(recovery_key, branch_name=branch_name, printed_on=now().date())
    PrintPreviewDialog(render_pdf([sheet], TITLE), TITLE, parent).exec()


def show_pending_recovery_key(app: App, tasks: TaskManager, parent: QWidget) -> RecoveryKeyDialog | None:
    """Show the recovery key not yet shown (without blocking); forget it once the admin confirms."""
    if app.pending_recovery_key is None:
        return None
    branch = app.branch
    dialog = RecoveryKeyDialog(app.pending_recovery_key, branch.name if branch else "", parent)
    dialog.accepted.connect(lambda: tasks.run_db(app.recovery_key_shown, parent=parent))
    dialog.open()
    return dialog
