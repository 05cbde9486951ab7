"""Exporting a year's follow-up visits and enrolments to Excel: record numbers as text, dates as dates.

Sheet 随访记录 has one row per visit in the year with every field of the national form (see
followup_export_rows); a voided visit is listed too, marked 已作废 with its reason, and a corrected
one carries its correction's reason. Sheet 管理对象 the enrolments open at some
time in the year, with start and end. Village doctors export only their villages; a village
may be chosen. The file is written under a temporary name and renamed when complete; the
export is audited.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import uuid4

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from desktop.changes import Changes
from desktop.clock import now
from desktop.db import Database
from desktop.jobs import ProgressFn, raise_if_aborted
from desktop.models import ChronicEnrolment, FollowupVisit, Resident, Staff, Village
from desktop.rules.followup import Disease
from desktop.rules.population import SEX_LABELS
from desktop.services import audit
from desktop.services.access_audit import refusals_audited
from desktop.services.audit import Action
from desktop.services.indicators import Period
from desktop.services.permissions import Actor, Permission, require, village_scope
from desktop.transfer.export_job import VILLAGE_OPTION, YEAR_OPTION, ExportSpec
from desktop.transfer.followup_export_rows import FORM_COLUMNS, FORM_SELECT, core_cells, form_cells
from desktop.transfer.resident_export import village_filter
from desktop.transfer.xlsx_stream import SheetWriter

CHUNK = 2000
PERSON_COLUMNS = (("档案编号", 20), ("姓名", 10), ("性别", 6), ("出生日期", 12), ("所属村", 12), ("疾病", 10))
VISIT_COLUMNS = (*PERSON_COLUMNS, ("随访日期", 12), ("随访方式", 8), ("收缩压", 8), ("舒张压", 8), ("心率", 8),
                 ("体重", 8), ("空腹血糖", 10), ("糖化血红蛋白", 12), ("服药依从性", 10), ("此次随访分类", 12),
                 ("规则建议分类", 12), ("更改理由", 20), ("下一步措施", 22), ("下次随访日期", 12), ("随访医生", 10),
                 *((title, width) for title, width, _, _ in FORM_COLUMNS))
ENROLMENT_COLUMNS = (*PERSON_COLUMNS, ("确诊日期", 12), ("纳入管理日期", 12), ("终止管理日期", 12), ("终止原因", 12),
                     ("责任医生", 10))
TEXT_COLUMNS = (0,)
_PERSON = (Resident.record_no, Resident.name, Resident.sex, Resident.birth_date, Village.name)
_VISIT = (*_PERSON, FollowupVisit.disease, FollowupVisit.visit_date, FollowupVisit.method, FollowupVisit.sbp,
          FollowupVisit.dbp, FollowupVisit.heart_rate, FollowupVisit.weight, FollowupVisit.fasting_glucose,
          FollowupVisit.hba1c, FollowupVisit.medication_adherence, FollowupVisit.classification,
          FollowupVisit.suggested_classification, FollowupVisit.override_reason, FollowupVisit.next_step,
          FollowupVisit.next_visit_date, FollowupVisit.doctor_name, *FORM_SELECT)
_ENROLMENT = (*_PERSON, ChronicEnrolment.disease, ChronicEnrolment.diagnosed_on, ChronicEnrolment.managed_from,
              ChronicEnrolment.ended_on, ChronicEnrolment.end_reason, Staff.name)


@dataclass(frozen=True)
class FollowupExportResult:
    path: Path
    year: int
    visits: int
    enrolments: int
    changes: Changes = field(default_factory=lambda: Changes(audit=True))
    voided: int = 0  # of `visits`, those voided (listed and marked 已作废)

    def message(self) -> str:
        voided = f"（含已作废 {self.voided} 次）" if self.voided else ""
        return f"已导出 {self.year} 年随访 {self.visits} 次{voided}、管理对象 {self.enrolments} 条：{self.path}"


def _scope(actor: Actor, village_id: int | None) -> list:
    conditions = [Resident.deleted.is_(False)]
    conditions.append(village_scope(actor, Resident.village_id))
    if village_id is not None:
        conditions.append(Resident.village_id == village_id)
    return conditions


def _visits_query(period: Period, scope: list):
    return (select(*_VISIT).join(Resident, Resident.id == FollowupVisit.resident_id)
            .join(Village, Village.id == Resident.village_id)
            .where(or_(FollowupVisit.deleted.is_(False), FollowupVisit.voided_at.is_not(None)),
                   FollowupVisit.visit_date >= period.start,
                   FollowupVisit.visit_date <= period.end, *scope))


def _enrolments_query(period: Period, scope: list):
    return (select(*_ENROLMENT).join(Resident, Resident.id == ChronicEnrolment.resident_id)
            .join(Village, Village.id == Resident.village_id)
            .outerjoin(Staff, Staff.id == ChronicEnrolment.responsible_doctor_id)
            .where(ChronicEnrolment.deleted.is_(False), ChronicEnrolment.managed_from <= period.end,
                   or_(ChronicEnrolment.ended_on.is_(None), ChronicEnrolment.ended_on >= period.start), *scope))


def _count(session: Session, query) -> int:
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0


def _person(row: Any) -> tuple[Any, ...]:
    record_no, name, sex, birth, village, disease = row[:6]
    return record_no, name, SEX_LABELS.get(sex, sex), birth, village, Disease(disease).label


def _visit_row(row: Any) -> tuple[Any, ...]:
    (day, method, sbp, dbp, heart_rate, weight, glucose, hba1c, adherence, chosen, suggested, reason, step,
     next_day, doctor) = row[6:21]
    method, adherence, chosen, suggested, step = core_cells(method, adherence, chosen, suggested, step)
    return (*_person(row), day, method, sbp, dbp, heart_rate, weight, glucose, hba1c, adherence, chosen, suggested,
            reason, step, next_day, doctor, *form_cells(row[21:]))


def _enrolment_row(row: Any) -> tuple[Any, ...]:
    return (*_person(row), *row[6:])


@dataclass
class FollowupExport:
    """The export job: `FollowupExport(db, actor, path, year=2025, village_id=None)(abort=..., progress=...)`."""

    db: Database
    actor: Actor
    path: Path
    year: int
    village_id: int | None = None

    def __call__(self, *, abort: threading.Event, progress: ProgressFn) -> FollowupExportResult:
        with refusals_audited(self.db, self.actor, f"导出随访记录《{Path(self.path).name}》"):
            require(self.actor, Permission.EXPORT_FOLLOWUPS)
        period = Period.for_year(self.year, now().date())
        target = Path(self.path)
        temporary = target.with_name(f".{target.stem}.{uuid4().hex[:8]}.part.xlsx")
        progress(0.0, "正在查找随访记录……")
        try:
            visits, voided, enrolments = self._write(temporary, period, abort, progress)
            raise_if_aborted(abort)
            with self.db.write() as session:
                audit.record(session, self.actor, Action.EXPORT, entity_type="followup_visit", entity_id=target.name,
                             summary=f"导出 {self.year} 年随访记录《{target.name}》：随访 {visits} 次"
                                     f"{f'（含已作废 {voided} 次）' if voided else ''}，管理对象 {enrolments} 条")
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)
        progress(1.0, "导出完成")
        return FollowupExportResult(target, self.year, visits, enrolments, voided=voided)

    def _write(self, path: Path, period: Period, abort: threading.Event,
               progress: ProgressFn) -> tuple[int, int, int]:
        scope = _scope(self.actor, self.village_id)
        visits_query = _visits_query(period, scope).order_by(
            Village.code, Resident.record_no, FollowupVisit.disease, FollowupVisit.visit_date, FollowupVisit.id)
        enrolments_query = _enrolments_query(period, scope).order_by(
            Village.code, Resident.record_no, ChronicEnrolment.disease, ChronicEnrolment.managed_from)
        with self.db.read() as session:
            visits, enrolments = _count(session, visits_query), _count(session, enrolments_query)
            voided = _count(session, visits_query.where(FollowupVisit.voided_at.is_not(None)))
            writer = SheetWriter(path, sheet="随访记录", widths=[w for _, w in VISIT_COLUMNS], rows=visits,
                                 text_columns=TEXT_COLUMNS, shared_strings=True)
            try:
                writer.write_header([title for title, _ in VISIT_COLUMNS])
                self._rows(session, writer, visits_query, _visit_row, visits, abort, progress)
                writer.add_sheet("管理对象", widths=[w for _, w in ENROLMENT_COLUMNS], rows=enrolments,
                                 text_columns=TEXT_COLUMNS)
                writer.write_header([title for title, _ in ENROLMENT_COLUMNS])
                self._rows(session, writer, enrolments_query, _enrolment_row, 0, abort, progress)
            except BaseException:
                writer.discard()
                raise
            writer.close()
        return visits, voided, enrolments

    @staticmethod
    def _rows(session: Session, writer: SheetWriter, query, make, total: int, abort: threading.Event,
              progress: ProgressFn) -> None:
        for count, row in enumerate(session.execute(query.execution_options(yield_per=CHUNK)), start=1):
            writer.write_row(make(row))
            if count % CHUNK == 0:
                raise_if_aborted(abort)
                if total:
                    progress(0.95 * count / total, f"已写入随访 {count} / {total}")


def _export_job(db: Database, actor: Actor, out: Path, options: Mapping[str, Any]) -> FollowupExport:
    code = options.get("village")
    village_id = village_filter(db, actor, code).village_id if code else None
    return FollowupExport(db, actor, out, year=options["year"], village_id=village_id)


FOLLOWUP_EXPORT = ExportSpec(kind="followups", label="随访记录和管理对象", permission=Permission.EXPORT_FOLLOWUPS,
                             job=_export_job, options=(YEAR_OPTION, VILLAGE_OPTION))
