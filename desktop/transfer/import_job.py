"""The one import job every record area uses: read, check each row, write in one transaction, audit.

An area describes itself with an `ImportSpec` (desktop/transfer/registry.py lists them): the
sheet's vocabulary, a `check_rows` that returns the area's row check for the sheet found, and a
`write` that stores the checked rows inside the job's transaction. The job does the rest the same
way for every area:

1. Read the whole sheet (.xlsx, .xls, .xlsb, .ods or .csv) and check every row with the area's
   check; nothing is written while reading. Rows with problems become `RejectedRow`s.
2. "All or nothing" refuses the whole import when any row is rejected; "valid rows only" writes
   the good ones. A dry run checks everything, writes in the transaction and rolls it back, so
   it reports exactly what an import would do.
3. Writing happens in one BEGIN IMMEDIATE transaction, the abort flag checked between batches,
   so a cancel or a failure leaves the database as it was. The audit entry is in the same
   transaction. `write_error_workbook` lists the rejected rows to fix and import again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.orm import Session

from desktop.changes import Changes
from desktop.db import Database
from desktop.jobs import ProgressFn, raise_if_aborted
from desktop.services import audit
from desktop.services.access_audit import record_refusal
from desktop.services.audit import Action
from desktop.services.permissions import Actor, Permission, require
from desktop.transfer.workbook import Roster, RosterPreview, SheetLayout, Vocabulary, display, read_preview

CHECK_EVERY = 200


class ImportMode(StrEnum):
    """What happens to the good rows when some rows are rejected."""

    ALL_OR_NOTHING = "all_or_nothing"
    VALID_ONLY = "valid_only"

    @property
    def label(self) -> str:
        return "全部成功才导入" if self is ImportMode.ALL_OR_NOTHING else "只导入有效行"


@dataclass(frozen=True)
class RejectedRow:
    """A row that was not imported: its sheet row number, why, and its values as found."""

    row: int
    reason: str
    values: tuple[Any, ...]


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
    refusals: tuple[str, ...] = ()  # rows refused for another village's person (masked), audited even if rolled back

    @property
    def valid(self) -> int:
        return self.imported + self.updated + self.unchanged

    def summary_line(self) -> str:
        """The command line's last line."""
        return f"imported {self.imported}, updated {self.updated}, rejected {len(self.rejected)}"

    def counts(self) -> str:
        """The counts in Chinese (each area words its own)."""
        return f"新增 {self.imported} 人，更新 {self.updated} 人，未变 {self.unchanged} 人，有错误 {len(self.rejected)} 行"

    def message(self) -> str:
        """The outcome in Chinese, for the window and the command line."""
        if self.dry_run:
            return f"试导入完成（未写入）：{self.counts()}。"
        if not self.written:
            return f"有 {len(self.rejected)} 行有错误，按“全部成功才导入”未导入任何数据。请修正错误清单中的行后重新导入。"
        return f"导入完成：{self.counts()}。"

    def not_written(self) -> ImportResult:
        """This result after its transaction was rolled back: a dry run keeps its would-be counts."""
        return self if self.dry_run else replace(self, imported=0, updated=0, unchanged=0)


class ImportRollback(Exception):
    """Raised inside an import's write transaction to leave it without committing, carrying the result."""

    def __init__(self, result: ImportResult) -> None:
        super().__init__("rollback")
        self.result = result


def as_not_written(result: ImportResult) -> ImportResult:
    """The result of an import that was rolled back (see `ImportResult.not_written`)."""
    return result.not_written()


class RowCheck(Protocol):
    """An area's check of one sheet row: (checked row, "") or (None, the row's reason in Chinese)."""

    def __call__(self, row: int, values: tuple[Any, ...]) -> tuple[Any | None, str]: ...


@dataclass(frozen=True)
class WriteStep:
    """What an area's writer gets: the open session, who imports, the check used and the checked rows."""

    session: Session
    actor: Actor
    check: RowCheck
    rows: list[Any]
    base: ImportResult
    abort: threading.Event
    progress: Callable[[float, str], None]  # already scaled to the writing share of the bar


@dataclass(frozen=True)
class ImportSpec:
    """One registered import: what it is called, who may run it, how rows are checked and written."""

    kind: str
    label: str
    permission: Permission
    vocabulary: Vocabulary
    check_rows: Callable[[Database, Actor, SheetLayout], RowCheck]
    write: Callable[[WriteStep], ImportResult]
    entity_type: str
    audit_summary: Callable[[ImportResult, str], str]
    changes: Callable[[ImportResult], Changes]
    missing_columns: Callable[[SheetLayout], tuple[str, ...]] = lambda layout: ()
    text_fields: tuple[str, ...] = ("id_number", "record_no")
    result_type: type[ImportResult] = ImportResult
    template: Callable[[Path], Path] | None = None
    read_share: float = 0.5
    refuse_before_writing: bool = False  # all or nothing: stop after reading when a row is already rejected

    def job(self, db: Database, actor: Actor, path: Path, mode: ImportMode = ImportMode.ALL_OR_NOTHING, *,
            dry_run: bool = False) -> ImportJob:
        """The job importing `path` (run it with `abort` and `progress`)."""
        return ImportJob(self, db, actor, Path(path), mode, dry_run=dry_run)

    def preview(self, path: Path) -> RosterPreview:
        """The header found, the column mapping, the first rows and the missing columns."""
        return read_preview(path, vocabulary=self.vocabulary, missing=self.missing_columns)


@dataclass
class ImportJob:
    """`spec.job(db, actor, path, mode)(abort=..., progress=...)` -> the area's ImportResult."""

    spec: ImportSpec
    db: Database
    actor: Actor
    path: Path
    mode: ImportMode = ImportMode.ALL_OR_NOTHING
    dry_run: bool = False

    def __call__(self, *, abort: threading.Event, progress: ProgressFn) -> ImportResult:
        require(self.actor, self.spec.permission)
        progress(0.0, "正在读取表格……")
        with Roster(Path(self.path), self.spec.vocabulary) as roster:
            check = self.spec.check_rows(self.db, self.actor, roster.layout)
            rows, rejected = self._read_all(roster, check, abort, progress)
            layout = roster.layout
        base = self._base(layout, rejected)
        if rejected and self.spec.refuse_before_writing and self.mode is ImportMode.ALL_OR_NOTHING \
                and not self.dry_run:
            return base
        try:
            with self.db.write() as session:
                result = self.spec.write(WriteStep(session, self.actor, check, rows, base, abort,
                                                   self._writing_progress(progress)))
                raise_if_aborted(abort)
                if self.dry_run or (result.rejected and self.mode is ImportMode.ALL_OR_NOTHING):
                    raise ImportRollback(result)
                self._audit(session, result)
        except ImportRollback as rollback:
            self._audit_refusals(rollback.result)
            return rollback.result.not_written()
        self._audit_refusals(result)
        progress(1.0, "导入完成")
        return replace(result, written=True, changes=self.spec.changes(result))

    def _base(self, layout: SheetLayout, rejected: list[RejectedRow]) -> ImportResult:
        mapped = layout.mapped
        return self.spec.result_type(
            0, 0, 0, tuple(rejected), written=False, dry_run=self.dry_run, mode=self.mode,
            headers=tuple(c.header for c in layout.columns),
            text_columns=tuple(c.index for f, c in mapped.items() if f in self.spec.text_fields))

    def _read_all(self, roster: Roster, check: RowCheck, abort: threading.Event,
                  progress: ProgressFn) -> tuple[list[Any], list[RejectedRow]]:
        """Read and check every row; rows with problems are rejected here."""
        rows, rejected = [], []
        share, estimate = self.spec.read_share, max(roster.estimated_rows, 1)
        for count, (number, values) in enumerate(roster.rows(), start=1):
            if count % CHECK_EVERY == 0:
                raise_if_aborted(abort)
                progress(share * min(count / estimate, 1.0), f"正在检查第 {number} 行……")
            checked, reason = check(number, values)
            if checked is None:
                rejected.append(RejectedRow(number, reason, values))
            else:
                rows.append(checked)
        raise_if_aborted(abort)
        return rows, rejected

    def _writing_progress(self, progress: ProgressFn) -> Callable[[float, str], None]:
        share = self.spec.read_share
        return lambda fraction, message: progress(share + (1 - share) * min(fraction, 1.0), message)

    def _audit(self, session: Session, result: ImportResult) -> None:
        name = Path(self.path).name
        audit.record(session, self.actor, Action.IMPORT, entity_type=self.spec.entity_type, entity_id=name,
                     summary=self.spec.audit_summary(result, f"《{name}》（{self.mode.label}）"))

    def _audit_refusals(self, result: ImportResult) -> None:
        """One REFUSED entry for the rows naming people of villages outside the actor's (in its own transaction)."""
        if result.refusals:
            name = Path(self.path).name
            record_refusal(self.db, self.actor, entity_type=self.spec.entity_type, entity_id=name,
                           summary=f"导入《{name}》中 {len(result.refusals)} 行被拒绝（已在本院其他村登记）："
                                   + "；".join(result.refusals[:50]))


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


