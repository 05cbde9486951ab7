"""What an indicator source is: its definitions, its period, and the verdicts and figures it returns.

Every figure is built from one verdict per person (counts, and the reason when not) wherever
the denominator is a list of people, so a figure and its list can never disagree. Sources are
registered in `INDICATOR_SOURCES` by `desktop.services.indicators` (one line per area).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from enum import StrEnum
from typing import Any, NamedTuple

from sqlalchemy import Select, or_
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


class PersonVerdict(NamedTuple):
    """One person of an indicator's denominator: whether they count, and why not (a tuple: cheap by the thousand)."""

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


class PeriodKind(StrEnum):
    YEAR = "year"
    QUARTER = "quarter"
    MONTH = "month"


PERIOD_FORMS = "2026、2026-Q1 或 2026-03"


@dataclass(frozen=True)
class Period:
    """A year, quarter or month (its name: 2026, 2026-Q1, 2026-03), ending at its last day or today if sooner."""

    year: int
    start: date
    end: date
    kind: PeriodKind = PeriodKind.YEAR
    number: int = 0  # the quarter (1-4) or month (1-12); 0 for a year

    @classmethod
    def for_year(cls, year: int, today: date) -> Period:
        """The calendar year up to `today` (a year not yet begun or before 2000 is refused)."""
        return cls._capped(year, date(year, 1, 1), date(year, 12, 31), today)

    @classmethod
    def for_quarter(cls, year: int, quarter: int, today: date) -> Period:
        """Quarter 1-4 of the year, up to `today`."""
        if not 1 <= quarter <= 4:
            raise ValidationError.single("period", f"季度 {quarter} 不对：应为 1–4。")
        last = date(year, quarter * 3, 1) + timedelta(days=31)
        period = cls._capped(year, date(year, quarter * 3 - 2, 1), last.replace(day=1) - timedelta(days=1), today)
        return replace(period, kind=PeriodKind.QUARTER, number=quarter)

    @classmethod
    def for_month(cls, year: int, month: int, today: date) -> Period:
        """Month 1-12 of the year, up to `today`."""
        if not 1 <= month <= 12:
            raise ValidationError.single("period", f"月份 {month} 不对：应为 1–12。")
        last = (date(year, month, 28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        period = cls._capped(year, date(year, month, 1), last, today)
        return replace(period, kind=PeriodKind.MONTH, number=month)

    @classmethod
    def parse(cls, text: str, today: date) -> Period:
        """A period from 2026, 2026-Q1 (or 2026q1) or 2026-03; ValidationError naming the forms otherwise."""
        match = _PERIOD_TEXT.fullmatch(text.strip())
        if match is None:
            raise ValidationError.single("period", f"统计期“{text}”不对：应写作 {PERIOD_FORMS}。")
        year, quarter, month = int(match["year"]), match["quarter"], match["month"]
        if quarter:
            return cls.for_quarter(year, int(quarter), today)
        if month:
            return cls.for_month(year, int(month), today)
        return cls.for_year(year, today)

    @classmethod
    def _capped(cls, year: int, start: date, end: date, today: date) -> Period:
        if not 2000 <= year <= today.year:
            raise ValidationError.single("year", f"年度 {year} 不对：应在 2000 到 {today.year} 之间。")
        if start > today:
            raise ValidationError.single("period", f"统计期 {start:%Y-%m} 尚未开始。")
        return cls(year, start, min(end, today))

    @property
    def name(self) -> str:
        """2026, 2026-Q1 or 2026-03."""
        if self.kind is PeriodKind.QUARTER:
            return f"{self.year}-Q{self.number}"
        if self.kind is PeriodKind.MONTH:
            return f"{self.year}-{self.number:02d}"
        return str(self.year)

    @property
    def label(self) -> str:
        """2026 年, 2026 年第 1 季度 or 2026 年 3 月."""
        if self.kind is PeriodKind.QUARTER:
            return f"{self.year} 年第 {self.number} 季度"
        if self.kind is PeriodKind.MONTH:
            return f"{self.year} 年 {self.number} 月"
        return f"{self.year} 年"

    @property
    def year_start(self) -> date:
        return date(self.year, 1, 1)

    @property
    def year_to_date(self) -> Period:
        """1 January to this period's end: what the year's counts read."""
        return Period(self.year, self.year_start, self.end)


_PERIOD_TEXT = re.compile(r"(?P<year>\d{4})(?:-?[Qq](?P<quarter>\d)|-(?P<month>\d{1,2}))?")


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


def on_register_at(day: date) -> list:
    """Residents still on the register at the end of `day`: active, or died or moved out only after it.

    A denominator "at the period's end" adds these to `IndicatorRequest.resident_conditions()`:
    someone who died in June is counted in Q1 and not in Q3.
    """
    return [or_(Resident.status == "active", Resident.status_date > day)]


@dataclass(frozen=True)
class SourceResult:
    """A source's figures (per village, then the total with village None) and each listed person's verdict."""

    figures: list[Figure]
    people: dict[str, tuple[PersonVerdict, ...]]
    rule: str = ""  # how the period was counted, in Chinese (shown beside the figures and sent with reports)


@dataclass(frozen=True)
class IndicatorSource:
    """A registered source: its indicators in order, how it reads a period, and how it computes them.

    `period` maps the asked period to the one the source counts (the same one unless the source
    counts, say, a whole year whatever month is asked).
    """

    key: str
    label: str
    definitions: tuple[IndicatorDef, ...]
    compute: Callable[[IndicatorRequest], SourceResult]
    period: Callable[[Period], Period] = lambda period: period


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


def fetch_tuples(session: Session, statement: Select) -> list[tuple]:
    """The rows of a SELECT as plain tuples from the DB-API cursor, dates as ISO text.

    Indicators read tens of thousands of rows per report; SQLAlchemy's Row objects and Date
    parsing cost several times what SQLite does, so the hot queries are compiled by SQLAlchemy
    and run on the driver's cursor. Date parameters are sent as ISO text (as the Date type stores them).
    """
    connection = session.connection()
    compiled = statement.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    values = [_plain(params[name]) for name in compiled.positiontup or ()]
    cursor = connection.connection.driver_connection.cursor()
    try:
        return cursor.execute(str(compiled), values).fetchall()
    finally:
        cursor.close()


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def figures_of(code: str, verdicts: Iterable[PersonVerdict]) -> list[Figure]:
    """Per-village figures from per-person verdicts, then the total (village None)."""
    per_village: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for verdict in verdicts:
        per_village[verdict.village_id][0] += verdict.counts
        per_village[verdict.village_id][1] += 1
    figures = [Figure(code, vid, num, den) for vid, (num, den) in sorted(per_village.items())]
    figures.append(Figure(code, None, sum(f.numerator for f in figures), sum(f.denominator for f in figures)))
    return figures
