"""Opening, correcting and voiding a saved follow-up visit, and its history of versions.

A correction runs the same checks as a new visit (the visit itself left out of the patient's
facts and of the one-face-to-face-visit-a-day check), needs a reason, and is refused when the
visit changed since it was opened. A voided visit stays stored (`deleted`, with its reason),
no longer counts anywhere and no longer blocks a new visit that day. Both travel to the head
hospital as a new version of the same record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from desktop.changes import Changes
from desktop.clock import now
from desktop.db import Database
from desktop.errors import UserFacingError, ValidationError
from desktop.models import ChronicEnrolment, FollowupVisit, Resident
from desktop.rules.followup import Classification, Disease, NextStep, VisitMethod
from desktop.rules.visit_checks import (
    ADHERENCE,
    DIABETES_SYMPTOMS,
    FOOT_PULSE,
    HYPERTENSION_SYMPTOMS,
    HYPOGLYCEMIA,
    LIFESTYLE_CODES,
    MEASUREMENT,
    REFERRAL_RESULT,
    VISIT_LABELS,
    VisitInput,
    check_visit,
)
from desktop.services.chronic import open_enrolment
from desktop.services.followups import (
    SavedVisit,
    assign_visit,
    patient_facts,
    refuse_second_face_to_face,
    run_emergency_handlers,
    saved_visit,
    visit_day,
)
from desktop.services.life_events import ensure_alive_on
from desktop.services.permissions import Actor, Permission, ensure_in_scope, require
from desktop.services.record_history import (
    FieldNames,
    HistoryEntry,
    audit_correction,
    ensure_version,
    reason_text,
    record_history,
    shown_fields,
    snapshot,
    stored_inputs,
    void_record,
)
from desktop.services.settings import followup_rules_in

ENTITY = "followup_visit"
WHAT = "随访记录"
DANGER_PREFIX = "危急情况："
VISIT_FIELD_LABELS = {
    **VISIT_LABELS, "disease": "病种", "symptoms_other": "症状其他", "signs_other": "体征其他",
    "measurement": "血压血糖来源", "foot_pulse_side": "足背动脉搏动部位", "lifestyle": "生活方式指导",
    "tests_other": "辅助检查其他", "adverse_reaction": "药物不良反应", "new_complication": "新发并发症",
    "suggested_classification": "规则建议分类", "next_step": "下一步管理措施", "insulin": "胰岛素种类",
    "insulin_dose": "胰岛素用法和用量", "medication_advice": "用药调整意见", "referral_result": "转诊结果",
    "referral_contact": "转诊联系人及电话", "emergency_reasons": "紧急转诊原因", "resident_signed": "居民签名",
    "note": "备注", "correction_reason": "更正原因", "void_reason": "作废原因",
}
_COMMON_CODES = {
    "method": {m.value: m.label for m in VisitMethod},
    "classification": {c.value: c.label for c in Classification},
    "suggested_classification": {c.value: c.label for c in Classification},
    "next_step": {s.value: s.label for s in NextStep},
    "medication_adherence": ADHERENCE, "hypoglycemia": HYPOGLYCEMIA, "foot_pulse": FOOT_PULSE,
    "measurement": MEASUREMENT, "referral_result": REFERRAL_RESULT,
    "disease": {d.value: d.label for d in Disease},
    **{key: codes for item, codes in LIFESTYLE_CODES.items() for key in (item, f"{item}_target")},
}


def visit_field_names(disease: Disease) -> FieldNames:
    """How the history names a visit's fields and coded values (symptoms differ by disease)."""
    symptoms = DIABETES_SYMPTOMS if disease is Disease.DIABETES else HYPERTENSION_SYMPTOMS
    return FieldNames(VISIT_FIELD_LABELS, {**_COMMON_CODES, "symptoms": symptoms})


@dataclass(frozen=True)
class StoredVisit:
    """A saved visit as the form reopens it: its values as typed input, its version and state."""

    visit_id: int
    resident_id: int
    disease: Disease
    version: int
    data: VisitInput
    correction_reason: str | None
    corrected_at: datetime | None
    void_reason: str | None
    voided_at: datetime | None
    shown: tuple[tuple[str, str], ...] = ()  # (label, value) of each filled field, for reading

    @property
    def voided(self) -> bool:
        return self.void_reason is not None


def _input_value(value: object, default: object) -> object:
    """A stored column value as the form's input takes it (lists as tuples, dict rows as tuples)."""
    if value is None:
        return default
    if isinstance(value, list):
        return tuple(tuple(str(v) for v in item.values()) if isinstance(item, dict) else item for item in value)
    if isinstance(value, dict):
        return dict(value)
    return value


def visit_input(visit: FollowupVisit) -> VisitInput:
    """The stored visit as a VisitInput: every input field that is also a column, read from the column."""
    values = {name: _input_value(value, default) for name, (value, default) in stored_inputs(VisitInput, visit).items()}
    values["danger_signs"] = tuple(reason.removeprefix(DANGER_PREFIX) for reason in visit.emergency_reasons
                                   if reason.startswith(DANGER_PREFIX))
    values["medication_advice"] = tuple((row.get("name", ""), row.get("dose", "")) for row in visit.medication_advice)
    return VisitInput(**values)


def _visit_in_scope(session: Session, actor: Actor, visit_id: int) -> tuple[FollowupVisit, Resident]:
    visit = session.get(FollowupVisit, visit_id)
    resident = session.get(Resident, visit.resident_id) if visit is not None else None
    if visit is None or resident is None or (visit.deleted and visit.void_reason is None):
        raise UserFacingError("这条随访记录不存在，请刷新后重试。")
    ensure_in_scope(actor, resident.village_id)
    return visit, resident


def stored_visit(db: Database, actor: Actor, visit_id: int) -> StoredVisit:
    """A saved visit (voided ones too) with its values for opening it read-only or to correct it."""
    require(actor, Permission.VIEW_FOLLOWUPS)
    with db.read() as session:
        visit, _resident = _visit_in_scope(session, actor, visit_id)
        return StoredVisit(visit.id, visit.resident_id, Disease(visit.disease), visit.version, visit_input(visit),
                           visit.correction_reason, visit.corrected_at, visit.void_reason, visit.voided_at,
                           shown_fields(visit, visit_field_names(Disease(visit.disease))))


def _summary(resident: Resident, visit: FollowupVisit, step: str, reason: str) -> str:
    disease = Disease(visit.disease)
    return (f"{step}{resident.name}（{resident.record_no}）{disease.label}随访 {visit.visit_date:%Y-%m-%d}："
            f"{reason}")


def _checked(session: Session, visit: FollowupVisit, resident: Resident, data: VisitInput, reason: str):
    """The visit re-checked as entered, together with the reason's own check: every bad field at once."""
    disease = Disease(visit.disease)
    errors: dict[str, str] = {}
    try:
        reason = reason_text("correction_reason", "更正原因", reason)
    except ValidationError as error:
        errors |= error.errors
    day = visit_day(data.visit_date) or visit.visit_date
    ensure_alive_on(resident, day, what="随访")
    # The management the day falls in, else the visit's own (ended since: the checks then name the date).
    enrolment = open_enrolment(session, resident.id, disease, on=day) or session.get(ChronicEnrolment,
                                                                                     visit.enrolment_id)
    facts = patient_facts(session, resident, enrolment, day, visit.id)
    try:
        clean = check_visit(disease, data, facts, today=now().date(), rules=followup_rules_in(session))
    except ValidationError as error:
        raise ValidationError(error.errors | errors) from None
    if errors:
        raise ValidationError(errors)
    refuse_second_face_to_face(session, resident.id, disease, clean, exclude_id=visit.id)
    return enrolment, clean, reason


def correct_visit(db: Database, actor: Actor, visit_id: int, data: VisitInput, *, reason: str,
                  expected_version: int) -> SavedVisit:
    """Correct a saved visit: the same checks as a new one, a reason, before/after kept in the audit."""
    require(actor, Permission.EDIT_FOLLOWUPS)
    with db.write() as session:
        visit, resident = _visit_in_scope(session, actor, visit_id)
        ensure_version(visit, expected_version, WHAT)
        enrolment, clean, reason = _checked(session, visit, resident, data, reason)
        before = snapshot(visit)
        assign_visit(visit, clean, data)
        visit.enrolment_id, visit.correction_reason, visit.corrected_at = enrolment.id, reason, now()
        audit_correction(session, actor, visit, before, entity_type=ENTITY,
                         summary=_summary(resident, visit, "更正", reason))
        if clean.emergency and visit.referral_uuid is None:
            run_emergency_handlers(session, actor, visit)
        return saved_visit(visit)


def void_visit(db: Database, actor: Actor, visit_id: int, *, reason: str, expected_version: int) -> Changes:
    """Void a saved visit with a reason: it stays stored and visible, but counts nowhere."""
    require(actor, Permission.EDIT_FOLLOWUPS)
    with db.write() as session:
        visit, resident = _visit_in_scope(session, actor, visit_id)
        void_record(session, actor, visit, entity_type=ENTITY, what=WHAT, reason=reason,
                    expected_version=expected_version, summary=lambda text: _summary(resident, visit, "作废", text))
        return Changes(followups=True, audit=True)


def visit_history(db: Database, actor: Actor, visit_id: int) -> tuple[HistoryEntry, ...]:
    """The visit's versions, oldest first: who (by name), when, why, each changed field before and after."""
    require(actor, Permission.VIEW_FOLLOWUPS)
    with db.read() as session:
        visit, _resident = _visit_in_scope(session, actor, visit_id)
        return record_history(session, entity_type=ENTITY, entity_id=visit.uuid,
                              names=visit_field_names(Disease(visit.disease)))
