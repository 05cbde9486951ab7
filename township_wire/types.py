"""The syncable record types, known to both sides without any database model.

The order here does not matter: the branch app binds each type to the model of the same table
name and orders them parents first by their foreign keys. A later area (contracts, referrals,
supervision) adds its types with `register_type` and a model with that table name; nothing
else in sync changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


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


_TYPES: dict[str, RecordTypeSpec] = {}
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


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
    if not _UUID.match(uuid):
        return "记录标识（uuid）格式错误"
    if version < 1:
        return f"版本号 {version} 不对"
    missing = [name for name in spec.required if data.get(name) in (None, "")]
    if missing:
        return f"{spec.label}缺少必填项：{'、'.join(missing)}"
    return None


for _spec in (
    RecordTypeSpec("village", "村", required=("code", "name")),
    RecordTypeSpec("village_clinic", "村卫生室", required=("name", "village_uuid")),
    RecordTypeSpec("staff", "人员", required=("name", "post")),
    RecordTypeSpec("household", "家庭户", required=("village_uuid",)),
    RecordTypeSpec("resident", "居民健康档案",
                   required=("record_no", "name", "sex", "birth_date", "village_uuid", "registered_on")),
    RecordTypeSpec("resident_transfer", "档案迁村申请",
                   required=("resident_uuid", "from_village_uuid", "to_village_uuid", "requested_by")),
    RecordTypeSpec("resident_condition", "重点人群登记", required=("resident_uuid", "kind")),
    RecordTypeSpec("chronic_enrolment", "慢病管理登记",
                   required=("resident_uuid", "disease", "diagnosed_on", "managed_from")),
    RecordTypeSpec("followup_visit", "慢病随访",
                   required=("enrolment_uuid", "resident_uuid", "visit_date", "next_visit_date")),
    RecordTypeSpec("health_check", "老年人健康体检", required=("resident_uuid", "check_date")),
):
    register_type(_spec)
