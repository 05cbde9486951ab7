"""What the window shows when the database cannot be opened: restore, or explain and quit."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from desktop.backups import newest_good_backup
from desktop.errors import DatabaseProblem, DatabaseTooNew, UserFacingError
from desktop.paths import DataPaths
from desktop.services.backup import restore_from
from desktop.ui.errors import show_error


def offer_recovery(paths: DataPaths, problem: DatabaseProblem, parent: QWidget | None = None) -> bool:
    """Explain the problem; for a damaged file offer the newest good backup. True if restored."""
    if isinstance(problem, DatabaseTooNew):
        box = QMessageBox(QMessageBox.Icon.Critical, "无法打开数据库", problem.message, parent=parent)
        box.setDetailedText(problem.details)
        box.exec()
        return False
    backup = newest_good_backup(paths)
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


def _restore(paths: DataPaths, file: Path, parent: QWidget | None) -> bool:
    try:
        aside, _ = restore_from(paths, file)
    except UserFacingError as error:
        show_error(parent, error)
        return False
    QMessageBox.information(parent, "已恢复", f"已从备份恢复。原数据库文件另存为：\n{aside}")
    return True
