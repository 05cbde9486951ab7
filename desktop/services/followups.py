"""Follow-up visits: record, correct, and read back a patient's visits.

A visit is checked against the patient's facts (birth, diagnosis, management period, the
previous visit's classification), stored with the rules' suggestion beside the doctor's
choice, and flagged for an emergency referral when the rules say so. Referrals register a
handler with `on_emergency` to open their draft in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop.changes import Changes
from desktop.clock import now
from desktop.db import Database
from desktop.errors import UserFacingError, ValidationError
from desktop.models import ChronicEnrolment, FollowupVisit, Resident
from desktop.rules.followup import Classification, Disease, FollowupRules
from desktop.rules.visit_checks import CleanVisit, PatientFacts, VisitInput, check_visit
from desktop.services import audit
from desktop.services.audit import Action
from desktop.services.chronic import open_enrolment
from desktop.services.life_events import ensure_alive_on
from desktop.services.permissions import Actor, Permission, ensure_in_scope, require
from desktop.services.settings import followup_rules_in

EmergencyHandler = Callable[[Session, Actor, FollowupVisit], None]
_emergency_handlers: list[EmergencyHandler] = []


def on_emergency(handler: EmergencyHandler) -> None:
    """Register what happens, in the visit's own transaction, when a visit calls for emergency referral."""
    _emergency_handlers.append(handler)


@dataclass(frozen=True)
class SavedVisit:
    visit_id: int
    classification: Classification
    next_visit_date: date
    emergency_reasons: tuple[str, ...]
    changes: Changes


def previous_classification(session: Session, resident_id: int, disease: Disease, before: date, *,
                            exclude_id: int | None = None) -> Classification | None:
    query = (select(FollowupVisit.classification)
             .where(FollowupVisit.resident_id == resident_id, FollowupVisit.disease == disease.value,
                    FollowupVisit.visit_date < before, FollowupVisit.deleted.is_(False))
             .order_by(FollowupVisit.visit_date.desc(), FollowupVisit.id.desc()).limit(1))
    if exclude_id is not None:
        query = query.where(FollowupVisit.id != exclude_id)
    code = session.scalar(query)
    return Classification(code) if code else None


def _enrolment_for(session: Session, resident: Resident, disease: Disease, day: date) -> ChronicEnrolment:
    enrolment = open_enrolment(session, resident.id, disease, on=day) or open_enrolment(session, resident.id, disease)
    if enrolment is None:
        raise UserFacingError(f"{resident.name}未纳入{disease.label}管理，不能登记随访。请先纳入管理。")
    return enrolment


def _facts(session: Session, resident: Resident, enrolment: ChronicEnrolment, day: date,
           exclude_id: int | None) -> PatientFacts:
    return PatientFacts(
        birth_date=resident.birth_date, diagnosed_on=enrolment.diagnosed_on, managed_from=enrolment.managed_from,
        ended_on=enrolment.ended_on,
        previous=previous_classification(session, resident.id, Disease(enrolment.disease), day, exclude_id=exclude_id),
    )


def _refuse_second_face_to_face(session: Session, resident_id: int, disease: Disease, clean: CleanVisit, *,
                                exclude_id: int | None) -> None:
    if not clean.method.is_face_to_face:
        return
    query = select(FollowupVisit.id).where(
        FollowupVisit.resident_id == resident_id, FollowupVisit.disease == disease.value,
        FollowupVisit.visit_date == clean.visit_date, FollowupVisit.method.in_(("1", "2")),
        FollowupVisit.deleted.is_(False))
    if exclude_id is not None:
        query = query.where(FollowupVisit.id != exclude_id)
    if session.scalar(query) is not None:
        raise ValidationError.single(
            "visit_date", f"{clean.visit_date:%Y-%m-%d} 已有一次面访记录，同一天不能登记两次面访。")


def _assign(visit: FollowupVisit, clean: CleanVisit, data: VisitInput) -> None:
    for name, value in clean.numbers.items():
        setattr(visit, name, None if value is None else (int(value) if name in ("sbp", "dbp", "heart_rate") else value))
    visit.visit_date, visit.method, visit.symptoms = clean.visit_date, clean.method.value, list(clean.symptoms)
    visit.medication_adherence, visit.hypoglycemia, visit.foot_pulse = (
        clean.medication_adherence, clean.hypoglycemia, clean.foot_pulse)
    visit.hba1c_date, visit.adverse_reaction, visit.new_complication = (
        clean.hba1c_date, data.adverse_reaction, data.new_complication)
    visit.classification = clean.classification.value
    visit.suggested_classification = clean.suggestion.classification.value
    visit.override_reason, visit.next_step = clean.override_reason, clean.suggestion.next_step.value
    visit.next_visit_date, visit.medications, visit.lifestyle = (
        clean.next_visit_date, list(clean.medications), dict(clean.lifestyle))
    visit.emergency_reasons, visit.doctor_name = list(clean.suggestion.emergency), clean.doctor_name
    visit.referral_reason, visit.referral_to, visit.adverse_reaction_note = (
        clean.referral_reason, clean.referral_to, clean.adverse_reaction_note)


def add_visit(session: Session, actor: Actor, resident: Resident, disease: Disease, data: VisitInput, *,
              today: date, rules: FollowupRules | None = None) -> FollowupVisit:
    """Check and insert one visit in the caller's transaction (shared by the form and imports).

    `rules` defaults to the branch's stored follow-up rules; an import reads them once and passes them.
    """
    ensure_in_scope(actor, resident.village_id)
    day = _visit_day(data.visit_date)
    ensure_alive_on(resident, day, what="随访")
    enrolment = _enrolment_for(session, resident, disease, day or today)
    facts = _facts(session, resident, enrolment, day or today, None)
    clean = check_visit(disease, data, facts, today=today, rules=rules or followup_rules_in(session))
    _refuse_second_face_to_face(session, resident.id, disease, clean, exclude_id=None)
    visit = FollowupVisit(enrolment_id=enrolment.id, resident_id=resident.id, disease=disease.value,
                          doctor_id=data.doctor_id)
    _assign(visit, clean, data)
    session.add(visit)
    session.flush()
    if clean.emergency:
        for handler in _emergency_handlers:
            handler(session, actor, visit)
    return visit


def _visit_day(value: object) -> date | None:
    from desktop.rules.dates import DateError, parse_date

    try:
        return parse_date(value) if value not in (None, "") else None
    except DateError:
        return None  # check_visit names the field


def record_visit(db: Database, actor: Actor, resident_id: int, disease: Disease, data: VisitInput) -> SavedVisit:
    """Store a new visit from the form."""
    require(actor, Permission.EDIT_FOLLOWUPS)
    with db.write() as session:
        resident = session.get(Resident, resident_id)
        if resident is None or resident.deleted:
            raise UserFacingError("该档案不存在，请刷新后重试。")
        visit = add_visit(session, actor, resident, disease, data, today=now().date())
        audit.record(session, actor, Action.CREATE, entity_type="followup_visit", entity_id=visit.uuid,
                     summary=f"{resident.name}（{resident.record_no}）{disease.label}随访 {visit.visit_date:%Y-%m-%d}")
        return SavedVisit(visit.id, Classification(visit.classification), visit.next_visit_date,
                          tuple(visit.emergency_reasons), Changes(followups=True, audit=True))
