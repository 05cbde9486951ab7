"""Chronic-disease follow-up rules (高血压 / 2型糖尿病患者随访服务记录表).

Pure functions over one visit's values: sanity ranges, whether the values are on target,
the emergency-referral reasons, the suggested classification and next step, and the next
visit date. Thresholds that provinces change live in `FollowupRules` [configurable].
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from desktop.errors import ValidationError


class Disease(StrEnum):
    HYPERTENSION = "hypertension"
    DIABETES = "diabetes"

    @property
    def label(self) -> str:
        return "高血压" if self is Disease.HYPERTENSION else "2型糖尿病"


class VisitMethod(StrEnum):
    """随访方式. Only clinic and home visits are face to face."""

    CLINIC = "1"
    HOME = "2"
    PHONE = "3"

    @property
    def label(self) -> str:
        return {"1": "门诊", "2": "家庭", "3": "电话"}[self.value]

    @property
    def is_face_to_face(self) -> bool:
        return self is not VisitMethod.PHONE


class Classification(StrEnum):
    """此次随访分类."""

    CONTROLLED = "1"
    UNCONTROLLED = "2"
    ADVERSE_REACTION = "3"
    COMPLICATION = "4"

    @property
    def label(self) -> str:
        return {"1": "控制满意", "2": "控制不满意", "3": "不良反应", "4": "并发症"}[self.value]


class NextStep(StrEnum):
    """下一步管理措施."""

    ROUTINE = "1"
    RECHECK_IN_TWO_WEEKS = "2"
    REFER_AND_FOLLOW_UP = "3"
    EMERGENCY_REFERRAL = "4"

    @property
    def label(self) -> str:
        return {"1": "常规随访", "2": "第1次控制不满意2周随访", "3": "两次控制不满意转诊随访",
                "4": "紧急转诊"}[self.value]

    @property
    def is_referral(self) -> bool:
        """转诊 or 紧急转诊: the visit must name the reason and the receiving institution."""
        return self in (NextStep.REFER_AND_FOLLOW_UP, NextStep.EMERGENCY_REFERRAL)


class Measurement(StrEnum):
    """Where the visit's readings come from; a phone visit has the patient's own or none."""

    DOCTOR = "1"
    SELF = "2"
    NOT_MEASURED = "3"

    @property
    def label(self) -> str:
        return {"1": "医生测量", "2": "居民自测", "3": "未测"}[self.value]


HYPERTENSION_DANGER_SIGNS = (
    "意识改变", "剧烈头痛或头晕", "恶心呕吐", "视力模糊、眼痛", "心悸、胸闷", "喘憋不能平卧",
    "处于妊娠期或哺乳期同时血压高于正常", "存在不能处理的其他疾病",
)
DIABETES_DANGER_SIGNS = (
    "意识或行为改变", "呼气有烂苹果样丙酮味", "心悸、出汗", "食欲减退、恶心、呕吐", "多饮、多尿",
    "腹痛", "有深大呼吸、皮肤潮红", "持续性心动过速（心率超过每分钟100次）", "体温超过39摄氏度",
    "有其他的突发异常情况", "视力突然骤降", "处于妊娠期或哺乳期同时血糖高于正常", "存在不能处理的其他疾病",
)
ADVERSE_REACTION_REFERRAL = "不良反应难以控制"


@dataclass(frozen=True)
class FollowupRules:
    """Targets and thresholds [configurable]; the defaults are the national specification's."""

    sbp_target: int = 140
    dbp_target: int = 90
    elderly_age: int = 65
    elderly_sbp_target: int = 150
    elderly_dbp_target: int = 90
    glucose_target: float = 7.0
    emergency_sbp: int = 180
    emergency_dbp: int = 110
    emergency_glucose_high: float = 16.7
    emergency_glucose_low: float = 3.9
    emergency_heart_rate: int = 100
    routine_interval_months: int = 3
    recheck_interval_days: int = 14
    face_to_face_per_year: int = 4


DEFAULT_RULES = FollowupRules()

# field -> (label, unit, lowest, highest): outside these a value is an entry error.
SANITY_RANGES: dict[str, tuple[str, str, float, float]] = {
    "sbp": ("收缩压", "mmHg", 60, 300),
    "dbp": ("舒张压", "mmHg", 30, 200),
    "heart_rate": ("心率", "次/分", 30, 220),
    "weight": ("体重", "kg", 20, 250),
    "target_weight": ("目标体重", "kg", 20, 250),
    "height": ("身高", "cm", 80, 230),
    "fasting_glucose": ("空腹血糖", "mmol/L", 1.0, 35.0),
    "hba1c": ("糖化血红蛋白", "%", 3, 20),
    "cigarettes_per_day": ("日吸烟量", "支", 0, 100),
    "alcohol_liang_per_day": ("日饮酒量", "两", 0, 40),
    "exercise_times_per_week": ("运动次数", "次/周", 0, 21),
    "exercise_minutes": ("运动时间", "分钟/次", 0, 600),
    "staple_grams_per_day": ("主食", "克/天", 0, 2000),
}


@dataclass(frozen=True)
class Readings:
    """The measured values that drive the rules (None when not measured)."""

    sbp: int | None = None
    dbp: int | None = None
    fasting_glucose: float | None = None
    heart_rate: int | None = None


def range_problems(values: dict[str, float | None]) -> dict[str, str]:
    """field -> message for each value outside its sanity range, and SBP not above DBP."""
    problems: dict[str, str] = {}
    for field, value in values.items():
        if value is None or field not in SANITY_RANGES:
            continue
        label, unit, low, high = SANITY_RANGES[field]
        if not low <= value <= high:
            problems[field] = f"{label} {value:g} {unit} 超出合理范围（{low:g}–{high:g}），请核对。"
    sbp, dbp = values.get("sbp"), values.get("dbp")
    if sbp is not None and dbp is not None and "sbp" not in problems and sbp <= dbp:
        problems["sbp"] = f"收缩压 {sbp:g} 应高于舒张压 {dbp:g}，请核对是否填反。"
    return problems


def check_ranges(values: dict[str, float | None]) -> None:
    if problems := range_problems(values):
        raise ValidationError(problems)


def bp_target(age: int, rules: FollowupRules = DEFAULT_RULES) -> tuple[int, int]:
    """(SBP, DBP) a patient of this age must stay below."""
    if age >= rules.elderly_age:
        return rules.elderly_sbp_target, rules.elderly_dbp_target
    return rules.sbp_target, rules.dbp_target


def on_target(disease: Disease, readings: Readings, age: int, rules: FollowupRules = DEFAULT_RULES) -> bool | None:
    """Whether the visit's values meet the control target; None when the deciding value is missing."""
    if disease is Disease.HYPERTENSION:
        if readings.sbp is None or readings.dbp is None:
            return None
        sbp_limit, dbp_limit = bp_target(age, rules)
        return readings.sbp < sbp_limit and readings.dbp < dbp_limit
    if readings.fasting_glucose is None:
        return None
    return readings.fasting_glucose < rules.glucose_target


def emergency_reasons(
    disease: Disease, readings: Readings, danger_signs: tuple[str, ...] = (), rules: FollowupRules = DEFAULT_RULES,
) -> list[str]:
    """Why this visit calls for an emergency referral (empty when it does not)."""
    reasons: list[str] = []
    if readings.sbp is not None and readings.sbp >= rules.emergency_sbp:
        reasons.append(f"收缩压 {readings.sbp} ≥ {rules.emergency_sbp} mmHg")
    if readings.dbp is not None and readings.dbp >= rules.emergency_dbp:
        reasons.append(f"舒张压 {readings.dbp} ≥ {rules.emergency_dbp} mmHg")
    if disease is Disease.DIABETES and readings.fasting_glucose is not None:
        glucose = readings.fasting_glucose
        if glucose >= rules.emergency_glucose_high:
            reasons.append(f"血糖 {glucose:g} ≥ {rules.emergency_glucose_high:g} mmol/L")
        elif glucose <= rules.emergency_glucose_low:
            reasons.append(f"血糖 {glucose:g} ≤ {rules.emergency_glucose_low:g} mmol/L")
    if readings.heart_rate is not None and readings.heart_rate > rules.emergency_heart_rate:
        reasons.append(f"心率 {readings.heart_rate} > {rules.emergency_heart_rate} 次/分")
    reasons.extend(f"危急情况：{sign}" for sign in danger_signs)
    return reasons


@dataclass(frozen=True)
class Suggestion:
    """What the rules propose for a visit; the doctor chooses the classification (another needs a reason).

    `classification` is None when no reading decides it (no blood pressure for hypertension, no
    fasting glucose for diabetes) and neither an adverse reaction nor a complication does.
    """

    classification: Classification | None
    next_step: NextStep
    next_visit: date
    emergency: tuple[str, ...]
    referral_reason: str | None = None


def classify(
    disease: Disease, readings: Readings, *, age: int, adverse_reaction: bool = False,
    new_complication: bool = False, rules: FollowupRules = DEFAULT_RULES,
) -> Classification | None:
    """此次随访分类 by the rules; None when nothing measured or reported decides it."""
    target = on_target(disease, readings, age, rules)
    if new_complication:
        return Classification.COMPLICATION
    if target is False:
        return Classification.UNCONTROLLED
    if adverse_reaction:
        return Classification.ADVERSE_REACTION
    return Classification.CONTROLLED if target else None


@dataclass(frozen=True)
class StepFacts:
    """What decides the next step besides the classification."""

    emergency: tuple[str, ...] = ()
    adverse_reaction: bool = False
    new_complication: bool = False
    previous: Classification | None = None
    previous_adverse_reaction: bool = False


def next_step(classification: Classification | None, facts: StepFacts) -> tuple[NextStep, str | None]:
    """下一步管理措施 for a classification, with the referral reason the rules give (None when not referred)."""
    if facts.emergency:
        return NextStep.EMERGENCY_REFERRAL, "；".join(facts.emergency)
    if facts.new_complication or classification is Classification.COMPLICATION:
        return NextStep.REFER_AND_FOLLOW_UP, "新发并发症或原有并发症加重"
    if facts.adverse_reaction and (facts.previous is Classification.ADVERSE_REACTION
                                   or facts.previous_adverse_reaction):
        return NextStep.REFER_AND_FOLLOW_UP, ADVERSE_REACTION_REFERRAL
    if classification is Classification.UNCONTROLLED and facts.previous is Classification.UNCONTROLLED:
        return NextStep.REFER_AND_FOLLOW_UP, "连续两次控制不满意"
    if classification is Classification.CONTROLLED:
        return NextStep.ROUTINE, None
    # uncontrolled, an adverse reaction, or nothing measured: see the patient again soon
    return NextStep.RECHECK_IN_TWO_WEEKS, None


def suggest(
    disease: Disease,
    readings: Readings,
    *,
    visit_date: date,
    age: int,
    adverse_reaction: bool = False,
    new_complication: bool = False,
    previous: Classification | None = None,
    previous_adverse_reaction: bool = False,
    danger_signs: tuple[str, ...] = (),
    rules: FollowupRules = DEFAULT_RULES,
) -> Suggestion:
    """The classification, next step and next visit date the specification asks for.

    `previous` is the classification of the patient's latest earlier visit that had a reading.
    """
    emergency = tuple(emergency_reasons(disease, readings, danger_signs, rules))
    classification = classify(disease, readings, age=age, adverse_reaction=adverse_reaction,
                              new_complication=new_complication, rules=rules)
    facts = StepFacts(emergency, adverse_reaction, new_complication, previous, previous_adverse_reaction)
    step, reason = next_step(classification, facts)
    return Suggestion(classification, step, next_visit_date(visit_date, step, rules), emergency, reason)


def has_reading(disease: Disease, *, sbp: float | None, dbp: float | None, fasting_glucose: float | None,
                measurement: str | None = None) -> bool:
    """Whether a stored visit has the reading that decides its classification (BP, or glucose for diabetes)."""
    if measurement == Measurement.NOT_MEASURED.value:
        return False
    if disease is Disease.DIABETES:
        return fasting_glucose is not None
    return sbp is not None and dbp is not None


def next_visit_date(visit_date: date, step: NextStep, rules: FollowupRules = DEFAULT_RULES) -> date:
    """Two weeks after any visit that needs a recheck or referral follow-up, else three months."""
    if step is NextStep.ROUTINE:
        return add_months(visit_date, rules.routine_interval_months)
    return visit_date + timedelta(days=rules.recheck_interval_days)


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's last day (31 Jan + 1 -> 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))
