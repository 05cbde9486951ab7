"""The yearly health check (健康体检), and for people 65+ the self-care assessment with it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from desktop.changes import Changes
from desktop.clock import now
from desktop.db import Database
from desktop.errors import UserFacingError, ValidationError
from desktop.models import HealthCheck, Resident
from desktop.rules.dates import DateError, age_on, parse_date
from desktop.rules.elderly import SELF_CARE_ITEMS, Dependence, bmi, self_care_score
from desktop.rules.followup import range_problems
from desktop.rules.health_check_completeness import EXAMINATION_PARTS, present
from desktop.rules.population import ELDERLY_AGE
from desktop.services import audit
from desktop.services.audit import Action
from desktop.services.life_events import ensure_alive_on
from desktop.services.permissions import Actor, Permission, ensure_in_scope, require

CHECK_NUMBERS = ("sbp", "dbp", "heart_rate", "height", "weight")
CHECK_LABELS = {"check_date": "体检日期", "waist": "腰围", "doctor_name": "责任医生"}
GUIDANCE = {"1": "纳入慢性病患者健康管理", "2": "建议复查", "3": "建议转诊", "4": "戒烟", "5": "健康饮酒",
            "6": "饮食", "7": "锻炼", "8": "减体重", "9": "建议接种疫苗"}
EXAMINATION_LIMIT = 100


@dataclass(frozen=True)
class HealthCheckInput:
    check_date: object
    doctor_name: str
    sbp: int | None = None
    dbp: int | None = None
    heart_rate: int | None = None
    height: float | None = None
    weight: float | None = None
    waist: float | None = None
    self_care: dict[str, Dependence] = field(default_factory=dict)
    lifestyle: dict[str, str] = field(default_factory=dict)
    results: dict[str, str] = field(default_factory=dict)
    examination: dict[str, str] = field(default_factory=dict)  # 查体: part -> 未见异常 or the finding's text
    evaluation_abnormal: bool | None = None  # 健康评价: the doctor chooses 体检无异常 (False) or 有异常 (True)
    evaluation_note: str = ""
    guidance: tuple[str, ...] = ()
    doctor_id: int | None = None


def _check(data: HealthCheckInput, resident: Resident, today: date) -> tuple[date, int | None]:
    """The check date and self-care total, or ValidationError naming each bad field."""
    errors: dict[str, str] = {}
    day = None
    try:
        day = parse_date(data.check_date)
    except DateError as error:
        errors["check_date"] = f"体检日期：{error}"
    if day is not None and day > today:
        errors["check_date"] = "体检日期晚于今天。"
    elif day is not None and day < resident.birth_date:
        errors["check_date"] = "体检日期早于出生日期。"
    errors.update(range_problems({name: getattr(data, name) for name in CHECK_NUMBERS}))
    if data.waist is not None and not 40 <= data.waist <= 200:
        errors["waist"] = f"腰围 {data.waist:g} cm 超出合理范围（40–200），请核对。"
    if not data.doctor_name.strip():
        errors["doctor_name"] = "请填写责任医生。"
    if data.evaluation_abnormal is None:
        errors["evaluation"] = "请选择健康评价：体检无异常或有异常。"
    for part, name in EXAMINATION_PARTS.items():
        if len(str(data.examination.get(part) or "")) > EXAMINATION_LIMIT:
            errors[f"examination_{part}"] = f"查体{name}的描述超过 {EXAMINATION_LIMIT} 字，请精简。"
    if unknown := [g for g in data.guidance if g not in GUIDANCE]:
        errors["guidance"] = f"健康指导代码不对：{'、'.join(unknown)}。"
    total = None
    elderly = day is not None and age_on(resident.birth_date, day) >= ELDERLY_AGE
    if data.self_care or elderly:
        try:
            total = self_care_score(data.self_care).total
        except ValidationError as error:
            errors.update(error.errors)
    if errors:
        raise ValidationError(errors)
    return day, total


def examination_values(examination: dict[str, object]) -> dict[str, object]:
    """The 查体 as the column keeps it: texts trimmed, empty parts left out (other recorded parts kept as they are)."""
    return {part: value.strip() if isinstance(value, str) else value
            for part, value in examination.items() if present(value)}


def record_health_check(db: Database, actor: Actor, resident_id: int, data: HealthCheckInput) -> Changes:
    """Store a health check; for people 65+ the self-care assessment is required."""
    require(actor, Permission.EDIT_FOLLOWUPS)
    with db.write() as session:
        resident = session.get(Resident, resident_id)
        if resident is None or resident.deleted:
            raise UserFacingError("该档案不存在，请刷新后重试。")
        ensure_in_scope(actor, resident.village_id)
        day, total = _check(data, resident, now().date())
        ensure_alive_on(resident, day, what="体检", field="check_date")
        check = HealthCheck(
            resident_id=resident.id, check_date=day, sbp=data.sbp, dbp=data.dbp, heart_rate=data.heart_rate,
            height=data.height, weight=data.weight, waist=data.waist,
            bmi=bmi(data.weight, data.height) if data.weight and data.height else None,
            self_care={item: int(level) for item, level in data.self_care.items() if item in SELF_CARE_ITEMS},
            self_care_total=total, lifestyle=dict(data.lifestyle), results=dict(data.results),
            evaluation_abnormal=data.evaluation_abnormal, evaluation_note=data.evaluation_note.strip() or None,
            examination=examination_values(data.examination),
            guidance=list(data.guidance), doctor_id=data.doctor_id, doctor_name=data.doctor_name.strip(),
        )
        session.add(check)
        session.flush()
        audit.record(session, actor, Action.CREATE, entity_type="health_check", entity_id=check.uuid,
                     summary=f"{resident.name}（{resident.record_no}）健康体检 {day:%Y-%m-%d}")
        return Changes(followups=True, audit=True)
