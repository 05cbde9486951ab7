"""审计日志: filter the append-only log, page through it lazily, verify its hash chain."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QDate, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import (
    QCalendarWidget,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from desktop.changes import Changes
from desktop.services import accounts, backup, branch, indicators, settings  # noqa: F401 - they name their kinds
from desktop.services import audit as audit_service
from desktop.services.audit import Action, AuditFilter, AuditRow
from desktop.services.audit_verify import AuditReport, verify_audit
from desktop.services.audit_labels import actor_label, entity_label
from desktop.sync import site  # noqa: F401 - names the sync settings' kind
from desktop.ui.context import UiContext
from desktop.ui.errors import show_error
from desktop.ui.pages.base import Page
from desktop.ui.tables import make_table
from desktop.ui.theme import ERROR

PAGE_SIZE = 500
ALL = "全部"
NO_LIMIT = "不限"
EARLIEST = QDate(2000, 1, 1)
INTACT_COLOUR = "#2e7d32"
HEADERS = ("序号", "时间", "操作人", "操作", "对象", "摘要")
Index = QModelIndex | QPersistentModelIndex


def entity_text(row: AuditRow) -> str:
    """对象: the record's kind in Chinese and its (shortened) id."""
    kind = entity_label(row.entity_type)
    ident = row.entity_id if len(row.entity_id) <= 12 else row.entity_id[:8] + "…"
    return f"{kind} {ident}".strip()


def _cell(row: AuditRow, column: int) -> str:
    when = f"{row.at:%Y-%m-%d %H:%M:%S}"
    values = (str(row.seq), when, row.actor_name or actor_label(row.actor), row.action_label, entity_text(row),
              row.summary)
    return values[column]


def chain_text(report: AuditReport) -> str:
    """The verification outcome as the page's status line shows it (the chain's break first, then the anchors)."""
    if report.intact:
        against = f"（与{report.anchor.describe()}相符）" if report.anchor is not None else ""
        return f"审计链完整，共 {report.entries} 条{against}"
    lines = [] if report.chain.intact else [f"第 {report.chain.first_bad_seq} 条：{report.chain.problem}"]
    lines += [problem.message for problem in report.problems if problem.kind != "chain_broken"]
    return "\n".join(lines)


class AuditModel(QAbstractTableModel):
    """The log newest first, fetched in keyset pages of 500 as the view scrolls."""

    def __init__(self, ctx: UiContext, owner: QWidget) -> None:
        super().__init__(owner)
        self.ctx, self.owner = ctx, owner
        self.filter = AuditFilter()
        self._rows: list[AuditRow] = []
        self._exhausted = True
        self._loading = False
        self._generation = 0

    def reload(self, flt: AuditFilter) -> None:
        """Forget every row and fetch the first page for the new filter."""
        self.beginResetModel()
        self.filter, self._rows = flt, []
        self._exhausted, self._loading = False, False
        self._generation += 1
        self.endResetModel()
        self.fetchMore(QModelIndex())

    def row_at(self, row: int) -> AuditRow:
        """The entry shown at `row`."""
        return self._rows[row]

    @property
    def loading(self) -> bool:
        """True while a page is being fetched."""
        return self._loading

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: N802 - Qt override
        return not parent.isValid() and not self._exhausted and not self._loading

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: N802 - Qt override
        """Ask the database thread for the next page (older than the last row shown)."""
        if not self.canFetchMore(parent):
            return
        self._loading = True
        ctx, flt, generation = self.ctx, self.filter, self._generation
        before = self._rows[-1].seq if self._rows else None
        ctx.tasks.run_db(
            lambda: audit_service.list_entries(ctx.db, ctx.actor, flt, limit=PAGE_SIZE, before_seq=before),
            on_success=lambda rows: self._append(generation, rows),
            on_failure=lambda error: self._failed(generation, error),
            parent=self.owner,
        )

    def _append(self, generation: int, rows: list[AuditRow]) -> None:
        if generation != self._generation:
            return
        self._loading = False
        self._exhausted = len(rows) < PAGE_SIZE
        if rows:
            start = len(self._rows)
            self.beginInsertRows(QModelIndex(), start, start + len(rows) - 1)
            self._rows.extend(rows)
            self.endInsertRows()

    def _failed(self, generation: int, error: BaseException) -> None:
        if generation == self._generation:
            self._loading, self._exhausted = False, True
        show_error(self.owner, error)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802 - Qt override
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802 - Qt override
        return 0 if parent.isValid() else len(HEADERS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Cell text; the tooltip adds the full record id and digests."""
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return _cell(row, index.column())
        if role == Qt.ItemDataRole.ToolTipRole:
            return _tooltip(row)
        return None

    def headerData(  # noqa: N802 - Qt override
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return HEADERS[section]
        return None


def _tooltip(row: AuditRow) -> str:
    lines = [row.summary or row.action_label, f"对象：{entity_label(row.entity_type)} {row.entity_id}".rstrip()]
    if row.before_digest:
        lines.append(f"修改前摘要值：{row.before_digest}")
    if row.after_digest:
        lines.append(f"修改后摘要值：{row.after_digest}")
    return "\n".join(lines)


class _Calendar(QCalendarWidget):
    """A popup calendar that opens on this month while its date edit shows 不限."""

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        if self.selectedDate() == EARLIEST:
            today = QDate.currentDate()
            self.setCurrentPage(today.year(), today.month())
        super().showEvent(event)


def _date_edit() -> QDateEdit:
    """A date box with a calendar popup; its earliest date reads 不限."""
    edit = QDateEdit()
    edit.setCalendarPopup(True)
    edit.setCalendarWidget(_Calendar())
    edit.setDisplayFormat("yyyy-MM-dd")
    edit.setMinimumDate(EARLIEST)
    edit.setSpecialValueText(NO_LIMIT)
    edit.setDate(EARLIEST)
    return edit


def _day(edit: QDateEdit) -> date | None:
    """The chosen day, or None for 不限."""
    chosen = edit.date()
    return None if chosen == EARLIEST else date(chosen.year(), chosen.month(), chosen.day())


class AuditPage(Page):
    """The audit log viewer."""

    title = "审计日志"

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.verify_button = QPushButton("校验审计链")
        self.verify_button.setToolTip("逐条核对哈希链，发现被修改、删除或插入的记录")
        self.verify_button.clicked.connect(self.verify)
        self.actions_bar.addWidget(self.verify_button)
        self.body.addLayout(self._filter_bar())
        self.model = AuditModel(ctx, self)
        self.view = make_table(self.model, sortable=False)
        self._size_columns()
        self.body.addWidget(self.view, 1)
        footer = QHBoxLayout()
        self.count_label = QLabel("共 0 条")
        self.chain_label = QLabel()
        self.chain_label.setWordWrap(True)
        footer.addWidget(self.count_label)
        footer.addSpacing(24)
        footer.addWidget(self.chain_label, 1)
        self.body.addLayout(footer)

    def _filter_bar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        self.since, self.until = _date_edit(), _date_edit()
        self.actor_box = QComboBox()
        self.actor_box.addItem(ALL, "")
        self.actor_box.setMinimumContentsLength(8)
        self.action_box = QComboBox()
        self.action_box.addItem(ALL, "")
        for action in Action:
            self.action_box.addItem(action.label, action.value)
        self.keyword = QLineEdit()
        self.keyword.setPlaceholderText("摘要中的文字")
        self.keyword.setClearButtonEnabled(True)
        self.keyword.returnPressed.connect(self.query)
        self.query_button = QPushButton("查询")
        self.query_button.clicked.connect(self.query)
        for text, widget in (("从", self.since), ("到", self.until), ("操作人", self.actor_box),
                             ("操作", self.action_box), ("关键词", self.keyword)):
            bar.addWidget(QLabel(text))
            bar.addWidget(widget, 2 if widget is self.keyword else 0)
            bar.addSpacing(6)
        bar.addWidget(self.query_button)
        return bar

    def _size_columns(self) -> None:
        header = self.view.horizontalHeader()
        for section, width in enumerate((70, 150, 100, 90, 190)):
            header.resizeSection(section, width)

    def activated(self) -> None:
        """Reload the actor list and the entries each time the page is shown."""
        self.load_actors()
        self.query()

    def on_changes(self, changes: Changes) -> None:
        if changes.audit and self.isVisible():
            self.query()

    def current_filter(self) -> AuditFilter:
        """The filter bar as an AuditFilter."""
        since, until = _day(self.since), _day(self.until)
        return AuditFilter(
            since=datetime.combine(since, time.min) if since else None,
            until=datetime.combine(until + timedelta(days=1), time.min) if until else None,
            actor=self.actor_box.currentData() or "",
            action=self.action_box.currentData() or "",
            text=self.keyword.text().strip(),
        )

    def query(self) -> None:
        """Show the entries matching the filter, newest first, and their count."""
        ctx, flt = self.ctx, self.current_filter()
        self.model.reload(flt)
        ctx.tasks.run_db(lambda: audit_service.count_entries(ctx.db, ctx.actor, flt),
                         on_success=lambda n: self.count_label.setText(f"共 {n:,} 条"), parent=self)

    def load_actors(self) -> None:
        """Fill the 操作人 box with every name in the log."""
        ctx = self.ctx
        ctx.tasks.run_db(lambda: audit_service.actor_choices(ctx.db, ctx.actor), on_success=self._set_actors,
                         parent=self)

    def _set_actors(self, choices: list[tuple[str, str]]) -> None:
        current = self.actor_box.currentData() or ""
        self.actor_box.blockSignals(True)
        self.actor_box.clear()
        self.actor_box.addItem(ALL, "")
        for username, shown in choices:
            self.actor_box.addItem(shown, username)
        self.actor_box.setCurrentIndex(max(self.actor_box.findData(current), 0))
        self.actor_box.blockSignals(False)

    def verify(self) -> None:
        """Walk the whole chain in the background and show the outcome on the page."""
        self.verify_button.setEnabled(False)
        self.chain_label.setText("正在校验……")
        self.chain_label.setStyleSheet("")
        self.ctx.tasks.run_db(lambda: verify_audit(self.ctx.db), label="正在校验审计链……",
                              on_success=self._show_chain, on_failure=self._verify_failed, parent=self)

    def _show_chain(self, report: AuditReport) -> None:
        self.verify_button.setEnabled(True)
        self.chain_label.setText(chain_text(report))
        colour = INTACT_COLOUR if report.intact else ERROR
        self.chain_label.setStyleSheet(f"color: {colour}; font-weight: bold;")

    def _verify_failed(self, error: BaseException) -> None:
        self.verify_button.setEnabled(True)
        self.chain_label.clear()
        show_error(self, error)
