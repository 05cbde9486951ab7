"""Importing and exporting residents from the window: the import dialog and the export action.

Two entry points for the residents list page's 导入/导出 buttons:
`run_import_dialog(context, parent)` and `run_export(context, parent, flt, query)`.
Both run their job through `context.tasks` (progress dialog with 取消 after ~0.5 s) and
publish what changed on the bus. File dialogs can be bypassed with `path=` (tests, scripts).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop import APP_TITLE
from desktop.errors import UserFacingError
from desktop.services.permissions import Permission, require
from desktop.services.resident_query import ResidentFilter
from desktop.ui.context import UiContext
from desktop.ui.errors import show_error
from desktop.ui.form_dialog import hint_label
from desktop.ui.theme import ERROR, MUTED_TEXT

EXCEL_FILTER = "Excel 工作簿 (*.xlsx *.xlsm);;所有文件 (*)"
EXPORT_RESULT_NAME = "exportResult"


def _table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setStretchLastSection(True)
    return table


def _fill(table: QTableWidget, rows: list[tuple[str, ...]]) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            table.setItem(r, c, QTableWidgetItem(text))
    table.resizeColumnsToContents()


class ImportDialog(QDialog):
    """Choose a roster, check the column mapping and first rows, choose the mode, import."""

    def __init__(self, context: UiContext, parent: QWidget | None = None, *, path: Path | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.preview = None
        self.result = None
        self.setWindowTitle("导入居民档案")
        self.resize(760, 620)
        layout = QVBoxLayout(self)
        layout.addLayout(self._file_row())
        layout.addWidget(hint_label("支持县里常见的花名册：标题行、合并表头、文本日期均可；按表头名称识别各列。"))
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.mapping = _table(["字段", "列", "表头"])
        self.sample = _table([])
        layout.addWidget(QLabel("列对应关系"))
        layout.addWidget(self.mapping, 2)
        layout.addWidget(QLabel("前几行"))
        layout.addWidget(self.sample, 2)
        layout.addWidget(self._mode_box())
        self.outcome = QLabel()
        self.outcome.setWordWrap(True)
        self.outcome.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.outcome)
        layout.addWidget(self._buttons())
        if path is not None:
            self.path_edit.setText(str(path))
            self.load_preview()

    def _file_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText("Excel 花名册（.xlsx）")
        self.path_edit.editingFinished.connect(self.load_preview)
        browse = QPushButton("选择文件…")
        browse.clicked.connect(self.choose_file)
        row.addWidget(QLabel("文件"))
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        return row

    def _mode_box(self) -> QGroupBox:
        box = QGroupBox("有错误的行怎么办")
        row = QHBoxLayout(box)
        self.all_or_nothing = QRadioButton("全部成功才导入")
        self.valid_only = QRadioButton("只导入有效行")
        self.all_or_nothing.setChecked(True)
        group = QButtonGroup(box)
        for button in (self.all_or_nothing, self.valid_only):
            group.addButton(button)
            row.addWidget(button)
        row.addStretch(1)
        return box

    def _buttons(self) -> QDialogButtonBox:
        buttons = QDialogButtonBox()
        self.import_button = buttons.addButton("导入", QDialogButtonBox.ButtonRole.ActionRole)
        self.errors_button = buttons.addButton("保存错误清单…", QDialogButtonBox.ButtonRole.ActionRole)
        close = buttons.addButton("关闭", QDialogButtonBox.ButtonRole.RejectRole)
        self.import_button.setEnabled(False)
        self.errors_button.setEnabled(False)
        self.import_button.clicked.connect(self.start_import)
        self.errors_button.clicked.connect(lambda: self.save_errors())
        close.clicked.connect(self.reject)
        return buttons

    @property
    def path(self) -> Path | None:
        text = self.path_edit.text().strip()
        return Path(text) if text else None

    @property
    def mode(self):  # -> ImportMode
        from desktop.transfer.resident_import import ImportMode

        return ImportMode.VALID_ONLY if self.valid_only.isChecked() else ImportMode.ALL_OR_NOTHING

    def choose_file(self) -> None:
        """The open-file dialog; the preview follows."""
        chosen, _ = QFileDialog.getOpenFileName(self, "选择花名册", str(self.path or ""), EXCEL_FILTER)
        if chosen:
            self.path_edit.setText(chosen)
            self.load_preview()

    def load_preview(self) -> None:
        """Read the header, mapping and first rows in the background."""
        from desktop.transfer.workbook import read_preview

        path = self.path
        if path is None or (self.preview is not None and self.preview.path == path):
            return
        self.preview, self.result = None, None
        self.import_button.setEnabled(False)
        self.errors_button.setEnabled(False)
        self._say(self.summary, "正在读取……", MUTED_TEXT)
        self.context.tasks.run_db(lambda: read_preview(path), on_success=self._show_preview,
                                  on_failure=self._preview_failed, parent=self, label="正在读取表格……")

    def _show_preview(self, preview) -> None:
        self.preview = preview
        layout = preview.layout
        text = (f"工作表“{layout.sheet}”，表头在第 {layout.first_header_row}"
                f"{'' if layout.first_header_row == layout.last_header_row else f'-{layout.last_header_row}'} 行，"
                f"其下约 {preview.row_count} 行。")
        if layout.unmatched:
            text += " 未识别的列（不导入）：" + "、".join(f"{c.letter} {c.header}" for c in layout.unmatched) + "。"
        if preview.missing:
            self._say(self.summary, text + " 缺少必需的列：" + "、".join(preview.missing) + "。", ERROR)
        else:
            self._say(self.summary, text, "")
        _fill(self.mapping, preview.mapping())
        self.sample.setColumnCount(len(layout.mapped))
        self.sample.setHorizontalHeaderLabels([title for title, _, _ in preview.mapping()])
        _fill(self.sample, list(preview.sample))
        self.import_button.setEnabled(not preview.missing)

    def _preview_failed(self, error: BaseException) -> None:
        if not isinstance(error, UserFacingError):
            show_error(self, error)
            return
        self._say(self.summary, error.message, ERROR)
        _fill(self.mapping, [])
        _fill(self.sample, [])

    def start_import(self) -> None:
        """Run the import job with progress and 取消."""
        from desktop.transfer.resident_import import ResidentImport

        if self.preview is None or self.path is None:
            return
        self.import_button.setEnabled(False)
        self.errors_button.setEnabled(False)
        self._say(self.outcome, "", "")
        job = ResidentImport(self.context.db, self.context.actor, self.path, self.mode)
        self.context.tasks.run_job(job, label="正在导入居民档案……", parent=self, on_success=self._finished,
                                   on_failure=self._failed, on_cancelled=self._cancelled)

    def _finished(self, result) -> None:
        self.result = result
        colour = ERROR if result.rejected and not result.written else ""
        text = result.message()
        if result.rejected:
            text += "\n" + "\n".join(r.reason for r in result.rejected[:5])
            text += "\n……" if len(result.rejected) > 5 else ""
        self._say(self.outcome, text, colour)
        self.errors_button.setEnabled(bool(result.rejected))
        self.import_button.setEnabled(True)
        if result.written:
            self.context.bus.publish(result.changes)

    def _failed(self, error: BaseException) -> None:
        self.import_button.setEnabled(True)
        if isinstance(error, UserFacingError):
            self._say(self.outcome, error.message, ERROR)
        else:
            show_error(self, error)

    def _cancelled(self) -> None:
        self.import_button.setEnabled(True)
        self._say(self.outcome, "已取消导入，数据库未作任何改动。", MUTED_TEXT)

    def save_errors(self, path: Path | None = None) -> None:
        """Write the rejected rows to a workbook the clerk can fix and import again."""
        from desktop.transfer.resident_import import write_error_workbook

        if self.result is None or not self.result.rejected:
            return
        if path is None:
            default = (self.path or Path("花名册.xlsx")).with_name(f"{(self.path or Path('花名册')).stem}-错误清单.xlsx")
            chosen, _ = QFileDialog.getSaveFileName(self, "保存错误清单", str(default), EXCEL_FILTER)
            if not chosen:
                return
            path = Path(chosen)
        result = self.result
        self.context.tasks.run_db(lambda: write_error_workbook(result, path), parent=self, label="正在保存错误清单……",
                                  on_success=lambda saved: self._say(self.outcome, f"{self.outcome.text()}\n错误清单已保存：{saved}", ""))

    @staticmethod
    def _say(label: QLabel, text: str, colour: str) -> None:
        label.setText(text)
        label.setStyleSheet(f"color: {colour};" if colour else "")


def run_import_dialog(context: UiContext, parent: QWidget, *, path: Path | None = None) -> None:
    """The 导入 button: the import dialog, modal; residents changed are announced on the bus."""
    try:
        require(context.actor, Permission.IMPORT_RESIDENTS)
    except UserFacingError as error:
        show_error(parent, error)
        return
    dialog = ImportDialog(context, parent, path=path)
    dialog.exec()
    dialog.deleteLater()


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
