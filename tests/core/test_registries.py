"""A throwaway area plugs into the due list and the indicators from this file alone, then leaves."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import pytest
from core_support import actor_for
from openpyxl import load_workbook
from sqlalchemy import func, select

from desktop.app import App
from desktop.clock import now
from desktop.jobs import no_progress
from desktop.models import Resident, Village
from desktop.registry import Registry, RegistryError
from desktop.services.due import DUE_SOURCES, DueItem, DueKind, DueQuery, DueSource, due_kinds, due_list
from desktop.services.indicators import (
    DEFINITIONS,
    INDICATOR_SOURCES,
    IndicatorDef,
    IndicatorRequest,
    IndicatorSource,
    Period,
    PersonVerdict,
    SourceResult,
    figures_of,
    indicator_report,
)
from desktop.sync.reports import period_figures
from desktop.transfer.indicators_export import write_indicators_workbook

RENEWAL = DueKind("contract_renewal", "签约到期续签")
PHONE = IndicatorDef("trial_phone", "联系电话登记率", "登记了联系电话的在册居民数 ÷ 在册居民数",
                     numerator="有联系电话的人数", denominator="在册居民数")


def _renewals(query: DueQuery) -> list[DueItem]:
    """The first three residents in scope by record number, due today."""
    rows = query.session.execute(
        select(Resident.id, Resident.record_no, Resident.name, Village.name)
        .join(Village, Village.id == Resident.village_id)
        .where(*query.resident_conditions()).order_by(Resident.record_no).limit(3)
    ).all()
    return [DueItem(rid, record_no, name, village, RENEWAL, None, query.on, None)
            for rid, record_no, name, village in rows]


def _phones(request: IndicatorRequest) -> SourceResult:
    """Whether each active resident in scope has a phone number on file."""
    rows = request.session.execute(
        select(Resident.id, Resident.record_no, Resident.name, Resident.village_id, Resident.phone)
        .where(Resident.status == "active", *request.resident_conditions())
    ).all()
    verdicts = [PersonVerdict(rid, record_no, name, village_id, bool(phone), None if phone else "未登记联系电话")
                for rid, record_no, name, village_id, phone in rows]
    return SourceResult(figures_of(PHONE.code, verdicts), {PHONE.code: tuple(verdicts)})


def _second_half(asked: Period) -> Period:
    """This source counts from 1 July."""
    return Period(asked.year, date(asked.year, 7, 1), asked.end)


def test_the_registry_keeps_order_refuses_doubles_and_removes() -> None:
    names: Registry[str] = Registry("names", lambda name: name)
    names.add("b")
    names.add("a", before="b")
    assert names.keys() == ["a", "b"] and "a" in names and len(names) == 2
    with pytest.raises(RegistryError):
        names.add("a")
    with names.temporarily("c", before="a"):
        assert list(names) == ["c", "a", "b"]
    assert names.keys() == ["a", "b"] and names.find("c") is None
    with pytest.raises(RegistryError):
        names.remove("c")


def test_a_due_source_registered_here_is_listed_and_counted_then_gone(demo_app: App) -> None:
    today = now().date()
    clerk = actor_for(demo_app.db, "luru1")
    before = due_list(demo_app.db, clerk, on=today)
    with DUE_SOURCES.temporarily(DueSource("trial_contracts", "家庭医生签约", (RENEWAL,), _renewals)):
        assert due_kinds()[-1] == RENEWAL
        due = due_list(demo_app.db, clerk, on=today)
        renewals = [item for item in due.items if item.kind == RENEWAL]
        assert len(renewals) == 3 and due.counts()[RENEWAL] == (3, 0)
        assert {kind: count for kind, count in due.counts().items() if kind != RENEWAL} == before.counts()
    assert RENEWAL not in due_kinds()
    assert due_list(demo_app.db, clerk, on=today).counts() == before.counts()


def test_an_indicator_source_registered_here_reaches_the_report_workbook_and_period_report(
    demo_app: App, tmp_path: Path
) -> None:
    year = now().year - 1
    actor = actor_for(demo_app.db, "kaohe1")
    before = indicator_report(demo_app.db, actor, year)
    source = IndicatorSource("trial", "试用指标", (PHONE,), _phones, period=_second_half)
    with INDICATOR_SOURCES.temporarily(source):
        assert list(DEFINITIONS)[-1] == PHONE.code and DEFINITIONS[PHONE.code] is PHONE
        report = indicator_report(demo_app.db, actor, year)
        with demo_app.db.read() as session:
            active = session.scalar(select(func.count()).select_from(Resident).where(
                Resident.status == "active", Resident.deleted.is_(False)))
            with_phone = session.scalar(select(func.count()).select_from(Resident).where(
                Resident.status == "active", Resident.deleted.is_(False), Resident.phone.is_not(None)))
        figure = report.branch(PHONE.code)
        assert (figure.numerator, figure.denominator, figure.name) == (with_phone, active, "联系电话登记率")
        assert len(report.people[PHONE.code]) == active
        assert report.periods["trial"].start == date(year, 7, 1) and report.period.start == date(year, 1, 1)
        assert [f for f in report.figures if f.code != PHONE.code] == list(before.figures)
        write_indicators_workbook(tmp_path / "ind.xlsx", report, threading.Event(), no_progress)
        book = load_workbook(tmp_path / "ind.xlsx")
        assert book.sheetnames[-1] == "联系电话登记率" and book["联系电话登记率"].max_row == active + 1
        sent = period_figures(report, Period(year, date(year, 1, 1), date(year, 12, 31)), "site", "分院")
        assert sent["figures"][-1] == {"code": PHONE.code, "name": PHONE.name, "numerator": with_phone,
                                       "denominator": active}
    assert PHONE.code not in DEFINITIONS
    assert [f.code for f in indicator_report(demo_app.db, actor, year).figures] == [f.code for f in before.figures]
