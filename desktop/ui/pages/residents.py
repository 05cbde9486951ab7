"""居民档案: the one-box search, filters and a lazy table over the whole register.

The table model holds only the ordered id list; rows are fetched a page at a time on the
database thread as the view scrolls. A refresh first asks for one page (shown at once) and
then for the full id list, so a register of 100,000 people opens without a pause.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
)
from PySide6.QtGui import QAction, QColor, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QWidget

from desktop.changes import Changes
from desktop.clock import now
from desktop.errors import UserFacingError
from desktop.rules.population import SEX_LABELS, KeyPopulation, ResidentStatus, age_groups
from desktop.services.permissions import Permission
from desktop.services.resident_lookup import AGE_BANDS, find_ids, hidden_by_status, hidden_hint, recorded_kinds
from desktop.services.resident_query import (
    ResidentDetail,
    ResidentFilter,
    ResidentRow,
    get_resident,
    rows_for,
    search_shown,
)
from desktop.ui.context import UiContext
from desktop.ui.errors import log_error
from desktop.ui.pages.base import Page
from desktop.ui.resident_actions import RESIDENT_ACTIONS, ResidentAction
from desktop.ui.resident_form import Lookups, ResidentForm, load_lookups
from desktop.ui.tables import make_table, notify, page_action
from desktop.ui.tasks import Latest
from desktop.ui.theme import ERROR, MUTED_TEXT

PAGE_SIZE = 200
FIRST_ROWS = 60  # a search's rows fetched with its ids (a screenful); the rest of the page follows on scrolling
SEARCH_LIMIT = 1000  # ranked matches listed at most
SHORT_SEARCH_LIMIT = PAGE_SIZE  # for one typed character, a step on the way to the name (5 % of a register match "z")
MAX_CACHED_PAGES = 40
SEARCH_SETTLE_MS = 2000  # a search's results are audited once the text has stayed this long (or on Enter)
SEARCH_HINT = "姓名 / 拼音首字母 / 身份证号或电话后4位 / 档案编号 / 出生日期（Ctrl+F）"
KEY_SHORT = {
    KeyPopulation.ELDERLY: "65岁+", KeyPopulation.CHILD: "0-6岁", KeyPopulation.PREGNANT: "孕产妇",
    KeyPopulation.HYPERTENSION: "高血压", KeyPopulation.DIABETES: "糖尿病",
    KeyPopulation.SEVERE_MENTAL_ILLNESS: "严重精神障碍", KeyPopulation.TUBERCULOSIS: "肺结核",
    KeyPopulation.DISABLED: "残疾", KeyPopulation.POVERTY_RELIEF: "脱贫/低保",
}
Index = QModelIndex | QPersistentModelIndex
FOREGROUND = Qt.ItemDataRole.ForegroundRole
# looked up once: data() runs for every cell and role painted
SHOWN_ROLES = (Qt.ItemDataRole.DisplayRole, FOREGROUND, Qt.ItemDataRole.ToolTipRole)


@dataclass(frozen=True)
class ListRow:
    """A shown line: the masked resident row and its recorded key-population kinds."""

    row: ResidentRow
    kinds: tuple[str, ...]


def key_population_text(row: ResidentRow, kinds: tuple[str, ...], today: date) -> str:
    """Age-based groups (on today's date) then the recorded ones, short and joined."""
    groups = [*age_groups(row.birth_date, today), *(KeyPopulation(kind) for kind in kinds)]
    return "、".join(KEY_SHORT[group] for group in groups)


def _status_colour(row: ResidentRow) -> str | None:
    return None if row.status == ResidentStatus.ACTIVE.value else ERROR if row.status == "deceased" else MUTED_TEXT


@dataclass(frozen=True)
class ListColumn:
    """A column of the register: header, text, and the service's sort key (None: not sortable)."""

    title: str
    text: Callable[[ListRow, date], str]
    sort: str | None = None
    reverse: bool = False


COLUMNS = (
    ListColumn("档案编号", lambda r, _t: r.row.record_no, "record_no"),
    ListColumn("姓名", lambda r, _t: r.row.name, "name"),
    ListColumn("性别", lambda r, _t: SEX_LABELS.get(r.row.sex, r.row.sex), "sex"),
    ListColumn("出生日期", lambda r, _t: f"{r.row.birth_date:%Y-%m-%d}", "birth_date"),
    ListColumn("年龄", lambda r, _t: f"{r.row.age}", "birth_date", reverse=True),
    ListColumn("所属村", lambda r, _t: r.row.village_name, "village"),
    ListColumn("身份证号", lambda r, _t: r.row.id_number),
    ListColumn("联系电话", lambda r, _t: r.row.phone),
    ListColumn("状态", lambda r, _t: ResidentStatus(r.row.status).label, "status"),
    ListColumn("重点人群", lambda r, today: key_population_text(r.row, r.kinds, today)),
)
WIDTHS = (150, 80, 44, 96, 48, 90, 170, 110, 56)


def load_rows(ctx: UiContext, ids: list[int]) -> dict[int, ListRow]:
    """Rows and recorded key populations for a page of ids (database thread)."""
    rows = rows_for(ctx.db, ctx.actor, ids)
    kinds = recorded_kinds(ctx.db, ctx.actor, ids)
    return {row.id: ListRow(row, kinds.get(row.id, ())) for row in rows}


class ResidentListModel(QAbstractTableModel):
    """A fixed-size model over an id list with an LRU cache of fetched pages.

    `fetch(generation, page, ids)` is called for a page not yet loaded; its answer comes
    back through `put_page`. A new id list bumps the generation so late answers are dropped.
    """

    def __init__(self, fetch: Callable[[int, int, list[int]], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.fetch = fetch
        self.generation = 0
        self.today = now().date()
        self._ids: list[int] = []
        self._rows: dict[int, ListRow] = {}
        self._pages: OrderedDict[int, list[int]] = OrderedDict()
        self._pending: set[int] = set()
        self._sort: tuple[int, Qt.SortOrder] = (0, Qt.SortOrder.AscendingOrder)
        self.sort_changed: Callable[[], None] = lambda: None

    def ids(self) -> list[int]:
        return self._ids

    def id_at(self, row: int) -> int | None:
        return self._ids[row] if 0 <= row < len(self._ids) else None

    def row_for(self, resident_id: int) -> ListRow | None:
        return self._rows.get(resident_id)

    def loaded(self, row: int) -> bool:
        resident_id = self.id_at(row)
        return resident_id is not None and resident_id in self._rows

    def sort_key(self) -> tuple[str, bool]:
        """The service's sort column and direction for the current header sort."""
        column, order = self._sort
        spec = COLUMNS[column]
        return spec.sort or "record_no", (order == Qt.SortOrder.DescendingOrder) != spec.reverse

    def start(self, ids: list[int], rows: dict[int, ListRow]) -> None:
        """A new list (new filter, sort or data): forget every cached page."""
        self.beginResetModel()
        self.generation += 1
        self.today = now().date()
        self._ids, self._rows = list(ids), {}
        self._pages.clear()
        self._pending.clear()
        self._store(0, rows)
        self.endResetModel()

    def extend(self, ids: list[int]) -> None:
        """The full id list after the first page: append in place when it continues the shown prefix."""
        shown = len(self._ids)
        if ids[:shown] != self._ids:
            self.start(ids, {i: self._rows[i] for i in ids[:PAGE_SIZE] if i in self._rows})
        elif len(ids) > shown:
            self.beginInsertRows(QModelIndex(), shown, len(ids) - 1)
            self._ids = list(ids)
            self.endInsertRows()

    def put_page(self, generation: int, page: int, rows: dict[int, ListRow]) -> None:
        """A fetched page arrived: cache it and repaint its rows."""
        if generation != self.generation:
            return
        self._pending.discard(page)
        self._store(page, rows)
        first, last = page * PAGE_SIZE, min(len(self._ids), (page + 1) * PAGE_SIZE) - 1
        if last >= first:
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(COLUMNS) - 1))

    def fail_page(self, generation: int, page: int) -> None:
        if generation == self.generation:
            self._pending.discard(page)

    def _store(self, page: int, rows: dict[int, ListRow]) -> None:
        self._rows.update(rows)
        self._pages[page] = list(rows)
        self._pages.move_to_end(page)
        while len(self._pages) > MAX_CACHED_PAGES:
            _, dropped = self._pages.popitem(last=False)
            for resident_id in dropped:
                self._rows.pop(resident_id, None)

    def _request(self, row: int) -> None:
        page = row // PAGE_SIZE
        if page in self._pending:
            return
        if page in self._pages:  # cached but this row fell out of it (a list changed under us)
            self._pages.pop(page)
        self._pending.add(page)
        self.fetch(self.generation, page, self._ids[page * PAGE_SIZE:(page + 1) * PAGE_SIZE])

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Cell text from the cache; an unloaded row asks for its page and shows blank meanwhile."""
        if role not in SHOWN_ROLES or not index.isValid():
            return None
        shown = self._rows.get(self._ids[index.row()])
        if shown is None:
            self._request(index.row())
            return None
        page = index.row() // PAGE_SIZE
        if page in self._pages:
            self._pages.move_to_end(page)
        if role == FOREGROUND:
            colour = _status_colour(shown.row) if COLUMNS[index.column()].title == "状态" else None
            return QColor(colour) if colour else None
        return COLUMNS[index.column()].text(shown, self.today)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section].title
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Ask the page for a new id list in this order (columns the register cannot sort are ignored)."""
        if COLUMNS[column].sort is None or (column, order) == self._sort:
            return
        self._sort = (column, order)
        self.sort_changed()


class _SearchKeys(QObject):
    """Down arrow in the search box moves into the table."""

    def __init__(self, page: ResidentsPage) -> None:
        super().__init__(page)
        self.page = page

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent) and event.key() == Qt.Key.Key_Down:
            self.page.focus_table()
            return True
        return False


class ResidentsPage(Page):
    """The register: search, filters, a lazy table and the actions on one resident."""

    title = "居民档案"

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.lookups = Lookups([], [])
        self.dialog: QWidget | None = None
        self._open_top = False
        self._loaded = False
        self._loading = False
        self._latest = Latest()
        self._hint = ""
        self._search_limit = SEARCH_LIMIT
        self.can_edit = ctx.actor.can(Permission.EDIT_RESIDENTS)
        self._shown_search: tuple[str, int] | None = None  # (text, matches) shown and not audited yet
        self.search_settled = QTimer(self)
        self.search_settled.setSingleShot(True)
        self.search_settled.setInterval(SEARCH_SETTLE_MS)
        self.search_settled.timeout.connect(self.audit_search)
        self._build_actions()
        self._build_filters()
        self.model = ResidentListModel(self._fetch_page, self)
        self.model.sort_changed = self.refresh
        actions = [self.open_action, *self.resident_actions.values(), self.new_action]
        self.view = make_table(self.model, actions=[a for a in actions if a.isVisible()])
        self.view.activated.connect(lambda _index: self.open_selected())
        self.view.horizontalHeader().setSortIndicator(0, Qt.SortOrder.AscendingOrder)
        self.view.selectionModel().selectionChanged.connect(self._update_actions)
        self._size_columns()
        self.count_label = QLabel("正在加载…")
        self.body.addWidget(self.view, 1)
        self.body.addWidget(self.count_label)
        self._update_actions()

    def _build_actions(self) -> None:
        actor = self.ctx.actor
        self.new_action = page_action(self, "新建", self.new_resident, shortcut="Ctrl+N")
        self.open_action = page_action(self, "修改/查看" if self.can_edit else "查看", self.open_selected)
        self.registered: dict[str, ResidentAction] = {}
        self.resident_actions: dict[str, QAction] = {}
        for entry in RESIDENT_ACTIONS:
            action = page_action(self, entry.label, lambda key=entry.key: self.run_action(key), shortcut=entry.shortcut)
            action.setVisible(entry.allowed(actor))
            self.registered[entry.key], self.resident_actions[entry.key] = entry, action
        self.import_action = page_action(self, "导入…", self.import_residents)
        self.export_action = page_action(self, "导出…", self.export_residents)
        for action, allowed in ((self.new_action, self.can_edit),
                                (self.import_action, actor.can(Permission.IMPORT_RESIDENTS)),
                                (self.export_action, actor.can(Permission.EXPORT_RESIDENTS))):
            action.setVisible(allowed)
        find = QAction(self)
        find.setShortcut(QKeySequence.StandardKey.Find)
        find.triggered.connect(self.focus_search)
        self.addAction(find)

    def _build_filters(self) -> None:
        bar = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText(SEARCH_HINT)
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(340)
        self.search.installEventFilter(_SearchKeys(self))
        self.search.textChanged.connect(lambda _text: self.refresh())  # results follow each keystroke
        self.search.returnPressed.connect(self.open_top_hit)
        self.village = QComboBox()
        self.status = _combo([("在册", ResidentStatus.ACTIVE), ("迁出", ResidentStatus.MOVED_OUT),
                              ("死亡", ResidentStatus.DECEASED), ("全部", None)])
        self.key_population = _combo([("全部重点人群", None), *((k.label, k) for k in KeyPopulation)])
        self.age_band = _combo([("全部年龄", None), *((band.label, band) for band in AGE_BANDS)])
        for combo in (self.village, self.status, self.key_population, self.age_band):
            combo.currentIndexChanged.connect(lambda _index: self.refresh())
        bar.addWidget(self.search, 1)
        for widget in (self.village, self.status, self.key_population, self.age_band):
            bar.addWidget(widget)
        self.body.addLayout(bar)

    def _size_columns(self) -> None:
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for section, width in enumerate(WIDTHS):
            header.resizeSection(section, width)

    # ----- loading

    def activated(self) -> None:
        if not self._loaded:
            self._loaded = True
            self.ctx.tasks.run_db(lambda: load_lookups(self.ctx), on_success=self._set_lookups, parent=self)
            self.refresh()

    def on_changes(self, changes: Changes) -> None:
        if changes.branch or changes.sync:
            self.ctx.tasks.run_db(lambda: load_lookups(self.ctx), on_success=self._set_lookups, parent=self)
        if (changes.residents or changes.sync) and self._loaded:
            self.refresh()

    def current_filter(self) -> ResidentFilter:
        """The search text and drop-downs as a service filter (Qt hands enums back as text)."""
        status, group = self.status.currentData(), self.key_population.currentData()
        return ResidentFilter(query=self.search.text(), village_id=self.village.currentData(),
                              status=ResidentStatus(status) if status else None,
                              key_population=KeyPopulation(group) if group else None, on=now().date())

    def refresh(self) -> None:
        """Reload the id list: one page first (shown at once), then the rest; a newer call supersedes this one."""
        ctx, latest, flt, band = self.ctx, self._latest, self.current_filter(), self.age_band.currentData()
        sort, descending = self.model.sort_key()
        searching = bool(flt.query.strip())
        search_limit = SHORT_SEARCH_LIMIT if len(flt.query.strip()) == 1 else SEARCH_LIMIT
        self._search_limit = search_limit
        self.view.horizontalHeader().setSectionsClickable(not searching)
        self.view.horizontalHeader().setSortIndicatorShown(not searching)

        def first() -> tuple[list[int], dict[int, ListRow], list[int] | None, str]:
            """The first page; a search's ranked ids come whole, with a screenful of rows (or the hint if none)."""
            latest.check(token)
            ids = find_ids(ctx.db, ctx.actor, flt, band=band, sort=sort, descending=descending,
                           limit=None if searching else PAGE_SIZE, search_limit=search_limit)
            hint = ""
            if searching and not ids and flt.status is not None:
                hint = hidden_hint(flt.status, hidden_by_status(ctx.db, ctx.actor, flt, band=band))
            shown = ids[:FIRST_ROWS if searching else PAGE_SIZE]
            return ids[:PAGE_SIZE], load_rows(ctx, shown), ids if searching else None, hint

        def rest() -> list[int]:
            latest.check(token)
            return find_ids(ctx.db, ctx.actor, flt, band=band, sort=sort, descending=descending)

        token = latest.renew()
        self._loading = True
        ctx.tasks.run_db(first, on_success=lambda result: self._first_page(token, *result), parent=self)
        if not searching:
            ctx.tasks.run_db(rest, on_success=lambda ids: self._all_ids(token, ids), parent=self)

    def _first_page(self, token: object, ids: list[int], rows: dict[int, ListRow], whole: list[int] | None,
                    hint: str) -> None:
        if token is not self._latest.token:
            return
        self._hint = hint
        selected = self.selected_id()
        self.model.start(ids, rows)
        self._reselect(selected)
        if whole is not None:
            self._all_ids(token, whole)

    def _all_ids(self, token: object, ids: list[int]) -> None:
        if token is not self._latest.token:
            return
        selected = self.selected_id()
        self.model.extend(ids)
        self._loading = False
        self._reselect(selected)
        self._show_count(len(ids))
        self._search_shown(len(ids))
        if self._open_top:
            self._open_top = False
            self.audit_search()
            if ids:
                self.view.selectRow(0)
                self.open_selected()

    def _search_shown(self, count: int) -> None:
        """Remember the search now shown; it is audited when the text settles (each keystroke restarts the wait)."""
        query = self.search.text().strip()
        self._shown_search = (query, count) if query and count else None
        if self._shown_search is None:
            self.search_settled.stop()
        else:
            self.search_settled.start()

    def audit_search(self) -> None:
        """Audit the search results shown (after the pause or on Enter; once per search, see access_audit)."""
        self.search_settled.stop()
        shown, self._shown_search = self._shown_search, None
        if shown is not None:
            ctx, (query, count) = self.ctx, shown
            ctx.tasks.run_db(lambda: search_shown(ctx.db, ctx.actor, query, count=count), parent=self)

    def _show_count(self, count: int) -> None:
        searching = bool(self.search.text().strip())
        if searching and not count and self._hint:
            self.count_label.setText(self._hint)  # the status filter hides what the search found
            return
        if searching and count >= self._search_limit:
            self.count_label.setText(f"按匹配程度排序，列出最接近的 {count:,} 人；再输入几个字可缩小范围")
            return
        self.count_label.setText(f"共 {count:,} 人" + ("（按匹配程度排序）" if searching else ""))

    def _fetch_page(self, generation: int, page: int, ids: list[int]) -> None:
        self.ctx.tasks.run_db(lambda: load_rows(self.ctx, ids),
                              on_success=lambda rows: self.model.put_page(generation, page, rows),
                              on_failure=lambda error: self._page_failed(generation, page, error), parent=self)

    def _page_failed(self, generation: int, page: int, error: BaseException) -> None:
        """Say so in the count line (a box per failed page would pile up while scrolling); the page is retried."""
        log_error(error)
        self.model.fail_page(generation, page)
        reason = error.message if isinstance(error, UserFacingError) else "读取数据库出错，详情已记入日志"
        self.count_label.setText(f"部分行读取失败：{reason}。滚动或刷新可重试。")

    def _set_lookups(self, lookups: Lookups) -> None:
        self.lookups = lookups
        chosen = self.village.currentData()
        self.village.blockSignals(True)
        self.village.clear()
        self.village.addItem("全部负责村" if self.ctx.actor.is_village_bound else "全部村", None)
        for village in lookups.villages:
            self.village.addItem(f"{village.code} {village.name}", village.id)
        self.village.setCurrentIndex(max(0, self.village.findData(chosen)))
        self.village.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)  # 全部负责村 whole
        self.village.blockSignals(False)

    # ----- selection and keys

    def is_loading(self) -> bool:
        """True while the newest id list is on its way."""
        return self._loading

    def selected_id(self) -> int | None:
        """The id of the resident selected in the table."""
        rows = self.view.selectionModel().selectedRows()
        return self.model.id_at(rows[0].row()) if rows else None

    def _reselect(self, resident_id: int | None) -> None:
        if resident_id is not None and resident_id in self.model.ids():
            self.view.selectRow(self.model.ids().index(resident_id))
        self._update_actions()

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def focus_table(self) -> None:
        self.view.setFocus(Qt.FocusReason.OtherFocusReason)
        if self.model.rowCount() and self.selected_id() is None:
            self.view.selectRow(0)

    def open_top_hit(self) -> None:
        """Enter in the search box: open the first match (after the pending search, if any)."""
        if self.is_loading():
            self._open_top = True
            return
        self.audit_search()
        if self.model.rowCount():
            self.view.selectRow(0)
            self.open_selected()

    def _update_actions(self) -> None:
        resident_id = self.selected_id()
        self.open_action.setEnabled(resident_id is not None)
        shown = self.model.row_for(resident_id) if resident_id is not None else None
        for key, action in self.resident_actions.items():
            entry = self.registered[key]
            action.setEnabled(resident_id is not None
                              and (entry.applies is None or (shown is not None
                                                             and entry.applies_to(self.ctx.actor, shown.row))))

    # ----- actions

    def new_resident(self):
        """Open an empty form."""
        return self._show_dialog(ResidentForm(self.ctx, self.lookups, parent=self))

    def open_selected(self) -> None:
        """Open the selected resident's form (loaded, and audited, on the database thread)."""
        resident_id = self.selected_id()
        if resident_id is not None:
            self.open_resident(resident_id)

    def open_resident(self, resident_id: int) -> None:
        ctx = self.ctx
        ctx.tasks.run_db(lambda: get_resident(ctx.db, ctx.actor, resident_id), on_success=self._show_form, parent=self)

    def _show_form(self, detail: ResidentDetail) -> None:
        self._show_dialog(ResidentForm(self.ctx, self.lookups, detail=detail, parent=self))

    @property
    def status_action(self) -> QAction:
        return self.resident_actions["status"]

    @property
    def household_action(self) -> QAction:
        return self.resident_actions["household"]

    @property
    def chronic_action(self) -> QAction:
        return self.resident_actions["chronic"]

    def run_action(self, key: str):
        """Run the registered action `key` on the selected resident; returns the dialog it opened, if any."""
        resident_id = self.selected_id()
        shown = self.model.row_for(resident_id) if resident_id is not None else None
        entry = self.registered.get(key)
        if shown is None or entry is None or not entry.applies_to(self.ctx.actor, shown.row):
            return None
        dialog = entry.handler(self.ctx, self, shown.row)
        return None if dialog is None else self._show_dialog(dialog)

    def mark_status(self):
        """Mark the selected resident moved out or deceased (or back on the register)."""
        return self.run_action("status")

    def open_household(self):
        """The selected resident's household."""
        return self.run_action("household")

    def open_chronic(self):
        """The selected resident's chronic management (enrolments, visits, health checks)."""
        return self.run_action("chronic")

    def import_residents(self) -> None:
        from desktop.ui.import_dialog import run_import_dialog

        run_import_dialog(self.ctx, self)  # offers every import the person may run (居民档案, 历史随访 …)

    def export_residents(self) -> None:
        from desktop.ui.resident_transfer import run_export

        run_export(self.ctx, self, self.current_filter(), self.search.text())

    def _show_dialog(self, dialog):
        self.dialog = dialog
        if hasattr(dialog, "open_resident"):
            dialog.open_resident.connect(self.open_resident)
        dialog.accepted.connect(lambda: notify(self, f"{dialog.windowTitle()}：已保存。"))
        dialog.open()
        return dialog


def _combo(items: list[tuple[str, Any]]) -> QComboBox:
    combo = QComboBox()
    for text, value in items:
        combo.addItem(text, value)
    return combo
