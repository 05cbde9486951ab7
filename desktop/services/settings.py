"""Local settings stored as JSON values, with defaults: the idle lock, the follow-up rules and prevalence,
and how period indicators are counted (with the diabetes enrolment age)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session

from desktop.changes import Changes
from desktop.db import Database
from desktop.errors import ValidationError
from desktop.models import Setting
from desktop.rules.chronic_indicators import DEFAULT_INDICATOR_RULES, ControlBasis, IndicatorRules
from desktop.rules.followup import DEFAULT_RULES, Disease, FollowupRules
from desktop.services import audit
from desktop.services.audit import Action
from desktop.services.audit_labels import register_entity_label
from desktop.services.permissions import Actor, Permission, require

register_entity_label("setting", "设置")
IDLE_LOCK_MINUTES = "idle_lock_minutes"
DEFAULTS: dict[str, Any] = {IDLE_LOCK_MINUTES: 10}
HYPERTENSION_MINIMUM_AGE = 35  # the 规范: hypertension management is for residents 35 and over


def get_setting(db: Database, key: str) -> Any:
    """The stored value, or the default."""
    with db.read() as session:
        row = session.get(Setting, key)
        return json.loads(row.value) if row else DEFAULTS.get(key)


def set_idle_lock_minutes(db: Database, actor: Actor, minutes: int) -> Changes:
    """How long the window may stay untouched before it locks (1–120 minutes)."""
    require(actor, Permission.MANAGE_BRANCH)
    if not 1 <= minutes <= 120:
        raise ValidationError.single(IDLE_LOCK_MINUTES, "空闲锁屏时间应在 1–120 分钟之间。")
    with db.write() as session:
        row = session.get(Setting, IDLE_LOCK_MINUTES)
        before = json.loads(row.value) if row else DEFAULTS[IDLE_LOCK_MINUTES]
        if row is None:
            session.add(Setting(key=IDLE_LOCK_MINUTES, value=json.dumps(minutes)))
        else:
            row.value = json.dumps(minutes)
        audit.record(session, actor, Action.UPDATE, entity_type="setting", entity_id=IDLE_LOCK_MINUTES,
                     summary=f"空闲锁屏时间 {before} → {minutes} 分钟")
    return Changes(settings=True, audit=True)


# --- follow-up rules and prevalence [configurable] --------------------------------------------------

FOLLOWUP_RULES = "followup_rules"
PREVALENCE = "prevalence"
# Estimated prevalence among resident adults (18+), the denominator of 健康管理率.
DEFAULT_PREVALENCE: dict[Disease, float] = {Disease.HYPERTENSION: 0.275, Disease.DIABETES: 0.112}
# FollowupRules field -> (label, unit, lowest, highest) a branch may choose.
RULE_BOUNDS: dict[str, tuple[str, str, float, float]] = {
    "sbp_target": ("收缩压控制目标", "mmHg", 110, 160),
    "dbp_target": ("舒张压控制目标", "mmHg", 60, 100),
    "elderly_age": ("老年患者年龄", "岁", 60, 80),
    "elderly_sbp_target": ("老年患者收缩压控制目标", "mmHg", 110, 160),
    "elderly_dbp_target": ("老年患者舒张压控制目标", "mmHg", 60, 100),
    "glucose_target": ("空腹血糖控制目标", "mmol/L", 5.0, 10.0),
    "emergency_sbp": ("紧急转诊收缩压", "mmHg", 160, 220),
    "emergency_dbp": ("紧急转诊舒张压", "mmHg", 90, 140),
    "emergency_glucose_high": ("紧急转诊血糖上限", "mmol/L", 11.1, 33.3),
    "emergency_glucose_low": ("紧急转诊血糖下限", "mmol/L", 2.0, 5.0),
    "routine_interval_months": ("常规随访间隔", "个月", 1, 6),
    "recheck_interval_days": ("控制不满意复查间隔", "天", 7, 30),
    "face_to_face_per_year": ("每年面访次数", "次", 1, 12),
}
PREVALENCE_FIELDS = {Disease.HYPERTENSION: "prevalence_hypertension", Disease.DIABETES: "prevalence_diabetes"}
PREVALENCE_LABELS = {Disease.HYPERTENSION: "高血压患病率", Disease.DIABETES: "2型糖尿病患病率"}


def _stored(session: Session, key: str) -> Any:
    row = session.get(Setting, key)
    return json.loads(row.value) if row else DEFAULTS.get(key)


def _store(session: Session, key: str, value: Any) -> None:
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=json.dumps(value)))
    else:
        row.value = json.dumps(value)


def followup_rules_in(session: Session) -> FollowupRules:
    """The branch's follow-up rules: the national defaults with its stored overrides."""
    overrides = _stored(session, FOLLOWUP_RULES) or {}
    return replace(DEFAULT_RULES, **{k: v for k, v in overrides.items() if k in RULE_BOUNDS})


def prevalence_in(session: Session) -> dict[Disease, float]:
    """The branch's estimated prevalence per disease (defaults where none is stored)."""
    stored = _stored(session, PREVALENCE) or {}
    return {disease: float(stored.get(disease.value, rate)) for disease, rate in DEFAULT_PREVALENCE.items()}


def followup_rules(db: Database) -> FollowupRules:
    """The branch's follow-up rules (see `followup_rules_in`)."""
    with db.read() as session:
        return followup_rules_in(session)


def prevalence(db: Database) -> dict[Disease, float]:
    """The branch's estimated prevalence per disease (see `prevalence_in`)."""
    with db.read() as session:
        return prevalence_in(session)


def rule_problems(rules: FollowupRules, rates: dict[Disease, float]) -> dict[str, str]:
    """field -> Chinese message for each value out of bounds or inconsistent with another."""
    problems: dict[str, str] = {}
    for name, (label, unit, low, high) in RULE_BOUNDS.items():
        value = getattr(rules, name)
        if isinstance(getattr(DEFAULT_RULES, name), int) and value != int(value):
            problems[name] = f"{label}应为整数。"
        elif not low <= value <= high:
            problems[name] = f"{label} {value:g} {unit} 应在 {low:g}–{high:g} 之间。"
    for first, second in (("sbp_target", "emergency_sbp"), ("elderly_sbp_target", "emergency_sbp"),
                          ("dbp_target", "emergency_dbp"), ("elderly_dbp_target", "emergency_dbp"),
                          ("emergency_glucose_low", "glucose_target"), ("glucose_target", "emergency_glucose_high")):
        if first not in problems and second not in problems and getattr(rules, first) >= getattr(rules, second):
            problems.setdefault(second, f"{RULE_BOUNDS[second][0]}应高于{RULE_BOUNDS[first][0]}。")
    for disease, field in PREVALENCE_FIELDS.items():
        rate = rates.get(disease)
        if rate is None or not 0 < rate < 1:
            problems[field] = f"{PREVALENCE_LABELS[disease]}应在 0 与 1 之间（如 0.275 表示 27.5%）。"
    return problems


def _rule_changes(before: FollowupRules, after: FollowupRules, rates_before: dict[Disease, float],
                  rates_after: dict[Disease, float]) -> list[str]:
    changes = [f"{label} {getattr(before, name):g} → {getattr(after, name):g}"
               for name, (label, *_rest) in RULE_BOUNDS.items() if getattr(before, name) != getattr(after, name)]
    changes += [f"{PREVALENCE_LABELS[d]} {rates_before[d]:g} → {rates_after[d]:g}"
                for d in DEFAULT_PREVALENCE if rates_before[d] != rates_after[d]]
    return changes


def set_followup_rules(db: Database, actor: Actor, rules: FollowupRules, rates: dict[Disease, float]) -> Changes:
    """Store the branch's follow-up targets and thresholds and the prevalence per disease."""
    require(actor, Permission.MANAGE_BRANCH)
    if problems := rule_problems(rules, rates):
        raise ValidationError(problems)
    overrides = {name: getattr(rules, name) for name in RULE_BOUNDS
                 if getattr(rules, name) != getattr(DEFAULT_RULES, name)}
    with db.write() as session:
        before, rates_before = followup_rules_in(session), prevalence_in(session)
        _store(session, FOLLOWUP_RULES, overrides)
        _store(session, PREVALENCE, {d.value: float(rates[d]) for d in DEFAULT_PREVALENCE})
        changes = _rule_changes(before, rules, rates_before, {d: float(rates[d]) for d in DEFAULT_PREVALENCE})
        audit.record(session, actor, Action.UPDATE, entity_type="setting", entity_id=FOLLOWUP_RULES,
                     summary="随访规则：" + ("；".join(changes) or "未改变"))
    return Changes(settings=True, audit=True)


# --- how period indicators are counted [configurable] ----------------------------------------------

INDICATOR_RULES = "indicator_rules"
# IndicatorRules numeric field -> (label, unit, lowest, highest) a branch may choose.
INDICATOR_RULE_BOUNDS: dict[str, tuple[str, str, int, int]] = {
    "annual_check_min_months": ("要求年度体检的最少管理月数", "个月", 0, 12),
    "diabetes_minimum_age": ("2型糖尿病管理起始年龄", "岁", 18, 60),
}
INDICATOR_RULE_LABELS = {"control_basis": "季度和月度控制率的分母", "prorate_enrolment": "年内纳入管理者按管理月数折算",
                         "registered_only": "常住居民只计户籍", **{k: v[0] for k, v in INDICATOR_RULE_BOUNDS.items()}}


def indicator_rules_in(session: Session) -> IndicatorRules:
    """The branch's indicator counting rules: the defaults with its stored overrides."""
    stored = _stored(session, INDICATOR_RULES) or {}
    known = {name for name in IndicatorRules.__dataclass_fields__}
    return replace(DEFAULT_INDICATOR_RULES, **{k: v for k, v in stored.items() if k in known})


def indicator_rules(db: Database) -> IndicatorRules:
    """The branch's indicator counting rules (see `indicator_rules_in`)."""
    with db.read() as session:
        return indicator_rules_in(session)


def enrolment_minimum_age_in(session: Session, disease: Disease) -> int:
    """The youngest age a patient may be enrolled for the disease (diabetes: the branch's setting)."""
    if disease is Disease.DIABETES:
        return indicator_rules_in(session).diabetes_minimum_age
    return HYPERTENSION_MINIMUM_AGE


def indicator_rule_problems(rules: IndicatorRules) -> dict[str, str]:
    """field -> Chinese message for each value out of bounds."""
    problems: dict[str, str] = {}
    for name, (label, unit, low, high) in INDICATOR_RULE_BOUNDS.items():
        value = getattr(rules, name)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            problems[name] = f"{label}应为 {low}–{high} {unit}之间的整数。"
    if rules.control_basis not in {basis.value for basis in ControlBasis}:
        problems["control_basis"] = f"{INDICATOR_RULE_LABELS['control_basis']}只能选：" + "、".join(
            basis.label for basis in ControlBasis) + "。"
    for name in ("prorate_enrolment", "registered_only"):
        if not isinstance(getattr(rules, name), bool):
            problems[name] = f"{INDICATOR_RULE_LABELS[name]}应为是或否。"
    return problems


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if value in {basis.value for basis in ControlBasis}:
        return ControlBasis(value).label
    return str(value)


def set_indicator_rules(db: Database, actor: Actor, rules: IndicatorRules) -> Changes:
    """Store how the branch counts period indicators (and the diabetes enrolment age); audited."""
    require(actor, Permission.MANAGE_BRANCH)
    if problems := indicator_rule_problems(rules):
        raise ValidationError(problems)
    overrides = {name: getattr(rules, name) for name in IndicatorRules.__dataclass_fields__
                 if getattr(rules, name) != getattr(DEFAULT_INDICATOR_RULES, name)}
    with db.write() as session:
        before = indicator_rules_in(session)
        _store(session, INDICATOR_RULES, overrides)
        changes = [f"{label} {_shown(getattr(before, name))} → {_shown(getattr(rules, name))}"
                   for name, label in INDICATOR_RULE_LABELS.items() if getattr(before, name) != getattr(rules, name)]
        audit.record(session, actor, Action.UPDATE, entity_type="setting", entity_id=INDICATOR_RULES,
                     summary="指标统计规则：" + ("；".join(changes) or "未改变"))
    return Changes(settings=True, audit=True)
