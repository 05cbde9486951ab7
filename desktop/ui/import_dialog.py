"""One import dialog for every registered import job (desktop/transfer/registry.py).

Choose what to import (居民档案, 历史随访 … as the actor may), choose a file (.xlsx, .xls, .xlsb,
.ods or .csv), check the column mapping and first rows, then 试导入 (a dry run: every row
checked, nothing written) or 导入 in either mode. Rejected rows are listed with their reasons and
can be saved as an error workbook to fix and import again. Jobs run through `context.tasks`
(progress dialog with 取消 after ~0.5 s); what changed is published on the bus.
File dialogs can be bypassed with `path=` (tests, scripts).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.errors import UserFacingError
from desktop.services.permissions import Actor
from desktop.transfer.import_job import ImportMode, ImportSpec, write_error_workbook
from desktop.transfer.registry import IMPORT_JOBS
from desktop.transfer.sheets import OPEN_FILTER
from desktop.ui.context import UiContext
from desktop.ui.errors import show_error
from desktop.ui.form_dialog import hint_label
from desktop.ui.theme import ERROR, MUTED_TEXT

SAVE_FILTER = "Excel 工作簿 (*.xlsx);;所有文件 (*)"
ERRORS_LISTED = 1000
REASONS_IN_OUTCOME = 5


def allowed_imports(actor: Actor) -> list[ImportSpec]:
    """The registered imports this person may run."""
    return [spec for spec in IMPORT_JOBS if actor.can(spec.permission)]


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


def _say(label: QLabel, text: str, colour: str) -> None:
    label.setText(text)
    label.setStyleSheet(f"color: {colour};" if colour else "")


class ImportDialog(QDialog):
    """Choose what and which file, check the mapping and first rows, try or import, save the errors."""

    def __init__(self, context: UiContext, parent: QWidget | None = None, *, kind: str | None = None,
                 path: Path | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.specs = allowed_imports(context.actor)
        if not self.specs:
            raise UserFacingError("您无权导入数据。")
        self.preview = None
        self.result = None
        self.resize(780, 700)
        layout = QVBoxLayout(self)
        layout.addLayout(self._kind_row(kind))
        layout.addLayout(self._file_row())
        layout.addWidget(hint_label("支持 Excel（.xlsx、.xls、.xlsb）、WPS/LibreOffice（.ods）和 CSV（UTF-8 或 GBK）；"
                                    "标题行、合并表头、文本日期均可；按表头名称识别各列。"))
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.mapping = _table(["字段", "列", "表头"])
        self.sample = _table([])
        self.errors = _table(["行", "错误原因"])
        for title, table, stretch in (("列对应关系", self.mapping, 2), ("前几行", self.sample, 2),
                                      ("有错误的行", self.errors, 3)):
            layout.addWidget(QLabel(title))
            layout.addWidget(table, stretch)
        layout.addWidget(self._mode_box())
        self.outcome = QLabel()
        self.outcome.setWordWrap(True)
        self.outcome.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.outcome)
        layout.addWidget(self._buttons())
        self._kind_changed()
        if path is not None:
            self.path_edit.setText(str(path))
            self.load_preview()

    def _kind_row(self, kind: str | None) -> QHBoxLayout:
        row = QHBoxLayout()
        self.kind_box = QComboBox()
        for spec in self.specs:
            self.kind_box.addItem(spec.label, spec.kind)
        if kind is not None:
            index = self.kind_box.findData(kind)
            if index < 0:
                raise UserFacingError(f"您无权导入“{kind}”，或没有这种导入。")
            self.kind_box.setCurrentIndex(index)
        self.kind_box.currentIndexChanged.connect(self._kind_changed)
        self.template_button = QPushButton("保存空白模板…")
        self.template_button.clicked.connect(lambda: self.save_template())
        row.addWidget(QLabel("导入内容"))
        row.addWidget(self.kind_box, 1)
        row.addWidget(self.template_button)
        return row

    def _file_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText("表格文件（.xlsx、.xls、.ods、.csv）")
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
        self.dry_run_button = buttons.addButton("试导入（只检查）", QDialogButtonBox.ButtonRole.ActionRole)
        self.import_button = buttons.addButton("导入", QDialogButtonBox.ButtonRole.ActionRole)
        self.errors_button = buttons.addButton("保存错误清单…", QDialogButtonBox.ButtonRole.ActionRole)
        close = buttons.addButton("关闭", QDialogButtonBox.ButtonRole.RejectRole)
        self._enable(ready=False, errors=False)
        self.dry_run_button.clicked.connect(lambda: self.start_import(dry_run=True))
        self.import_button.clicked.connect(lambda: self.start_import())
        self.errors_button.clicked.connect(lambda: self.save_errors())
        close.clicked.connect(self.reject)
        return buttons

    def _enable(self, *, ready: bool, errors: bool) -> None:
        self.import_button.setEnabled(ready)
        self.dry_run_button.setEnabled(ready)
        self.errors_button.setEnabled(errors)

    @property
    def spec(self) -> ImportSpec:
        """The import chosen."""
        return self.specs[max(self.kind_box.currentIndex(), 0)]

    @property
    def path(self) -> Path | None:
        text = self.path_edit.text().strip()
        return Path(text) if text else None

    @property
    def mode(self) -> ImportMode:
        return ImportMode.VALID_ONLY if self.valid_only.isChecked() else ImportMode.ALL_OR_NOTHING

    def _kind_changed(self) -> None:
        self.setWindowTitle(f"导入{self.spec.label}")
        self.template_button.setVisible(self.spec.template is not None)
        self.preview = None
        self.load_preview()

    def choose_file(self) -> None:
        """The open-file dialog; the preview follows."""
        chosen, _ = QFileDialog.getOpenFileName(self, f"选择{self.spec.label}表格", str(self.path or ""), OPEN_FILTER)
        if chosen:
            self.path_edit.setText(chosen)
            self.load_preview()

    def load_preview(self) -> None:
        """Read the header, mapping and first rows in the background."""
        path, spec = self.path, self.spec
        if path is None or (self.preview is not None and self.preview.path == path):
            return
        self.preview, self.result = None, None
        self._enable(ready=False, errors=False)
        _fill(self.errors, [])
        _say(self.summary, "正在读取……", MUTED_TEXT)
        self.context.tasks.run_db(lambda: spec.preview(path), on_success=self._show_preview,
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
            _say(self.summary, text + " 缺少必需的列：" + "、".join(preview.missing) + "。", ERROR)
        else:
            _say(self.summary, text, "")
        _fill(self.mapping, preview.mapping())
        self.sample.setColumnCount(len(layout.mapped))
        self.sample.setHorizontalHeaderLabels([title for title, _, _ in preview.mapping()])
        _fill(self.sample, list(preview.sample))
        self._enable(ready=not preview.missing, errors=False)

    def _preview_failed(self, error: BaseException) -> None:
        if not isinstance(error, UserFacingError):
            show_error(self, error)
            return
        _say(self.summary, error.message, ERROR)
        _fill(self.mapping, [])
        _fill(self.sample, [])

    def start_import(self, *, dry_run: bool = False) -> None:
        """Run the import job (or a dry run) with progress and 取消."""
        if self.preview is None or self.path is None:
            return
        self._enable(ready=False, errors=False)
        _say(self.outcome, "", "")
        job = self.spec.job(self.context.db, self.context.actor, self.path, self.mode, dry_run=dry_run)
        label = f"正在{'检查' if dry_run else '导入'}{self.spec.label}……"
        self.context.tasks.run_job(job, label=label, parent=self, on_success=self._finished,
                                   on_failure=self._failed, on_cancelled=self._cancelled)

    def _finished(self, result) -> None:
        self.result = result
        colour = ERROR if result.rejected and not result.written and not result.dry_run else ""
        text = result.message()
        if result.rejected:
            text += "\n" + "\n".join(r.reason for r in result.rejected[:REASONS_IN_OUTCOME])
            text += "\n……" if len(result.rejected) > REASONS_IN_OUTCOME else ""
        _say(self.outcome, text, colour)
        _fill(self.errors, [(str(r.row), r.reason) for r in result.rejected[:ERRORS_LISTED]])
        self._enable(ready=True, errors=bool(result.rejected))
        if result.written:
            self.context.bus.publish(result.changes)

    def _failed(self, error: BaseException) -> None:
        self._enable(ready=True, errors=False)
        if isinstance(error, UserFacingError):
            _say(self.outcome, error.message, ERROR)
        else:
            show_error(self, error)

    def _cancelled(self) -> None:
        self._enable(ready=True, errors=False)
        _say(self.outcome, "已取消导入，数据库未作任何改动。", MUTED_TEXT)

    def _save_path(self, title: str, default: Path) -> Path | None:
        chosen, _ = QFileDialog.getSaveFileName(self, title, str(default), SAVE_FILTER)
        if not chosen:
            return None
        return Path(chosen if chosen.lower().endswith(".xlsx") else chosen + ".xlsx")

    def save_errors(self, path: Path | None = None) -> None:
        """Write the rejected rows to a workbook the clerk can fix and import again."""
        if self.result is None or not self.result.rejected:
            return
        source = self.path or Path(f"{self.spec.label}.xlsx")
        path = path or self._save_path("保存错误清单", source.with_name(f"{source.stem}-错误清单.xlsx"))
        if path is None:
            return
        result = self.result
        self.context.tasks.run_db(lambda: write_error_workbook(result, path), parent=self, label="正在保存错误清单……",
                                  on_success=lambda saved: _say(self.outcome, f"{self.outcome.text()}\n错误清单已保存：{saved}", ""))

    def save_template(self, path: Path | None = None) -> None:
        """Write the chosen import's blank template workbook."""
        template = self.spec.template
        if template is None:
            return
        path = path or self._save_path("保存空白模板", Path.home() / f"{self.spec.label}导入模板.xlsx")
        if path is not None:
            self.context.tasks.run_db(lambda: template(path), parent=self, label="正在生成模板……",
                                      on_success=lambda saved: _say(self.outcome, f"模板已保存：{saved}", ""))


def run_import_dialog(context: UiContext, parent: QWidget | None, *, kind: str | None = None,
                      path: Path | None = None) -> None:
    """The 导入 button: the import dialog, modal; what changed is announced on the bus."""
    try:
        dialog = ImportDialog(context, parent, kind=kind, path=path)
    except UserFacingError as error:
        show_error(parent, error)
        return
    dialog.exec()
    dialog.deleteLater()
