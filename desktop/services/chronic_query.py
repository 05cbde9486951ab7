"""One resident's chronic management as plain rows: enrolments, visits, health checks.

What the chronic panel and the visit and health-check forms show. Reading is scoped to the
actor's villages.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from desktop.db import Database
from desktop.errors import UserFacingError
from desktop.models import ChronicEnrolment, FollowupVisit, HealthCheck, Resident, Staff, Village
from desktop.rules.dates import age_on
from desktop.rules.followup import Classification, Disease
from desktop.rules.health_check_completeness import COMPLETENESS_COLUMNS, missing_parts
from desktop.rules.population import ELDERLY_AGE
from desktop.services.permissions import Actor, Permission, ensure_in_scope, require


@dataclass(frozen=True)
class PatientCard:
    """Who the panel and forms are about."""

    resident_id: int
    record_no: str
    name: str
    sex: str
    birth_date: date
    village_name: str
    status: str

    def age(self, on: date) -> int:
        return age_on(self.birth_date, on)


@dataclass(frozen=True)
class EnrolmentRow:
    id: int
    disease: Disease
    diagnosed_on: date
    managed_from: date
    doctor_name: str
    ended_on: date | None
    end_reason: str | None

    @property
    def is_open(self) -> bool:
        return self.ended_on is None


@dataclass(frozen=True)
class VisitRow:
    id: int
    disease: Disease
    visit_date: date
    method: str
    sbp: int | None
    dbp: int | None
    fasting_glucose: float | None
    classification: Classification | None  # None: not classified (an old import); the rules' suggestion beside it
    suggested: Classification | None
    next_step: str
    next_visit_date: date
    doctor_name: str
    emergency_reasons: tuple[str, ...]
    medications: tuple[tuple[str, str, str], ...]
    target_weight: float | None
    version: int = 1
    correction_reason: str | None = None
    void_reason: str | None = None

    @property
    def voided(self) -> bool:
        return self.void_reason is not None


@dataclass(frozen=True)
class CheckRow:
    id: int
    check_date: date
    sbp: int | None
    dbp: int | None
    bmi: float | None
    self_care_total: int | None
    evaluation_abnormal: bool | None
    doctor_name: str
    version: int = 1
    correction_reason: str | None = None
    void_reason: str | None = None
    missing: tuple[str, ...] | None = None  # a 65+ check: the parts the 规范 requires that it lacks; else None

    @property
    def voided(self) -> bool:
        return self.void_reason is not None

    @property
    def complete(self) -> bool | None:
        """A 65+ check: whether it has every part the 规范 requires; None for a younger resident's check."""
        return None if self.missing is None else not self.missing


@dataclass(frozen=True)
class ChronicRecord:
    """Everything about one resident's chronic management, newest first within each list.

    Voided visits and checks are in `visits` and `checks` (shown greyed); `visits_for`,
    `previous_visit` and `live_checks` leave them out.
    """

    card: PatientCard
    enrolments: tuple[EnrolmentRow, ...]
    visits: tuple[VisitRow, ...]
    checks: tuple[CheckRow, ...]

    def open_enrolment(self, disease: Disease) -> EnrolmentRow | None:
        return next((e for e in self.enrolments if e.disease is disease and e.is_open), None)

    def visits_for(self, disease: Disease, *, include_voided: bool = False) -> tuple[VisitRow, ...]:
        return tuple(v for v in self.visits if v.disease is disease and (include_voided or not v.voided))

    def live_checks(self) -> tuple[CheckRow, ...]:
        return tuple(c for c in self.checks if not c.voided)

    def previous_visit(self, disease: Disease, before: date) -> VisitRow | None:
        """The latest visit for the disease dated before `before` (what the rules compare with)."""
        return next((v for v in self.visits_for(disease) if v.visit_date < before), None)


def _card(session: Session, actor: Actor, resident_id: int) -> PatientCard:
    row = session.execute(
        select(Resident.id, Resident.record_no, Resident.name, Resident.sex, Resident.birth_date, Village.name,
               Resident.status, Resident.village_id, Resident.deleted)
        .join(Village, Village.id == Resident.village_id).where(Resident.id == resident_id)
    ).first()
    if row is None or row.deleted:
        raise UserFacingError("该档案不存在，请刷新后重试。")
    ensure_in_scope(actor, row.village_id)
    return PatientCard(*row[:7])


def _enrolments(session: Session, resident_id: int) -> tuple[EnrolmentRow, ...]:
    rows = session.execute(
        select(ChronicEnrolment, Staff.name).outerjoin(Staff, Staff.id == ChronicEnrolment.responsible_doctor_id)
        .where(ChronicEnrolment.resident_id == resident_id, ChronicEnrolment.deleted.is_(False))
        .order_by(ChronicEnrolment.managed_from.desc(), ChronicEnrolment.id.desc())
    ).all()
    return tuple(EnrolmentRow(e.id, Disease(e.disease), e.diagnosed_on, e.managed_from, doctor or "",
                              e.ended_on, e.end_reason) for e, doctor in rows)


def _visit_row(v: FollowupVisit) -> VisitRow:
    medications = tuple((m.get("name", ""), m.get("times_per_day", ""), m.get("dose", "")) for m in v.medications)
    return VisitRow(v.id, Disease(v.disease), v.visit_date, v.method, v.sbp, v.dbp, v.fasting_glucose,
                    _classification(v.classification), _classification(v.suggested_classification), v.next_step,
                    v.next_visit_date, v.doctor_name, tuple(v.emergency_reasons), medications, v.target_weight)


def _classification(code: str | None) -> Classification | None:
    return Classification(code) if code else None


def _visits(session: Session, resident_id: int) -> tuple[VisitRow, ...]:
    shown = or_(FollowupVisit.deleted.is_(False), FollowupVisit.void_reason.is_not(None))
    visits = session.scalars(
        select(FollowupVisit).where(FollowupVisit.resident_id == resident_id, shown)
        .order_by(FollowupVisit.visit_date.desc(), FollowupVisit.id.desc()))
    return tuple(replace(_visit_row(v), version=v.version, correction_reason=v.correction_reason,
                         void_reason=v.void_reason) for v in visits)


def _missing(check: HealthCheck, birth_date: date) -> tuple[str, ...] | None:
    """What a 65+ check lacks of the 规范's parts (None when the resident was younger on the day)."""
    if age_on(birth_date, check.check_date) < ELDERLY_AGE:
        return None
    return tuple(missing_parts({column: getattr(check, column) for column in COMPLETENESS_COLUMNS}))


def _checks(session: Session, card: PatientCard) -> tuple[CheckRow, ...]:
    shown = or_(HealthCheck.deleted.is_(False), HealthCheck.void_reason.is_not(None))
    checks = session.scalars(
        select(HealthCheck).where(HealthCheck.resident_id == card.resident_id, shown)
        .order_by(HealthCheck.check_date.desc(), HealthCheck.id.desc()))
    return tuple(replace(CheckRow(c.id, c.check_date, c.sbp, c.dbp, c.bmi, c.self_care_total, c.evaluation_abnormal,
                                  c.doctor_name), version=c.version, correction_reason=c.correction_reason,
                         void_reason=c.void_reason, missing=_missing(c, card.birth_date)) for c in checks)


def chronic_record(db: Database, actor: Actor, resident_id: int) -> ChronicRecord:
    """The resident's enrolments, visits and checks (village doctors: their villages only)."""
    require(actor, Permission.VIEW_FOLLOWUPS)
    with db.read() as session:
        card = _card(session, actor, resident_id)
        return ChronicRecord(card, _enrolments(session, resident_id), _visits(session, resident_id),
                             _checks(session, card))
