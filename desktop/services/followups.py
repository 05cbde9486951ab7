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

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from desktop.changes import Changes
from desktop.clock import now
from desktop.db import Database
from desktop.errors import UserFacingError, ValidationError
from desktop.models import ChronicEnrolment, FollowupVisit, Resident
from desktop.rules.followup import Classification, Disease, FollowupRules, Measurement
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
    classification: Classification | None
    suggested: Classification | None
    next_visit_date: date
    emergency_reasons: tuple[str, ...]
    changes: Changes


@dataclass(frozen=True)
class KnownFacts:
    """What an import already read in bulk for one visit, so `add_visit` need not ask the database again."""

    enrolment: ChronicEnrolment | None  # the enrolment open on the visit day (else the open one), if any
    previous: Classification | None  # as `previous_classification` would answer
    previous_adverse_reaction: bool  # as `previous_adverse_reaction` would answer
    face_to_face_that_day: bool  # a face-to-face visit of this disease is already stored that day


def _earlier(resident_id: int, disease: Disease, before: date, exclude_id: int | None) -> Select:
    """The query for the patient's latest visit for the disease before `before` (voided ones left out)."""
    query = (select(FollowupVisit.classification, FollowupVisit.suggested_classification,
                    FollowupVisit.adverse_reaction)
             .where(FollowupVisit.resident_id == resident_id, FollowupVisit.disease == disease.value,
                    FollowupVisit.visit_date < before, FollowupVisit.deleted.is_(False))
             .order_by(FollowupVisit.visit_date.desc(), FollowupVisit.id.desc()).limit(1))
    return query if exclude_id is None else query.where(FollowupVisit.id != exclude_id)


def previous_classification(session: Session, resident_id: int, disease: Disease, before: date, *,
                            exclude_id: int | None = None) -> Classification | None:
    """The classification of the latest earlier visit that had a reading (BP, or glucose for diabetes).

    A phone visit marked 未测 decides nothing, so the rule "uncontrolled twice in a row" looks past
    it. A visit the doctor left unclassified (an old import) counts by the rules' suggestion.
    """
    deciding = ((FollowupVisit.fasting_glucose.is_not(None),) if disease is Disease.DIABETES
                else (FollowupVisit.sbp.is_not(None), FollowupVisit.dbp.is_not(None)))
    query = _earlier(resident_id, disease, before, exclude_id).where(
        or_(FollowupVisit.measurement.is_(None), FollowupVisit.measurement != Measurement.NOT_MEASURED.value),
        *deciding)
    visit = session.execute(query).first()
    code = visit and (visit.classification or visit.suggested_classification)
    return Classification(code) if code else None


def previous_adverse_reaction(session: Session, resident_id: int, disease: Disease, before: date, *,
                              exclude_id: int | None = None) -> bool:
    """Whether the latest earlier visit (with or without a reading) noted an adverse drug reaction."""
    visit = session.execute(_earlier(resident_id, disease, before, exclude_id)).first()
    return bool(visit and visit.adverse_reaction)


def _enrolment_for(session: Session, resident: Resident, disease: Disease, day: date,
                   known: KnownFacts | None = None) -> ChronicEnrolment:
    if known is not None:
        enrolment = known.enrolment
    else:
        enrolment = (open_enrolment(session, resident.id, disease, on=day)
                     or open_enrolment(session, resident.id, disease))
    if enrolment is None:
        raise UserFacingError(f"{resident.name}未纳入{disease.label}管理，不能登记随访。请先纳入管理。")
    return enrolment


def patient_facts(session: Session, resident: Resident, enrolment: ChronicEnrolment, day: date,
                  exclude_id: int | None, known: KnownFacts | None = None) -> PatientFacts:
    """What the checks need to know about the patient on `day` (an import passes what it read in bulk)."""
    disease = Disease(enrolment.disease)
    if known is None:
        known = KnownFacts(
            enrolment, previous_classification(session, resident.id, disease, day, exclude_id=exclude_id),
            previous_adverse_reaction(session, resident.id, disease, day, exclude_id=exclude_id), False)
    return PatientFacts(
        birth_date=resident.birth_date, diagnosed_on=enrolment.diagnosed_on, managed_from=enrolment.managed_from,
        ended_on=enrolment.ended_on, previous=known.previous,
        previous_adverse_reaction=known.previous_adverse_reaction,
    )


def refuse_second_face_to_face(session: Session, resident_id: int, disease: Disease, clean: CleanVisit, *,
                               exclude_id: int | None, known: KnownFacts | None = None) -> None:
    """A second face-to-face visit of the same disease on one day is an entry mistake."""
    if not clean.method.is_face_to_face:
        return
    if known is not None:
        taken = known.face_to_face_that_day
    else:
        taken = _face_to_face_stored(session, resident_id, disease, clean.visit_date, exclude_id=exclude_id)
    if taken:
        raise ValidationError.single(
            "visit_date", f"{clean.visit_date:%Y-%m-%d} 已有一次面访记录，同一天不能登记两次面访。")


def _face_to_face_stored(session: Session, resident_id: int, disease: Disease, day: date, *,
                         exclude_id: int | None) -> bool:
    query = select(FollowupVisit.id).where(
        FollowupVisit.resident_id == resident_id, FollowupVisit.disease == disease.value,
        FollowupVisit.visit_date == day, FollowupVisit.method.in_(("1", "2")),
        FollowupVisit.deleted.is_(False))
    if exclude_id is not None:
        query = query.where(FollowupVisit.id != exclude_id)
    return session.scalar(query) is not None


def assign_visit(visit: FollowupVisit, clean: CleanVisit, data: VisitInput) -> None:
    for name, value in clean.numbers.items():
        setattr(visit, name, None if value is None else (int(value) if name in ("sbp", "dbp", "heart_rate") else value))
    visit.visit_date, visit.method, visit.symptoms = clean.visit_date, clean.method.value, list(clean.symptoms)
    visit.medication_adherence, visit.hypoglycemia, visit.foot_pulse = (
        clean.medication_adherence, clean.hypoglycemia, clean.foot_pulse)
    visit.hba1c_date, visit.adverse_reaction, visit.new_complication = (
        clean.hba1c_date, data.adverse_reaction, data.new_complication)
    visit.classification = clean.classification.value if clean.classification else None
    suggested = clean.suggestion.classification
    visit.suggested_classification = suggested.value if suggested else None
    visit.override_reason, visit.next_step = clean.override_reason, clean.next_step.value
    visit.next_visit_date, visit.medications, visit.lifestyle = (
        clean.next_visit_date, list(clean.medications), dict(clean.lifestyle))
    visit.emergency_reasons, visit.doctor_name = list(clean.suggestion.emergency), clean.doctor_name
    visit.referral_reason, visit.referral_to, visit.adverse_reaction_note = (
        clean.referral_reason, clean.referral_to, clean.adverse_reaction_note)
    visit.measurement, visit.foot_pulse_side = clean.measurement.value, clean.foot_pulse_side
    visit.symptoms_other, visit.signs_other, visit.tests_other = (
        clean.symptoms_other, clean.signs_other, clean.tests_other)
    visit.insulin, visit.insulin_dose, visit.medication_advice = (
        clean.insulin, clean.insulin_dose, list(clean.medication_advice))
    visit.referral_result, visit.referral_contact, visit.resident_signed = (
        clean.referral_result, clean.referral_contact, clean.resident_signed)


def add_visit(session: Session, actor: Actor, resident: Resident, disease: Disease, data: VisitInput, *,
              today: date, rules: FollowupRules | None = None, known: KnownFacts | None = None,
              insert: bool = True) -> FollowupVisit:
    """Check and insert one visit in the caller's transaction (shared by the form and imports).

    `rules` defaults to the branch's stored follow-up rules; an import reads them once and passes them,
    with the facts it read in bulk (`known`). With `insert=False` the checked visit is returned unsaved
    for the caller to insert with others, unless it calls for an emergency referral (then it is
    inserted at once, since the referral's handlers need it stored).
    """
    ensure_in_scope(actor, resident.village_id)
    day = visit_day(data.visit_date)
    ensure_alive_on(resident, day, what="随访")
    enrolment = _enrolment_for(session, resident, disease, day or today, known)
    facts = patient_facts(session, resident, enrolment, day or today, None, known)
    clean = check_visit(disease, data, facts, today=today, rules=rules or followup_rules_in(session))
    refuse_second_face_to_face(session, resident.id, disease, clean, exclude_id=None, known=known)
    visit = FollowupVisit(enrolment_id=enrolment.id, resident_id=resident.id, disease=disease.value,
                          doctor_id=data.doctor_id)
    assign_visit(visit, clean, data)
    if not insert and not clean.emergency:
        return visit
    session.add(visit)
    session.flush()
    if clean.emergency:
        run_emergency_handlers(session, actor, visit)
    return visit


def run_emergency_handlers(session: Session, actor: Actor, visit: FollowupVisit) -> None:
    """Let every registered handler act on a visit that calls for emergency referral."""
    for handler in _emergency_handlers:
        handler(session, actor, visit)


def saved_visit(visit: FollowupVisit) -> SavedVisit:
    """What the form shows after a save: the doctor's and the rules' classification, the next date."""
    chosen = Classification(visit.classification) if visit.classification else None
    suggested = Classification(visit.suggested_classification) if visit.suggested_classification else None
    return SavedVisit(visit.id, chosen, suggested, visit.next_visit_date, tuple(visit.emergency_reasons),
                      Changes(followups=True, audit=True))


def visit_day(value: object) -> date | None:
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
        return saved_visit(visit)
