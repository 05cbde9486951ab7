"""The follow-up export's visit columns: every field of the national form, in words a clerk reads.

Codes become their labels (症状, 足背动脉, 生活方式, 用药), lists become one cell each ("硝苯地平缓释片
每日2次 每次10mg；…"), lifestyle pairs read "now/target" as on the paper form; a corrected visit is
marked with its reason and time, a voided one with 已作废, its reason and time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from desktop.models import FollowupVisit
from desktop.rules.followup import Classification, Disease, NextStep, VisitMethod
from desktop.rules.visit_checks import (
    ADHERENCE,
    DIABETES_SYMPTOMS,
    FOOT_PULSE,
    HYPERTENSION_SYMPTOMS,
    HYPOGLYCEMIA,
    LIFESTYLE_CODES,
    MEASUREMENT,
    REFERRAL_RESULT,
)

MEASUREMENTS = MEASUREMENT
REFERRAL_RESULTS = REFERRAL_RESULT
RECORD_VALID, RECORD_CORRECTED, RECORD_VOIDED = "有效", "已更正", "已作废"

Cell = Callable[..., Any]


def _code(labels: dict[str, str]) -> Cell:
    return lambda code: labels.get(code or "", code or None)


def _yes_no(value: bool | None) -> str:
    return "有" if value else "无"


def _signed(value: bool | None) -> str:
    return "已签" if value else "未签"


def _number(value: object) -> str:
    if value is None or value == "":
        return ""
    return f"{value:g}" if isinstance(value, float) else str(value)


def _pair(key: str, labels: dict[str, str] | None = None) -> Cell:
    """A lifestyle item now/target: 10/0, 重/轻 (blank when neither is given)."""
    def cell(lifestyle: dict | None) -> str | None:
        lifestyle = lifestyle or {}
        now, target = lifestyle.get(key), lifestyle.get(f"{key}_target")
        if labels is not None:
            now, target = labels.get(str(now or ""), now), labels.get(str(target or ""), target)
        return None if now in (None, "") and target in (None, "") else f"{_number(now)}/{_number(target)}"
    return cell


def _exercise(lifestyle: dict | None) -> str | None:
    """运动: 3次/周 30分钟/次 now, then the target after a slash."""
    lifestyle = lifestyle or {}

    def one(suffix: str) -> str:
        times, minutes = lifestyle.get(f"exercise_times_per_week{suffix}"), lifestyle.get(f"exercise_minutes{suffix}")
        return f"{_number(times)}次/周 {_number(minutes)}分钟/次" if times or minutes else ""
    now, target = one(""), one("_target")
    return f"{now}/{target}" if now or target else None


def _level(key: str) -> Cell:
    labels = LIFESTYLE_CODES[key]
    return lambda lifestyle: labels.get(str((lifestyle or {}).get(key) or ""), None)


def _symptoms(disease: str, codes: Sequence[str] | None) -> str | None:
    labels = HYPERTENSION_SYMPTOMS if disease == Disease.HYPERTENSION.value else DIABETES_SYMPTOMS
    return "、".join(labels.get(code, code) for code in codes or ()) or None


def _foot_pulse(code: str | None, side: str | None) -> str | None:
    if not code:
        return None
    label = FOOT_PULSE.get(code, code)
    return f"{label}（{side}）" if side and code in ("2", "3") else label


def _drugs(drugs: Sequence[dict] | None) -> str | None:
    """用药情况: 名称 每日n次 每次剂量, one drug after another."""
    parts = []
    for drug in drugs or ():
        times, dose = drug.get("times_per_day"), drug.get("dose")
        usage = " ".join(part for part in (f"每日{times}次" if times else "", f"每次{dose}" if dose else "") if part)
        parts.append(" ".join(part for part in (drug.get("name") or "", usage) if part))
    return "；".join(parts) or None


def _advice(advice: Sequence[dict] | None) -> str | None:
    """用药调整意见: 名称 用法用量, one after another."""
    parts = [" ".join(part for part in (item.get("name") or "", item.get("dose") or "") if part) for item in advice or ()]
    return "；".join(part for part in parts if part) or None


def _status(corrected_at: datetime | None, voided_at: datetime | None) -> str:
    return RECORD_VOIDED if voided_at is not None else RECORD_CORRECTED if corrected_at is not None else RECORD_VALID


def _stamp(value: datetime | None) -> str | None:
    """A correction's or void's time to the minute (the sheet's date cells hold days only)."""
    return None if value is None else f"{value:%Y-%m-%d %H:%M}"


def _classification(code: str | None) -> str | None:
    return Classification(code).label if code else None


# (title, width, the stored columns it reads, how the cell is made from them), after the first columns
FORM_COLUMNS: tuple[tuple[str, int, tuple[str, ...], Cell], ...] = (
    ("测量方式", 10, ("measurement",), _code(MEASUREMENTS)),
    ("症状", 22, ("disease", "symptoms"), _symptoms),
    ("症状其他", 16, ("symptoms_other",), lambda value: value),
    ("目标体重", 8, ("target_weight",), lambda value: value),
    ("身高", 8, ("height",), lambda value: value),
    ("足背动脉搏动", 14, ("foot_pulse", "foot_pulse_side"), _foot_pulse),
    ("体征其他", 16, ("signs_other",), lambda value: value),
    ("日吸烟量（支）现/目标", 12, ("lifestyle",), _pair("cigarettes_per_day")),
    ("日饮酒量（两）现/目标", 12, ("lifestyle",), _pair("alcohol_liang_per_day")),
    ("运动 现/目标", 26, ("lifestyle",), _exercise),
    ("摄盐情况 现/目标", 10, ("lifestyle",), _pair("salt", LIFESTYLE_CODES["salt"])),
    ("主食（克/天）现/目标", 12, ("lifestyle",), _pair("staple_grams_per_day")),
    ("心理调整", 8, ("lifestyle",), _level("mood")),
    ("遵医行为", 8, ("lifestyle",), _level("compliance")),
    ("糖化血红蛋白检查日期", 12, ("hba1c_date",), lambda value: value),
    ("辅助检查", 20, ("tests_other",), lambda value: value),
    ("药物不良反应", 8, ("adverse_reaction",), _yes_no),
    ("不良反应说明", 16, ("adverse_reaction_note",), lambda value: value),
    ("新发并发症", 8, ("new_complication",), _yes_no),
    ("低血糖反应", 8, ("hypoglycemia",), _code(HYPOGLYCEMIA)),
    ("用药情况", 40, ("medications",), _drugs),
    ("胰岛素种类", 14, ("insulin",), lambda value: value),
    ("胰岛素用法和用量", 18, ("insulin_dose",), lambda value: value),
    ("用药调整意见", 30, ("medication_advice",), _advice),
    ("转诊原因", 20, ("referral_reason",), lambda value: value),
    ("转诊机构及科别", 18, ("referral_to",), lambda value: value),
    ("转诊联系人及电话", 16, ("referral_contact",), lambda value: value),
    ("转诊结果", 8, ("referral_result",), _code(REFERRAL_RESULTS)),
    ("居民签名", 8, ("resident_signed",), _signed),
    ("记录状态", 8, ("corrected_at", "voided_at"), _status),
    ("更正原因", 20, ("correction_reason",), lambda value: value),
    ("更正时间", 17, ("corrected_at",), _stamp),
    ("作废原因", 20, ("void_reason",), lambda value: value),
    ("作废时间", 17, ("voided_at",), _stamp),
)
FORM_FIELDS: tuple[str, ...] = tuple(dict.fromkeys(name for _, _, names, _ in FORM_COLUMNS for name in names))
FORM_SELECT = tuple(getattr(FollowupVisit, name) for name in FORM_FIELDS)


def form_cells(values: Sequence[Any]) -> tuple[Any, ...]:
    """The form columns' cells from the FORM_SELECT values of one visit."""
    stored = dict(zip(FORM_FIELDS, values, strict=True))
    return tuple(make(*(stored[name] for name in names)) for _, _, names, make in FORM_COLUMNS)


def core_cells(method: str, adherence: str | None, chosen: str | None, suggested: str | None,
               step: str) -> tuple[Any, ...]:
    """随访方式, 服药依从性, 此次随访分类, 规则建议分类 and 下一步措施 in words (empty where not chosen)."""
    return (VisitMethod(method).label, ADHERENCE.get(adherence or "", adherence), _classification(chosen),
            _classification(suggested), NextStep(step).label)
