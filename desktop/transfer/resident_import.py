"""Importing a residents' roster through the import job (desktop/transfer/import_job.py).

The roster's own parts: each row is read into a checked resident (`RowReader`, the form's
checks) and a person listed twice in the file is refused while reading; the writer matches
existing records and bulk-inserts the new (desktop/transfer/import_writer.py). In "all or
nothing" mode a rejected row stops the import before the database is touched. Importing the
same file again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select

from desktop.changes import Changes
from desktop.clock import now
from desktop.db import Database
from desktop.errors import UserFacingError
from desktop.jobs import raise_if_aborted
from desktop.models import Branch, Village
from desktop.services.permissions import Actor, Permission
from desktop.services.residents import branch_prefix, village_codes
from desktop.transfer.import_job import (
    ImportJob,
    ImportMode,
    ImportResult,
    ImportRollback,
    ImportSpec,
    RejectedRow,
    WriteStep,
    as_not_written,
    write_error_workbook,
)
from desktop.transfer.import_writer import ImportWriter
from desktop.transfer.resident_template import resident_template
from desktop.transfer.roster_rows import RowReader, RowReading, Villages
from desktop.transfer.workbook import FIELD_TITLES, RESIDENT_FIELDS, SheetLayout, resident_missing

__all__ = ["READ_SHARE", "RESIDENT_IMPORT", "ImportMode", "ImportResult", "ImportRollback", "RejectedRow",
           "ResidentImport", "as_not_written", "write_error_workbook"]

READ_SHARE = 0.6


@dataclass
class _FileKeys:
    """Identity keys seen so far in the file, to refuse a person listed twice."""

    ids: dict[str, int] = field(default_factory=dict)
    record_nos: dict[str, int] = field(default_factory=dict)
    people: dict[tuple[str, date, int], int] = field(default_factory=dict)

    def duplicate_of(self, reading: RowReading, reader: RowReader) -> str | None:
        clean = reading.clean
        assert clean is not None
        keys = []
        if clean.id_number:
            keys.append((self.ids, clean.id_number, "id_number"))
        if clean.record_no:
            keys.append((self.record_nos, clean.record_no, "record_no"))
        if not keys:
            keys.append((self.people, (clean.name, clean.birth_date, clean.village_id), "name"))
        for seen, key, field_name in keys:
            if key in seen:
                what = "姓名、出生日期和村" if field_name == "name" else "号码"
                return f"第 {reading.row} 行，{reader.layout.header_of(field_name)}：与第 {seen[key]} 行的{what}重复。"
        for seen, key, _ in keys:
            seen[key] = reading.row
        return None


class _RosterCheck:
    """The roster's row check: the form's checks, and no person twice in one file."""

    def __init__(self, reader: RowReader) -> None:
        self.reader = reader
        self.keys = _FileKeys()

    def __call__(self, row: int, values: tuple[Any, ...]) -> tuple[RowReading | None, str]:
        reading = self.reader.read(row, values)
        duplicate = self.keys.duplicate_of(reading, self.reader) if reading.clean else None
        if reading.problems or duplicate:
            return None, duplicate or reading.reason
        return reading, ""


def check_roster_rows(db: Database, actor: Actor, layout: SheetLayout) -> _RosterCheck:
    """The row check for this roster, with the branch's villages and the actor's scope."""
    with db.read() as session:
        rows = session.execute(select(Village.code, Village.id, Village.name).where(Village.deleted.is_(False)))
        villages = Villages({code: (vid, name) for code, vid, name in rows}, village_codes(session, actor))
    mapped = layout.mapped
    default = next(iter(villages.in_scope)) if len(villages.in_scope) == 1 else None
    missing = [FIELD_TITLES[f] for f in ("name", "village") if f not in mapped and not (f == "village" and default)]
    if missing:
        raise UserFacingError(f"表中没有找到“{'”“'.join(missing)}”列。请检查表头（第 {layout.last_header_row} 行）。")
    return _RosterCheck(RowReader(layout, villages, today=now().date(), default_village=default))


def write_roster_rows(step: WriteStep) -> ImportResult:
    """Write the checked rows in batches, the abort flag checked between them."""
    session, readings = step.session, step.rows
    branch = session.get(Branch, 1)
    writer = ImportWriter(session, step.actor, prefix9=branch_prefix(session), site_id=branch.site_id,
                          readings=readings)
    rejected = list(step.base.rejected)
    for start in range(0, len(readings), writer.batch_size):
        raise_if_aborted(step.abort)
        rejected += writer.write_batch(readings[start:start + writer.batch_size])
        done = min(start + writer.batch_size, len(readings))
        step.progress(done / max(len(readings), 1), f"正在写入 {done} / {len(readings)}……")
    raise_if_aborted(step.abort)
    rejected.sort(key=lambda r: r.row)
    return replace(step.base, imported=writer.imported, updated=writer.updated, unchanged=writer.unchanged,
                   rejected=tuple(rejected), refusals=tuple(writer.refusals))


def _audit_summary(result: ImportResult, source: str) -> str:
    return (f"导入居民档案{source}：新增 {result.imported}，更新 {result.updated}，未变 {result.unchanged}，"
            f"拒绝 {len(result.rejected)}")


RESIDENT_IMPORT = ImportSpec(
    kind="residents", label="居民档案", permission=Permission.IMPORT_RESIDENTS, vocabulary=RESIDENT_FIELDS,
    check_rows=check_roster_rows, write=write_roster_rows, entity_type="resident", audit_summary=_audit_summary,
    changes=lambda result: Changes(residents=True, audit=True), missing_columns=resident_missing,
    text_fields=("id_number", "record_no", "phone", "contact_phone"), read_share=READ_SHARE, refuse_before_writing=True,
    template=resident_template,
)


def ResidentImport(db: Database, actor: Actor, path: Path, mode: ImportMode = ImportMode.ALL_OR_NOTHING, *,
                   dry_run: bool = False) -> ImportJob:
    """The roster import job: `ResidentImport(db, actor, path, mode)(abort=..., progress=...)`."""
    return RESIDENT_IMPORT.job(db, actor, path, mode, dry_run=dry_run)
