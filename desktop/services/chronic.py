"""Chronic-disease management enrolment (慢病管理): start, end, and who is managed when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop.changes import Changes
from desktop.clock import now
from desktop.db import Database
from desktop.errors import UserFacingError, ValidationError
from desktop.models import ChronicEnrolment, Resident
from desktop.rules.chronic_indicators import DEFAULT_INDICATOR_RULES
from desktop.rules.dates import age_on
from desktop.rules.followup import Disease
from desktop.rules.population import KeyPopulation
from desktop.services import audit
from desktop.services.audit import Action
from desktop.services.permissions import Actor, Permission, ensure_in_scope, require
from desktop.services.residents import load_for_write, set_conditions
from desktop.services.settings import HYPERTENSION_MINIMUM_AGE, enrolment_minimum_age_in

MINIMUM_AGE = {Disease.HYPERTENSION: HYPERTENSION_MINIMUM_AGE, Disease.DIABETES: DEFAULT_INDICATOR_RULES.diabetes_minimum_age}
END_REASONS = ("死亡", "迁出本辖区", "失访", "拒绝管理", "排除诊断", "其他")
CONDITION_OF = {Disease.HYPERTENSION: KeyPopulation.HYPERTENSION, Disease.DIABETES: KeyPopulation.DIABETES}


@dataclass(frozen=True)
class EnrolmentInput:
    disease: Disease
    diagnosed_on: date
    managed_from: date
    responsible_doctor_id: int | None = None


def open_enrolment(
    session: Session, resident_id: int, disease: Disease, on: date | None = None,
) -> ChronicEnrolment | None:
    """The resident's enrolment for the disease that is open (on the given day, if any)."""
    query = select(ChronicEnrolment).where(
        ChronicEnrolment.resident_id == resident_id, ChronicEnrolment.disease == disease.value,
        ChronicEnrolment.deleted.is_(False),
    )
    if on is None:
        query = query.where(ChronicEnrolment.ended_on.is_(None))
    else:
        query = query.where(ChronicEnrolment.managed_from <= on,
                            (ChronicEnrolment.ended_on.is_(None)) | (ChronicEnrolment.ended_on >= on))
    return session.scalars(query.order_by(ChronicEnrolment.managed_from.desc())).first()


def check_enrolment(resident: Resident, data: EnrolmentInput, today: date, *, minimum_age: int | None = None) -> None:
    """Refuse dates that do not fit the resident (ValidationError naming each field); shared with imports.

    `minimum_age` is the branch's (`enrolment_minimum_age_in`); the default is MINIMUM_AGE's.
    """
    errors: dict[str, str] = {}
    if data.diagnosed_on > today:
        errors["diagnosed_on"] = "确诊日期晚于今天。"
    elif data.diagnosed_on < resident.birth_date:
        errors["diagnosed_on"] = "确诊日期早于出生日期。"
    if data.managed_from > today:
        errors["managed_from"] = "纳入管理日期晚于今天。"
    elif data.managed_from < data.diagnosed_on:
        errors["managed_from"] = "纳入管理日期早于确诊日期。"
    youngest = MINIMUM_AGE[data.disease] if minimum_age is None else minimum_age
    if age_on(resident.birth_date, data.managed_from) < youngest:
        errors["managed_from"] = f"{data.disease.label}患者健康管理服务对象为 {youngest} 岁及以上居民。"
    if errors:
        raise ValidationError(errors)


def enrol(db: Database, actor: Actor, resident_id: int, data: EnrolmentInput) -> Changes:
    """Put a resident under management; the diagnosis is recorded on the resident as well."""
    require(actor, Permission.EDIT_FOLLOWUPS)
    with db.write() as session:
        resident = load_for_write(session, actor, resident_id, expected_version=None)
        if resident.status != "active":
            raise UserFacingError(f"{resident.name}已不在册，不能纳入管理。")
        check_enrolment(resident, data, now().date(), minimum_age=enrolment_minimum_age_in(session, data.disease))
        if open_enrolment(session, resident.id, data.disease) is not None:
            raise UserFacingError(f"{resident.name}已在{data.disease.label}管理中。")
        enrolment = ChronicEnrolment(
            resident_id=resident.id, disease=data.disease.value, diagnosed_on=data.diagnosed_on,
            managed_from=data.managed_from, responsible_doctor_id=data.responsible_doctor_id,
        )
        session.add(enrolment)
        record_diagnosis(resident, data)
        session.flush()
        audit.record(session, actor, Action.CREATE, entity_type="chronic_enrolment", entity_id=enrolment.uuid,
                     summary=f"{resident.name}（{resident.record_no}）纳入{data.disease.label}管理")
        return Changes(followups=True, residents=True, audit=True)


def record_diagnosis(resident: Resident, data: EnrolmentInput) -> None:
    """Add the disease to the resident's recorded conditions, dated at diagnosis, unless already recorded."""
    kind = CONDITION_OF[data.disease]
    current = [(KeyPopulation(c.kind), c.since) for c in resident.conditions if not c.deleted]
    if all(existing is not kind for existing, _ in current):
        set_conditions(resident, (*current, (kind, data.diagnosed_on)))


def end_enrolment(db: Database, actor: Actor, enrolment_id: int, *, on: date, reason: str) -> Changes:
    """End management on a date with one of END_REASONS."""
    require(actor, Permission.EDIT_FOLLOWUPS)
    if reason not in END_REASONS:
        raise ValidationError.single("end_reason", f"请选择终止管理原因：{'、'.join(END_REASONS)}。")
    with db.write() as session:
        enrolment = session.get(ChronicEnrolment, enrolment_id)
        if enrolment is None or enrolment.deleted:
            raise UserFacingError("该管理记录不存在，请刷新后重试。")
        resident = session.get(Resident, enrolment.resident_id)
        ensure_in_scope(actor, resident.village_id)
        if enrolment.ended_on is not None:
            raise UserFacingError("该管理已终止。")
        if on > now().date() or on < enrolment.managed_from:
            raise ValidationError.single("ended_on", "终止日期应在纳入管理日期和今天之间。")
        enrolment.ended_on, enrolment.end_reason = on, reason
        audit.record(session, actor, Action.UPDATE, entity_type="chronic_enrolment", entity_id=enrolment.uuid,
                     summary=f"{resident.name}（{resident.record_no}）终止{Disease(enrolment.disease).label}管理：{reason}")
        return Changes(followups=True, audit=True)
