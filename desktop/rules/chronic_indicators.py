"""Counting rules behind 规范管理率 and 控制率, with the reason a patient does not count.

Each function looks at one patient's visits in the period and answers (counts, reason);
the reason is the sentence a clerk reads in the drill-down list before the county's check.

A period (a month, a quarter, a year) is counted from 1 January to its last day, with what
was due by then (see `expectation`): the face-to-face visits scale with the time of year and
with how long the patient has been managed, and the annual health check is asked for only
when the year is closed. `IndicatorRules` holds the choices a branch may make (a setting).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import NamedTuple

from desktop.rules.followup import DEFAULT_RULES, Disease, FollowupRules, Readings, VisitMethod, bp_target, on_target


class ControlBasis(StrEnum):
    """Who a month's or quarter's 控制率 is counted over (a closed year always counts every managed patient)."""

    SEEN_IN_PERIOD = "seen_in_period"
    YEAR_TO_DATE = "year_to_date"

    @property
    def label(self) -> str:
        return {"seen_in_period": "本期内有随访的患者", "year_to_date": "期末在管的全部患者（年初至期末无随访按未达标计）"}[
            self.value]


@dataclass(frozen=True)
class IndicatorRules:
    """How period figures are counted; a branch setting (`desktop.services.settings.indicator_rules_in`).

    Defaults, as the county usually counts:
    - control_basis `seen_in_period`: a month's or quarter's 控制率 is over the patients seen in it,
      so patients whose quarterly visit is simply not due yet are not counted as off target.
    - prorate_enrolment: a patient managed part of the year owes visits in proportion to the whole
      months managed (`expectation`), so a December enrolment is not failed for missing four visits.
    - annual_check_min_months 6: the year's health check is asked of patients managed at least half
      the year; someone enrolled in the autumn has it at the next year's round of checks.
    - registered_only False: the 常住 denominators count 户籍 and 非户籍 residents and those whose
      常住类型 is not recorded yet (the national form's 常住类型 only records people living here).
    - diabetes_minimum_age 35: 2型糖尿病 management starts at 35 (as hypertension), both for
      enrolment and for the 健康管理率 denominator.
    """

    control_basis: str = ControlBasis.SEEN_IN_PERIOD.value
    prorate_enrolment: bool = True
    annual_check_min_months: int = 6
    registered_only: bool = False
    diabetes_minimum_age: int = 35


DEFAULT_INDICATOR_RULES = IndicatorRules()


class VisitFact(NamedTuple):
    """What the indicators need from one stored visit."""

    day: date
    method: VisitMethod
    sbp: int | None = None
    dbp: int | None = None
    fasting_glucose: float | None = None

    @property
    def readings(self) -> Readings:
        return Readings(sbp=self.sbp, dbp=self.dbp, fasting_glucose=self.fasting_glucose)


class Verdict(NamedTuple):
    """Whether a person counts, and the reason when not."""

    counts: bool
    reason: str | None = None


CONTROLLED = Verdict(True)


@dataclass(frozen=True)
class Expectation:
    """What one patient owed by the end of a period: face-to-face visits, and whether the annual check."""

    visits: int
    annual_check: bool
    months: int  # whole months managed from 1 January (or enrolment) to the period's end
    prorated: bool  # fewer months than the period's own, because of a later enrolment

    @property
    def anything_due(self) -> bool:
        return self.visits > 0 or self.annual_check


def whole_months(start: date, end: date) -> int:
    """Calendar months lying wholly in [start, end]: a month counts only from its first day to its last."""
    first = start if start.day == 1 else (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    last = end if (end + timedelta(days=1)).day == 1 else end.replace(day=1) - timedelta(days=1)
    return max(0, (last.year - first.year) * 12 + last.month - first.month + 1)


def expectation(*, managed_from: date, period_end: date, per_year: int,
                rules: IndicatorRules = DEFAULT_INDICATOR_RULES) -> Expectation:
    """Visits owed by `period_end` = ⌊per_year × whole months managed in the year ÷ 12⌋; the check only at year end.

    Scaled to the time of year (four a year: 1 by the end of Q1, 2 by Q2, 3 by Q3, 4 by the year's
    end; a quarterly visit is only late once its quarter has ended, hence rounding down, so January
    and February owe nothing yet). Prorated for a patient managed from later in the year: the months
    count from the first whole month of management (enrolled 1 October: 3 months, 1 visit; enrolled
    in December: nothing owed). The annual check is owed only at the year's close (31 December) and
    only by patients managed at least `annual_check_min_months` whole months of that year.
    """
    year_start = date(period_end.year, 1, 1)
    period_months = whole_months(year_start, period_end)
    start = max(managed_from, year_start) if rules.prorate_enrolment else year_start
    months = whole_months(start, period_end)
    year_closed = period_end.month == 12 and period_end.day == 31
    return Expectation(visits=per_year * months // 12,
                       annual_check=year_closed and months >= rules.annual_check_min_months,
                       months=months, prorated=months < period_months)


def counted_face_to_face(disease: Disease, visits: Sequence[VisitFact]) -> int:
    """Face-to-face visits that count: for diabetes each needs its fasting glucose."""
    return sum(
        1 for visit in visits
        if visit.method.is_face_to_face and (disease is Disease.HYPERTENSION or visit.fasting_glucose is not None)
    )


def standard_verdict(disease: Disease, *, counted: int, visited: bool, had_annual_check: bool,
                     expected: Expectation) -> Verdict:
    """规范管理 from the counted face-to-face visits and the check, against what was owed."""
    if not visited and expected.visits > 0:
        return Verdict(False, "本年无随访")
    reasons = []
    if counted < expected.visits:
        detail = "（含空腹血糖）" if disease is Disease.DIABETES else ""
        owed = f"少于 {expected.visits} 次"
        if expected.months < 12:
            owed = f"少于应完成的 {expected.visits} 次（按管理 {expected.months} 个整月折算）"
        reasons.append(f"面访{detail} {counted} 次，{owed}")
    if expected.annual_check and not had_annual_check:
        reasons.append("本年未做健康体检")
    return Verdict(not reasons, "；".join(reasons) or None)


def standard_management(
    disease: Disease, visits: Sequence[VisitFact], *, had_annual_check: bool, rules: FollowupRules = DEFAULT_RULES,
    expected: Expectation | None = None,
) -> Verdict:
    """规范管理: enough face-to-face visits and the annual check (a full year's when `expected` is None)."""
    owed = expected or Expectation(rules.face_to_face_per_year, annual_check=True, months=12, prorated=False)
    return standard_verdict(disease, counted=counted_face_to_face(disease, visits), visited=bool(visits),
                            had_annual_check=had_annual_check, expected=owed)


def control_of_last(disease: Disease, last: VisitFact | None, *, age: int,
                    rules: FollowupRules = DEFAULT_RULES) -> Verdict:
    """控制: the given most recent visit is on target; no visit counts as not on target."""
    if last is None:
        return Verdict(False, "本年无随访")
    result = on_target(disease, last.readings, age, rules)
    if result:
        return CONTROLLED
    when = f"末次随访（{last.day:%m月%d日}，{last.method.label}）"
    if disease is Disease.HYPERTENSION:
        if result is None:
            return Verdict(False, f"{when}未测血压")
        sbp_limit, dbp_limit = bp_target(age, rules)
        return Verdict(False, f"{when}血压 {last.sbp}/{last.dbp} 未达标（应低于 {sbp_limit}/{dbp_limit}）")
    if result is None:
        return Verdict(False, f"{when}未测空腹血糖")
    glucose, limit = last.fasting_glucose, rules.glucose_target
    return Verdict(False, f"{when}空腹血糖 {glucose:g} mmol/L 未达标（应低于 {limit:g}）")


def control(disease: Disease, visits: Sequence[VisitFact], *, age: int, rules: FollowupRules = DEFAULT_RULES) -> Verdict:
    """控制: the most recent visit in the period is on target; no visit counts as not on target."""
    last = max(visits, key=lambda visit: visit.day) if visits else None
    return control_of_last(disease, last, age=age, rules=rules)
