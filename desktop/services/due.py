"""The due list (工作台): who needs a visit or a check, for me, my villages or the branch.

Every area that has people due for something registers a `DueSource` in `DUE_SOURCES` (one
line below); the list is every source's items, most overdue first, and the home page shows
one count row per kind in registry order.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from sqlalchemy.orm import Session

from desktop.db import Database
from desktop.registry import Registry
from desktop.services.access_audit import list_shown
from desktop.services.chronic_due import CHRONIC_FOLLOWUPS, ELDERLY_CHECKS
from desktop.services.contacts import contacts_for
from desktop.services.due_base import DueItem, DueKind, DueList, DueQuery, DueScope, DueSource
from desktop.services.permissions import Actor, Permission, require
from desktop.services.record_moves import PENDING_MOVES

__all__ = ["DEFAULT_HORIZON_DAYS", "DUE_SOURCES", "DueItem", "DueKind", "DueList", "DueQuery", "DueScope",
           "DueSource", "collect_due", "due_kinds", "due_list"]

DEFAULT_HORIZON_DAYS = 7

DUE_SOURCES: Registry[DueSource] = Registry("due-list sources", lambda source: source.key)
DUE_SOURCES.add(CHRONIC_FOLLOWUPS)
DUE_SOURCES.add(ELDERLY_CHECKS)
DUE_SOURCES.add(PENDING_MOVES)


def due_kinds() -> tuple[DueKind, ...]:
    """Every registered kind, in the order the home page shows its count rows."""
    return tuple(kind for source in DUE_SOURCES for kind in source.kinds)


def due_list(db: Database, actor: Actor, *, on: date, scope: DueScope = DueScope.BRANCH,
             village_id: int | None = None, horizon_days: int = DEFAULT_HORIZON_DAYS, audited: bool = True) -> DueList:
    """Everyone due by `on` + horizon from every registered source, most overdue first.

    The list shown is audited once (`access_audit.list_shown`: not again for the same list within
    minutes); `audited=False` for callers that audit what they do with it (the workbook export).
    """
    require(actor, Permission.VIEW_FOLLOWUPS)
    with db.read() as session:
        due = collect_due(session, actor, on=on, scope=scope, village_id=village_id, horizon_days=horizon_days)
    if audited:
        people = len({item.resident_id for item in due.items})
        list_shown(db, actor, kind="due", params=(scope.value, village_id, on, horizon_days), count=people,
                   summary=f"查看待办名单（{scope.label}，截至 {on:%Y-%m-%d}）")
    return due


def collect_due(session: Session, actor: Actor, *, on: date, scope: DueScope, village_id: int | None,
                horizon_days: int = DEFAULT_HORIZON_DAYS) -> DueList:
    """`due_list` inside an open read (the printed door-to-door sheet uses it too), with each person's contact."""
    sources = DUE_SOURCES.entries()
    query = DueQuery(session, actor, scope, village_id, on, on + timedelta(days=horizon_days))
    items: list[DueItem] = []
    for source in sources:
        items += source.items(query)
    contacts = contacts_for(session, actor, (item.resident_id for item in items))
    items = [replace(item, sex=c.sex, birth_date=c.birth_date, phone=c.phone, address=c.address,
                     doctor_name=c.doctor_name) if (c := contacts.get(item.resident_id)) else item for item in items]
    items.sort(key=lambda item: (item.due_on, item.kind.value, item.record_no))
    return DueList(on, tuple(items), tuple(kind for source in sources for kind in source.kinds))
