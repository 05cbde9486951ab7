"""工作台: what the signed-in person has to do today — due and overdue follow-ups and 65+ checks.

Counts per kind, split into 到期 (within the coming week) and 逾期; a count filters the list of
people below, and Enter or a double-click opens the right form for the person. The scope is
我负责的 or 全院 for branch staff (optionally one village), 我的村 for village doctors.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QWidget,
)

from desktop.backups import list_backups
from desktop.changes import Changes
from desktop.clock import now
from desktop.services.branch import VillageInfo, list_staff, list_villages
from desktop.services.due import DEFAULT_HORIZON_DAYS, DueItem, DueKind, DueList, DueScope, due_kinds, due_list
from desktop.services.permissions import Permission, in_village_scope
from desktop.ui.context import UiContext
from desktop.ui.due_openers import DUE_OPENERS
from desktop.ui.pages.base import Page
from desktop.ui.print_preview import show_form_preview
from desktop.ui.tables import Column, RowTableModel, make_table, notify, page_action, selected_row
from desktop.ui.theme import ACCENT, ERROR, MUTED_TEXT

LINK_STYLE = "QPushButton {{ border: none; text-align: left; padding: 2px 6px; color: {colour}; font-size: 12pt; }}" \
             "QPushButton:hover {{ text-decoration: underline; }} QPushButton:checked {{ background: #dcebee; }}"


@dataclass(frozen=True)
class HomeSummary:
    """What the home page shows about the branch, gathered in one background call."""

    villages: list[VillageInfo]
    staff_count: int
    last_backup: str


def load_summary(ctx: UiContext) -> HomeSummary:
    """Gather the home page's figures (runs on the database thread)."""
    villages = list_villages(ctx.db)
    villages = [v for v in villages if in_village_scope(ctx.actor, v.id)]
    backups = list_backups(ctx.app.paths)
    last = f"{backups[0].created:%Y-%m-%d %H:%M}" if backups else "尚无备份"
    return HomeSummary(villages=villages, staff_count=len(list_staff(ctx.db)), last_backup=last)


def _overdue_text(item: DueItem, on) -> str:
    days = item.days_overdue(on)
    return f"{days} 天" if days else ""


DUE_COLUMNS = (
    Column("事项", lambda r: r.item.kind.label),
    Column("档案编号", lambda r: r.item.record_no),
    Column("姓名", lambda r: r.item.name),
    Column("所属村", lambda r: r.item.village_name),
    Column("联系电话", lambda r: r.item.phone),
    Column("住址", lambda r: r.item.address),
    Column("病种", lambda r: r.item.disease.label if r.item.disease else ""),
    Column("应完成日期", lambda r: f"{r.item.due_on:%Y-%m-%d}", key=lambda r: r.item.due_on),
    Column("逾期", lambda r: _overdue_text(r.item, r.on), key=lambda r: r.item.days_overdue(r.on),
           colour=lambda r: ERROR if r.item.due_on < r.on else None),
    Column("末次随访", lambda r: f"{r.item.last_visit:%Y-%m-%d}" if r.item.last_visit else ""),
)


@dataclass(frozen=True)
class DueRow:
    item: DueItem
    on: object


def _link(colour: str) -> QPushButton:
    button = QPushButton("–")
    button.setCheckable(True)
    button.setStyleSheet(LINK_STYLE.format(colour=colour))
    return button


class HomePage(Page):
    """The landing page (工作台)."""

    title = "工作台"

    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        self.due: DueList | None = None
        self.dialog: QWidget | None = None
        self.filter: tuple[DueKind | None, bool | None] = (None, None)
        actor = ctx.actor
        self.greeting = QLabel(f"{actor.display_name}（{actor.role.label}），您好。")
        self.body.addWidget(self.greeting)
        box = QGroupBox("本院概况" if not actor.is_village_bound else "我负责的村")
        self.grid = QGridLayout(box)
        self.grid.setVerticalSpacing(2)
        self.body.addWidget(box)
        self.shows_due = actor.can(Permission.VIEW_FOLLOWUPS)
        self.village_codes: dict[int, str] = {}
        if self.shows_due:
            self.export_action = page_action(self, "导出 Excel…", self.export_due)
            self.export_action.setVisible(actor.can(Permission.EXPORT_FOLLOWUPS))
            self.print_action = page_action(self, "打印入户随访表", self.print_due, shortcut="Ctrl+P")
            self._build_scope()
            self._build_counts()
            self._build_list()
        else:
            self.body.addStretch(1)

    # ----- building

    def _build_scope(self) -> None:
        bar = QHBoxLayout()
        self.scopes = QButtonGroup(self)
        self.scope_buttons: dict[DueScope, QRadioButton] = {}
        bound, has_staff = self.ctx.actor.is_village_bound, self.ctx.actor.staff_id is not None
        shown = [DueScope.MY_VILLAGES] if bound else [s for s in (DueScope.MINE, DueScope.BRANCH)
                                                        if s is not DueScope.MINE or has_staff]
        bar.addWidget(QLabel("范围"))
        for scope in shown:
            button = QRadioButton(scope.label)
            self.scopes.addButton(button)
            self.scope_buttons[scope] = button
            bar.addWidget(button)
        self.scope_buttons[shown[-1]].setChecked(True)  # the branch for branch staff; 我负责的 one click away
        self.scopes.buttonToggled.connect(lambda _b, on: on and self.refresh())
        self.village = QComboBox()
        self.village.addItem("全部负责村" if bound else "全部村", None)
        self.village.currentIndexChanged.connect(lambda _i: self.refresh())
        bar.addSpacing(12)
        bar.addWidget(self.village)
        bar.addStretch(1)
        self.body.addLayout(bar)

    def _build_counts(self) -> None:
        box = QGroupBox(f"待办（到期：{DEFAULT_HORIZON_DAYS} 天内应完成；逾期：已过应完成日期）")
        grid = QGridLayout(box)
        for column, text in enumerate(("事项", "到期", "逾期", "合计")):
            header = QLabel(text)
            header.setStyleSheet(f"color: {MUTED_TEXT};")
            grid.addWidget(header, 0, column)
        self.count_buttons: dict[tuple[DueKind, bool | None], QPushButton] = {}
        self.count_group = QButtonGroup(self)
        self.count_group.setExclusive(False)
        self.kinds = due_kinds()
        for row, kind in enumerate(self.kinds, start=1):
            grid.addWidget(QLabel(kind.label), row, 0)
            for column, (overdue, colour) in enumerate(((False, ACCENT), (True, ERROR), (None, ACCENT)), start=1):
                button = _link(colour)
                button.clicked.connect(lambda _c=False, k=kind, o=overdue: self.choose(k, o))
                self.count_buttons[(kind, overdue)] = button
                grid.addWidget(button, row, column)
        grid.setColumnStretch(4, 1)
        self.body.addWidget(box)

    def _build_list(self) -> None:
        bar = QHBoxLayout()
        self.list_label = QLabel("正在加载…")
        self.show_all = QPushButton("显示全部")
        self.show_all.clicked.connect(lambda: self.choose(None, None))
        bar.addWidget(self.list_label)
        bar.addStretch(1)
        bar.addWidget(QLabel("双击或回车打开随访表/体检表"))
        bar.addWidget(self.show_all)
        self.body.addLayout(bar)
        self.model = RowTableModel(DUE_COLUMNS, self)
        self.view = make_table(self.model)
        self.view.activated.connect(lambda _index: self.open_selected())
        for section, width in enumerate((110, 150, 70, 80, 110, 180, 80, 96, 60)):
            self.view.horizontalHeader().resizeSection(section, width)
        self.body.addWidget(self.view, 1)

    # ----- loading

    def activated(self) -> None:
        self.ctx.tasks.run_db(lambda: load_summary(self.ctx), on_success=self._show_summary, parent=self)
        if self.shows_due:
            self.refresh()

    def on_changes(self, changes: Changes) -> None:
        if changes.branch or changes.sync:
            self.ctx.tasks.run_db(lambda: load_summary(self.ctx), on_success=self._show_summary, parent=self)
        if self.shows_due and (changes.followups or changes.residents or changes.sync):
            self.refresh()

    def scope(self) -> DueScope:
        return next(scope for scope, button in self.scope_buttons.items() if button.isChecked())

    def refresh(self) -> None:
        """Reload the due list for the chosen scope and village (database thread)."""
        ctx, scope, village_id, on = self.ctx, self.scope(), self.village.currentData(), now().date()
        ctx.tasks.run_db(lambda: due_list(ctx.db, ctx.actor, on=on, scope=scope, village_id=village_id),
                         on_success=self._show_due, parent=self)

    def _show_summary(self, summary: HomeSummary) -> None:
        """The branch's facts, three to a line (for village doctors: their villages)."""
        while self.grid.count():
            item = self.grid.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        branch, villages = self.ctx.branch, summary.villages
        facts = [
            ("分院", f"{branch.name}（{branch.record_prefix}）"),
            ("总院", branch.head_hospital_name),
            ("村（居）委会", f"{len(villages)} 个"),
            ("村卫生室", f"{sum(len(v.clinic_names) for v in villages)} 个"),
            ("在岗人员", f"{summary.staff_count} 人"),
            ("最近备份", summary.last_backup),
        ]
        if self.ctx.actor.is_village_bound:
            facts.append(("负责村", "、".join(f"{v.name}（{v.code}）" for v in villages)))
        for index, (name, value) in enumerate(facts):
            label = QLabel(name)
            label.setStyleSheet(f"color: {MUTED_TEXT};")
            self.grid.addWidget(label, index // 3, (index % 3) * 2)
            self.grid.addWidget(QLabel(value), index // 3, (index % 3) * 2 + 1)
        for column in (1, 3, 5):
            self.grid.setColumnStretch(column, 1)
        if self.shows_due and self.village.count() == 1:
            self.village.blockSignals(True)
            for village in villages:
                self.village.addItem(f"{village.code} {village.name}", village.id)
                self.village_codes[village.id] = village.code
            self.village.blockSignals(False)

    def _show_due(self, due: DueList) -> None:
        self.due = due
        for kind, (total, late) in due.counts().items():
            if (kind, None) not in self.count_buttons:
                continue  # a kind registered after the page was built
            for overdue, value in ((False, total - late), (True, late), (None, total)):
                self.count_buttons[(kind, overdue)].setText(f"{value:,}")
        self._apply_filter()

    # ----- filtering and opening

    def counts(self) -> dict[DueKind, tuple[int, int]]:
        """(due, of which overdue) per kind as the page shows them."""
        return {kind: (int(self.count_buttons[(kind, None)].text().replace(",", "")),
                       int(self.count_buttons[(kind, True)].text().replace(",", ""))) for kind in self.kinds}

    def choose(self, kind: DueKind | None, overdue: bool | None) -> None:
        """Show only one kind (and only 到期 or only 逾期), or everyone with (None, None)."""
        self.filter = (kind, overdue)
        for key, button in self.count_buttons.items():
            button.setChecked(key == (kind, overdue))
        self._apply_filter()

    def _apply_filter(self) -> None:
        if self.due is None:
            return
        kind, overdue = self.filter
        on = self.due.on
        rows = [DueRow(item, on) for item in self.due.items
                if (kind is None or item.kind is kind) and (overdue is None or (item.due_on < on) == overdue)]
        self.model.set_rows(rows)
        what = "全部待办" if kind is None else kind.label + {None: "", False: " · 到期", True: " · 逾期"}[overdue]
        self.list_label.setText(f"{what}：共 {len(rows):,} 人")
        self.show_all.setEnabled(kind is not None)

    def shown_items(self) -> list[DueItem]:
        return [row.item for row in self.model.rows()]

    def open_selected(self) -> None:
        row: DueRow | None = selected_row(self.view)
        if row is not None:
            self.open_item(row.item)

    def open_item(self, item: DueItem) -> None:
        """Open the item through the opener registered for its kind (a visit form, a check form...)."""
        opener = DUE_OPENERS.find(item.kind.value)
        if opener is None:
            notify(self, f"{item.kind.label}：没有可打开的表单。")
            return
        dialog = opener.open(self.ctx, self, item, self._shown)
        if dialog is not None:
            self.dialog = dialog

    def _shown(self, dialog: QWidget) -> None:
        self.dialog = dialog
        dialog.accepted.connect(lambda: notify(self, f"{dialog.windowTitle()}：已保存。"))

    # ----- export and print

    def _list_options(self) -> dict[str, object]:
        """The shown list as export/print options: scope, village and the chosen kind."""
        kind, _overdue = self.filter
        village_id = self.village.currentData()
        return {"scope": self.scope(), "village_id": village_id, "kind": kind.value if kind else None,
                "village": self.village_codes.get(village_id) if village_id is not None else None}

    def export_due(self, path: Path | None = None) -> None:
        """Write the shown list (scope, village, kind) with phones and addresses to a workbook (a job)."""
        from desktop.transfer.work_lists import DueListExport

        if path is None:
            chosen, _ = QFileDialog.getSaveFileName(self, "导出待办名单", f"待办名单{now():%Y%m%d}.xlsx",
                                                    "Excel 工作簿 (*.xlsx)")
            if not chosen:
                return
            path = Path(chosen if chosen.lower().endswith(".xlsx") else chosen + ".xlsx")
        ctx, options = self.ctx, self._list_options()
        job = DueListExport(ctx.db, ctx.actor, path, on=now().date(), scope=options["scope"],
                            village_id=options["village_id"], kind=options["kind"])
        ctx.tasks.run_job(job, label="正在导出待办名单…", parent=self, on_success=self._exported)

    def _exported(self, result) -> None:
        self.ctx.bus.publish(result.changes)
        notify(self, result.message())

    def print_due(self, on_shown=None) -> None:
        """The 入户随访表 of the shown list, one section per responsible doctor, in the print preview."""
        options = self._list_options()
        chosen = {"scope": options["scope"].value if options["scope"] is not DueScope.MY_VILLAGES else None,
                  "village": options["village"], "kind": options["kind"], "on": f"{now():%Y-%m-%d}"}
        show_form_preview(self.ctx, self, "door-to-door", "due", options=chosen, title="入户随访表（待办名单）",
                          on_shown=on_shown)
