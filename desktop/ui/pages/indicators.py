"""管理指标: a year's, quarter's or month's registered indicators (hypertension, diabetes, 65+ ...), per village.

The chosen period (年度 and 全年 / a quarter / a month) is counted by the period rules, and the
rule the figures used is shown under the filters (统计口径).

The table shows numerator, denominator and value with the definition beside each; a click on a
figure lists the people in its denominator, whether each counts and why not (只看未计入 leaves
the list a clerk works through before the county's check). A double-click opens the person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.changes import Changes
from desktop.clock import now
from desktop.services.branch import VillageInfo, list_villages
from desktop.services.indicator_base import source_of
from desktop.services.indicators import (
    DEFINITIONS,
    Figure,
    IndicatorReport,
    PersonVerdict,
    drill_down,
    indicator_report,
)
from desktop.services.permissions import Permission, in_village_scope
from desktop.ui.indicator_openers import PERSON_OPENERS
from desktop.ui.context import UiContext
from desktop.ui.pages.base import Page
from desktop.ui.print_preview import show_form_preview
from desktop.ui.tables import Column, RowTableModel, make_table, notify, page_action, selected_row
from desktop.ui.theme import ERROR, MUTED_TEXT

YEARS_SHOWN = 6
WHOLE_YEAR = ""


def period_choices(year: int, today: date) -> list[tuple[str, str]]:
    """(label, period text) of the year, its begun quarters and its begun months, the whole year first."""
    choices = [("全年", WHOLE_YEAR)]
    choices += [(f"第 {q} 季度", f"{year}-Q{q}") for q in range(1, 5) if date(year, q * 3 - 2, 1) <= today]
    choices += [(f"{m} 月", f"{year}-{m:02d}") for m in range(1, 13) if date(year, m, 1) <= today]
    return choices


def codes() -> tuple[str, ...]:
    """Every registered indicator's code, in order."""
    return tuple(DEFINITIONS)


def value_text(figure: Figure | None) -> str:
    if figure is None or figure.value is None:
        return "—"
    return f"{figure.value * 100:.1f}%"


def figure_text(figure: Figure | None) -> str:
    """'n/d（x%）' for the per-village table."""
    if figure is None:
        return ""
    return f"{figure.numerator}/{figure.denominator:g}（{value_text(figure)}）"


FIGURE_COLUMNS = (
    Column("指标", lambda f: f.name),
    Column("分子", lambda f: f"{f.numerator:,}", key=lambda f: f.numerator),
    Column("分母", lambda f: f"{f.denominator:,g}", key=lambda f: f.denominator),
    Column("数值", value_text, key=lambda f: f.value or 0.0),
    Column("定义", lambda f: DEFINITIONS[f.code].definition, colour=lambda _f: MUTED_TEXT),
)


@dataclass(frozen=True)
class VillageRow:
    village_id: int
    name: str
    figures: dict[str, Figure]


def _village_column(code: str) -> Column:
    return Column(DEFINITIONS[code].column_title,
                  lambda r: figure_text(r.figures.get(code)),
                  key=lambda r: (r.figures[code].value or 0.0) if code in r.figures else -1.0)


def village_columns(shown: tuple[str, ...]) -> tuple[Column, ...]:
    """The village, then one column per indicator."""
    return (Column("村", lambda r: r.name), *(_village_column(code) for code in shown))


@dataclass(frozen=True)
class PersonRow:
    verdict: PersonVerdict
    village: str


PEOPLE_COLUMNS = (
    Column("档案编号", lambda p: p.verdict.record_no),
    Column("姓名", lambda p: p.verdict.name),
    Column("所属村", lambda p: p.village),
    Column("联系电话", lambda p: p.verdict.phone),
    Column("住址", lambda p: p.verdict.address),
    Column("是否计入", lambda p: "计入" if p.verdict.counts else "未计入",
           colour=lambda p: None if p.verdict.counts else ERROR),
    Column("未计入原因", lambda p: p.verdict.reason or ""),
)


def indicators_export():
    """The Excel export job (`IndicatorsExport`) once it is available, else None."""
    try:
        from desktop.transfer.indicators_export import IndicatorsExport
    except ImportError:
        return None
    return IndicatorsExport


class IndicatorsPage(Page):
    """Indicators for a year, quarter or month, with the per-village breakdown and the drill-down list."""

    title = "管理指标"

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.report: IndicatorReport | None = None
        self.dialog: QWidget | None = None
        self.drill: tuple[str, int | None] | None = None
        self.village_codes: dict[int, str] = {}
        self._shown_people: tuple[PersonVerdict, ...] = ()
        self.codes = codes()
        self._loaded = False
        self.export_action = page_action(self, "导出 Excel…", self.export)
        self.export_action.setVisible(indicators_export() is not None
                                      and ctx.actor.can(Permission.EXPORT_FOLLOWUPS))
        self._build_filters()
        self.figures = RowTableModel(FIGURE_COLUMNS, self)
        self.figure_view = make_table(self.figures, sortable=False)
        self.figure_view.setWordWrap(True)
        self.figure_view.clicked.connect(self._figure_clicked)
        header = self.figure_view.horizontalHeader()
        for section, width in enumerate((190, 70, 80, 70)):
            header.resizeSection(section, width)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.figure_view)
        splitter.addWidget(self._build_tabs())
        splitter.setSizes([230, 470])
        self.body.addWidget(splitter, 1)

    def _build_filters(self) -> None:
        bar = QHBoxLayout()
        self.year = QComboBox()
        this_year = now().year
        for year in range(this_year, this_year - YEARS_SHOWN, -1):
            self.year.addItem(f"{year} 年", year)
        self.period = QComboBox()
        self._fill_periods()
        self.village = QComboBox()
        self.village.addItem("全部负责村" if self.ctx.actor.is_village_bound else "全院", None)
        self.status = QLabel("")
        self.status.setStyleSheet(f"color: {MUTED_TEXT};")
        self.year.currentIndexChanged.connect(lambda _i: self._year_changed())
        for combo in (self.period, self.village):
            combo.currentIndexChanged.connect(lambda _i: self.refresh())
        self.export_note = QLabel("")
        self.export_note.setStyleSheet(f"color: {MUTED_TEXT};")
        for widget in (QLabel("年度"), self.year, QLabel("统计期"), self.period, QLabel("村"), self.village,
                       self.status):
            bar.addWidget(widget)
        bar.addStretch(1)
        bar.addWidget(self.export_note)
        self.body.addLayout(bar)
        self.rule = QLabel("")
        self.rule.setWordWrap(True)
        self.rule.setStyleSheet(f"color: {MUTED_TEXT};")
        self.body.addWidget(self.rule)

    def _fill_periods(self) -> None:
        """The chosen year's whole year, begun quarters and begun months (the whole year chosen)."""
        self.period.blockSignals(True)
        self.period.clear()
        for label, text in period_choices(self.year.currentData(), now().date()):
            self.period.addItem(label, text)
        self.period.blockSignals(False)

    def _year_changed(self) -> None:
        self._fill_periods()
        self.refresh()

    def chosen_period(self) -> int | str:
        """The year (an int) or the chosen quarter's or month's text (2026-Q1, 2026-03)."""
        return self.period.currentData() or self.year.currentData()

    def _build_tabs(self) -> QTabWidget:
        self.tabs = QTabWidget()
        self.villages = RowTableModel(village_columns(self.codes), self)
        self.village_view = make_table(self.villages)
        self.village_view.clicked.connect(self._village_clicked)
        self.village_view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.tabs.addTab(self.village_view, "分村情况（点击数字查看名单）")
        people = QWidget()
        layout = QVBoxLayout(people)
        bar = QHBoxLayout()
        self.people_title = QLabel("点击上表中的指标查看名单。")
        self.only_missing = QCheckBox("只看未计入")
        self.only_missing.toggled.connect(lambda _on: self._show_people())
        bar.addWidget(self.people_title, 1)
        bar.addWidget(self.only_missing)
        self.export_people_button = QPushButton("导出名单…")
        self.export_people_button.clicked.connect(lambda: self.export_people())
        self.export_people_button.setVisible(self.ctx.actor.can(Permission.EXPORT_FOLLOWUPS))
        self.print_people_button = QPushButton("打印入户随访表")
        self.print_people_button.clicked.connect(lambda: self.print_people())
        for button in (self.export_people_button, self.print_people_button):
            button.setEnabled(False)
            bar.addWidget(button)
        layout.addLayout(bar)
        self.people = RowTableModel(PEOPLE_COLUMNS, self)
        self.people_view = make_table(self.people)
        self.people_view.activated.connect(lambda _index: self.open_person())
        for section, width in enumerate((150, 80, 90, 110, 180, 70)):
            self.people_view.horizontalHeader().resizeSection(section, width)
        layout.addWidget(self.people_view)
        self.tabs.addTab(people, "名单")
        return self.tabs

    # ----- loading

    def activated(self) -> None:
        if not self._loaded:
            self._loaded = True
            self.ctx.tasks.run_db(lambda: list_villages(self.ctx.db), on_success=self._set_villages, parent=self)
            self.refresh()

    def on_changes(self, changes: Changes) -> None:
        if self._loaded and (changes.followups or changes.residents or changes.settings or changes.sync):
            self.refresh()

    def refresh(self) -> None:
        ctx, period, village_id = self.ctx, self.chosen_period(), self.village.currentData()
        self.status.setText("正在计算…")
        ctx.tasks.run_db(lambda: indicator_report(ctx.db, ctx.actor, period, village_id=village_id),
                         on_success=self._show_report, parent=self, label="正在计算管理指标…")

    def _set_villages(self, villages: list[VillageInfo]) -> None:
        villages = [v for v in villages if in_village_scope(self.ctx.actor, v.id)]
        self.village.blockSignals(True)
        for village in villages:
            self.village.addItem(f"{village.code} {village.name}", village.id)
            self.village_codes[village.id] = village.code
        self.village.blockSignals(False)

    def _show_report(self, report: IndicatorReport) -> None:
        self.report = report
        self.figures.set_rows([report.branch(code) for code in self.codes])
        self.figure_view.resizeRowsToContents()
        per_village: dict[int, dict[str, Figure]] = {}
        for figure in report.figures:
            if figure.village_id is not None:
                per_village.setdefault(figure.village_id, {})[figure.code] = figure
        self.villages.set_rows([VillageRow(vid, report.village_names.get(vid, str(vid)), figures)
                                for vid, figures in sorted(per_village.items(), key=lambda kv: kv[0])])
        period = report.period
        self.status.setText(f"{period.label}：{period.start:%Y-%m-%d} 至 {period.end:%Y-%m-%d}")
        self.rule.setText(f"统计口径：{report.rule_text}" if report.rule_text else "")
        if self.drill is not None:
            self._show_people()

    # ----- drill-down

    def _figure_clicked(self, index: QModelIndex) -> None:
        figure: Figure = self.figures.row_at(index.row())
        self.show_people(figure.code, self.village.currentData())

    def _village_clicked(self, index: QModelIndex) -> None:
        if index.column() == 0:
            return
        row: VillageRow = self.villages.row_at(index.row())
        self.show_people(self.codes[index.column() - 1], row.village_id)

    def show_people(self, code: str, village_id: int | None) -> None:
        """List the people behind a figure (one village, or everyone in the shown scope)."""
        self.drill = (code, village_id)
        self.tabs.setCurrentIndex(1)
        self._show_people()

    def _show_people(self) -> None:
        if self.report is None or self.drill is None:
            return
        code, village_id = self.drill
        names = self.report.village_names
        where = names.get(village_id, "") if village_id is not None else self.village.currentText()
        definition = DEFINITIONS[code]
        if not definition.has_people:
            self.people.set_rows([])
            note = definition.no_people_note or "没有人员名单。"
            self.people_title.setText(f"{definition.name}（{where}）：{note}")
            return
        everyone = [v for v in self.report.people.get(code, ()) if village_id is None or v.village_id == village_id]
        shown = [v for v in everyone if not (self.only_missing.isChecked() and v.counts)]
        self.people.set_rows([PersonRow(v, names.get(v.village_id, "")) for v in shown])
        self._fill_contacts(shown)
        counted = sum(v.counts for v in everyone)
        self.people_title.setText(f"{definition.name}（{where}）：分母 {len(everyone):,} 人，计入 {counted:,} 人，"
                                  f"未计入 {len(everyone) - counted:,} 人；显示 {len(shown):,} 人")

    def open_person(self) -> None:
        row: PersonRow | None = selected_row(self.people_view)
        if row is None or self.drill is None:
            return
        opener = PERSON_OPENERS.find(source_of(self.drill[0]).key)
        if opener is not None:
            self.dialog = opener.open(self.ctx, self, row.verdict.resident_id)

    # ----- export

    def export(self) -> None:
        """Write the period's indicators and each figure's people to a workbook (a job with progress)."""
        export_job = indicators_export()
        if export_job is None:
            return
        year, period, village_id = self.year.currentData(), self.chosen_period(), self.village.currentData()
        path, _ = QFileDialog.getSaveFileName(self, "导出管理指标", f"管理指标{period}.xlsx", "Excel 工作簿 (*.xlsx)")
        if not path:
            return
        ctx = self.ctx
        job = export_job(ctx.db, ctx.actor, Path(path), year=year, village_id=village_id,
                         period=period if isinstance(period, str) else None)
        ctx.tasks.run_job(job, label="正在导出管理指标…", parent=self, on_success=self._exported)

    def _exported(self, result) -> None:
        self.ctx.bus.publish(result.changes)
        self.export_note.setText(result.message())
        notify(self, result.message())

    # ----- the drill-down list's contacts, workbook and door-to-door sheet

    def _fill_contacts(self, shown: list[PersonVerdict]) -> None:
        """Look up the listed people's phones (masked per role) and addresses, then show them (database thread)."""
        ctx, names, drill = self.ctx, self.report.village_names if self.report else {}, self.drill
        self._shown_people = tuple(shown)
        for button in (self.export_people_button, self.print_people_button):
            button.setEnabled(bool(shown))

        def shown_with_contacts(filled: tuple[PersonVerdict, ...]) -> None:
            if drill != self.drill or [v.resident_id for v in filled] != [v.resident_id for v in self._shown_people]:
                return  # the list changed meanwhile
            self._shown_people = filled
            self.people.set_rows([PersonRow(v, names.get(v.village_id, "")) for v in filled])

        if shown:
            report, (code, village_id) = self.report, drill
            ctx.tasks.run_db(lambda: drill_down(ctx.db, ctx.actor, report, code, village_id=village_id, verdicts=shown),
                             on_success=shown_with_contacts, parent=self)

    def export_people(self, path: Path | None = None) -> None:
        """Write the shown people (with phone and address) to a workbook (a job with progress)."""
        from desktop.transfer.work_lists import PeopleListExport

        if self.drill is None or self.report is None:
            return
        definition = DEFINITIONS[self.drill[0]]
        if path is None:
            chosen, _ = QFileDialog.getSaveFileName(self, "导出名单", f"{definition.name}名单.xlsx",
                                                    "Excel 工作簿 (*.xlsx)")
            if not chosen:
                return
            path = Path(chosen if chosen.lower().endswith(".xlsx") else chosen + ".xlsx")
        ctx = self.ctx
        job = PeopleListExport(ctx.db, ctx.actor, path, title=definition.name, verdict_label=definition.verdict_label,
                               verdicts=self._shown_people, village_names=self.report.village_names)
        ctx.tasks.run_job(job, label="正在导出名单…", parent=self, on_success=self._exported)

    def print_people(self, on_shown=None) -> None:
        """The 入户随访表 of the figure's people (only those not counted when 只看未计入 is ticked)."""
        if self.drill is None or self.report is None:
            return
        code, village_id = self.drill
        options = {"year": self.report.period.name, "people": "missing" if self.only_missing.isChecked() else "all",
                   "village": self.village_codes.get(village_id) if village_id is not None else None}
        show_form_preview(self.ctx, self, "door-to-door", code, options=options,
                          title=f"入户随访表（{DEFINITIONS[code].name}）", on_shown=on_shown)
