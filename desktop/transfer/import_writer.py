"""Writing checked roster rows: match existing residents, update what changed, bulk-insert the new.

Matching: by ID number; then by record number; then, for an existing record without an ID
number, by name + birth date + village. New residents are inserted in bulk (the search keys
and record numbers come from the same helpers the form uses); changed residents are updated
through the ORM so their version is bumped and they travel to the head hospital again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from desktop.models import Resident, ResidentCondition
from desktop.models.sync_columns import new_sync_rows
from desktop.rules.idnumbers import mask_id
from desktop.rules.population import ResidentStatus
from desktop.rules.resident_checks import CleanResident
from desktop.services.permissions import Actor, in_village_scope
from desktop.services.residents import RecordNumbers, apply_search_keys, mark_edited, search_keys
from desktop.transfer.import_job import RejectedRow
from desktop.transfer.roster_profile import PROFILE_COLUMNS, STORED_PROFILE_COLUMNS, profile_changes
from desktop.transfer.roster_rows import RowReading

BATCH_SIZE = 1000
DUPLICATE_ELSEWHERE = "该身份证号已在本院其他村登记，请联系卫生院核实。如该居民已住到本村，可在新建档案时申请迁入本村。"
_COMPARED = ("id", "record_no", "name", "sex", "birth_date", "id_number", "ethnicity", "phone", "address",
             "village_id", "relation_to_head", "insurance_type", "registered_on", "deleted")
# roster field -> the stored columns it sets on an existing record
_UPDATES = {
    "name": ("name",), "id_number": ("id_number", "sex", "birth_date"), "sex": ("sex",),
    "birth_date": ("birth_date",), "ethnicity": ("ethnicity",), "phone": ("phone",), "address": ("address",),
    "village": ("village_id",), "relation_to_head": ("relation_to_head",), "insurance_type": ("insurance_type",),
    "registered_on": ("registered_on",),
}


@dataclass(frozen=True)
class _Existing:
    """The stored values of a matched resident, as a plain row."""

    values: dict[str, Any]
    conditions: dict[str, tuple[date | None, bool]]

    @property
    def id(self) -> int:
        return self.values["id"]


def _rejected(reading: RowReading, reason: str) -> RejectedRow:
    return RejectedRow(reading.row, f"第 {reading.row} 行，{reason}", reading.values)


class ImportWriter:
    """Writes batches of checked rows inside the caller's write transaction and counts the outcome."""

    batch_size = BATCH_SIZE

    def __init__(self, session: Session, actor: Actor, *, prefix9: str, site_id: str,
                 readings: list[RowReading]) -> None:
        self.session, self.actor, self.prefix9, self.site_id = session, actor, prefix9, site_id
        self.numbers = RecordNumbers(session)
        self.reserved = {r.clean.record_no for r in readings if r.clean and r.clean.record_no}
        self.next_id = (session.scalar(select(Resident.id).order_by(Resident.id.desc()).limit(1)) or 0) + 1
        self.touched: dict[int, int] = {}
        with_profile = any(r.clean is not None and r.clean.profile is not None for r in readings)
        self.compared = _COMPARED + STORED_PROFILE_COLUMNS if with_profile else _COMPARED  # JSON costs to read
        self.imported = self.updated = self.unchanged = 0
        self.refusals: list[str] = []  # rows refused because the person is registered in another village

    def write_batch(self, readings: list[RowReading]) -> list[RejectedRow]:
        """Write one batch; returns the rows refused because of what is already stored."""
        existing = self._prefetch([r.clean for r in readings if r.clean])
        rejected, new_rows, new_conditions, edited = [], [], [], []
        for reading in readings:
            clean = reading.clean
            assert clean is not None
            match, problem = self._match(clean, existing)
            if problem:
                rejected.append(_rejected(reading, problem))
            elif match is None:
                self._add(clean, new_rows, new_conditions)
            elif (reason := self._refusal(match, reading)) is not None:
                rejected.append(_rejected(reading, reason))
            else:
                self.touched[match.id] = reading.row
                edited += self._edit(match, reading)
        self._flush(new_rows, new_conditions, edited)
        return rejected

    def _prefetch(self, cleans: list[CleanResident]) -> dict[str, dict[Any, _Existing]]:
        ids = {c.id_number for c in cleans if c.id_number}
        record_nos = {c.record_no for c in cleans if c.record_no}
        names = {c.name for c in cleans}
        columns = [getattr(Resident, name) for name in self.compared]
        rows = []
        for condition, keys in ((Resident.id_number.in_(ids), ids), (Resident.record_no.in_(record_nos), record_nos),
                                (Resident.name.in_(names) & Resident.id_number.is_(None), names)):
            if keys:
                rows += self.session.execute(select(*columns).where(condition)).mappings().all()
        by_id = {row["id"]: dict(row) for row in rows}
        conditions: dict[int, dict[str, tuple[date | None, bool]]] = {rid: {} for rid in by_id}
        if by_id:
            query = select(ResidentCondition.resident_id, ResidentCondition.kind, ResidentCondition.since,
                           ResidentCondition.deleted).where(ResidentCondition.resident_id.in_(by_id))
            for rid, kind, since, deleted in self.session.execute(query):
                conditions[rid][kind] = (since, deleted)
        found = [_Existing(values, conditions[rid]) for rid, values in by_id.items()]
        return {
            "id_number": {e.values["id_number"]: e for e in found if e.values["id_number"]},
            "record_no": {e.values["record_no"]: e for e in found},
            "person": {(e.values["name"], e.values["birth_date"], e.values["village_id"]): e
                       for e in found if not e.values["id_number"]},
        }

    def _match(self, clean: CleanResident, existing: dict[str, dict[Any, _Existing]]) -> tuple[_Existing | None, str]:
        """The stored resident this row describes, or a reason the row contradicts what is stored.

        A match outside the actor's villages is returned as it is: `_refusal` refuses it without naming anyone.
        """
        by_id = existing["id_number"].get(clean.id_number) if clean.id_number else None
        if by_id is not None:
            if clean.record_no and clean.record_no != by_id.values["record_no"] and self._in_scope(by_id):
                return None, (f"健康档案编号：与已有档案的编号 {by_id.values['record_no']} 不一致"
                              f"（该身份证号已为 {by_id.values['name']} 建档）。")
            return by_id, ""
        by_record = existing["record_no"].get(clean.record_no) if clean.record_no else None
        if by_record is not None:
            if clean.id_number and by_record.values["id_number"] and self._in_scope(by_record):
                return None, (f"健康档案编号：{clean.record_no} 已是 {by_record.values['name']}"
                              f"（身份证号 {mask_id(by_record.values['id_number'])}）的档案。")
            return by_record, ""
        return existing["person"].get((clean.name, clean.birth_date, clean.village_id)), ""

    def _in_scope(self, match: _Existing) -> bool:
        return in_village_scope(self.actor, match.values["village_id"])

    def _refusal(self, match: _Existing, reading: RowReading) -> str | None:
        if not self._in_scope(match):
            return self._elsewhere(match, reading)
        if match.values["deleted"]:
            return f"该居民的档案（{match.values['record_no']}）已删除，不能通过导入恢复。"
        if match.id in self.touched:
            return f"与第 {self.touched[match.id]} 行是同一位居民（档案编号 {match.values['record_no']}）。"
        return None

    def _elsewhere(self, match: _Existing, reading: RowReading) -> str:
        """The generic refusal of a person registered in another village; remembered for the audit (masked)."""
        clean = reading.clean
        assert clean is not None
        if clean.id_number and clean.id_number == match.values["id_number"]:
            self.refusals.append(f"第 {reading.row} 行身份证号 {mask_id(clean.id_number)}")
            return DUPLICATE_ELSEWHERE
        self.refusals.append(f"第 {reading.row} 行健康档案编号 {clean.record_no}")
        return f"健康档案编号 {clean.record_no} 已在本院其他村使用，请联系卫生院核实。"

    def _add(self, clean: CleanResident, rows: list[dict], conditions: list[dict]) -> None:
        record_no = clean.record_no or self.numbers.next(self.prefix9 + clean.village_code, reserved=self.reserved)
        resident_id, self.next_id = self.next_id, self.next_id + 1
        rows.append(self._new_row(resident_id, record_no, clean))
        for kind, since in clean.conditions:
            conditions.append({"resident_id": resident_id, "kind": kind.value, "since": since})
        self.imported += 1

    def _new_row(self, resident_id: int, record_no: str, clean: CleanResident) -> dict[str, Any]:
        return {
            "id": resident_id, "record_no": record_no, "name": clean.name, "sex": clean.sex,
            "birth_date": clean.birth_date, "id_number": clean.id_number, "ethnicity": clean.ethnicity,
            "phone": clean.phone, "address": clean.address, "village_id": clean.village_id,
            "relation_to_head": clean.relation_to_head, "insurance_type": clean.insurance_type,
            "registered_on": clean.registered_on, "registered_by": self.actor.username,
            "responsible_doctor_id": clean.responsible_doctor_id, "status": ResidentStatus.ACTIVE.value,
            **(clean.profile.columns() if clean.profile is not None else {}),  # else the columns' defaults
            **search_keys(name=clean.name, id_number=clean.id_number, phone=clean.phone, record_no=record_no),
        }

    def _edit(self, match: _Existing, reading: RowReading) -> list[tuple[int, dict, list]]:
        """[(resident id, column changes, condition changes)] or [] when the row changes nothing."""
        clean = reading.clean
        assert clean is not None
        columns: dict[str, Any] = {}
        for roster_field, stored in _UPDATES.items():
            if roster_field in reading.provided:
                columns |= {c: getattr(clean, c) for c in stored if match.values[c] != getattr(clean, c)}
        if clean.profile is not None:
            profile_fields = [f for f in reading.provided if f in PROFILE_COLUMNS]
            columns |= profile_changes(clean.profile, profile_fields, match.values)
        conditions = [(kind.value, since) for kind, since in clean.conditions
                      if kind.value not in match.conditions or match.conditions[kind.value][1]
                      or (since is not None and match.conditions[kind.value][0] != since)]
        if not columns and not conditions:
            self.unchanged += 1
            return []
        self.updated += 1
        return [(match.id, columns, conditions)]

    def _flush(self, new_rows: list[dict], new_conditions: list[dict],
               edited: Iterable[tuple[int, dict, list]]) -> None:
        for model, rows in ((Resident, new_rows), (ResidentCondition, new_conditions)):
            if rows:
                # Core's executemany: the ORM's bulk path costs as much again for rows that are already complete.
                self.session.connection().execute(insert(model.__table__), new_sync_rows(self.session, model, rows))
        versions = [self._apply(*change) for change in edited]
        self.session.flush()
        for resident, version in versions:
            mark_edited(resident, version)
        self.session.flush()
        for resident, _ in versions:
            self.session.expunge(resident)

    def _apply(self, resident_id: int, columns: dict, conditions: list) -> tuple[Resident, int]:
        resident = self.session.get(Resident, resident_id)
        assert resident is not None
        version = resident.version
        for column, value in columns.items():
            setattr(resident, column, value)
        apply_search_keys(resident)
        current = {c.kind: c for c in resident.conditions}
        for kind, since in conditions:
            if kind in current:
                current[kind].deleted = False
                current[kind].since = since or current[kind].since
            else:
                resident.conditions.append(ResidentCondition(kind=kind, since=since))
        return resident, version
