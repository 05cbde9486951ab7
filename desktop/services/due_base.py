"""What a due-list source is and what it returns: the types shared by `due` and each area's source.

A source lists the people due for something (a visit, a check, a contract renewal) by a date;
each of its kinds is one count row on the home page. A source reads through `DueQuery`, whose
`resident_conditions()` keeps it to the actor's villages and the chosen scope.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlalchemy.orm import Session

from desktop.models import Resident
from desktop.rules.followup import Disease
from desktop.rules.population import ResidentStatus
from desktop.services.permissions import Actor, village_scope


class DueScope(StrEnum):
    MINE = "mine"
    MY_VILLAGES = "villages"
    BRANCH = "branch"

    @property
    def label(self) -> str:
        return {"mine": "我负责的", "villages": "我的村", "branch": "全院"}[self.value]


@dataclass(frozen=True)
class DueKind:
    """One kind of due item (a count row on the home page): a stable key and its Chinese label."""

    value: str
    label: str


@dataclass(frozen=True)
class DueItem:
    resident_id: int
    record_no: str
    name: str
    village_name: str
    kind: DueKind
    disease: Disease | None
    due_on: date
    last_visit: date | None
    # How to reach the person: filled by `due.due_list` after the sources listed them (services.contacts).
    sex: str = ""
    birth_date: date | None = None
    phone: str = ""  # masked per role
    address: str = ""
    doctor_name: str = ""  # the responsible doctor

    def days_overdue(self, on: date) -> int:
        return max(0, (on - self.due_on).days)


@dataclass(frozen=True)
class DueList:
    on: date
    items: tuple[DueItem, ...]
    kinds: tuple[DueKind, ...]

    def overdue(self) -> tuple[DueItem, ...]:
        return tuple(item for item in self.items if item.due_on < self.on)

    def counts(self) -> dict[DueKind, tuple[int, int]]:
        """kind -> (due, of which overdue), every registered kind in order."""
        result = {kind: (0, 0) for kind in self.kinds}
        for item in self.items:
            due, late = result.get(item.kind, (0, 0))
            result[item.kind] = (due + 1, late + (item.due_on < self.on))
        return result


@dataclass(frozen=True)
class DueQuery:
    """One due-list request as a source sees it: whose, which villages, as of when, how far ahead."""

    session: Session
    actor: Actor
    scope: DueScope
    village_id: int | None
    on: date
    until: date

    def resident_conditions(self) -> list:
        """Active residents the actor may see, in the chosen village and scope."""
        conditions = [Resident.deleted.is_(False), Resident.status == ResidentStatus.ACTIVE.value]
        conditions.append(village_scope(self.actor, Resident.village_id))
        if self.village_id is not None:
            conditions.append(Resident.village_id == self.village_id)
        if self.scope is DueScope.MINE and not self.actor.is_village_bound:
            conditions.append(Resident.responsible_doctor_id == (self.actor.staff_id or -1))
        return conditions


@dataclass(frozen=True)
class DueSource:
    """A registered source: its key, Chinese name, the kinds it lists (in row order) and its reader."""

    key: str
    label: str
    kinds: tuple[DueKind, ...]
    items: Callable[[DueQuery], list[DueItem]]
