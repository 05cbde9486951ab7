"""The resident registry's writes: create, edit, move out / death, households, conditions.

Every write checks permission and village scope, keeps the search keys in step, and
audits in the same transaction. One person, one record: the ID number is the identity key.
"""

from __future__ import annotations

from collections.abc import Container, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop.changes import Changes
from desktop.clock import now
from desktop.db import Database
from desktop.errors import UserFacingError, ValidationError
from desktop.models import Branch, RecordNumberCounter, Resident, ResidentCondition, Village
from desktop.models.base import SyncState
from desktop.models.resident import resident_search_keys
from desktop.rules.population import ResidentStatus
from desktop.rules.profile import PROFILE_COLUMNS
from desktop.rules.resident_checks import CleanResident, ResidentInput, check_resident
from desktop.services import access_audit, audit
from desktop.services.audit import Action
from desktop.services.life_events import apply_status
from desktop.services.permissions import Actor, Permission, ensure_in_scope, in_village_scope, require


class DuplicateResident(ValidationError):
    """The ID number is already on the register; `existing_id` points to that record."""

    def __init__(self, existing_id: int, record_no: str, name: str) -> None:
        self.existing_id = existing_id
        super().__init__({"id_number": f"该身份证号已建档：{name}，档案编号 {record_no}。请打开已有档案，不要重复建档。"})


class DuplicateElsewhere(ValidationError):
    """The ID number is registered in a village the actor does not serve: no name, no record number, no village.

    The way forward is a request to move that record into the actor's village (services/record_moves.py).
    The attempt is audited (`access_audit.duplicate_elsewhere`): trying ID numbers is how one would probe.
    """

    def __init__(self, id_number: str) -> None:
        self.id_number = id_number
        super().__init__({"id_number": "该身份证号已在其他村建档，不能重复建档。"
                                       "如该居民已住到您负责的村，可申请把档案迁入本村，由卫生院审批。"})


def village_codes(session: Session, actor: Actor) -> dict[str, int]:
    """code -> id of the villages the actor may write residents in."""
    rows = session.execute(select(Village.code, Village.id).where(Village.deleted.is_(False))).all()
    return {code: vid for code, vid in rows if in_village_scope(actor, vid)}


def search_keys(*, name: str, id_number: str | None, phone: str | None, record_no: str) -> dict[str, str | None]:
    """The indexed search columns for these stored values (shared by the form, bulk imports and sync)."""
    return resident_search_keys(name=name, id_number=id_number, phone=phone, record_no=record_no)


def apply_search_keys(resident: Resident) -> None:
    """Recompute the indexed search columns from the stored values."""
    keys = search_keys(name=resident.name, id_number=resident.id_number, phone=resident.phone,
                       record_no=resident.record_no)
    for column, value in keys.items():
        setattr(resident, column, value)


class RecordNumbers:
    """Issues never-used record numbers per 12-digit prefix within one write transaction.

    The counter row is bumped as numbers are issued; numbers already stored above the
    counter (typed in or imported) are read once per prefix and skipped, as are `reserved` ones.
    """

    def __init__(self, session: Session) -> None:
        self._session = session
        self._counters: dict[str, RecordNumberCounter] = {}
        self._used: dict[str, set[str]] = {}

    def _counter(self, prefix12: str) -> RecordNumberCounter:
        counter = self._counters.get(prefix12) or self._session.get(RecordNumberCounter, prefix12)
        if counter is None:
            counter = RecordNumberCounter(prefix=prefix12, last_serial=0)
            self._session.add(counter)
        if prefix12 not in self._counters:
            self._counters[prefix12] = counter
            low = f"{prefix12}{counter.last_serial + 1:05d}"
            self._used[prefix12] = set(self._session.scalars(select(Resident.record_no).where(
                Resident.record_no >= low, Resident.record_no <= f"{prefix12}99999")))
        return counter

    def next(self, prefix12: str, *, reserved: Container[str] = frozenset()) -> str:
        """The next free number under `prefix12` (county+township+village)."""
        counter, used = self._counter(prefix12), self._used.setdefault(prefix12, set())
        while True:
            counter.last_serial += 1
            if counter.last_serial > 99999:
                raise UserFacingError(f"档案编号前缀 {prefix12} 下的 5 位流水号已用完。")
            candidate = f"{prefix12}{counter.last_serial:05d}"
            if candidate not in used and candidate not in reserved:
                used.add(candidate)
                return candidate


def next_record_no(session: Session, prefix12: str) -> str:
    """The next never-issued record number under a 12-digit prefix (county+township+village)."""
    return RecordNumbers(session).next(prefix12)


def find_by_id_number(session: Session, id_number: str) -> Resident | None:
    return session.scalars(select(Resident).where(Resident.id_number == id_number)).one_or_none()


def _check_duplicate(session: Session, actor: Actor, clean: CleanResident, own_id: int | None) -> None:
    if clean.id_number:
        existing = find_by_id_number(session, clean.id_number)
        if existing is not None and existing.id != own_id and not in_village_scope(actor, existing.village_id):
            raise DuplicateElsewhere(clean.id_number)
        if existing is not None and existing.id != own_id:
            raise DuplicateResident(existing.id, existing.record_no, existing.name)
    if clean.record_no:
        other = session.scalar(select(Resident.id).where(Resident.record_no == clean.record_no))
        if other is not None and other != own_id:
            raise ValidationError.single("record_no", f"健康档案编号 {clean.record_no} 已被其他档案使用。")


def snapshot(resident: Resident) -> dict[str, Any]:
    """The stored fields of a resident, for audit digests and change lists."""
    keys = ("record_no", "name", "sex", "birth_date", "id_number", "ethnicity", "phone", "address", "village_id",
            "household_id", "relation_to_head", "insurance_type", "registered_on", "responsible_doctor_id",
            "status", "status_date", "status_note", "consent_given_by", "consent_on", "consent_notice_version")
    values = {key: getattr(resident, key) for key in keys}
    values["conditions"] = sorted((c.kind, str(c.since)) for c in resident.conditions if not c.deleted)
    values |= {column: getattr(resident, column) for column in PROFILE_COLUMNS}
    return values


def _assign(resident: Resident, clean: CleanResident) -> None:
    for key in ("name", "sex", "birth_date", "id_number", "ethnicity", "phone", "address", "village_id",
                "relation_to_head", "insurance_type", "registered_on", "responsible_doctor_id",
                "consent_given_by", "consent_on", "consent_notice_version"):
        setattr(resident, key, getattr(clean, key))
    if clean.profile is not None:
        for column, value in clean.profile.columns().items():
            setattr(resident, column, value)
    apply_search_keys(resident)


def set_conditions(resident: Resident, conditions: tuple[tuple[Any, date | None], ...]) -> None:
    """Make the recorded conditions equal to `conditions` (tombstoning the ones dropped)."""
    wanted = {kind.value: since for kind, since in conditions}
    for condition in resident.conditions:
        if condition.kind in wanted:
            condition.deleted, condition.since = False, wanted.pop(condition.kind)
        elif not condition.deleted:
            condition.deleted = True
    for kind, since in wanted.items():
        resident.conditions.append(ResidentCondition(kind=kind, since=since))


def add_resident(session: Session, actor: Actor, clean: CleanResident, *, prefix9: str) -> Resident:
    """Insert a checked resident in the caller's transaction (shared by the form and imports)."""
    ensure_in_scope(actor, clean.village_id)
    _check_duplicate(session, actor, clean, None)
    resident = Resident(
        record_no=clean.record_no or next_record_no(session, prefix9 + clean.village_code),
        registered_by=actor.username, status=ResidentStatus.ACTIVE.value,
    )
    _assign(resident, clean)
    set_conditions(resident, clean.conditions)
    session.add(resident)
    session.flush()
    return resident


def branch_prefix(session: Session) -> str:
    branch = session.get(Branch, 1)
    if branch is None:
        raise UserFacingError("尚未设置分院信息。")
    return branch.county_code + branch.township_code


@dataclass(frozen=True)
class Saved:
    """The outcome of a save: which record, its record number and version."""

    resident_id: int
    record_no: str
    version: int
    changes: Changes
    effect: str = ""  # what else the save did, in words (e.g. 结束高血压管理)


def create_resident(db: Database, actor: Actor, data: ResidentInput, *, today: date | None = None) -> Saved:
    """Check and store a new resident; the record number is issued here."""
    require(actor, Permission.EDIT_RESIDENTS)
    with duplicates_elsewhere_audited(db, actor, "新建档案"), db.write() as session:
        clean = check_resident(data, villages=village_codes(session, actor), today=today or now().date())
        resident = add_resident(session, actor, clean, prefix9=branch_prefix(session))
        audit.record(session, actor, Action.CREATE, entity_type="resident", entity_id=resident.uuid,
                     summary=f"建档 {resident.record_no}", after=snapshot(resident))
        return Saved(resident.id, resident.record_no, resident.version, Changes(residents=True, audit=True))


@contextmanager
def duplicates_elsewhere_audited(db: Database, actor: Actor, attempt: str) -> Iterator[None]:
    """Audit a DuplicateElsewhere raised inside (after its transaction rolled back), then let it go on up."""
    try:
        yield
    except DuplicateElsewhere as refused:
        access_audit.duplicate_elsewhere(db, actor, id_number=refused.id_number, attempt=attempt)
        raise


def mark_edited(resident: Resident, version_before: int) -> None:
    """Bump the version when only the resident's conditions changed, so concurrent editors notice.

    Call after a flush: edits to the resident's own columns were bumped by the flush hook already.
    """
    if resident.version == version_before:
        resident.version, resident.sync_state = version_before + 1, SyncState.PENDING.value


def load_for_write(session: Session, actor: Actor, resident_id: int, *, expected_version: int | None) -> Resident:
    """The resident, checked for scope and for edits made meanwhile by someone else."""
    resident = session.get(Resident, resident_id)
    if resident is None or resident.deleted:
        raise UserFacingError("该档案不存在，请刷新后重试。")
    ensure_in_scope(actor, resident.village_id)
    if expected_version is not None and resident.version != expected_version:
        raise UserFacingError("该档案刚被他人修改过。请关闭后重新打开，再作修改（您填写的内容请先记下）。")
    return resident


def update_resident(
    db: Database, actor: Actor, resident_id: int, data: ResidentInput, *, expected_version: int | None,
    today: date | None = None,
) -> Saved:
    """Check and store an edit; the record number never changes."""
    require(actor, Permission.EDIT_RESIDENTS)
    with duplicates_elsewhere_audited(db, actor, "修改档案"), db.write() as session:
        resident = load_for_write(session, actor, resident_id, expected_version=expected_version)
        clean = check_resident(data, villages=village_codes(session, actor), today=today or now().date())
        ensure_in_scope(actor, clean.village_id)
        _check_duplicate(session, actor, clean, resident.id)
        before, version = snapshot(resident), resident.version
        _assign(resident, clean)
        set_conditions(resident, clean.conditions)
        session.flush()
        after = snapshot(resident)
        if after != before:
            mark_edited(resident, version)
            session.flush()
        audit.record(session, actor, Action.UPDATE, entity_type="resident", entity_id=resident.uuid,
                     summary=f"修改 {resident.record_no}：{'、'.join(audit.changed_fields(before, after)) or '无变化'}",
                     before=before, after=after)
        return Saved(resident.id, resident.record_no, resident.version, Changes(residents=True, audit=True))


def set_status(
    db: Database, actor: Actor, resident_id: int, status: ResidentStatus, *, on: date | None, note: str = "",
    expected_version: int | None = None,
) -> Saved:
    """Mark a resident moved out or deceased (with the date), or back on the register (with the reason).

    Death and move-out end the resident's open management on that date; back on the register
    reopens what the event ended (see services/life_events.py). `Saved.effect` says which.
    """
    require(actor, Permission.EDIT_RESIDENTS)
    today = now().date()
    if status is not ResidentStatus.ACTIVE:
        if on is None:
            raise ValidationError.single("status_date", f"请填写{status.label}日期。")
        if on > today:
            raise ValidationError.single("status_date", f"{status.label}日期不能晚于今天。")
    with db.write() as session:
        resident = load_for_write(session, actor, resident_id, expected_version=expected_version)
        if on is not None and on < resident.birth_date:
            raise ValidationError.single("status_date", f"{status.label}日期早于出生日期。")
        before = snapshot(resident)
        change = apply_status(session, actor, resident, status, on=on, note=note)
        session.flush()
        effect = change.text()
        audit.record(session, actor, Action.UPDATE, entity_type="resident", entity_id=resident.uuid,
                     summary=f"{resident.record_no} 标记为{status.label}" + (f"，{effect}" if effect else ""),
                     before=before, after=snapshot(resident))
        return Saved(resident.id, resident.record_no, resident.version,
                     Changes(residents=True, audit=True, followups=bool(effect)), effect)
