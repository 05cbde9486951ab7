"""数据备份: list the backups, make one now, open the folder. Restoring is done at start-up."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from desktop.backups import BackupInfo, create_backup, list_backups
from desktop.changes import Changes
from desktop.services.backup import record_backup
from desktop.services.permissions import Permission, require
from desktop.ui.context import UiContext
from desktop.ui.errors import show_error
from desktop.ui.form_dialog import hint_label
from desktop.ui.pages.base import Page
from desktop.ui.tables import (
    Column,
    RowTableModel,
    fit_columns,
    make_table,
    notify,
    page_action,
    selected_row,
)

REASON_LABELS = {
    "manual": "手动",
    "daily": "每日自动",
    "before-upgrade": "升级前",
    "before-restore": "恢复前",
}
RESTORE_NOTE = (
    "恢复备份会替换当前全部数据，因此不在本页进行：数据库损坏时，程序启动时会出现恢复界面；"
    "{other}恢复前当前数据库会另存一份，不会删除。"
)
RESTORE_BY_ADMIN = "其他情况需要恢复备份时，请联系系统管理员。"
RESTORE_BY_COMMAND = "也可退出程序后在命令行执行 township-desk restore 备份文件 --user 管理员用户名。"


def restore_note(*, is_admin: bool) -> str:
    """How a backup is restored: the command line only for the administrator, who may run it."""
    return RESTORE_NOTE.format(other=RESTORE_BY_COMMAND if is_admin else RESTORE_BY_ADMIN)


def reason_label(reason: str) -> str:
    """The Chinese name of why a backup was made."""
    return REASON_LABELS.get(reason, reason or "手动")


def size_text(size: int) -> str:
    """A file size as KB or MB."""
    return f"{size / 1024:,.0f} KB" if size < 1024 * 1024 else f"{size / 1024 / 1024:,.1f} MB"


COLUMNS = (
    Column("时间", lambda b: f"{b.created:%Y-%m-%d %H:%M:%S}", key=lambda b: b.created),
    Column("原因", lambda b: reason_label(b.reason)),
    Column("大小", lambda b: size_text(b.size), key=lambda b: b.size),
    Column("文件", lambda b: b.path.name, tooltip=lambda b: str(b.path)),
)


def back_up_now(ctx: UiContext) -> Path:
    """Make a manual backup and audit it (runs on the database thread)."""
    require(ctx.actor, Permission.BACKUP)
    target = create_backup(ctx.app.paths, reason="manual")
    record_backup(ctx.db, ctx.actor, target)
    return target


class BackupPage(Page):
    """Backups of this branch's database."""

    title = "数据备份"

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.backup_action = page_action(self, "立即备份", self.back_up)
        self.folder_action = page_action(self, "打开备份文件夹", self.open_folder)
        self.copy_action = page_action(self, "复制文件路径", self.copy_path, button=False)
        self.model = RowTableModel(COLUMNS, self)
        actions = [self.backup_action, self.folder_action, self.copy_action]
        self.view = make_table(self.model, actions=actions, on_open=self.open_folder)
        self.count_label = QLabel("共 0 个备份")
        self.folder_label = QLabel(f"备份文件夹：{ctx.app.paths.backups}")
        self.folder_label.setWordWrap(True)
        self.body.addWidget(self.view, 1)
        self.body.addWidget(self.count_label)
        self.body.addWidget(self.folder_label)
        self.body.addWidget(hint_label(restore_note(is_admin=ctx.actor.can(Permission.MANAGE_ACCOUNTS))))
        self._loaded = False

    def activated(self) -> None:
        """Re-read the folder each time the page is shown (automatic backups happen too)."""
        self.refresh()

    def on_changes(self, changes: Changes) -> None:
        """Backups are files, not records: nothing in `Changes` concerns this page."""

    def refresh(self) -> None:
        """List the backups folder in the background."""
        paths = self.ctx.app.paths
        self.ctx.tasks.run_db(lambda: list_backups(paths), on_success=self._show, parent=self)

    def _show(self, backups: list[BackupInfo]) -> None:
        self.model.set_rows(backups)
        if not self._loaded and backups:
            fit_columns(self.view)
            self._loaded = True
        self.count_label.setText(f"共 {len(backups)} 个备份" if backups else "尚无备份")

    def back_up(self) -> None:
        """Back up now; a busy dialog shows if it takes a while."""
        self.backup_action.setEnabled(False)
        self.ctx.tasks.run_db(lambda: back_up_now(self.ctx), label="正在备份数据库……",
                              on_success=self._backed_up, on_failure=self._backup_failed, parent=self)

    def _backed_up(self, target: Path) -> None:
        self.backup_action.setEnabled(True)
        self.ctx.bus.publish(Changes(audit=True))
        notify(self, f"已备份到 {target.name}。")
        self.refresh()

    def _backup_failed(self, error: BaseException) -> None:
        self.backup_action.setEnabled(True)
        show_error(self, error)

    def open_folder(self) -> None:
        """Open the backups folder in the file manager."""
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.ctx.app.paths.backups)))

    def copy_path(self) -> None:
        """Copy the selected backup's full path (for `township-desk restore`)."""
        backup = selected_row(self.view)
        if backup is not None:
            QApplication.clipboard().setText(str(backup.path))
