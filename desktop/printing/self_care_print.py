"""The 老年人生活自理能力评估表 of a yearly health check as a registered form: `print self-care RECORD_NUMBER [--date]`."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop.errors import UserFacingError, ValidationError
from desktop.models import HealthCheck, Resident
from desktop.printing.people import RECORD_NO_HELP, clean_record_no, resident_for_print
from desktop.printing.registry import FormOption, PrintForm, Printout, register_form
from desktop.printing.self_care_form import TITLE, SelfCareRecord, self_care_sheet
from desktop.rules.dates import DateError, parse_date
from desktop.services.permissions import Actor, Permission

FORM_KEY = "self-care"


def load_self_care_form(session: Session, actor: Actor, key: str, *, date: date | str | None = None) -> Printout:
    """The assessment of the check on `date`, or of the latest assessed check."""
    day = _day(date)
    resident = resident_for_print(session, actor, clean_record_no(key))
    check = _check(session, resident, day)
    record = SelfCareRecord(resident.name, resident.record_no, check.check_date, check.doctor_name,
                            {item: int(level) for item, level in check.self_care.items()})
    return Printout(
        sheets=[self_care_sheet(record)], title=f"{record.name} {TITLE}", village_id=resident.village_id,
        entity_type="resident", entity_id=resident.uuid,
        summary=f"打印 {record.name}（{record.record_no}）{TITLE}（{record.check_date:%Y-%m-%d} 体检）")


def _day(value: date | str | None) -> date | None:
    if value is None or value == "":
        return None
    try:
        return parse_date(value)
    except DateError as error:
        raise ValidationError.single("date", f"体检日期：{error}") from None


def _check(session: Session, resident: Resident, day: date | None) -> HealthCheck:
    """The check of that day (an assessed one first, then the last entered), else the latest assessed check."""
    query = select(HealthCheck).where(HealthCheck.resident_id == resident.id, HealthCheck.deleted.is_(False))
    if day is None:
        query = query.where(HealthCheck.self_care_total.is_not(None))
    else:
        query = query.where(HealthCheck.check_date == day)
    order = (HealthCheck.self_care_total.is_(None), HealthCheck.check_date.desc(), HealthCheck.id.desc())
    check = session.scalars(query.order_by(*order).limit(1)).first()
    if check is None and day is not None:
        raise UserFacingError(f"{resident.name}没有 {day:%Y-%m-%d} 的体检记录。")
    if check is None or not check.self_care:
        when = f" {check.check_date:%Y-%m-%d} 的体检" if check is not None else "的体检都"
        raise UserFacingError(f"{resident.name}{when}没有生活自理能力评估（65 岁及以上老年人才评估）。")
    return check


def self_care_example(session: Session) -> tuple[str, dict[str, Any]] | None:
    """The first assessed check's person and day."""
    found = session.execute(
        select(Resident.record_no, HealthCheck.check_date).join(Resident, Resident.id == HealthCheck.resident_id)
        .where(HealthCheck.self_care_total.is_not(None), HealthCheck.deleted.is_(False))
        .order_by(HealthCheck.id).limit(1)).first()
    return None if found is None else (found[0], {"date": found[1]})


FORM = register_form(PrintForm(
    key=FORM_KEY,
    label=f"{TITLE}（65 岁及以上老年人的年度体检）",
    permission=Permission.VIEW_FOLLOWUPS,
    key_metavar="RECORD_NUMBER",
    key_help=RECORD_NO_HELP,
    load=load_self_care_form,
    options=(FormOption("date", "体检日期，例如 2025-04-02（不填则取最近一次有评估的体检）", parse=str, required=False,
                        metavar="YYYY-MM-DD"),),
    example=self_care_example,
))
