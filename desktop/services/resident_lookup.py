"""Look-ups for the residents window: age bands, paged id lists, key populations per row.

Built on `resident_query` (same filters, scope and ranking); adds what the list page needs
beyond it: an age band filter and a limited first page, so the first rows show at once
while the whole id list of a large register is still loading.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import and_, select

from desktop.clock import now
from desktop.db import Database
from desktop.models import Resident, ResidentCondition
from desktop.rules.population import ResidentStatus, years_before
from desktop.rules.text import squeeze
from desktop.services.permissions import Actor, Permission, require
from desktop.services.resident_query import (
    SORT_COLUMNS,
    ResidentFilter,
    filter_conditions,
    ranked_ids,
    scoped,
)


@dataclass(frozen=True)
class AgeBand:
    """An age band of the list filter, in completed years (`oldest` None: no upper end)."""

    label: str
    youngest: int
    oldest: int | None

    def birth_range(self, on: date) -> tuple[date | None, date]:
        """(born after, born on or before) for this band on a day."""
        latest = years_before(on, self.youngest)
        earliest = years_before(on, self.oldest + 1) if self.oldest is not None else None
        return earliest, latest


AGE_BANDS = (
    AgeBand("0-6岁", 0, 6), AgeBand("7-17岁", 7, 17), AgeBand("18-44岁", 18, 44),
    AgeBand("45-59岁", 45, 59), AgeBand("60-64岁", 60, 64), AgeBand("65岁及以上", 65, None),
)


def _age_condition(band: AgeBand | None, on: date) -> list[Any]:
    if band is None:
        return []
    earliest, latest = band.birth_range(on)
    conditions = [Resident.birth_date <= latest]
    if earliest is not None:
        conditions.append(Resident.birth_date > earliest)
    return conditions


def find_ids(
    db: Database, actor: Actor, flt: ResidentFilter, *, band: AgeBand | None = None, sort: str = "record_no",
    descending: bool = False, limit: int | None = None, search_limit: int = 1000,
) -> list[int]:
    """Like `resident_query.list_ids`, with an age band and an optional limit (the first page)."""
    require(actor, Permission.VIEW_RESIDENTS)
    conditions = filter_conditions(flt) + _age_condition(band, flt.on or now().date())
    with db.read() as session:
        if squeeze(flt.query):
            found = ranked_ids(session, actor, flt.query, limit=search_limit, extra=and_(*conditions))
            return found[:limit] if limit is not None else found
        column = SORT_COLUMNS.get(sort, Resident.record_no)
        order = [column.desc() if descending else column, Resident.id]
        statement = scoped(select(Resident.id).where(*conditions), actor).order_by(*order)
        if limit is not None:
            statement = statement.limit(limit)
        return list(session.scalars(statement))


HIDDEN_WORDS = {ResidentStatus.ACTIVE: "在册", ResidentStatus.MOVED_OUT: "已迁出", ResidentStatus.DECEASED: "死亡"}


def hidden_by_status(db: Database, actor: Actor, flt: ResidentFilter, *, band: AgeBand | None = None) -> Counter[str]:
    """status -> how many residents the search would find under the other statuses (the status filter hides them)."""
    require(actor, Permission.VIEW_RESIDENTS)
    if flt.status is None or not squeeze(flt.query):
        return Counter()
    with db.read() as session:
        conditions = filter_conditions(replace(flt, status=None)) + _age_condition(band, flt.on or now().date())
        found = ranked_ids(session, actor, flt.query, limit=1000, extra=and_(*conditions))
        statuses = session.execute(select(Resident.status).where(Resident.id.in_(found))).scalars()
        return Counter(status for status in statuses if status != flt.status.value)


def hidden_hint(status: ResidentStatus, hidden: Counter[str]) -> str:
    """The empty list's sentence when the status filter hides matches (empty when it hides none)."""
    total = sum(hidden.values())
    if not total:
        return ""
    words = "或".join(HIDDEN_WORDS[s] for s in ResidentStatus if hidden.get(s.value))
    return f"{status.label}居民中没有找到；另有 {total:,} 人{words}，选“全部”可见"


def recorded_kinds(db: Database, actor: Actor, ids: list[int]) -> dict[int, tuple[str, ...]]:
    """resident id -> the key-population kinds recorded for it (age-based ones are not stored)."""
    require(actor, Permission.VIEW_RESIDENTS)
    found: dict[int, list[str]] = {}
    with db.read() as session:
        statement = scoped(
            select(ResidentCondition.resident_id, ResidentCondition.kind)
            .join(Resident, Resident.id == ResidentCondition.resident_id)
            .where(ResidentCondition.resident_id.in_(ids), ResidentCondition.deleted.is_(False)), actor,
        ).order_by(ResidentCondition.resident_id, ResidentCondition.kind)
        for resident_id, kind in session.execute(statement):
            found.setdefault(resident_id, []).append(kind)
    return {resident_id: tuple(kinds) for resident_id, kinds in found.items()}
