"""Management indicators for a year, quarter or month, per village and for the branch, with their drill-down.

Each area's indicators come from its `IndicatorSource`, registered below (one line per area).
`indicator_report` asks every source in order; the page, the workbook, the CLI and the period
reports all read the report and `DEFINITIONS`, so a new source shows everywhere at once.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from desktop.clock import now
from desktop.db import Database
from desktop.models import Village
from desktop.rules.chronic_indicators import IndicatorRules
from desktop.rules.followup import Disease, FollowupRules
from desktop.services.chronic_indicators import CHRONIC_INDICATORS
from desktop.services.indicator_base import (
    INDICATOR_SOURCES,
    Figure,
    IndicatorDef,
    IndicatorRequest,
    IndicatorSource,
    Period,
    PersonVerdict,
    SourceResult,
    definitions,
    figures_of,
)
from desktop.services.access_audit import list_shown
from desktop.services.audit_labels import register_entity_label
from desktop.services.contacts import verdicts_with_contacts
from desktop.services.permissions import Actor, Permission, require

__all__ = ["DEFINITIONS", "INDICATOR_SOURCES", "Figure", "IndicatorDef", "IndicatorReport", "IndicatorRequest",
           "IndicatorSource", "Period", "PersonVerdict", "SourceResult", "definitions", "drill_down", "figures_of",
           "indicator_report", "period_of"]

register_entity_label("indicators", "管理指标")
INDICATOR_SOURCES.add(CHRONIC_INDICATORS)


class _RegisteredDefinitions(Mapping[str, IndicatorDef]):
    """code -> definition of every registered indicator, read from the registry on each use."""

    def __getitem__(self, code: str) -> IndicatorDef:
        return definitions()[code]

    def __iter__(self) -> Iterator[str]:
        return iter(definitions())

    def __len__(self) -> int:
        return len(definitions())


DEFINITIONS: Mapping[str, IndicatorDef] = _RegisteredDefinitions()


@dataclass(frozen=True)
class IndicatorReport:
    period: Period
    figures: tuple[Figure, ...]
    people: dict[str, tuple[PersonVerdict, ...]]
    village_names: dict[int, str]
    periods: dict[str, Period] = field(default_factory=dict)  # source key -> the period it counted
    rules: dict[str, str] = field(default_factory=dict)  # source key -> how it counted the period (Chinese)

    def branch(self, code: str) -> Figure:
        return next(f for f in self.figures if f.code == code and f.village_id is None)

    @property
    def rule_text(self) -> str:
        """Every source's counting rule for the period, one line each."""
        return "\n".join(text for text in self.rules.values() if text)


def period_of(period: int | str | Period, today: date) -> Period:
    """A year (2026), a period's text (2026, 2026-Q1, 2026-03) or a Period, as a Period ending by `today`."""
    if isinstance(period, Period):
        return period
    if isinstance(period, str):
        return Period.parse(period, today)
    return Period.for_year(period, today)


def indicator_report(db: Database, actor: Actor, period: int | str | Period, *, village_id: int | None = None,
                     prevalence: dict[Disease, float] | None = None, rules: FollowupRules | None = None,
                     indicator_rules: IndicatorRules | None = None, as_of: date | None = None) -> IndicatorReport:
    """Every registered indicator for a year, quarter or month, per village and for the whole scope, with each verdict.

    The rules and prevalence (read by chronic management's source) default to the branch's
    stored settings. `as_of` ends the period early (as if the report were made that day); each
    source may count its own period within it (`IndicatorSource.period`) and says how it counted.
    """
    require(actor, Permission.VIEW_INDICATORS)
    today = min(as_of, now().date()) if as_of else now().date()
    asked = period_of(period, today)
    options = {"prevalence": prevalence, "rules": rules, "indicator_rules": indicator_rules}
    figures: list[Figure] = []
    people: dict[str, tuple[PersonVerdict, ...]] = {}
    periods: dict[str, Period] = {}
    texts: dict[str, str] = {}
    with db.read() as session:
        for source in INDICATOR_SOURCES:
            periods[source.key] = source.period(asked)
            result = source.compute(IndicatorRequest(session, actor, village_id, periods[source.key], options))
            figures += result.figures
            people.update(result.people)
            texts[source.key] = result.rule
        names = dict(session.execute(select(Village.id, Village.name)).all())
    return IndicatorReport(asked, tuple(figures), people, names, periods, texts)


def drill_down(db: Database, actor: Actor, report: IndicatorReport, code: str, *, village_id: int | None,
               verdicts: Sequence[PersonVerdict]) -> tuple[PersonVerdict, ...]:
    """The people shown behind a figure, with phone (masked per role) and address; the list is audited once.

    `verdicts` are the report's people for `code` as the caller shows them (one village, only
    those not counted …); the audit entry names the indicator, the period and the village.
    """
    require(actor, Permission.VIEW_INDICATORS)
    filled = verdicts_with_contacts(db, actor, verdicts)
    where = report.village_names.get(village_id, str(village_id)) if village_id is not None else "全部"
    name = DEFINITIONS[code].name if code in DEFINITIONS else code
    list_shown(db, actor, kind="indicator", params=(code, report.period.name, village_id, len(filled)),
               count=len(filled), summary=f"查看指标名单：{name}（{report.period.name}，{where}）")
    return filled
