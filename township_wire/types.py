"""The syncable record types, known to both sides without any database model.

The order here does not matter: the branch app binds each type to the model of the same table
name and orders them parents first by their foreign keys. A later area (contracts, referrals,
supervision) adds its types with `register_type` and a model with that table name; nothing
else in sync changes. A type lists every field its records carry (`required` + `optional`): the
head hospital refuses a record with any other field, and the branch stops at import when a model
would send a field its type does not list. Text in a record follows `township_wire.text`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from enum import StrEnum
from typing import Any

from township_wire.text import data_text_problem


class Owner(StrEnum):
    """Who creates and edits records of a type (only the owner ever changes one)."""

    SITE = "site"
    HEAD = "head"


@dataclass(frozen=True)
class RecordTypeSpec:
    name: str
    label: str
    owner: Owner = Owner.SITE
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()  # with `required`, every field a record of this type may carry

    @cached_property
    def fields(self) -> frozenset[str]:
        return frozenset(self.required) | frozenset(self.optional)


_TYPES: dict[str, RecordTypeSpec] = {}
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def register_type(spec: RecordTypeSpec) -> RecordTypeSpec:
    if spec.name in _TYPES and _TYPES[spec.name] != spec:
        raise ValueError(f"record type {spec.name} registered twice")
    _TYPES[spec.name] = spec
    return spec


def record_types() -> list[RecordTypeSpec]:
    """Every registered type, in registration order."""
    return list(_TYPES.values())


def type_spec(name: str) -> RecordTypeSpec | None:
    return _TYPES.get(name)


def type_label(name: str) -> str:
    spec = _TYPES.get(name)
    return spec.label if spec else name


def record_problem(record_type: str, uuid: str, version: int, data: dict[str, Any]) -> str | None:
    """Why a record cannot be accepted as it is (in Chinese), or None when it can."""
    spec = _TYPES.get(record_type)
    if spec is None:
        return f"未知的记录类型 {record_type}"
    if not _UUID.fullmatch(uuid):
        return "记录标识（uuid）格式错误"
    if version < 1:
        return f"版本号 {version} 不对"
    missing = [name for name in spec.required if data.get(name) in (None, "")]
    if missing:
        return f"{spec.label}缺少必填项：{'、'.join(missing)}"
    unknown = sorted(str(name) for name in data.keys() - spec.fields)
    if unknown:
        return f"{spec.label}含有未知字段：{'、'.join(unknown[:5])}"
    problem = data_text_problem(data)
    return f"{spec.label}的{problem}" if problem else None


for _spec in (
    RecordTypeSpec("village", "村", required=("code", "name"), optional=("active",)),
    RecordTypeSpec("village_clinic", "村卫生室", required=("name", "village_uuid"), optional=("has_ecg", "active")),
    RecordTypeSpec("staff", "人员", required=("name", "post"),
                   optional=("sex", "phone", "title", "deployment", "active", "clinic_uuid")),
    RecordTypeSpec("household", "家庭户", required=("village_uuid",), optional=("address", "head_uuid")),
    RecordTypeSpec("resident", "居民健康档案",
                   required=("record_no", "name", "sex", "birth_date", "village_uuid", "registered_on"),
                   optional=("id_number", "ethnicity", "phone", "address", "relation_to_head", "insurance_type",
                             "registered_by", "status", "status_date", "status_note", "consent_given_by",
                             "consent_on", "consent_notice_version", "residence_type", "work_unit", "contact_name",
                             "contact_phone", "blood_type", "rh_negative", "education", "occupation",
                             "marital_status", "payment_methods", "payment_other", "drug_allergies",
                             "drug_allergy_other", "exposures", "past_history", "family_history", "genetic_disease",
                             "disabilities", "disability_other", "living_environment", "household_uuid",
                             "responsible_doctor_uuid")),
    RecordTypeSpec("resident_transfer", "档案迁村申请",
                   required=("resident_uuid", "from_village_uuid", "to_village_uuid", "requested_by"),
                   optional=("reason", "requested_at", "status", "decided_by", "decided_at", "decision_note")),
    RecordTypeSpec("resident_condition", "重点人群登记", required=("resident_uuid", "kind"),
                   optional=("since", "until")),
    RecordTypeSpec("chronic_enrolment", "慢病管理登记",
                   required=("resident_uuid", "disease", "diagnosed_on", "managed_from"),
                   optional=("ended_on", "end_reason", "responsible_doctor_uuid")),
    RecordTypeSpec("followup_visit", "慢病随访",
                   required=("enrolment_uuid", "resident_uuid", "visit_date", "next_visit_date"),
                   optional=("disease", "method", "symptoms", "symptoms_other", "sbp", "dbp", "weight",
                             "target_weight", "height", "heart_rate", "measurement", "foot_pulse", "foot_pulse_side",
                             "signs_other", "lifestyle", "fasting_glucose", "hba1c", "hba1c_date", "tests_other",
                             "medication_adherence", "adverse_reaction", "adverse_reaction_note", "hypoglycemia",
                             "new_complication", "classification", "suggested_classification", "override_reason",
                             "next_step", "medications", "insulin", "insulin_dose", "medication_advice",
                             "referral_reason", "referral_to", "referral_result", "referral_contact",
                             "emergency_reasons", "referral_uuid", "doctor_name", "resident_signed", "note",
                             "correction_reason", "corrected_at", "void_reason", "voided_at", "doctor_uuid")),
    RecordTypeSpec("health_check", "老年人健康体检", required=("resident_uuid", "check_date"),
                   optional=("sbp", "dbp", "heart_rate", "height", "weight", "waist", "bmi", "self_care",
                             "self_care_total", "lifestyle", "results", "symptoms", "examination",
                             "evaluation_abnormal", "evaluation_note", "guidance", "doctor_name", "correction_reason",
                             "corrected_at", "void_reason", "voided_at", "doctor_uuid")),
):
    register_type(_spec)
