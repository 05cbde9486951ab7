"""The 高血压 / 2型糖尿病患者随访服务记录表 as a registered form: `print followup RECORD_NUMBER --disease --year`."""

from __future__ import annotations

from dataclasses import fields
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desktop.errors import UserFacingError, ValidationError
from desktop.models import ChronicEnrolment, FollowupVisit, Resident
from desktop.printing.followup_form import TITLES, PatientHeader, VisitRecord, followup_sheets
from desktop.printing.people import RECORD_NO_HELP, clean_record_no, resident_for_print
from desktop.printing.registry import FormOption, PrintForm, Printout, register_form
from desktop.rules.followup import Disease
from desktop.services.permissions import Actor, Permission

FIRST_YEAR, LAST_YEAR = 1990, 2100
_VISIT_FIELDS = tuple(f.name for f in fields(VisitRecord))


def load_followup_form(session: Session, actor: Actor, key: str, *, disease: Disease | str,
                       year: int | str) -> Printout:
    """The patient's record forms for the year: four visits a sheet, in date order."""
    disease = Disease(disease)
    number = clean_record_no(key)
    year = _year(year)
    resident = resident_for_print(session, actor, number)
    _require_enrolled(session, resident, disease)
    visits = _visits(session, resident.id, disease, year)
    voided = _voided_count(session, resident.id, disease, year)
    patient = PatientHeader(resident.name, resident.record_no)
    sheets = followup_sheets(disease, patient, visits, year, voided=voided)
    title = TITLES[disease]
    left_out = f"，已作废 {voided} 次不打印" if voided else ""
    return Printout(
        sheets=sheets, title=f"{patient.name} {title} {year}", village_id=resident.village_id,
        entity_type="resident", entity_id=resident.uuid,
        summary=f"打印 {patient.name}（{patient.record_no}）{title} {year} 年，{len(visits)} 次随访{left_out}，"
                f"{len(sheets)} 页")


def _year(value: int | str) -> int:
    try:
        year = int(value)
    except (TypeError, ValueError):
        year = 0
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValidationError.single("year", f"年度“{value}”应为 {FIRST_YEAR}–{LAST_YEAR} 之间的四位年份。")
    return year


def _require_enrolled(session: Session, resident: Resident, disease: Disease) -> None:
    enrolled = session.scalar(select(ChronicEnrolment.id).where(
        ChronicEnrolment.resident_id == resident.id, ChronicEnrolment.disease == disease.value,
        ChronicEnrolment.deleted.is_(False)).limit(1))
    if enrolled is None:
        raise UserFacingError(f"{resident.name}未纳入{disease.label}管理，没有随访记录表可打印。")


def _in_year(resident_id: int, disease: Disease, year: int) -> tuple:
    return (FollowupVisit.resident_id == resident_id, FollowupVisit.disease == disease.value,
            FollowupVisit.visit_date.between(date(year, 1, 1), date(year, 12, 31)))


def _visits(session: Session, resident_id: int, disease: Disease, year: int) -> list[VisitRecord]:
    """The year's visits as they stand now (a corrected visit in its current version); voided ones left out."""
    rows = session.scalars(
        select(FollowupVisit).where(*_in_year(resident_id, disease, year), FollowupVisit.deleted.is_(False))
        .order_by(FollowupVisit.visit_date, FollowupVisit.id))
    return [visit_record(visit) for visit in rows]


def _voided_count(session: Session, resident_id: int, disease: Disease, year: int) -> int:
    return session.scalar(select(func.count()).select_from(FollowupVisit).where(
        *_in_year(resident_id, disease, year), FollowupVisit.voided_at.is_not(None))) or 0


def visit_record(visit: FollowupVisit) -> VisitRecord:
    """The stored visit as the form prints it; a voided visit is refused (it is no longer a record)."""
    if visit.voided_at is not None or visit.void_reason:
        raise UserFacingError(f"{visit.visit_date:%Y-%m-%d} 的随访已作废（{visit.void_reason or '未注明原因'}），"
                              "不能打印。")
    values = {name: getattr(visit, name) for name in _VISIT_FIELDS}
    for name in ("symptoms", "medications", "medication_advice"):
        values[name] = tuple(values[name] or ())
    values["lifestyle"] = dict(values["lifestyle"] or {})
    return VisitRecord(**values)


def followup_example(session: Session) -> tuple[str, dict[str, Any]] | None:
    """The patient with the most visits in one year, and that year."""
    year = func.strftime("%Y", FollowupVisit.visit_date)
    found = session.execute(
        select(Resident.record_no, FollowupVisit.disease, year)
        .join(Resident, Resident.id == FollowupVisit.resident_id)
        .where(FollowupVisit.deleted.is_(False))
        .group_by(Resident.id, FollowupVisit.disease, year)
        .order_by(func.count().desc(), Resident.id).limit(1)).first()
    return None if found is None else (found[0], {"disease": found[1], "year": int(found[2])})


FORM = register_form(PrintForm(
    key="followup",
    label="高血压或2型糖尿病患者随访服务记录表（每页 4 次随访）",
    permission=Permission.VIEW_FOLLOWUPS,
    key_metavar="RECORD_NUMBER",
    key_help=RECORD_NO_HELP,
    load=load_followup_form,
    options=(
        FormOption("disease", "hypertension（高血压）或 diabetes（2型糖尿病）",
                   choices=tuple(disease.value for disease in Disease)),
        FormOption("year", "年度，例如 2025", parse=int),
    ),
    example=followup_example,
))
