"""A throwaway area's page, resident action, due source (with its opener) and indicator, added from here alone."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QLabel, QPushButton
from sqlalchemy import select

from desktop.models import Resident, Village
from desktop.services.due import DUE_SOURCES, DueItem, DueKind, DueQuery, DueSource
from desktop.services.indicators import (
    DEFINITIONS,
    INDICATOR_SOURCES,
    IndicatorDef,
    IndicatorRequest,
    IndicatorSource,
    PersonVerdict,
    SourceResult,
    figures_of,
)
from desktop.ui.due_openers import DUE_OPENERS, DueOpener
from desktop.ui.indicator_openers import PERSON_OPENERS, PersonOpener
from desktop.ui.main_window import MainWindow
from desktop.ui.pages.base import Page, PageSpec
from desktop.ui.pages.home import HomePage
from desktop.ui.pages.indicators import IndicatorsPage
from desktop.ui.pages.registry import NAVIGATION
from desktop.ui.pages.residents import ResidentsPage
from desktop.ui.resident_actions import RESIDENT_ACTIONS, ResidentAction
from tests.ui.conftest import make_context, settle

RENEWAL = DueKind("contract_renewal", "签约到期续签")
SIGNED = IndicatorDef("trial_signed", "家庭医生签约率", "已签约的在册居民数 ÷ 在册居民数", numerator="已签约人数",
                      denominator="在册居民数", short_name="签约率")


class ContractsPage(Page):
    """A stand-in page for a new area."""

    title = "家庭医生签约"

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.body.addWidget(QLabel("签约名单"))


def _renewals(query: DueQuery) -> list[DueItem]:
    rows = query.session.execute(
        select(Resident.id, Resident.record_no, Resident.name, Village.name)
        .join(Village, Village.id == Resident.village_id)
        .where(*query.resident_conditions()).order_by(Resident.record_no).limit(3)
    ).all()
    return [DueItem(rid, no, name, village, RENEWAL, None, query.on, None) for rid, no, name, village in rows]


def _signed(request: IndicatorRequest) -> SourceResult:
    rows = request.session.execute(
        select(Resident.id, Resident.record_no, Resident.name, Resident.village_id)
        .where(Resident.status == "active", *request.resident_conditions())
    ).all()
    verdicts = [PersonVerdict(rid, no, name, vid, rid % 2 == 0, None if rid % 2 == 0 else "未签约")
                for rid, no, name, vid in rows]
    return SourceResult(figures_of(SIGNED.code, verdicts), {SIGNED.code: tuple(verdicts)})


def test_a_page_registered_here_is_in_the_navigation_for_those_it_allows(qtbot, themed, demo_app, tasks) -> None:
    spec = PageSpec("contracts", "家庭医生签约", ContractsPage, visible=lambda actor: not actor.is_village_bound)
    with NAVIGATION.temporarily(spec, before="sync"):
        window = MainWindow(make_context(demo_app, tasks, "luru1"))
        qtbot.addWidget(window)
        titles = [window.navigation.item(i).text() for i in range(window.navigation.count())]
        assert titles[titles.index("管理指标") + 1] == "家庭医生签约"
        assert isinstance(window.page("contracts"), ContractsPage)
        village = MainWindow(make_context(demo_app, tasks, "cunyi001"))
        qtbot.addWidget(village)
        assert "contracts" not in [s.key for s in village.specs]
    assert "contracts" not in NAVIGATION


def test_a_resident_action_registered_here_gets_a_button_and_runs_on_the_selection(
    qtbot, themed, demo_app, tasks
) -> None:
    calls = []

    def sign(ctx, page, row):
        calls.append(row.id)
        return QDialog(page)

    entry = ResidentAction("sign", "签约…", sign, shortcut="Ctrl+Shift+K",
                           applies=lambda _actor, row: row.status == "active")
    with RESIDENT_ACTIONS.temporarily(entry):
        ctx = make_context(demo_app, tasks, "luru1")
        page = ResidentsPage(ctx)
        qtbot.addWidget(page)
        page.show()
        page.activated()
        settle(qtbot, ctx)
        action = page.resident_actions["sign"]
        assert action.isVisible() and not action.isEnabled()
        assert action.shortcut().toString() == "Ctrl+Shift+K"
        buttons = [page.actions_bar.itemAt(i).widget() for i in range(page.actions_bar.count())]
        texts = [b.text() for b in buttons if isinstance(b, QPushButton)]
        assert texts.index("签约…") == texts.index("慢病/随访") + 1
        page.view.selectRow(0)
        assert action.isEnabled()
        action.trigger()
        assert calls == [page.selected_id()] and isinstance(page.dialog, QDialog)
        page.dialog.done(0)
    assert "sign" not in RESIDENT_ACTIONS


def test_a_due_source_and_opener_registered_here_show_on_the_home_page(qtbot, themed, demo_app, tasks) -> None:
    opened = []

    def open_renewal(ctx, parent, item, shown):
        opened.append(item.resident_id)
        return QDialog(parent)

    with DUE_SOURCES.temporarily(DueSource("contracts", "家庭医生签约", (RENEWAL,), _renewals)), \
            DUE_OPENERS.temporarily(DueOpener(RENEWAL.value, open_renewal)):
        ctx = make_context(demo_app, tasks, "gongwei1")
        page = HomePage(ctx)
        qtbot.addWidget(page)
        page.show()
        page.activated()
        settle(qtbot, ctx)
        assert page.counts()[RENEWAL] == (3, 0)
        page.count_buttons[(RENEWAL, None)].click()
        assert page.list_label.text() == "签约到期续签：共 3 人"
        item = page.shown_items()[0]
        page.open_item(item)
        assert opened == [item.resident_id] and isinstance(page.dialog, QDialog)
    assert "contracts" not in DUE_SOURCES and RENEWAL.value not in DUE_OPENERS


def test_an_indicator_source_registered_here_shows_its_figure_column_and_people(qtbot, themed, demo_app, tasks) -> None:
    opened: list[int] = []

    def open_contract(ctx, parent, resident_id: int) -> QDialog:
        opened.append(resident_id)
        return QDialog(parent)

    with INDICATOR_SOURCES.temporarily(IndicatorSource("contracts", "家庭医生签约", (SIGNED,), _signed)), \
            PERSON_OPENERS.temporarily(PersonOpener("contracts", open_contract)):
        ctx = make_context(demo_app, tasks, "kaohe1")
        page = IndicatorsPage(ctx)
        qtbot.addWidget(page)
        page.show()
        page.activated()
        settle(qtbot, ctx)
        figure = page.figures.rows()[-1]
        assert figure.code == SIGNED.code and figure.name == "家庭医生签约率"
        assert page.villages.headerData(len(page.codes), Qt.Orientation.Horizontal) == "签约率"
        page.show_people(SIGNED.code, None)
        assert len(page.people.rows()) == figure.denominator
        assert "家庭医生签约率" in page.people_title.text()
        page.people_view.selectRow(0)
        page.open_person()
        assert opened == [page.people.rows()[0].verdict.resident_id]  # the source's own opener, not the chronic panel
    assert SIGNED.code not in DEFINITIONS and "contracts" not in PERSON_OPENERS

