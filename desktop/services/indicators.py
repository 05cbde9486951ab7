"""Management indicators for a year, per village and for the branch, with their drill-down.

Each area's indicators come from its `IndicatorSource`, registered below (one line per area).
`indicator_report` asks every source in order; the page, the workbook, the CLI and the period
reports all read the report and `DEFINITIONS`, so a new source shows everywhere at once.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from desktop.clock import now
from desktop.db import Database
from desktop.models import Village
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
from desktop.services.audit_labels import register_entity_label
from desktop.services.permissions import Actor, Permission, require

__all__ = ["DEFINITIONS", "INDICATOR_SOURCES", "Figure", "IndicatorDef", "IndicatorReport", "IndicatorRequest",
           "IndicatorSource", "Period", "PersonVerdict", "SourceResult", "definitions", "figures_of",
           "indicator_report"]

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

    def branch(self, code: str) -> Figure:
        return next(f for f in self.figures if f.code == code and f.village_id is None)


def indicator_report(db: Database, actor: Actor, year: int, *, village_id: int | None = None,
                     prevalence: dict[Disease, float] | None = None,
                     rules: FollowupRules | None = None, as_of: date | None = None) -> IndicatorReport:
    """Every registered indicator for the year, per village and for the whole scope, with each person's verdict.

    The rules and prevalence (read by chronic management's source) default to the branch's
    stored settings. `as_of` ends the period early (a month's or quarter's report counts the
    year up to its last day); each source may count its own period within that.
    """
    require(actor, Permission.VIEW_INDICATORS)
    today = min(as_of, now().date()) if as_of else now().date()
    period = Period.for_year(year, today)
    options = {"prevalence": prevalence, "rules": rules}
    figures: list[Figure] = []
    people: dict[str, tuple[PersonVerdict, ...]] = {}
    periods: dict[str, Period] = {}
    with db.read() as session:
        for source in INDICATOR_SOURCES:
            periods[source.key] = source.period(year, today)
            result = source.compute(IndicatorRequest(session, actor, village_id, periods[source.key], options))
            figures += result.figures
            people.update(result.people)
        names = dict(session.execute(select(Village.id, Village.name)).all())
    return IndicatorReport(period, tuple(figures), people, names, periods)
