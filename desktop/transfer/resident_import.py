"""Importing a residents' roster: check every row, match existing records, write in one transaction.

The job reads and checks the whole file first (nothing is written while reading). In
"all or nothing" mode any rejected row stops the import before the database is touched;
in "valid rows only" mode the good rows are written. Writing happens in one BEGIN IMMEDIATE
transaction, in batches with the abort flag checked between them, so a cancel or a failure
leaves the database as it was. Importing the same file again changes nothing.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from pathlib import Path

from sqlalchemy import select

from desktop.changes import Changes
from desktop.clock import now
from desktop.db import Database
from desktop.errors import UserFacingError
from desktop.jobs import ProgressFn, raise_if_aborted
from desktop.models import Branch, Village
from desktop.services import audit
from desktop.services.audit import Action
from desktop.services.permissions import Actor, Permission, require
from desktop.services.residents import branch_prefix, village_codes
from desktop.transfer.import_writer import ImportWriter
from desktop.transfer.rejected_rows import RejectedRow
from desktop.transfer.roster_rows import RowReader, RowReading, Villages
from desktop.transfer.workbook import FIELD_TITLES, Roster, display

READ_SHARE = 0.6
CHECK_EVERY = 500


class ImportMode(StrEnum):
    """What happens to the good rows when some rows are rejected."""

    ALL_OR_NOTHING = "all_or_nothing"
    VALID_ONLY = "valid_only"

    @property
    def label(self) -> str:
        return "全部成功才导入" if self is ImportMode.ALL_OR_NOTHING else "只导入有效行"


@dataclass(frozen=True)
class ImportResult:
    """What an import did (or, for a dry run or a refused all-or-nothing import, would have done)."""

    imported: int
    updated: int
    unchanged: int
    rejected: tuple[RejectedRow, ...]
    written: bool
    dry_run: bool
    mode: ImportMode
    headers: tuple[str, ...] = ()
    text_columns: tuple[int, ...] = ()
    changes: Changes = field(default_factory=Changes)

    @property
    def valid(self) -> int:
        return self.imported + self.updated + self.unchanged

    def summary_line(self) -> str:
        """The command line's last line."""
        return f"imported {self.imported}, updated {self.updated}, rejected {len(self.rejected)}"

    def message(self) -> str:
        """The outcome in Chinese, for the window and the command line."""
        counts = f"新增 {self.imported} 人，更新 {self.updated} 人，未变 {self.unchanged} 人，有错误 {len(self.rejected)} 行"
        if self.dry_run:
            return f"试导入完成（未写入）：{counts}。"
        if not self.written:
            return f"有 {len(self.rejected)} 行有错误，按“全部成功才导入”未导入任何数据。请修正错误清单中的行后重新导入。"
        return f"导入完成：{counts}。"


class ImportRollback(Exception):
    """Raised inside an import's write transaction to leave it without committing, carrying the result."""

    def __init__(self, result: ImportResult) -> None:
        super().__init__("rollback")
        self.result = result


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


@dataclass
class ResidentImport:
    """The import job: `ResidentImport(db, actor, path, mode)(abort=..., progress=...)`."""

    db: Database
    actor: Actor
    path: Path
    mode: ImportMode = ImportMode.ALL_OR_NOTHING
    dry_run: bool = False

    def __call__(self, *, abort: threading.Event, progress: ProgressFn) -> ImportResult:
        require(self.actor, Permission.IMPORT_RESIDENTS)
        progress(0.0, "正在读取表格……")
        with Roster(Path(self.path)) as roster:
            reader = self._reader(roster)
            readings, rejected = self._read_all(roster, reader, abort, progress)
        base = ImportResult(0, 0, 0, tuple(rejected), written=False, dry_run=self.dry_run, mode=self.mode,
                            headers=tuple(c.header for c in reader.layout.columns),
                            text_columns=tuple(c.index for f, c in reader.layout.mapped.items()
                                               if f in ("id_number", "record_no", "phone")))
        if rejected and self.mode is ImportMode.ALL_OR_NOTHING and not self.dry_run:
            return base
        try:
            with self.db.write() as session:
                result = self._write(session, readings, base, abort, progress)
                if self.dry_run or (result.rejected and self.mode is ImportMode.ALL_OR_NOTHING):
                    raise ImportRollback(result)
                self._audit(session, result)
        except ImportRollback as rollback:
            return as_not_written(rollback.result)
        progress(1.0, "导入完成")
        return replace(result, written=True, changes=Changes(residents=True, audit=True))

    def _reader(self, roster: Roster) -> RowReader:
        """The row reader with the branch's villages and the actor's scope."""
        with self.db.read() as session:
            rows = session.execute(select(Village.code, Village.id, Village.name).where(Village.deleted.is_(False)))
            villages = Villages({code: (vid, name) for code, vid, name in rows}, village_codes(session, self.actor))
        mapped = roster.layout.mapped
        default = next(iter(villages.in_scope)) if len(villages.in_scope) == 1 else None
        missing = [FIELD_TITLES[f] for f in ("name", "village") if f not in mapped and not (f == "village" and default)]
        if missing:
            raise UserFacingError(f"表中没有找到“{'”“'.join(missing)}”列。请检查表头（第 {roster.layout.last_header_row} 行）。")
        return RowReader(roster.layout, villages, today=now().date(), default_village=default)

    def _read_all(self, roster: Roster, reader: RowReader, abort: threading.Event,
                  progress: ProgressFn) -> tuple[list[RowReading], list[RejectedRow]]:
        """Read and check every row; rows with problems or listed twice are rejected."""
        keys, readings, rejected = _FileKeys(), [], []
        estimate = max(roster.estimated_rows, 1)
        for count, (number, values) in enumerate(roster.rows(), start=1):
            if count % CHECK_EVERY == 0:
                raise_if_aborted(abort)
                progress(READ_SHARE * min(count / estimate, 1.0), f"正在检查第 {number} 行……")
            reading = reader.read(number, values)
            duplicate = keys.duplicate_of(reading, reader) if reading.clean else None
            if reading.problems or duplicate:
                rejected.append(RejectedRow(number, duplicate or reading.reason, values))
            else:
                readings.append(reading)
        raise_if_aborted(abort)
        return readings, rejected

    def _write(self, session, readings: list[RowReading], base: ImportResult, abort: threading.Event,
               progress: ProgressFn) -> ImportResult:
        branch = session.get(Branch, 1)
        writer = ImportWriter(session, self.actor, prefix9=branch_prefix(session), site_id=branch.site_id,
                              readings=readings)
        rejected = list(base.rejected)
        for start in range(0, len(readings), writer.batch_size):
            raise_if_aborted(abort)
            rejected += writer.write_batch(readings[start:start + writer.batch_size])
            done = min(start + writer.batch_size, len(readings))
            progress(READ_SHARE + (1 - READ_SHARE) * done / max(len(readings), 1), f"正在写入 {done} / {len(readings)}……")
        raise_if_aborted(abort)
        rejected.sort(key=lambda r: r.row)
        return replace(base, imported=writer.imported, updated=writer.updated, unchanged=writer.unchanged,
                       rejected=tuple(rejected))

    def _audit(self, session, result: ImportResult) -> None:
        audit.record(session, self.actor, Action.IMPORT, entity_type="resident", entity_id=Path(self.path).name,
                     summary=f"导入居民档案《{Path(self.path).name}》（{self.mode.label}）：新增 {result.imported}，"
                             f"更新 {result.updated}，未变 {result.unchanged}，拒绝 {len(result.rejected)}")


def as_not_written(result: ImportResult) -> ImportResult:
    """The result of an import that was rolled back: a dry run keeps its would-be counts; a refused
    all-or-nothing import reports nothing imported."""
    if result.dry_run:
        return result
    return replace(result, imported=0, updated=0, unchanged=0)


def write_error_workbook(result: ImportResult, path: Path) -> Path:
    """The rejected rows with their row number, reason and original values, to fix and import again."""
    from desktop.transfer.xlsx_stream import SheetWriter

    headers = ("原行号", "错误原因", *result.headers)
    widths = (8, 60, *(20 if i in result.text_columns else 12 for i in range(len(result.headers))))
    text_columns = tuple(i + 2 for i in result.text_columns)
    writer = SheetWriter(Path(path), sheet="错误清单", widths=widths, rows=len(result.rejected),
                         text_columns=text_columns)
    try:
        writer.write_header(headers)
        for rejected in result.rejected:
            writer.write_row((rejected.row, rejected.reason, *(_original(v, i in result.text_columns)
                                                                 for i, v in enumerate(rejected.values))))
    except BaseException:
        writer.discard()
        Path(path).unlink(missing_ok=True)
        raise
    writer.close()
    return Path(path)


def _original(value: object, as_text: bool) -> object:
    if as_text and value is not None:
        return display(value) if not isinstance(value, float) or abs(value) < 1e15 else f"{value:.15g}"
    return value
