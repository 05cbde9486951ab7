"""Corrections and voids of saved records: what a correction compares, and the history as people read it.

A corrected or voided record keeps its uuid and gains a version (the flush hook bumps it), so the
change travels to the head hospital; the audit entry of each step keeps the changed fields as
field -> [before, after]. The history lists those entries with Chinese field names and values.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from desktop.clock import now
from desktop.errors import UserFacingError, ValidationError
from desktop.models.base import SyncMixin
from desktop.services import audit
from desktop.services.audit import Action, AuditRow, json_safe
from desktop.services.people_names import display_names
from desktop.services.permissions import Actor

# Columns a correction never compares: bookkeeping, links to other rows, the times of the steps themselves.
NOT_COMPARED = frozenset({"id", "uuid", "owner_site", "version", "deleted", "sync_state", "sync_error", "created_at",
                          "updated_at", "corrected_at", "voided_at", "enrolment_id", "resident_id", "doctor_id",
                          "referral_uuid"})
REASON_FIELDS = frozenset({"correction_reason", "void_reason"})
REASON_LIMIT = 200
STEP_LABELS = {Action.CREATE.value: "新建", Action.UPDATE.value: "更正", Action.VOID.value: "作废",
               Action.IMPORT.value: "导入"}
EMPTY = "空"


@dataclass(frozen=True)
class FieldChange:
    """One field of one correction, as shown: 字段：原值 → 新值."""

    field: str
    label: str
    before: str
    after: str

    @property
    def text(self) -> str:
        return f"{self.label}：{self.before} → {self.after}"


@dataclass(frozen=True)
class HistoryEntry:
    """One version of a record: when, who (by name), what was done, why, and what changed."""

    at: datetime
    actor_name: str
    step: str
    reason: str
    changes: tuple[FieldChange, ...]


@dataclass(frozen=True)
class FieldNames:
    """How a kind of record names its fields and shows their coded values in the history."""

    labels: Mapping[str, str]
    codes: Mapping[str, Mapping[str, str]]

    def label(self, name: str) -> str:
        """The field's Chinese name (其他内容 for one nobody named)."""
        return self.labels.get(name, "其他内容")

    def show(self, name: str, value: Any) -> str:
        """A stored value as a person reads it: codes by their names, yes/no, lists and parts by their names."""
        if value is None or value == "" or value == [] or value == {}:
            return EMPTY
        if isinstance(value, bool):
            return "是" if value else "否"
        if isinstance(value, float):
            return f"{value:g}"
        if isinstance(value, list):
            return "、".join(self.show(name, item) for item in value)
        if isinstance(value, dict):
            return _medicine(value) if "name" in value else "；".join(
                f"{self.label(key)} {self.show(key, item)}" for key, item in value.items() if item not in (None, ""))
        return self.codes.get(name, {}).get(str(value), str(value))


def _medicine(row: Mapping[str, Any]) -> str:
    """A medicine row (用药情况 or 用药调整意见): name, times a day, dose."""
    times, dose = row.get("times_per_day"), row.get("dose")
    return " ".join(part for part in (str(row.get("name") or ""), f"每日{times}次" if times else "",
                                      f"每次{dose}" if dose else "") if part)


def snapshot(record: SyncMixin) -> dict[str, Any]:
    """The record's own compared columns as JSON-safe values (what the audit digests and compares)."""
    return {column.key: json_safe(getattr(record, column.key)) for column in record.__mapper__.column_attrs
            if column.key not in NOT_COMPARED}


def shown_fields(record: SyncMixin, names: FieldNames) -> tuple[tuple[str, str], ...]:
    """(label, value as read) of each compared field with a value, in the record's column order."""
    values = snapshot(record)
    return tuple((names.label(name), names.show(name, value)) for name, value in values.items()
                 if name not in REASON_FIELDS and names.show(name, value) != EMPTY)


def stored_inputs(input_type: type, record: SyncMixin) -> dict[str, tuple[Any, Any]]:
    """name -> (stored value, the input's default) for each field of the input dataclass that is a column."""
    columns = set(record.__mapper__.column_attrs.keys())
    found = {}
    for spec in dataclasses.fields(input_type):
        if spec.name in columns:
            default = (spec.default if spec.default is not dataclasses.MISSING else
                       spec.default_factory() if spec.default_factory is not dataclasses.MISSING else None)
            found[spec.name] = (getattr(record, spec.name), default)
    return found


def reason_text(field: str, label: str, reason: str) -> str:
    """The reason trimmed, or ValidationError naming the field when it is empty or too long."""
    text = " ".join(str(reason or "").split())
    if not text:
        raise ValidationError.single(field, f"请填写{label}。")
    if len(text) > REASON_LIMIT:
        raise ValidationError.single(field, f"{label}最多 {REASON_LIMIT} 字（现 {len(text)} 字），请精简。")
    return text


def ensure_version(record: SyncMixin, expected_version: int, what: str) -> None:
    """Refuse to change a record someone else changed since it was opened (or a voided one)."""
    if record.deleted:
        raise UserFacingError(f"这条{what}已作废，不能再更正或作废。请刷新后查看。")
    if record.version != expected_version:
        raise UserFacingError(f"这条{what}在您打开后已被他人修改或同步更新，请关闭后重新打开，核对后再操作。")


def audit_correction(session: Session, actor: Actor, record: SyncMixin, before: dict[str, Any], *,
                     entity_type: str, summary: str) -> None:
    """Audit a correction made since `before` was taken, with each changed field; refuse one that changed nothing."""
    after = snapshot(record)
    details = audit.field_changes(before, after)
    if not set(details) - {"correction_reason"}:
        raise UserFacingError("没有改动任何内容，不需要更正。")
    audit.record(session, actor, Action.UPDATE, entity_type=entity_type, entity_id=record.uuid, summary=summary,
                 before=before, after=after, details=details)


def void_record(session: Session, actor: Actor, record: SyncMixin, *, entity_type: str, what: str, reason: str,
                expected_version: int, summary: Callable[[str], str]) -> None:
    """Void a record in the caller's transaction: version checked, reason required, before/after audited.

    The record stays stored and visible; `deleted` makes it count nowhere and travel as a void.
    """
    ensure_version(record, expected_version, what)
    reason = reason_text("void_reason", "作废原因", reason)
    before = snapshot(record)
    record.deleted, record.void_reason, record.voided_at = True, reason, now()
    after = snapshot(record)
    audit.record(session, actor, Action.VOID, entity_type=entity_type, entity_id=record.uuid, summary=summary(reason),
                 before=before, after=after, details=audit.field_changes(before, after))


def _entry(row: AuditRow, names: FieldNames, people: Mapping[str, str]) -> HistoryEntry:
    details = row.details or {}
    reason = next((str(details[f][1]) for f in ("void_reason", "correction_reason") if f in details and
                   details[f][1]), "")
    order = {name: index for index, name in enumerate(names.labels)}  # the labels follow the form's order
    changed = sorted((field for field in details if field not in REASON_FIELDS), key=lambda f: order.get(f, len(order)))
    changes = tuple(FieldChange(field, names.label(field), names.show(field, details[field][0]),
                                names.show(field, details[field][1])) for field in changed)
    actor = people.get(row.actor, row.actor)
    return HistoryEntry(row.at, actor, STEP_LABELS.get(row.action, row.action_label), reason, changes)


def record_history(session: Session, *, entity_type: str, entity_id: str,
                   names: FieldNames) -> tuple[HistoryEntry, ...]:
    """The record's versions from its audit entries, oldest first (viewing and printing left out)."""
    rows = [row for row in audit.entries_about(session, entity_type=entity_type, entity_id=entity_id)
            if row.action in STEP_LABELS]
    people = display_names(session, {row.actor for row in rows})
    return tuple(_entry(row, names, people) for row in rows)
