"""Exporting the filtered resident list to Excel: ID numbers as text, dates as dates, audited.

ID and phone numbers are masked unless the role may see them; village doctors export only
their villages. The file is written under a temporary name beside the target and renamed
when complete, so a cancelled or failed export leaves no partial workbook behind.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from uuid import uuid4

from sqlalchemy import select

from desktop.changes import Changes
from desktop.db import Database
from desktop.errors import UserFacingError
from desktop.jobs import ProgressFn, raise_if_aborted
from desktop.models import Resident, ResidentCondition, Village
from desktop.rules.idnumbers import mask_id
from desktop.rules.phones import mask_phone
from desktop.rules.population import RECORDED_CONDITIONS, RELATIONS, SEX_LABELS, ResidentStatus
from desktop.rules.profile import profile_from_columns
from desktop.services import audit
from desktop.services.access_audit import refusals_audited
from desktop.services.audit import Action
from desktop.services.people_names import display_names
from desktop.services.permissions import Actor, Permission, ensure_in_scope, require
from desktop.services.resident_query import ResidentFilter, list_ids, scoped
from desktop.transfer.export_job import VILLAGE_OPTION, ExportSpec
from desktop.transfer.roster_profile import PROFILE_COLUMNS, STORED_PROFILE_COLUMNS, profile_cells
from desktop.transfer.xlsx_stream import SheetWriter

CHUNK = 2000
EXPORT_LIMIT = 1_000_000
COLUMNS: tuple[tuple[str, int], ...] = (
    ("健康档案编号", 20), ("姓名", 10), ("性别", 6), ("出生日期", 12), ("身份证号", 21), ("民族", 8),
    ("联系电话", 14), ("现住址", 28), ("所属村", 12), ("与户主关系", 10), ("医保类型", 22), ("建档日期", 12),
    ("建档人", 10), ("状态", 6), ("状态日期", 12), *((kind.label, 14) for kind in RECORDED_CONDITIONS),
    *((title, width) for title, _, width in PROFILE_COLUMNS.values()),
)
_CONTACT_PHONE = 15 + len(RECORDED_CONDITIONS) + list(PROFILE_COLUMNS).index("contact_phone")
TEXT_COLUMNS = (0, 4, 6, _CONTACT_PHONE)  # record number, ID number, phone, the contact's phone
_STATUS_LABELS = {status.value: status.label for status in ResidentStatus}
_FIELDS = (Resident.id, Resident.record_no, Resident.name, Resident.sex, Resident.birth_date, Resident.id_number,
           Resident.ethnicity, Resident.phone, Resident.address, Village.name, Resident.relation_to_head,
           Resident.insurance_type, Resident.registered_on, Resident.registered_by, Resident.status,
           Resident.status_date, *(getattr(Resident, column) for column in STORED_PROFILE_COLUMNS))
_BASE_FIELDS = 16


@dataclass(frozen=True)
class ExportResult:
    """Where the list went, how many residents, and whether numbers were masked."""

    path: Path
    count: int
    masked: bool
    changes: Changes = field(default_factory=lambda: Changes(audit=True))

    def message(self) -> str:
        note = "（身份证号和电话已部分隐藏）" if self.masked else ""
        return f"已导出 {self.count} 名居民{note}：{self.path}"


def village_filter(db: Database, actor: Actor, code: str) -> ResidentFilter:
    """A filter for one village by its code, refused outside the actor's villages."""
    with db.read() as session:
        village_id = session.scalar(select(Village.id).where(Village.code == code.strip().zfill(3)))
    if village_id is None:
        raise UserFacingError(f"村代码“{code}”在本分院不存在。")
    ensure_in_scope(actor, village_id)
    return ResidentFilter(village_id=village_id, status=None)


@dataclass
class ResidentExport:
    """The export job: `ResidentExport(db, actor, path, flt, query)(abort=..., progress=...)`."""

    db: Database
    actor: Actor
    path: Path
    flt: ResidentFilter = field(default_factory=ResidentFilter)
    query: str = ""

    def __call__(self, *, abort: threading.Event, progress: ProgressFn) -> ExportResult:
        with refusals_audited(self.db, self.actor, f"导出居民名单《{Path(self.path).name}》"):
            require(self.actor, Permission.EXPORT_RESIDENTS)
        progress(0.0, "正在查找居民……")
        flt = replace(self.flt, query=self.query or self.flt.query)
        ids = list_ids(self.db, self.actor, flt, search_limit=EXPORT_LIMIT)
        target = Path(self.path)
        temporary = target.with_name(f".{target.stem}.{uuid4().hex[:8]}.part.xlsx")
        masked = not self.actor.can(Permission.VIEW_IDENTITY)
        try:
            self._write(temporary, ids, masked=masked, abort=abort, progress=progress)
            raise_if_aborted(abort)
            with self.db.write() as session:
                audit.record(session, self.actor, Action.EXPORT, entity_type="resident", entity_id=target.name,
                             summary=f"导出居民名单《{target.name}》{len(ids)} 人（{'脱敏' if masked else '含完整证件号'}）")
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)
        progress(1.0, "导出完成")
        return ExportResult(target, len(ids), masked)

    def _write(self, path: Path, ids: list[int], *, masked: bool, abort: threading.Event,
               progress: ProgressFn) -> None:
        writer = SheetWriter(path, sheet="居民名单", widths=[w for _, w in COLUMNS], rows=len(ids),
                             text_columns=TEXT_COLUMNS)
        try:
            writer.write_header([title for title, _ in COLUMNS])
            for start in range(0, len(ids), CHUNK):
                raise_if_aborted(abort)
                for row in self._rows(ids[start:start + CHUNK], masked=masked):
                    writer.write_row(row)
                done = min(start + CHUNK, len(ids))
                progress(0.95 * done / max(len(ids), 1), f"已写入 {done} / {len(ids)}")
        except BaseException:
            writer.discard()
            raise
        writer.close()

    def _rows(self, ids: list[int], *, masked: bool) -> list[tuple[Any, ...]]:
        """The sheet rows for a chunk of ids, in the chunk's order."""
        with self.db.read() as session:
            statement = scoped(select(*_FIELDS).join(Village, Resident.village_id == Village.id)
                               .where(Resident.id.in_(ids)), self.actor)
            found = {row[0]: row for row in session.execute(statement)}
            conditions: dict[int, dict[str, Any]] = {}
            query = select(ResidentCondition.resident_id, ResidentCondition.kind, ResidentCondition.since).where(
                ResidentCondition.resident_id.in_(ids), ResidentCondition.deleted.is_(False))
            for resident_id, kind, since in session.execute(query):
                conditions.setdefault(resident_id, {})[kind] = since or "是"
            names = display_names(session, {row.registered_by for row in found.values()})
        return [_sheet_row(found[i], conditions.get(i, {}), masked, names) for i in ids if i in found]


def _sheet_row(row: Any, conditions: dict[str, Any], masked: bool, names: dict[str, str]) -> tuple[Any, ...]:
    (_, record_no, name, sex, birth, id_number, ethnicity, phone, address, village, relation, insurance,
     registered_on, registered_by, status, status_date) = row[:_BASE_FIELDS]
    profile = profile_from_columns(dict(zip(STORED_PROFILE_COLUMNS, row[_BASE_FIELDS:], strict=True)))
    contact_phone = profile.contact_phone
    if masked:
        id_number = mask_id(id_number) if id_number else None
        phone = mask_phone(phone) if phone else None
        contact_phone = mask_phone(contact_phone) if contact_phone else None
    return (record_no, name, SEX_LABELS.get(sex, sex), birth, id_number, ethnicity, phone, address, village,
            RELATIONS.get(relation or "", relation), insurance, registered_on, names.get(registered_by, registered_by),
            _STATUS_LABELS.get(status, status), status_date,
            *(conditions.get(kind.value) for kind in RECORDED_CONDITIONS), *profile_cells(profile, phone=contact_phone))


def _export_job(db: Database, actor: Actor, out: Path, options: Mapping[str, Any]) -> ResidentExport:
    code = options.get("village")
    flt = village_filter(db, actor, code) if code else ResidentFilter(status=None)
    return ResidentExport(db, actor, out, flt)


RESIDENT_EXPORT = ExportSpec(kind="residents", label="居民名单", permission=Permission.EXPORT_RESIDENTS,
                             job=_export_job, options=(VILLAGE_OPTION,))
