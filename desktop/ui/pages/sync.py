"""数据同步: the link with the head hospital — enrolment, 立即同步, the USB stick, what waits and what came back.

Every operation goes through the session's `SyncController`, so the page, the automatic timer
and the status bar never run two at once. Not yet enrolled: an explanation and, for the system
administrator, the enrolment form.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.changes import Changes
from desktop.clock import now
from desktop.errors import UserFacingError
from desktop.services.permissions import Permission
from desktop.ui.context import UiContext
from desktop.ui.errors import show_error
from desktop.ui.form_dialog import hint_label
from desktop.ui.pages.base import Page
from desktop.ui.pages.sync_parts import (
    LOG_COLUMNS,
    PACKAGE_COLUMNS,
    REJECTED_COLUMNS,
    TYPE_COLUMNS,
    EnrolForm,
    SyncPageData,
    fingerprint_label,
    insecure_label,
    load_page_data,
    selectable,
    show_insecure,
)
from desktop.ui.sync_controller import SyncController, SyncRun, is_offline, sync_controller
from desktop.ui.sync_status_bar import connection_state, when_text
from desktop.ui.tables import RowTableModel, fit_columns, make_table
from desktop.ui.theme import ACCENT, ERROR, MUTED_TEXT

if TYPE_CHECKING:
    from desktop.sync.enrolment import EnrolResult
    from desktop.sync.status import SyncStatus
    from desktop.sync.usb import UsbExport, UsbImport

SAFE_COLOUR = "#1e7a46"
NOT_ENROLLED_TEXT = (
    "本分院尚未向总院（{head}）登记。在此之前，录入的所有记录都完整地保存在本机，不会丢失；"
    "登记并经总院批准后，记录会在有网络时自动发送到总院，没有网络时也可以用U盘交换数据。"
)
ENROL_HINT = (
    "登记会为本分院生成一对密钥，把站点编号和密钥指纹发给总院。登记后请打电话把它们读给总院管理员，"
    "总院核对无误并批准后才能同步。"
)
ASK_ADMIN_TEXT = "登记需由系统管理员办理：请联系本分院的系统管理员，用管理员账户登录后在本页登记。"
REREGISTER_HINT = "总院换了地址时在此更改：用同一对密钥重新登记，总院的密钥必须与原来一致。"


def enrolled_notice(result: EnrolResult) -> str:
    """The sentence after enrolment: what to read to whom, and what happens next."""
    state = "已批准，可以同步" if result.status == "approved" else "等待总院管理员核对批准"
    return (f"已向总院（{result.head_name}）登记，状态：{state}。请打电话把下面的站点编号 {result.site_id} "
            f"和本分院密钥指纹 {result.fingerprint} 读给总院管理员核对；总院核对无误并批准后，本分院才能同步。")


class SyncPage(Page):
    """The head hospital, this site's fingerprint, the buttons, and four tables."""

    title = "数据同步"

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.controller: SyncController = sync_controller(ctx, self)
        self.can_enrol = ctx.actor.can(Permission.ENROL_SITE)
        self.data: SyncPageData | None = None
        self.enrol_result: EnrolResult | None = None
        self._loading = self._load_again = False
        self._fitted: set[int] = set()
        self._build_actions()
        self.views = QStackedWidget()
        self.views.addWidget(self._not_enrolled_view())
        self.views.addWidget(self._enrolled_view())
        self.body.addWidget(self.views, 1)
        self.controller.busy_changed.connect(self._busy_changed)
        self.controller.progress.connect(self._show_progress)
        self.controller.finished.connect(self._finished)
        self.controller.status_changed.connect(self._status_changed)
        self._update_actions()

    # ----- building

    def _build_actions(self) -> None:
        self.sync_button = self._button("立即同步(&S)", self.sync_now, ("F5", "Ctrl+R"))
        self.export_button = self._button("导出到U盘(&E)…", self.choose_export_folder, ("Ctrl+E",))
        self.import_button = self._button("导入总院回执(&I)…", self.choose_return_file, ("Ctrl+I",))

    def _button(self, text: str, slot, shortcuts: tuple[str, ...]) -> QPushButton:
        """A title-bar button with its mnemonic, plus shortcuts that work while the page is shown."""
        button = QPushButton(text)
        button.clicked.connect(slot)
        action = QAction(self)
        action.setShortcuts([QKeySequence(key) for key in shortcuts])
        action.triggered.connect(lambda _checked=False: button.isEnabled() and slot())
        self.addAction(action)
        button.setToolTip(f"{text.replace('(&', '（Alt+').replace(')', '）')}，快捷键 {' 或 '.join(shortcuts)}")
        self.actions_bar.addWidget(button)
        return button

    def _not_enrolled_view(self) -> QWidget:
        view = QWidget()
        layout = QVBoxLayout(view)
        layout.setContentsMargins(0, 0, 0, 0)
        box = QGroupBox("尚未向总院登记")
        inner = QVBoxLayout(box)
        explanation = QLabel(NOT_ENROLLED_TEXT.format(head=self.ctx.branch.head_hospital_name or "县医院"))
        explanation.setWordWrap(True)
        inner.addWidget(explanation)
        if self.can_enrol:
            self.enrol_form = EnrolForm("登记(&G)")
            self.enrol_form.submitted.connect(self.enrol)
            inner.addWidget(self.enrol_form)
            inner.addWidget(hint_label(ENROL_HINT))
        else:
            self.enrol_form = None
            inner.addWidget(hint_label(ASK_ADMIN_TEXT))
        layout.addWidget(box)
        layout.addStretch(1)
        return view

    def _enrolled_view(self) -> QWidget:
        view = QWidget()
        layout = QVBoxLayout(view)
        layout.setContentsMargins(0, 0, 0, 0)
        self.notice = QLabel()
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet(f"background: #fdf3d9; border: 1px solid #e8c66a; padding: 6px; color: {ACCENT};")
        selectable(self.notice).hide()
        layout.addWidget(self.notice)
        self.insecure = insecure_label()
        layout.addWidget(self.insecure)
        layout.addWidget(self._head_box())
        self.result_label = selectable(QLabel())
        self.result_label.setWordWrap(True)
        self.result_label.hide()
        layout.addWidget(self.result_label)
        tables = QHBoxLayout()
        self.type_model, self.type_view = self._table(TYPE_COLUMNS)
        self.rejected_model, self.rejected_view = self._table(REJECTED_COLUMNS)
        self.rejected_box = self._boxed("被总院退回的记录", self.rejected_view,
                                        hint_label("修改这些记录（按原因改正）后，会随下一次同步重新发送。"))
        tables.addWidget(self._boxed("待发送（按类型）", self.type_view), 2)
        tables.addWidget(self.rejected_box, 3)
        layout.addLayout(tables, 3)
        self.package_model, self.package_view = self._table(PACKAGE_COLUMNS)
        self.log_model, self.log_view = self._table(LOG_COLUMNS)
        self.history_tabs = QTabWidget()
        self.history_tabs.addTab(self.package_view, "数据包记录")
        self.history_tabs.addTab(self.log_view, "同步日志（最新在前）")
        layout.addWidget(self.history_tabs, 2)
        return view

    def _head_box(self) -> QGroupBox:
        box = QGroupBox("总院")
        grid = QGridLayout(box)
        grid.setHorizontalSpacing(12)
        self.head_name = selectable(QLabel())
        self.server_url = selectable(QLabel())
        self.site_id = selectable(QLabel())
        self.fingerprint = fingerprint_label()
        self.connection = QLabel()
        self.last_success = QLabel()
        self.last_attempt = selectable(QLabel())
        self.last_attempt.setWordWrap(True)
        rows = (("总院", self.head_name, "地址", self.server_url),
                ("本分院站点编号", self.site_id, "连接", self.connection),
                ("本分院密钥指纹", self.fingerprint, "上次成功", self.last_success))
        for row, (name, value, name2, value2) in enumerate(rows):
            grid.addWidget(_muted(name), row, 0)
            grid.addWidget(value, row, 1)
            grid.addWidget(_muted(name2), row, 2)
            grid.addWidget(value2, row, 3)
        grid.addWidget(_muted("上次尝试"), 3, 0)
        grid.addWidget(self.last_attempt, 3, 1, 1, 3)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 0)
        self.progress_text = QLabel()
        self.progress_bar.hide()
        self.progress_text.hide()
        grid.addWidget(self.progress_bar, 4, 0, 1, 2)
        grid.addWidget(self.progress_text, 4, 2, 1, 2)
        self.reenrol_form = None
        if self.can_enrol:
            self.reenrol_form = EnrolForm("重新登记(&G)")
            self.reenrol_form.setToolTip(REREGISTER_HINT)
            self.reenrol_form.submitted.connect(self.enrol)
            grid.addWidget(self.reenrol_form, 5, 0, 1, 4)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        return box

    def _table(self, columns) -> tuple[RowTableModel, QTableView]:
        model = RowTableModel(columns, self)
        view = make_table(model)
        view.setTabKeyNavigation(False)  # read-only: Tab goes on to the next table, arrows move within
        return model, view

    @staticmethod
    def _boxed(title: str, *widgets: QWidget) -> QGroupBox:
        box = QGroupBox(title)
        layout = QVBoxLayout(box)
        for widget in widgets:
            layout.addWidget(widget)
        return box

    # ----- loading

    def activated(self) -> None:
        self.refresh()

    def on_changes(self, changes: Changes) -> None:
        """Any write may add something to send; reload while the page is in view."""
        if self.isVisible():
            self.refresh()

    def refresh(self) -> None:
        """Read the status and the four tables in the background (one read at a time)."""
        if self._loading:
            self._load_again = True
            return
        self._loading = True
        self.ctx.tasks.run_db(lambda: load_page_data(self.ctx.db), on_success=self._show,
                              on_failure=self._load_failed, parent=self)

    def _load_failed(self, error: BaseException) -> None:
        self._loading = self._load_again = False
        show_error(self, error)

    def _show(self, data: SyncPageData) -> None:
        self._loading = False
        self.data = data
        self.views.setCurrentIndex(1 if data.status.enrolled else 0)
        self._show_status(data.status)
        for view, rows in ((self.type_view, list(data.status.types)), (self.rejected_view, data.rejected),
                           (self.package_view, data.packages), (self.log_view, data.log)):
            self._set_rows(view, rows)
        self.rejected_box.setTitle(f"被总院退回的记录（{len(data.rejected):,} 条）")
        self._update_actions()
        if self._load_again:
            self._load_again = False
            self.refresh()

    def _set_rows(self, view: QTableView, rows: list) -> None:
        """Show `rows`; size the columns to the first rows the table gets (widths are the person's after)."""
        view.model().set_rows(rows)
        if rows and id(view) not in self._fitted:
            fit_columns(view)
            self._fitted.add(id(view))

    def _status_changed(self, status: SyncStatus) -> None:
        """The controller read a newer status (timer, automatic sync): keep the header current."""
        if self.data is not None and status.enrolled == self.data.status.enrolled:
            self._show_status(status)

    def _show_status(self, status: SyncStatus) -> None:
        if not status.enrolled:
            return
        self.head_name.setText(status.head_name or "（未知）")
        self.server_url.setText(status.server_url)
        show_insecure(self.insecure, status.server_url)
        self.site_id.setText(status.site_id)
        self.fingerprint.setText(status.fingerprint)
        state = connection_state(status, busy=self.controller.busy, last_run=self.controller.last_run)
        self.connection.setText(f"<span style='color:{state.colour}'>●</span> {state.word}")
        today = now().date()
        self.last_success.setText(when_text(status.last_success, today))
        attempt = status.last_attempt
        self.last_attempt.setText(f"{when_text(attempt.get('at'), today)}　{attempt.get('message', '')}"
                                  if attempt else "尚未连接过总院")
        if self.reenrol_form is not None:
            self.reenrol_form.quiet_for = status.server_url
            if not self.reenrol_form.address.text():
                self.reenrol_form.address.setText(status.server_url)

    def _update_actions(self) -> None:
        enrolled = self.data is not None and self.data.status.enrolled
        idle = not self.controller.busy
        for button in (self.sync_button, self.export_button, self.import_button):
            button.setEnabled(enrolled and idle)
        for form in (self.enrol_form, self.reenrol_form):
            if form is not None:
                form.set_busy(not idle)

    # ----- feedback

    def _busy_changed(self, busy: bool) -> None:
        self._update_actions()
        self.progress_bar.setVisible(busy)
        self.progress_text.setVisible(busy)
        if busy:
            self.progress_bar.setRange(0, 0)
            self.progress_text.setText("正在处理……")
        if self.data is not None:
            self._show_status(self.controller.status or self.data.status)

    def _show_progress(self, fraction: float, message: str) -> None:
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setValue(round(fraction * 1000))
        self.progress_text.setText(message)

    def _finished(self, run: SyncRun | None) -> None:
        if run is not None and run.ok:
            self.notice.hide()  # the head hospital took the packages: the site is approved
        if run is not None and run.manual:  # an automatic run speaks through 上次尝试 and the status bar
            waiting = run.offline or run.awaiting_approval
            self.show_result(run.message, ok=run.ok or waiting, colour=None if run.ok else
                             (MUTED_TEXT if waiting else ERROR))
        self.refresh()

    def show_result(self, text: str, *, ok: bool, colour: str | None = None) -> None:
        """The outcome of the last operation, under the header (kept until the next one)."""
        self.result_label.setText(text)
        self.result_label.setStyleSheet(f"color: {colour or (SAFE_COLOUR if ok else ERROR)}; font-weight: bold;")
        self.result_label.show()

    # ----- operations

    def sync_now(self) -> None:
        """立即同步: the shared guard refuses a second sync; the progress dialog has 取消."""
        self.controller.sync(manual=True)

    def choose_export_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "选择U盘（数据包写入的文件夹）", str(Path.home()))
        if folder:
            self.export_to(Path(folder))

    def export_to(self, folder: Path) -> None:
        """Write a package for the head hospital into `folder` and read it back."""
        ctx = self.ctx

        def work() -> UsbExport:
            from desktop.sync.usb import export_package

            return export_package(ctx.db, ctx.actor, folder)

        self.controller.run_exclusive(work, label="正在写入U盘并读回校验……", on_success=self._exported)

    def _exported(self, result: UsbExport) -> None:
        self.show_result(result.message(), ok=result.verified)
        if not result.verified:
            show_error(self, UserFacingError(result.message()))

    def choose_return_file(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(self, "选择总院回执文件", str(Path.home()),
                                                    "总院回执 (*.tdreturn);;所有文件 (*)")
        if path:
            self.import_from(Path(path))

    def import_from(self, path: Path) -> None:
        """Apply the head hospital's return file."""
        ctx = self.ctx

        def work() -> UsbImport:
            from desktop.sync.usb import import_return

            return import_return(ctx.db, ctx.actor, path)

        self.controller.run_exclusive(work, label="正在导入总院回执……", on_success=self._imported)

    def _imported(self, result: UsbImport) -> None:
        self.show_result(result.message(), ok=True)
        if result.received:
            self.ctx.bus.publish(Changes(sync=True))

    def enrol(self, address: str) -> None:
        """Register this site with the head hospital at `address` (system administrator only)."""
        ctx = self.ctx

        def work() -> EnrolResult:
            from desktop.sync.enrolment import enrol

            return enrol(ctx.db, ctx.actor, address)

        self.controller.run_exclusive(work, label="正在向总院登记……", network=True, on_success=self._enrolled,
                                      on_failure=lambda error: self._enrol_failed(error, address))

    def _enrolled(self, result: EnrolResult) -> None:
        self.enrol_result = result
        self.notice.setText(enrolled_notice(result))
        self.notice.show()
        self.ctx.bus.publish(Changes(audit=True))
        self.controller.enrolled()
        self.refresh()

    def _enrol_failed(self, error: BaseException, address: str) -> None:
        form = self.reenrol_form if self.views.currentIndex() == 1 else self.enrol_form
        if is_offline(error):
            error = UserFacingError(f"无法连接总院地址 {address}：请检查地址和端口是否正确、网络是否连通。")
        if isinstance(error, UserFacingError) and form is not None:
            form.show_error(error)
        else:
            show_error(self, error)


def _muted(text: str) -> QLabel:
    label = QLabel(text)
    label.setStyleSheet(f"color: {MUTED_TEXT};")
    label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return label
