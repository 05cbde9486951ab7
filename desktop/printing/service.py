"""Printing for people: read what the form needs, lay it out, write the PDF, audit the print.

Printing is scoped like viewing (village doctors print only their villages' people) and needs
Permission.VIEW_FOLLOWUPS. Paper carries the record as it is: the screen's masking does not
apply (these forms hold no ID or phone number anyway). Every print is audited (Action.PRINT).
"""

from __future__ import annotations

from dataclasses import fields
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop.db import Database
from desktop.errors import UserFacingError, ValidationError
from desktop.models import ChronicEnrolment, FollowupVisit, HealthCheck, Resident
from desktop.printing.followup_form import TITLES, PatientHeader, VisitRecord, followup_sheets
from desktop.printing.pdf import render_pdf
from desktop.printing.self_care_form import TITLE as SELF_CARE_TITLE
from desktop.printing.self_care_form import SelfCareRecord, self_care_sheet
from desktop.printing.sheet import PrintedPdf
from desktop.rules.followup import Disease
from desktop.rules.text import squeeze
from desktop.services import audit
from desktop.services.audit import Action
from desktop.services.permissions import Actor, Permission, ensure_in_scope, require

RECORD_NO_DIGITS = 17
FIRST_YEAR, LAST_YEAR = 1990, 2100


def clean_record_no(text: str) -> str:
    """The 17-digit 健康档案编号, accepting spaces, dashes and full-width digits."""
    digits = squeeze(str(text)).replace("-", "")
    if len(digits) != RECORD_NO_DIGITS or not digits.isascii() or not digits.isdigit():
        raise ValidationError.single("record_no", f"档案编号“{text}”应为 17 位数字。")
    return digits


def followup_sheets_pdf(db: Database, actor: Actor, record_no: str, disease: Disease | str, year: int) -> PrintedPdf:
    """The patient's 随访服务记录表 for the year: four visits a sheet, in date order."""
    require(actor, Permission.VIEW_FOLLOWUPS)
    disease = Disease(disease)
    number = clean_record_no(record_no)
    if not FIRST_YEAR <= int(year) <= LAST_YEAR:
        raise ValidationError.single("year", f"年度“{year}”应为 {FIRST_YEAR}–{LAST_YEAR} 之间的四位年份。")
    with db.read() as session:
        resident = _resident(session, actor, number)
        _require_enrolled(session, resident, disease)
        visits = _visits(session, resident.id, disease, int(year))
        patient = PatientHeader(resident.name, resident.record_no)
        resident_uuid = resident.uuid
    pdf = render_pdf(followup_sheets(disease, patient, visits, int(year)), f"{patient.name} {TITLES[disease]} {year}")
    _audit(db, actor, resident_uuid,
           f"打印 {patient.name}（{patient.record_no}）{TITLES[disease]} {year} 年，{len(visits)} 次随访，{pdf.page_count} 页")
    return pdf


def self_care_pdf(db: Database, actor: Actor, check_id: int) -> PrintedPdf:
    """The 老年人生活自理能力评估表 of one yearly health check."""
    require(actor, Permission.VIEW_FOLLOWUPS)
    with db.read() as session:
        check = session.get(HealthCheck, check_id)
        if check is None or check.deleted:
            raise UserFacingError("该体检记录不存在，请刷新后重试。")
        resident = session.get(Resident, check.resident_id)
        ensure_in_scope(actor, resident.village_id)
        if not check.self_care:
            raise UserFacingError(f"{resident.name} {check.check_date:%Y-%m-%d} 的体检没有生活自理能力评估"
                                  "（65 岁及以上老年人才评估）。")
        record = SelfCareRecord(resident.name, resident.record_no, check.check_date, check.doctor_name,
                                {item: int(level) for item, level in check.self_care.items()})
        resident_uuid = resident.uuid
    pdf = render_pdf([self_care_sheet(record)], f"{record.name} {SELF_CARE_TITLE}")
    _audit(db, actor, resident_uuid,
           f"打印 {record.name}（{record.record_no}）{SELF_CARE_TITLE}（{record.check_date:%Y-%m-%d} 体检）")
    return pdf


def _resident(session: Session, actor: Actor, record_no: str) -> Resident:
    resident = session.scalar(select(Resident).where(Resident.record_no == record_no, Resident.deleted.is_(False)))
    if resident is None:
        raise UserFacingError(f"没有档案编号为 {record_no} 的居民。")
    ensure_in_scope(actor, resident.village_id)
    return resident


def _require_enrolled(session: Session, resident: Resident, disease: Disease) -> None:
    enrolled = session.scalar(select(ChronicEnrolment.id).where(
        ChronicEnrolment.resident_id == resident.id, ChronicEnrolment.disease == disease.value,
        ChronicEnrolment.deleted.is_(False)).limit(1))
    if enrolled is None:
        raise UserFacingError(f"{resident.name}未纳入{disease.label}管理，没有随访记录表可打印。")


_VISIT_FIELDS = tuple(f.name for f in fields(VisitRecord))


def _visits(session: Session, resident_id: int, disease: Disease, year: int) -> list[VisitRecord]:
    rows = session.scalars(
        select(FollowupVisit)
        .where(FollowupVisit.resident_id == resident_id, FollowupVisit.disease == disease.value,
               FollowupVisit.visit_date.between(date(year, 1, 1), date(year, 12, 31)),
               FollowupVisit.deleted.is_(False))
        .order_by(FollowupVisit.visit_date, FollowupVisit.id))
    return [_record(visit) for visit in rows]


def _record(visit: FollowupVisit) -> VisitRecord:
    values = {name: getattr(visit, name) for name in _VISIT_FIELDS}
    values["symptoms"] = tuple(values["symptoms"] or ())
    values["medications"] = tuple(values["medications"] or ())
    values["lifestyle"] = dict(values["lifestyle"] or {})
    return VisitRecord(**values)


def _audit(db: Database, actor: Actor, resident_uuid: str, summary: str) -> None:
    with db.write() as session:
        audit.record(session, actor, Action.PRINT, entity_type="resident", entity_id=resident_uuid, summary=summary)
