"""Exporting residents from the window: the residents list page's 导出 button.

`run_export(context, parent, flt, query)` runs the export job through `context.tasks` (progress
dialog with 取消 after ~0.5 s) and publishes what changed on the bus. The file dialog can be
bypassed with `path=` (tests, scripts). Importing is the one import dialog (desktop/ui/import_dialog.py).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from desktop import APP_TITLE
from desktop.errors import UserFacingError
from desktop.services.permissions import Permission, require
from desktop.services.resident_query import ResidentFilter
from desktop.ui.context import UiContext
from desktop.ui.errors import show_error

EXCEL_FILTER = "Excel 工作簿 (*.xlsx *.xlsm);;所有文件 (*)"
EXPORT_RESULT_NAME = "exportResult"


def _default_export_path() -> Path:
    documents = Path.home() / "Documents"
    folder = documents if documents.is_dir() else Path.home()
    return folder / f"居民名单-{date.today():%Y%m%d}.xlsx"


def run_export(context: UiContext, parent: QWidget, flt: ResidentFilter, query: str, *,
               path: Path | None = None) -> None:
    """The 导出 button: choose where, export the filtered list as a job, then say where it went."""
    from desktop.transfer.resident_export import ResidentExport

    try:
        require(context.actor, Permission.EXPORT_RESIDENTS)
    except UserFacingError as error:
        show_error(parent, error)
        return
    if path is None:
        chosen, _ = QFileDialog.getSaveFileName(parent, "导出居民名单", str(_default_export_path()), EXCEL_FILTER)
        if not chosen:
            return
        path = Path(chosen if chosen.lower().endswith(".xlsx") else chosen + ".xlsx")
    job = ResidentExport(context.db, context.actor, path, flt, query)
    context.tasks.run_job(job, label="正在导出居民名单……", parent=parent,
                          on_success=lambda result: _exported(context, parent, result))


def _exported(context: UiContext, parent: QWidget, result) -> None:
    context.bus.publish(result.changes)
    box = QMessageBox(QMessageBox.Icon.Information, APP_TITLE, result.message(), QMessageBox.StandardButton.Ok, parent)
    box.setObjectName(EXPORT_RESULT_NAME)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
