"""Counting rules behind 规范管理率 and 控制率, with the reason a patient does not count.

Each function looks at one patient's visits in the period and answers (counts, reason);
the reason is the sentence a clerk reads in the drill-down list before the county's check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from desktop.rules.followup import DEFAULT_RULES, Disease, FollowupRules, Readings, VisitMethod, bp_target, on_target


@dataclass(frozen=True)
class VisitFact:
    """What the indicators need from one stored visit."""

    day: date
    method: VisitMethod
    sbp: int | None = None
    dbp: int | None = None
    fasting_glucose: float | None = None

    @property
    def readings(self) -> Readings:
        return Readings(sbp=self.sbp, dbp=self.dbp, fasting_glucose=self.fasting_glucose)


@dataclass(frozen=True)
class Verdict:
    counts: bool
    reason: str | None = None


def counted_face_to_face(disease: Disease, visits: Sequence[VisitFact]) -> int:
    """Face-to-face visits that count: for diabetes each needs its fasting glucose."""
    return sum(
        1 for visit in visits
        if visit.method.is_face_to_face and (disease is Disease.HYPERTENSION or visit.fasting_glucose is not None)
    )


def standard_management(
    disease: Disease, visits: Sequence[VisitFact], *, had_annual_check: bool, rules: FollowupRules = DEFAULT_RULES,
) -> Verdict:
    """规范管理: enough face-to-face visits in the year and the annual health check."""
    if not visits:
        return Verdict(False, "本年无随访")
    reasons = []
    needed = rules.face_to_face_per_year
    counted = counted_face_to_face(disease, visits)
    if counted < needed:
        detail = "（含空腹血糖）" if disease is Disease.DIABETES else ""
        reasons.append(f"面访{detail} {counted} 次，少于 {needed} 次")
    if not had_annual_check:
        reasons.append("本年未做健康体检")
    return Verdict(not reasons, "；".join(reasons) or None)


def control(disease: Disease, visits: Sequence[VisitFact], *, age: int, rules: FollowupRules = DEFAULT_RULES) -> Verdict:
    """控制: the most recent visit in the period is on target; no visit counts as not on target."""
    if not visits:
        return Verdict(False, "本年无随访")
    last = max(visits, key=lambda visit: visit.day)
    result = on_target(disease, last.readings, age, rules)
    when = f"末次随访（{last.day:%m月%d日}，{last.method.label}）"
    if disease is Disease.HYPERTENSION:
        if result is None:
            return Verdict(False, f"{when}未测血压")
        sbp_limit, dbp_limit = bp_target(age, rules)
        if not result:
            return Verdict(False, f"{when}血压 {last.sbp}/{last.dbp} 未达标（应低于 {sbp_limit}/{dbp_limit}）")
        return Verdict(True)
    if result is None:
        return Verdict(False, f"{when}未测空腹血糖")
    if not result:
        glucose, limit = last.fasting_glucose, rules.glucose_target
        return Verdict(False, f"{when}空腹血糖 {glucose:g} mmol/L 未达标（应低于 {limit:g}）")
    return Verdict(True)
