"""Importing historical follow-up visits through the import job: the same rules as the form, one transaction.

The sheet is read and each cell checked first; then, in one BEGIN IMMEDIATE transaction, each
row's resident is found (by 身份证号 or 档案编号; a 姓名 given must agree), and the visits are
added through `add_visit` — the form's own checks — patient by patient in date order, so the
"previous visit" behind each suggestion is the one before it in the file or already stored.

A visit is identified by resident + disease + date + method: a row matching a stored visit
with the same values counts as already there (importing a file twice adds nothing); with other
values it is rejected, since corrections are made on the visit itself.

Someone not under management for the row's disease is enrolled only when the row (or another
row of the same person and disease) gives 确诊日期: management then starts on 纳入管理日期 if
given, else on the earliest visit date in the file (never before the diagnosis), with the
enrolment form's checks. Without 确诊日期 the row is rejected as 未纳入管理.

"All or nothing" rolls back when any row is rejected, so every rejected row is still listed;
a dry run always rolls back. A cancel or failure leaves the database as it was.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import insert, inspect, select
from sqlalchemy.orm import Session

from desktop.changes import Changes
from desktop.clock import now
from desktop.db import Database
from desktop.errors import UserFacingError, ValidationError
from desktop.jobs import raise_if_aborted
from desktop.models import ChronicEnrolment, FollowupVisit, Resident
from desktop.models.sync_columns import new_sync_rows
from desktop.rules.followup import Classification, Disease, Measurement
from desktop.rules.numbers import decimal_or_none
from desktop.services.chronic import EnrolmentInput, check_enrolment, record_diagnosis
from desktop.services.followups import KnownFacts, add_visit
from desktop.services.permissions import Actor, Permission
from desktop.services.settings import enrolment_minimum_age_in, followup_rules_in
from desktop.transfer.followup_residents import find_people
from desktop.transfer.followup_rows import REQUIRED_COLUMNS, TEXT_FIELDS, VISIT_FIELDS, VisitRow, VisitRowReader
from desktop.transfer.followup_template import followup_template
from desktop.transfer.import_job import ImportJob, ImportMode, ImportResult, ImportSpec, RejectedRow, WriteStep
from desktop.transfer.workbook import SheetLayout

READ_SHARE = 0.3
CHECK_EVERY = 200  # rows written between two looks at the abort flag
INSERT_BATCH = 1000  # added visits held before one executemany INSERT
FACE_TO_FACE_METHODS = ("1", "2")  # 门诊, 家庭: as the form's same-day check counts them
_COMPARED = ("sbp", "dbp", "heart_rate", "weight", "fasting_glucose", "hba1c")


@dataclass(frozen=True)
class VisitImportResult(ImportResult):
    """What a follow-up import did: visits added (`imported`), already stored (`unchanged`), enrolments made."""

    enrolled: int = 0
    voided: int = 0  # rows of voided visits (作废原因 given), left out

    def counts(self) -> str:
        left_out = f"，已作废未导入 {self.voided} 行" if self.voided else ""
        return (f"新增随访 {self.imported} 次，已存在 {self.unchanged} 次，新纳入管理 {self.enrolled} 人{left_out}，"
                f"有错误 {len(self.rejected)} 行")

    def not_written(self) -> VisitImportResult:
        result = super().not_written()
        return result if result.dry_run else replace(result, enrolled=0)


def visit_missing(layout: SheetLayout) -> tuple[str, ...]:
    """The follow-up sheet's required columns that it lacks."""
    mapped = layout.mapped
    missing = [VISIT_FIELDS.titles[f] for f in REQUIRED_COLUMNS if f not in mapped]
    if "id_number" not in mapped and "record_no" not in mapped:
        missing.append("身份证号（或 档案编号）")
    return tuple(missing)


class _VisitCheck:
    """The follow-up sheet's row check: each cell read as the form would take it."""

    def __init__(self, reader: VisitRowReader) -> None:
        self.reader = reader

    def __call__(self, row: int, values: tuple[Any, ...]) -> tuple[VisitRow | None, str]:
        visit = self.reader.read(row, values)
        return (None, visit.problems[0]) if visit.problems else (visit, "")


def check_visit_rows(db: Database, actor: Actor, layout: SheetLayout) -> _VisitCheck:
    """The row check for this sheet; refused when a required column is missing."""
    missing = visit_missing(layout)
    if missing:
        raise UserFacingError(f"表中没有找到“{'”“'.join(missing)}”列。请检查表头（第 {layout.last_header_row} 行）。")
    return _VisitCheck(VisitRowReader(layout))


def write_visit_rows(step: WriteStep) -> VisitImportResult:
    """Add the rows' visits (and enrolments the file asks for) inside the job's transaction."""
    writer = _VisitWriter(step.session, step.actor, step.check.reader, today=now().date())
    return writer.write(step.rows, step.base, step.abort, step.progress)


def _audit_summary(result: VisitImportResult, source: str) -> str:
    return (f"导入历史随访{source}：新增随访 {result.imported}，已存在 {result.unchanged}，"
            f"新纳入管理 {result.enrolled}，拒绝 {len(result.rejected)}")


def _changes(result: VisitImportResult) -> Changes:
    return Changes(followups=True, audit=True, residents=result.enrolled > 0)


FOLLOWUP_IMPORT = ImportSpec(
    kind="followups", label="历史随访", permission=Permission.IMPORT_FOLLOWUPS, vocabulary=VISIT_FIELDS,
    check_rows=check_visit_rows, write=write_visit_rows, entity_type="followup_visit", audit_summary=_audit_summary,
    changes=_changes, missing_columns=visit_missing, text_fields=TEXT_FIELDS, result_type=VisitImportResult,
    template=followup_template, read_share=READ_SHARE,
)


def FollowupImport(db: Database, actor: Actor, path: Path, mode: ImportMode = ImportMode.ALL_OR_NOTHING, *,
                   dry_run: bool = False) -> ImportJob:
    """The follow-up import job: `FollowupImport(db, actor, path, mode)(abort=..., progress=...)`."""
    return FOLLOWUP_IMPORT.job(db, actor, path, mode, dry_run=dry_run)


class _VisitWriter:
    """Adds the rows' visits inside the caller's write transaction and counts the outcome."""

    def __init__(self, session: Session, actor: Actor, reader: VisitRowReader, *, today: date) -> None:
        self.session, self.actor, self.reader, self.today = session, actor, reader, today
        self.rules = followup_rules_in(session)
        self.rejected: list[RejectedRow] = []
        self.imported = self.unchanged = self.enrolled = 0
        self.new_rows: list[dict[str, Any]] = []

    def reject(self, row: VisitRow, field_name: str, message: str) -> None:
        self.reject_all(row, {field_name: message})

    def reject_all(self, row: VisitRow, errors: dict[str, str]) -> None:
        """One rejected row naming each problem's column: `第 N 行，<column>：<reason>；<column>：<reason>`."""
        reasons = "；".join(self.reader.column_message(f, m) for f, m in errors.items())
        self.rejected.append(RejectedRow(row.row, f"第 {row.row} 行，{reasons}", row.values))

    def write(self, rows: list[VisitRow], base: VisitImportResult, abort: threading.Event,
              progress: Callable[[float, str], None]) -> VisitImportResult:
        """Add every row's visit; `progress` takes the fraction of the writing done."""
        voided = sum(row.voided for row in rows)
        rows = [row for row in rows if not row.voided]
        people = find_people(self.session, self.actor, rows)
        for row, field_name, message in people.problems:
            self.reject(row, field_name, message)
        found = self._without_file_duplicates(people.found)
        resident_ids = {resident.id for _, resident in found}
        stored = _stored_visits(self.session, resident_ids)
        self.history = _VisitHistory(self.session, resident_ids)
        self.plan = _EnrolmentPlan(self.session, found, self.history)
        for count, (row, resident) in enumerate(found, start=1):
            if count % CHECK_EVERY == 0:
                raise_if_aborted(abort)
                progress(count / len(found), f"正在写入 {count} / {len(found)}……")
            existing = stored.get((resident.id, row.disease.value, row.visit_date, row.method.value))
            if existing is not None:
                self._compare(row, existing)
            else:
                self._add(row, resident)
        raise_if_aborted(abort)
        self._insert_new_rows()
        rejected = sorted((*base.rejected, *self.rejected), key=lambda r: r.row)
        return replace(base, imported=self.imported, unchanged=self.unchanged, enrolled=self.enrolled,
                       voided=voided, rejected=tuple(rejected))

    def _without_file_duplicates(self, found: list[tuple[VisitRow, Resident]]) -> list[tuple[VisitRow, Resident]]:
        """The rows in patient and date order; the same visit twice, or two face-to-face the same day, refused."""
        ordered = sorted(found, key=lambda item: (
            item[1].id, item[0].disease.value, item[0].visit_date, item[0].method.value, item[0].row))
        seen: dict[tuple, int] = {}
        kept = []
        for row, resident in ordered:
            same = (resident.id, row.disease, row.visit_date, row.method)
            face = (resident.id, row.disease, row.visit_date) if row.method.is_face_to_face else None
            if same in seen:
                self.reject(row, "visit_date", f"与第 {seen[same]} 行是同一次随访（同一居民、病种、日期和随访方式）。")
            elif face in seen:
                self.reject(row, "visit_date", f"与第 {seen[face]} 行同一天都是面访，同一天不能登记两次面访。")
            else:
                seen[same] = row.row
                if face is not None:
                    seen[face] = row.row
                kept.append((row, resident))
        return kept

    def _compare(self, row: VisitRow, stored: dict[str, object]) -> None:
        """A stored visit with the same key: unchanged when the row's values agree, else rejected."""
        for name in _COMPARED:
            given = decimal_or_none(getattr(row.data, name))
            if given is not None and (stored[name] is None or abs(given - float(stored[name])) > 1e-6):
                was = "未填" if stored[name] is None else f"{stored[name]:g}"
                self.reject(row, name, f"该次随访已登记，已登记的值为 {was}，表中为 {given:g}。如需更正，请在随访记录中修改。")
                return
        self.unchanged += 1

    def _add_visit(self, resident: Resident, row: VisitRow) -> None:
        known = self.history.facts(resident.id, row.disease, row.visit_date, today=self.today)
        visit = add_visit(self.session, self.actor, resident, row.disease, row.data, today=self.today,
                          rules=self.rules, known=known, insert=False)
        self.history.added(visit)
        if visit.id is None:  # not inserted at once for an emergency referral: it goes in with the batch
            self.new_rows.append(_column_values(visit))
            if len(self.new_rows) >= INSERT_BATCH:
                self._insert_new_rows()

    def _insert_new_rows(self) -> None:
        """The added visits in Core executemany statements, one per set of columns given."""
        groups: dict[frozenset[str], list[dict[str, Any]]] = {}
        for values in self.new_rows:
            groups.setdefault(frozenset(values), []).append(values)
        for rows in groups.values():
            self.session.connection().execute(insert(FollowupVisit.__table__),
                                              new_sync_rows(self.session, FollowupVisit, rows))
        self.new_rows = []

    def _add(self, row: VisitRow, resident: Resident) -> None:
        try:
            if self.plan.needs_enrolment(resident, row):
                self._enrol_and_add(row, resident)
                self.plan.enrolled.add((resident.id, row.disease.value))
                self.enrolled += 1
            else:
                self._add_visit(resident, row)
        except ValidationError as error:
            self.reject_all(row, error.errors)
            return
        except UserFacingError as error:
            self.reject(row, "disease", error.message)
            return
        self.imported += 1

    def _enrol_and_add(self, row: VisitRow, resident: Resident) -> None:
        """Enrol and add the visit together; when either is refused neither stays, in the history too."""
        group = (resident.id, row.disease.value)
        before = list(self.history.enrolments.get(group, ()))
        try:
            with self.session.begin_nested():
                self.plan.enrol(resident, row, self.today)
                self._add_visit(resident, row)
        except UserFacingError:
            self.history.enrolments[group] = before
            raise


class _EnrolmentPlan:
    """Which (resident, disease) pairs have an enrolment, and how to enrol the others from the file."""

    def __init__(self, session: Session, rows: list[tuple[VisitRow, Resident]], history: _VisitHistory) -> None:
        self.session, self.history = session, history
        ids = {resident.id for _, resident in rows}
        self.enrolled: set[tuple[int, str]] = set()
        for chunk in _chunks(sorted(ids)):
            self.enrolled |= set(session.execute(select(ChronicEnrolment.resident_id, ChronicEnrolment.disease).where(
                ChronicEnrolment.resident_id.in_(chunk), ChronicEnrolment.deleted.is_(False))).all())
        self.diagnosed: dict[tuple[int, str], date] = {}
        self.managed: dict[tuple[int, str], date] = {}
        for row, resident in rows:  # in date order: the earliest visit comes first
            group = (resident.id, row.disease.value)
            if row.diagnosed_on is not None:
                self.diagnosed.setdefault(group, row.diagnosed_on)
            self.managed.setdefault(group, row.managed_from or row.visit_date)
            if row.managed_from is not None:
                self.managed[group] = min(self.managed[group], row.managed_from)

    def needs_enrolment(self, resident: Resident, row: VisitRow) -> bool:
        group = (resident.id, row.disease.value)
        if group in self.enrolled:
            return False
        if group not in self.diagnosed:
            raise UserFacingError(f"未纳入管理（{resident.name}未纳入{row.disease.label}管理；"
                                  f"如需导入时一并纳入管理，请填写“确诊日期”）。")
        return True

    def enrol(self, resident: Resident, row: VisitRow, today: date) -> None:
        """Enrol with the form's checks; the diagnosis is recorded on the resident as well."""
        group = (resident.id, row.disease.value)
        if resident.status != "active":
            raise UserFacingError(f"未纳入管理（{resident.name}已不在册，不能纳入管理）。")
        diagnosed = self.diagnosed[group]
        data = EnrolmentInput(row.disease, diagnosed_on=diagnosed, managed_from=max(diagnosed, self.managed[group]),
                              responsible_doctor_id=resident.responsible_doctor_id)
        check_enrolment(resident, data, today, minimum_age=enrolment_minimum_age_in(self.session, row.disease))
        enrolment = ChronicEnrolment(resident_id=resident.id, disease=row.disease.value, diagnosed_on=diagnosed,
                                     managed_from=data.managed_from, responsible_doctor_id=data.responsible_doctor_id)
        self.session.add(enrolment)
        record_diagnosis(resident, data)
        self.session.flush()
        self.history.enrolments.setdefault(group, []).append(enrolment)


@dataclass(frozen=True)
class _Earlier:
    """What the rules ask of an earlier visit."""

    day: date
    order: int
    code: str | None  # the doctor's classification, else the rules' suggestion
    has_reading: bool
    adverse_reaction: bool


_HISTORY_COLUMNS = (FollowupVisit.id, FollowupVisit.resident_id, FollowupVisit.disease, FollowupVisit.visit_date,
                    FollowupVisit.method, FollowupVisit.classification, FollowupVisit.suggested_classification,
                    FollowupVisit.measurement, FollowupVisit.sbp, FollowupVisit.dbp, FollowupVisit.fasting_glucose,
                    FollowupVisit.adverse_reaction)


class _VisitHistory:
    """The stored enrolments and visits of the file's residents, read in a few queries and kept up to date
    as visits are added, so each row's checks (`KnownFacts`) ask the database nothing.

    It answers as `open_enrolment`, `previous_classification` and the same-day face-to-face check do.
    """

    def __init__(self, session: Session, resident_ids: set[int]) -> None:
        self.enrolments: dict[tuple[int, str], list[ChronicEnrolment]] = {}
        self.visits: dict[tuple[int, str], list[_Earlier]] = {}
        self.face_to_face: set[tuple[int, str, date]] = set()
        self._next_order = 1 << 62  # added visits sort after stored ones of the same day, as their ids would
        for chunk in _chunks(sorted(resident_ids)):
            for enrolment in session.scalars(select(ChronicEnrolment).where(
                    ChronicEnrolment.resident_id.in_(chunk), ChronicEnrolment.deleted.is_(False))):
                self.enrolments.setdefault((enrolment.resident_id, enrolment.disease), []).append(enrolment)
            query = select(*_HISTORY_COLUMNS).where(
                FollowupVisit.resident_id.in_(chunk), FollowupVisit.deleted.is_(False))
            for row in session.execute(query):
                self._note(row, row.id)

    def _note(self, visit: Any, order: int) -> None:
        """Remember a stored or just-added visit (anything with the history columns as attributes)."""
        disease = Disease(visit.disease)
        deciding = ((visit.fasting_glucose,) if disease is Disease.DIABETES else (visit.sbp, visit.dbp))
        has_reading = visit.measurement != Measurement.NOT_MEASURED.value and None not in deciding
        code = visit.classification or visit.suggested_classification
        self.visits.setdefault((visit.resident_id, visit.disease), []).append(
            _Earlier(visit.visit_date, order, code, has_reading, bool(visit.adverse_reaction)))
        if visit.method in FACE_TO_FACE_METHODS:
            self.face_to_face.add((visit.resident_id, visit.disease, visit.visit_date))

    def facts(self, resident_id: int, disease: Disease, day: date | None, *, today: date) -> KnownFacts:
        """The enrolment, previous classification and adverse reaction, and same-day face-to-face visit."""
        day = day or today
        group = (resident_id, disease.value)
        earlier = sorted((e for e in self.visits.get(group, ()) if e.day < day), key=lambda e: (e.day, e.order))
        with_reading = [e for e in earlier if e.has_reading]
        previous = Classification(with_reading[-1].code) if with_reading and with_reading[-1].code else None
        return KnownFacts(enrolment=self._enrolment(group, day), previous=previous,
                          previous_adverse_reaction=bool(earlier) and earlier[-1].adverse_reaction,
                          face_to_face_that_day=(resident_id, disease.value, day) in self.face_to_face)

    def _enrolment(self, group: tuple[int, str], day: date) -> ChronicEnrolment | None:
        """Open on the day if one is, else the one still open (latest start first, as `open_enrolment`)."""
        latest_first = sorted(self.enrolments.get(group, ()), key=lambda e: e.managed_from, reverse=True)
        on_day = next((e for e in latest_first
                       if e.managed_from <= day and (e.ended_on is None or e.ended_on >= day)), None)
        return on_day or next((e for e in latest_first if e.ended_on is None), None)

    def added(self, visit: FollowupVisit) -> None:
        """Count a visit just added, for the rows after it."""
        self._next_order += 1
        self._note(visit, self._next_order)


_VISIT_COLUMNS = tuple(inspect(FollowupVisit).column_attrs)


def _column_values(visit: FollowupVisit) -> dict[str, Any]:
    """The column values set on a visit not yet inserted (the table's defaults fill the rest)."""
    state = visit.__dict__
    return {prop.columns[0].key: state[prop.key] for prop in _VISIT_COLUMNS if prop.key in state}


def _stored_visits(session: Session, resident_ids: set[int]) -> dict[tuple[int, str, date, str], dict[str, object]]:
    """(resident, disease, date, method) -> the compared values of each stored visit of these residents."""
    columns = [getattr(FollowupVisit, name) for name in _COMPARED]
    stored: dict[tuple[int, str, date, str], dict[str, object]] = {}
    for chunk in _chunks(sorted(resident_ids)):
        query = select(FollowupVisit.resident_id, FollowupVisit.disease, FollowupVisit.visit_date,
                       FollowupVisit.method, *columns).where(FollowupVisit.resident_id.in_(chunk),
                                                             FollowupVisit.deleted.is_(False))
        for rid, disease, day, method, *values in session.execute(query):
            stored[(rid, disease, day, method)] = dict(zip(_COMPARED, values, strict=True))
    return stored


def _chunks(values: list[int], size: int = 500):
    for start in range(0, len(values), size):
        yield values[start:start + size]
