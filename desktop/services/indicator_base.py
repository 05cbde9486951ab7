"""What an indicator source is: its definitions, its period, and the verdicts and figures it returns.

Every figure is built from one verdict per person (counts, and the reason when not) wherever
the denominator is a list of people, so a figure and its list can never disagree. Sources are
registered in `INDICATOR_SOURCES` by `desktop.services.indicators` (one line per area).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from desktop.errors import ValidationError
from desktop.models import Resident, SyncState
from desktop.registry import Registry
from desktop.services.permissions import Actor, village_scope


@dataclass(frozen=True)
class IndicatorDef:
    """An indicator as the county defines it; `has_people` is False when its denominator is an estimate."""

    code: str
    name: str
    definition: str
    numerator: str = ""
    denominator: str = ""
    has_people: bool = True
    short_name: str = ""  # the per-village column title; the name when empty
    verdict_label: str = "是否计入"  # the drill-down workbook's yes/no column
    no_people_note: str = ""  # shown instead of a list when `has_people` is False

    @property
    def column_title(self) -> str:
        return self.short_name or self.name


@dataclass(frozen=True)
class PersonVerdict:
    resident_id: int
    record_no: str
    name: str
    village_id: int
    counts: bool
    reason: str | None
    phone: str = ""  # filled after computation (services.contacts), masked per role
    address: str = ""


@dataclass(frozen=True)
class Figure:
    code: str
    village_id: int | None
    numerator: int
    denominator: float

    @property
    def value(self) -> float | None:
        return None if not self.denominator else self.numerator / self.denominator

    @property
    def name(self) -> str:
        return definition_of(self.code).name


@dataclass(frozen=True)
class Period:
    year: int
    start: date
    end: date

    @classmethod
    def for_year(cls, year: int, today: date) -> Period:
        """The calendar year up to `today` (a year not yet begun or before 2000 is refused)."""
        if not 2000 <= year <= today.year:
            raise ValidationError.single("year", f"年度 {year} 不对：应在 2000 到 {today.year} 之间。")
        return cls(year, date(year, 1, 1), min(date(year, 12, 31), today))


@dataclass(frozen=True)
class IndicatorRequest:
    """One report request as a source sees it: the open session, who asks, which villages, which year."""

    session: Session
    actor: Actor
    village_id: int | None
    period: Period
    options: Mapping[str, Any] = field(default_factory=dict)

    def resident_conditions(self) -> list:
        """Residents the actor may see (in the chosen village), not deleted or sent back by the head hospital."""
        conditions = [Resident.deleted.is_(False), Resident.sync_state != SyncState.ERROR.value]
        conditions.append(village_scope(self.actor, Resident.village_id))
        if self.village_id is not None:
            conditions.append(Resident.village_id == self.village_id)
        return conditions


@dataclass(frozen=True)
class SourceResult:
    """A source's figures (per village, then the total with village None) and each listed person's verdict."""

    figures: list[Figure]
    people: dict[str, tuple[PersonVerdict, ...]]


@dataclass(frozen=True)
class IndicatorSource:
    """A registered source: its indicators in order, how it reads a period, and how it computes them."""

    key: str
    label: str
    definitions: tuple[IndicatorDef, ...]
    compute: Callable[[IndicatorRequest], SourceResult]
    period: Callable[[int, date], Period] = Period.for_year


INDICATOR_SOURCES: Registry[IndicatorSource] = Registry("indicator sources", lambda source: source.key)


def definitions() -> dict[str, IndicatorDef]:
    """code -> definition for every registered indicator, in registry order."""
    return {d.code: d for source in INDICATOR_SOURCES for d in source.definitions}


def definition_of(code: str) -> IndicatorDef:
    """The registered definition of `code` (KeyError if none)."""
    return definitions()[code]


def source_of(code: str) -> IndicatorSource:
    """The registered source that defines `code` (KeyError if none)."""
    for source in INDICATOR_SOURCES:
        if any(d.code == code for d in source.definitions):
            return source
    raise KeyError(code)


def figures_of(code: str, verdicts: Iterable[PersonVerdict]) -> list[Figure]:
    """Per-village figures from per-person verdicts, then the total (village None)."""
    per_village: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for verdict in verdicts:
        per_village[verdict.village_id][0] += verdict.counts
        per_village[verdict.village_id][1] += 1
    figures = [Figure(code, vid, num, den) for vid, (num, den) in sorted(per_village.items())]
    figures.append(Figure(code, None, sum(f.numerator for f in figures), sum(f.denominator for f in figures)))
    return figures
