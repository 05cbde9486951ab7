"""Chronic management's due-list sources: hypertension/diabetes follow-ups and the 65+ yearly check.

Chronic patients are due on the next-visit date their latest visit set (or at once after
enrolment); the latest visit's next step says whether it is a routine visit, a two-week
recheck, or a referral follow-up. People 65+ are listed until a check is recorded in the
calendar year.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, exists, select

from desktop.models import ChronicEnrolment, FollowupVisit, HealthCheck, Resident, Village
from desktop.rules.followup import Disease, NextStep
from desktop.rules.population import KeyPopulation, birth_range_for_age_group
from desktop.services.due_base import DueItem, DueKind, DueQuery, DueSource


class ChronicDueKind:
    """The chronic area's kinds of due item."""

    ROUTINE = DueKind("routine", "慢病常规随访")
    RECHECK = DueKind("recheck", "2周复查")
    REFERRAL_FOLLOWUP = DueKind("referral_followup", "转诊后随访")
    ELDERLY_CHECK = DueKind("elderly_check", "老年人年度体检")


KIND_OF_STEP = {
    NextStep.ROUTINE.value: ChronicDueKind.ROUTINE,
    NextStep.RECHECK_IN_TWO_WEEKS.value: ChronicDueKind.RECHECK,
    NextStep.REFER_AND_FOLLOW_UP.value: ChronicDueKind.REFERRAL_FOLLOWUP,
    NextStep.EMERGENCY_REFERRAL.value: ChronicDueKind.REFERRAL_FOLLOWUP,
}


def followup_items(query: DueQuery) -> list[DueItem]:
    """Enrolled patients whose next visit (routine, recheck or after referral) falls by `until`."""
    latest = (select(FollowupVisit.id)
              .where(FollowupVisit.enrolment_id == ChronicEnrolment.id, FollowupVisit.deleted.is_(False))
              .order_by(FollowupVisit.visit_date.desc(), FollowupVisit.id.desc()).limit(1)
              .correlate(ChronicEnrolment).scalar_subquery())
    rows = query.session.execute(
        select(Resident.id, Resident.record_no, Resident.name, Village.name, ChronicEnrolment.disease,
               ChronicEnrolment.managed_from, FollowupVisit.visit_date, FollowupVisit.next_visit_date,
               FollowupVisit.next_step)
        .join(Resident, Resident.id == ChronicEnrolment.resident_id)
        .join(Village, Village.id == Resident.village_id)
        .outerjoin(FollowupVisit, FollowupVisit.id == latest)
        .where(ChronicEnrolment.ended_on.is_(None), ChronicEnrolment.deleted.is_(False),
               *query.resident_conditions())
    ).all()
    items = []
    for rid, record_no, name, village, disease, managed_from, last, next_date, step in rows:
        due_on = next_date or managed_from
        if due_on <= query.until:
            kind = KIND_OF_STEP.get(step, ChronicDueKind.ROUTINE)
            items.append(DueItem(rid, record_no, name, village, kind, Disease(disease), due_on, last))
    return items


def elderly_check_items(query: DueQuery) -> list[DueItem]:
    """People 65+ with no health check in the calendar year of `on`."""
    on = query.on
    _, born_by = birth_range_for_age_group(KeyPopulation.ELDERLY, on)
    year_start, year_end = date(on.year, 1, 1), date(on.year, 12, 31)
    checked = exists().where(HealthCheck.resident_id == Resident.id, HealthCheck.deleted.is_(False),
                             and_(HealthCheck.check_date >= year_start, HealthCheck.check_date <= year_end))
    rows = query.session.execute(
        select(Resident.id, Resident.record_no, Resident.name, Village.name)
        .join(Village, Village.id == Resident.village_id)
        .where(Resident.birth_date <= born_by, ~checked, *query.resident_conditions())
    ).all()
    # The yearly check is due by the end of the year: listed all year, overdue only after it.
    return [DueItem(rid, record_no, name, village, ChronicDueKind.ELDERLY_CHECK, None, year_end, None)
            for rid, record_no, name, village in rows]


CHRONIC_FOLLOWUPS = DueSource(
    "chronic_followups", "慢病随访",
    (ChronicDueKind.ROUTINE, ChronicDueKind.RECHECK, ChronicDueKind.REFERRAL_FOLLOWUP), followup_items)
ELDERLY_CHECKS = DueSource("elderly_checks", "老年人年度体检", (ChronicDueKind.ELDERLY_CHECK,), elderly_check_items)
