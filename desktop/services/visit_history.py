"""What a new follow-up visit is compared with: the patient's earlier visits and the latest known height.

The visit form works out the rules' suggestion as values are typed, for whatever visit date is
typed; it loads this history once and asks it for the visit before a date. The service's own
check (`services.followups.previous_classification`) applies the same rule in SQL: only a visit
with a reading (BP, or fasting glucose for diabetes; not 未测) has a classification to compare.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop.db import Database
from desktop.errors import UserFacingError
from desktop.models import FollowupVisit, HealthCheck, Resident
from desktop.rules.followup import Classification, Disease, has_reading
from desktop.services.permissions import Actor, Permission, ensure_in_scope, require


@dataclass(frozen=True)
class PastVisit:
    visit_date: date
    classification: Classification | None  # the doctor's, else the rules' suggestion
    has_reading: bool
    adverse_reaction: bool


@dataclass(frozen=True)
class VisitHistory:
    """One patient's earlier visits for a disease (newest first) and their heights by date."""

    visits: tuple[PastVisit, ...] = ()
    heights: tuple[tuple[date, float], ...] = ()  # (day, cm) from visits and health checks, newest first

    def previous_with_reading(self, before: date) -> PastVisit | None:
        """The latest visit before `before` that had a reading: its classification is 'the previous'."""
        return next((v for v in self.visits if v.visit_date < before and v.has_reading), None)

    def previous(self, before: date) -> PastVisit | None:
        """The latest visit before `before`, with or without a reading."""
        return next((v for v in self.visits if v.visit_date < before), None)

    def height_on(self, day: date) -> float | None:
        """The latest height measured on or before `day` (at a visit or a health check)."""
        return next((cm for measured, cm in self.heights if measured <= day), None)


def _classification(visit: FollowupVisit) -> Classification | None:
    code = visit.classification or visit.suggested_classification
    return Classification(code) if code else None


def history_in(session: Session, resident_id: int, disease: Disease) -> VisitHistory:
    """The history as stored (voided and deleted visits and checks left out)."""
    visits = session.scalars(
        select(FollowupVisit).where(FollowupVisit.resident_id == resident_id, FollowupVisit.disease == disease.value,
                                    FollowupVisit.deleted.is_(False))
        .order_by(FollowupVisit.visit_date.desc(), FollowupVisit.id.desc())).all()
    past = tuple(PastVisit(v.visit_date, _classification(v), has_reading(
        disease, sbp=v.sbp, dbp=v.dbp, fasting_glucose=v.fasting_glucose, measurement=v.measurement),
        v.adverse_reaction) for v in visits)
    return VisitHistory(past, heights_in(session, resident_id))


def heights_in(session: Session, resident_id: int) -> tuple[tuple[date, float], ...]:
    """(day, cm) of every height measured at a visit (either disease) or a health check, newest first."""
    rows = session.execute(
        select(FollowupVisit.visit_date, FollowupVisit.height).where(
            FollowupVisit.resident_id == resident_id, FollowupVisit.deleted.is_(False),
            FollowupVisit.height.is_not(None))
        .union_all(select(HealthCheck.check_date, HealthCheck.height).where(
            HealthCheck.resident_id == resident_id, HealthCheck.deleted.is_(False), HealthCheck.height.is_not(None)))
    ).all()
    return tuple(sorted(((day, float(cm)) for day, cm in rows), key=lambda row: row[0], reverse=True))


def latest_height_in(session: Session, resident_id: int, day: date) -> float | None:
    """The latest height measured on or before `day`, for BMI where a visit did not measure it."""
    return next((cm for measured, cm in heights_in(session, resident_id) if measured <= day), None)


def visit_history(db: Database, actor: Actor, resident_id: int, disease: Disease) -> VisitHistory:
    """The history the visit form compares a new visit with (village doctors: their villages only)."""
    require(actor, Permission.VIEW_FOLLOWUPS)
    with db.read() as session:
        resident = session.get(Resident, resident_id)
        if resident is None or resident.deleted:
            raise UserFacingError("该档案不存在，请刷新后重试。")
        ensure_in_scope(actor, resident.village_id)
        return history_in(session, resident_id, disease)
