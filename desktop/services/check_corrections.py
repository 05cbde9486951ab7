"""Opening, correcting and voiding a saved health check (健康体检), and its history of versions.

A correction runs the same checks as a new health check, needs a reason and is refused when the
check changed since it was opened; a voided check stays stored (`deleted`, with its reason) and
counts nowhere. Both travel to the head hospital as a new version of the same record.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy.orm import Session

from desktop.changes import Changes
from desktop.clock import now
from desktop.db import Database
from desktop.errors import UserFacingError, ValidationError
from desktop.models import HealthCheck, Resident
from desktop.rules.elderly import SELF_CARE_ITEMS, Dependence, bmi
from desktop.rules.health_check_completeness import EXAMINATION_PARTS
from desktop.services.health_checks import CHECK_LABELS, GUIDANCE, HealthCheckInput, _check, examination_values
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

ENTITY = "health_check"
WHAT = "体检记录"
# Input fields a correction does not take from the form: who did the check stays who did it.
KEPT = frozenset({"doctor_id"})
CHECK_FIELD_LABELS = {
    **CHECK_LABELS, "sbp": "收缩压", "dbp": "舒张压", "heart_rate": "心率", "height": "身高", "weight": "体重",
    "bmi": "体质指数", "self_care": "生活自理能力评估", "self_care_total": "自理能力评分", "lifestyle": "生活方式",
    "results": "辅助检查", "symptoms": "症状", "examination": "查体", "evaluation_abnormal": "健康评价有异常",
    "evaluation_note": "异常说明", "guidance": "健康指导", "correction_reason": "更正原因", "void_reason": "作废原因",
}
# The other 查体 and 脏器功能 items of the national form a stored check may carry (imported, or the demo's).
OTHER_EXAMINATION = {
    "lips": "口唇", "dentition": "齿列", "pharynx": "咽部", "vision_left": "左眼视力", "vision_right": "右眼视力",
    "hearing": "听力", "motor_function": "运动功能", "sclera": "巩膜", "lower_limb_edema": "下肢水肿",
    "foot_pulse": "足背动脉搏动",
}
# The parts of the form's grouped answers (生活方式, 辅助检查, 自理能力, 查体), named as on the form.
PART_LABELS = {
    "exercise": "锻炼频率", "diet": "饮食习惯", "smoking": "吸烟情况", "drinking": "饮酒频率",
    "blood_routine": "血常规", "urine_routine": "尿常规", "liver_function": "肝功能", "kidney_function": "肾功能",
    "fasting_glucose": "空腹血糖", "blood_lipids": "血脂", "ecg": "心电图", "ultrasound": "腹部B超",
    **{item: label for item, (label, _scores) in SELF_CARE_ITEMS.items()}, **EXAMINATION_PARTS, **OTHER_EXAMINATION,
}
LEVELS = {str(level.value): level.label for level in Dependence}
CHECK_FIELD_NAMES = FieldNames({**PART_LABELS, **CHECK_FIELD_LABELS},
                               {"guidance": GUIDANCE, **dict.fromkeys(SELF_CARE_ITEMS, LEVELS)})


@dataclass(frozen=True)
class StoredCheck:
    """A saved health check as the form reopens it: its values as input, its version and state."""

    check_id: int
    resident_id: int
    version: int
    data: HealthCheckInput
    correction_reason: str | None
    corrected_at: datetime | None
    void_reason: str | None
    voided_at: datetime | None
    shown: tuple[tuple[str, str], ...] = ()  # (label, value) of each filled field, for reading

    @property
    def voided(self) -> bool:
        return self.void_reason is not None


def _input_value(name: str, value: object, default: object) -> object:
    if value is None:
        return default
    if name == "self_care":
        return {item: Dependence(level) for item, level in value.items()}
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, dict):
        return dict(value)
    return value


def check_input(check: HealthCheck) -> HealthCheckInput:
    """The stored check as a HealthCheckInput: every input field that is also a column, read from it."""
    values = {name: _input_value(name, value, default)
              for name, (value, default) in stored_inputs(HealthCheckInput, check).items()}
    return HealthCheckInput(**values)


def _stored_value(name: str, value: object) -> object:
    """An input value as its column keeps it (the same cleaning as a new check)."""
    if name == "self_care":
        return {item: int(level) for item, level in value.items() if item in SELF_CARE_ITEMS}
    if name == "examination":
        return examination_values(value)
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, str):
        return value.strip() or (None if name != "doctor_name" else "")
    return value


def _assign_check(check: HealthCheck, data: HealthCheckInput, day, total: int | None) -> None:
    for spec in fields(HealthCheckInput):
        if spec.name in KEPT or not hasattr(HealthCheck, spec.name):
            continue
        setattr(check, spec.name, _stored_value(spec.name, getattr(data, spec.name)))
    check.check_date, check.self_care_total = day, total
    check.bmi = bmi(data.weight, data.height) if data.weight and data.height else None


def _check_in_scope(session: Session, actor: Actor, check_id: int) -> tuple[HealthCheck, Resident]:
    check = session.get(HealthCheck, check_id)
    resident = session.get(Resident, check.resident_id) if check is not None else None
    if check is None or resident is None or (check.deleted and check.void_reason is None):
        raise UserFacingError("这条体检记录不存在，请刷新后重试。")
    ensure_in_scope(actor, resident.village_id)
    return check, resident


def stored_check(db: Database, actor: Actor, check_id: int) -> StoredCheck:
    """A saved health check (voided ones too) with its values for opening it read-only or to correct it."""
    require(actor, Permission.VIEW_FOLLOWUPS)
    with db.read() as session:
        check, _resident = _check_in_scope(session, actor, check_id)
        return StoredCheck(check.id, check.resident_id, check.version, check_input(check), check.correction_reason,
                           check.corrected_at, check.void_reason, check.voided_at,
                           shown_fields(check, CHECK_FIELD_NAMES))


def _summary(resident: Resident, check: HealthCheck, step: str, reason: str) -> str:
    return f"{step}{resident.name}（{resident.record_no}）健康体检 {check.check_date:%Y-%m-%d}：{reason}"


def _checked(data: HealthCheckInput, resident: Resident, reason: str):
    """The check's date and self-care total and the reason, or every bad field at once."""
    errors: dict[str, str] = {}
    try:
        reason = reason_text("correction_reason", "更正原因", reason)
    except ValidationError as error:
        errors |= error.errors
    try:
        day, total = _check(data, resident, now().date())
    except ValidationError as error:
        raise ValidationError(error.errors | errors) from None
    if errors:
        raise ValidationError(errors)
    ensure_alive_on(resident, day, what="体检", field="check_date")
    return day, total, reason


def correct_health_check(db: Database, actor: Actor, check_id: int, data: HealthCheckInput, *, reason: str,
                         expected_version: int) -> Changes:
    """Correct a saved health check: the same checks as a new one, a reason, before/after in the audit."""
    require(actor, Permission.EDIT_FOLLOWUPS)
    with db.write() as session:
        check, resident = _check_in_scope(session, actor, check_id)
        ensure_version(check, expected_version, WHAT)
        day, total, reason = _checked(data, resident, reason)
        before = snapshot(check)
        _assign_check(check, data, day, total)
        check.correction_reason, check.corrected_at = reason, now()
        audit_correction(session, actor, check, before, entity_type=ENTITY,
                         summary=_summary(resident, check, "更正", reason))
        return Changes(followups=True, audit=True)


def void_health_check(db: Database, actor: Actor, check_id: int, *, reason: str, expected_version: int) -> Changes:
    """Void a saved health check with a reason: it stays stored and visible, but counts nowhere."""
    require(actor, Permission.EDIT_FOLLOWUPS)
    with db.write() as session:
        check, resident = _check_in_scope(session, actor, check_id)
        void_record(session, actor, check, entity_type=ENTITY, what=WHAT, reason=reason,
                    expected_version=expected_version, summary=lambda text: _summary(resident, check, "作废", text))
        return Changes(followups=True, audit=True)


def check_history(db: Database, actor: Actor, check_id: int) -> tuple[HistoryEntry, ...]:
    """The check's versions, oldest first: who (by name), when, why, each changed field before and after."""
    require(actor, Permission.VIEW_FOLLOWUPS)
    with db.read() as session:
        check, _resident = _check_in_scope(session, actor, check_id)
        return record_history(session, entity_type=ENTITY, entity_id=check.uuid, names=CHECK_FIELD_NAMES)
