"""The due list (工作台): who needs a visit or a check, for me, my villages or the branch.

Chronic patients are due on the next-visit date their latest visit set (or at once after
enrolment); the latest visit's next step says whether it is a routine visit, a two-week
recheck, or a referral follow-up. People 65+ are listed until a check is recorded in the
calendar year.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session

from desktop.db import Database
from desktop.models import ChronicEnrolment, FollowupVisit, HealthCheck, Resident, Village
from desktop.rules.followup import Disease, NextStep
from desktop.rules.population import KeyPopulation, ResidentStatus, birth_range_for_age_group
from desktop.services.permissions import Actor, Permission, require, village_scope

DEFAULT_HORIZON_DAYS = 7


class DueKind(StrEnum):
    ROUTINE = "routine"
    RECHECK = "recheck"
    REFERRAL_FOLLOWUP = "referral_followup"
    ELDERLY_CHECK = "elderly_check"

    @property
    def label(self) -> str:
        return {"routine": "慢病常规随访", "recheck": "2周复查", "referral_followup": "转诊后随访",
                "elderly_check": "老年人年度体检"}[self.value]


class DueScope(StrEnum):
    MINE = "mine"
    MY_VILLAGES = "villages"
    BRANCH = "branch"

    @property
    def label(self) -> str:
        return {"mine": "我负责的", "villages": "我的村", "branch": "全院"}[self.value]


KIND_OF_STEP = {
    NextStep.ROUTINE.value: DueKind.ROUTINE,
    NextStep.RECHECK_IN_TWO_WEEKS.value: DueKind.RECHECK,
    NextStep.REFER_AND_FOLLOW_UP.value: DueKind.REFERRAL_FOLLOWUP,
    NextStep.EMERGENCY_REFERRAL.value: DueKind.REFERRAL_FOLLOWUP,
}


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

    def days_overdue(self, on: date) -> int:
        return max(0, (on - self.due_on).days)


@dataclass(frozen=True)
class DueList:
    on: date
    items: tuple[DueItem, ...]

    def overdue(self) -> tuple[DueItem, ...]:
        return tuple(item for item in self.items if item.due_on < self.on)

    def counts(self) -> dict[DueKind, tuple[int, int]]:
        """kind -> (due, of which overdue)."""
        result = {kind: (0, 0) for kind in DueKind}
        for item in self.items:
            due, late = result[item.kind]
            result[item.kind] = (due + 1, late + (item.due_on < self.on))
        return result


def _scope_conditions(actor: Actor, scope: DueScope, village_id: int | None) -> list:
    conditions = [Resident.deleted.is_(False), Resident.status == ResidentStatus.ACTIVE.value]
    conditions.append(village_scope(actor, Resident.village_id))
    if village_id is not None:
        conditions.append(Resident.village_id == village_id)
    if scope is DueScope.MINE and not actor.is_village_bound:
        conditions.append(Resident.responsible_doctor_id == (actor.staff_id or -1))
    return conditions


def _chronic_items(session: Session, conditions: list, until: date) -> list[DueItem]:
    latest = (select(FollowupVisit.id)
              .where(FollowupVisit.enrolment_id == ChronicEnrolment.id, FollowupVisit.deleted.is_(False))
              .order_by(FollowupVisit.visit_date.desc(), FollowupVisit.id.desc()).limit(1)
              .correlate(ChronicEnrolment).scalar_subquery())
    rows = session.execute(
        select(Resident.id, Resident.record_no, Resident.name, Village.name, ChronicEnrolment.disease,
               ChronicEnrolment.managed_from, FollowupVisit.visit_date, FollowupVisit.next_visit_date,
               FollowupVisit.next_step)
        .join(Resident, Resident.id == ChronicEnrolment.resident_id)
        .join(Village, Village.id == Resident.village_id)
        .outerjoin(FollowupVisit, FollowupVisit.id == latest)
        .where(ChronicEnrolment.ended_on.is_(None), ChronicEnrolment.deleted.is_(False), *conditions)
    ).all()
    items = []
    for rid, record_no, name, village, disease, managed_from, last, next_date, step in rows:
        due_on = next_date or managed_from
        if due_on <= until:
            kind = KIND_OF_STEP.get(step, DueKind.ROUTINE)
            items.append(DueItem(rid, record_no, name, village, kind, Disease(disease), due_on, last))
    return items


def _elderly_items(session: Session, conditions: list, on: date) -> list[DueItem]:
    _, born_by = birth_range_for_age_group(KeyPopulation.ELDERLY, on)
    year_start, year_end = date(on.year, 1, 1), date(on.year, 12, 31)
    checked = exists().where(HealthCheck.resident_id == Resident.id, HealthCheck.deleted.is_(False),
                             and_(HealthCheck.check_date >= year_start, HealthCheck.check_date <= year_end))
    rows = session.execute(
        select(Resident.id, Resident.record_no, Resident.name, Village.name)
        .join(Village, Village.id == Resident.village_id)
        .where(Resident.birth_date <= born_by, ~checked, *conditions)
    ).all()
    # The yearly check is due by the end of the year: listed all year, overdue only after it.
    return [DueItem(rid, record_no, name, village, DueKind.ELDERLY_CHECK, None, year_end, None)
            for rid, record_no, name, village in rows]


def due_list(db: Database, actor: Actor, *, on: date, scope: DueScope = DueScope.BRANCH,
             village_id: int | None = None, horizon_days: int = DEFAULT_HORIZON_DAYS) -> DueList:
    """Everyone due by `on` + horizon, most overdue first."""
    require(actor, Permission.VIEW_FOLLOWUPS)
    conditions = _scope_conditions(actor, scope, village_id)
    with db.read() as session:
        items = _chronic_items(session, conditions, on + timedelta(days=horizon_days))
        items += _elderly_items(session, conditions, on)
    items.sort(key=lambda item: (item.due_on, item.kind.value, item.record_no))
    return DueList(on, tuple(items))
