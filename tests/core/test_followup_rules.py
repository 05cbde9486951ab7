"""Follow-up rules pinned with hand-worked cases from the national specification."""

from __future__ import annotations

from datetime import date

import pytest

from desktop.errors import ValidationError
from desktop.rules.chronic_indicators import VisitFact, control, counted_face_to_face, standard_management
from desktop.rules.elderly import Dependence, bmi, self_care_level, self_care_score
from desktop.rules.followup import (
    DIABETES_DANGER_SIGNS,
    HYPERTENSION_DANGER_SIGNS,
    Classification,
    Disease,
    FollowupRules,
    NextStep,
    Readings,
    StepFacts,
    VisitMethod,
    add_months,
    check_ranges,
    emergency_reasons,
    has_reading,
    next_step,
    on_target,
    range_problems,
    suggest,
)

HT, DM = Disease.HYPERTENSION, Disease.DIABETES
VISIT_DAY = date(2026, 3, 10)


@pytest.mark.parametrize(
    ("sbp", "dbp", "age", "expected"),
    [
        (139, 89, 60, True),
        (140, 80, 60, False),  # the target is strictly below 140
        (130, 90, 60, False),
        (149, 89, 65, True),  # 65 and over: below 150/90
        (150, 80, 65, False),
        (149, 89, 64, False),
    ],
)
def test_blood_pressure_target_depends_on_age(sbp: int, dbp: int, age: int, expected: bool) -> None:
    assert on_target(HT, Readings(sbp=sbp, dbp=dbp), age) is expected


def test_elderly_target_is_configurable() -> None:
    strict = FollowupRules(elderly_sbp_target=140)
    assert on_target(HT, Readings(sbp=145, dbp=80), 70) is True
    assert on_target(HT, Readings(sbp=145, dbp=80), 70, strict) is False


def test_glucose_target_is_strictly_below_seven() -> None:
    assert on_target(DM, Readings(fasting_glucose=6.9), 50) is True
    assert on_target(DM, Readings(fasting_glucose=7.0), 50) is False
    assert on_target(DM, Readings(), 50) is None


@pytest.mark.parametrize(
    ("readings", "disease", "count"),
    [
        (Readings(sbp=179, dbp=109), HT, 0),
        (Readings(sbp=180, dbp=100), HT, 1),
        (Readings(sbp=170, dbp=110), HT, 1),
        (Readings(sbp=185, dbp=115), HT, 2),
        (Readings(sbp=130, dbp=80, fasting_glucose=16.7), DM, 1),
        (Readings(sbp=130, dbp=80, fasting_glucose=3.9), DM, 1),
        (Readings(sbp=130, dbp=80, fasting_glucose=4.0), DM, 0),
        (Readings(sbp=130, dbp=80, fasting_glucose=16.6), DM, 0),
        (Readings(sbp=182, dbp=80, fasting_glucose=8.0), DM, 1),  # BP ≥ 180 also for diabetes
    ],
)
def test_emergency_thresholds(readings: Readings, disease: Disease, count: int) -> None:
    assert len(emergency_reasons(disease, readings)) == count


def test_danger_signs_alone_call_for_emergency_referral() -> None:
    result = suggest(HT, Readings(sbp=130, dbp=80), visit_date=VISIT_DAY, age=60, danger_signs=("意识改变",))
    assert result.next_step is NextStep.EMERGENCY_REFERRAL
    assert result.emergency == ("危急情况：意识改变",)
    assert result.next_visit == date(2026, 3, 24)


def test_controlled_visit_is_followed_up_in_three_months() -> None:
    result = suggest(HT, Readings(sbp=128, dbp=82), visit_date=VISIT_DAY, age=60)
    assert (result.classification, result.next_step, result.next_visit) == (
        Classification.CONTROLLED, NextStep.ROUTINE, date(2026, 6, 10))


def test_first_uncontrolled_visit_is_rechecked_in_two_weeks() -> None:
    result = suggest(HT, Readings(sbp=152, dbp=94), visit_date=VISIT_DAY, age=60, previous=Classification.CONTROLLED)
    assert (result.classification, result.next_step, result.next_visit) == (
        Classification.UNCONTROLLED, NextStep.RECHECK_IN_TWO_WEEKS, date(2026, 3, 24))


def test_second_uncontrolled_visit_in_a_row_is_referred() -> None:
    result = suggest(DM, Readings(fasting_glucose=9.1), visit_date=VISIT_DAY, age=60,
                     previous=Classification.UNCONTROLLED)
    assert (result.classification, result.next_step) == (Classification.UNCONTROLLED, NextStep.REFER_AND_FOLLOW_UP)


def test_adverse_reaction_with_values_on_target_is_rechecked_in_two_weeks() -> None:
    result = suggest(HT, Readings(sbp=120, dbp=70), visit_date=VISIT_DAY, age=60, adverse_reaction=True)
    assert (result.classification, result.next_step) == (Classification.ADVERSE_REACTION, NextStep.RECHECK_IN_TWO_WEEKS)


def test_new_complication_is_referred() -> None:
    result = suggest(HT, Readings(sbp=120, dbp=70), visit_date=VISIT_DAY, age=60, new_complication=True)
    assert (result.classification, result.next_step) == (Classification.COMPLICATION, NextStep.REFER_AND_FOLLOW_UP)


def test_no_reading_suggests_no_classification_and_a_visit_in_two_weeks() -> None:
    """A phone call marked 未测: nothing decides 控制满意, and the next visit is not three months out."""
    for disease, readings in ((HT, Readings()), (HT, Readings(sbp=150)), (DM, Readings(sbp=128, dbp=80))):
        result = suggest(disease, readings, visit_date=VISIT_DAY, age=60, previous=Classification.UNCONTROLLED)
        assert (result.classification, result.next_step, result.next_visit, result.referral_reason) == (
            None, NextStep.RECHECK_IN_TWO_WEEKS, date(2026, 3, 24), None)


def test_without_a_reading_a_reported_reaction_or_complication_still_decides() -> None:
    reaction = suggest(HT, Readings(), visit_date=VISIT_DAY, age=60, adverse_reaction=True)
    assert (reaction.classification, reaction.next_step) == (Classification.ADVERSE_REACTION,
                                                             NextStep.RECHECK_IN_TWO_WEEKS)
    complication = suggest(DM, Readings(), visit_date=VISIT_DAY, age=60, new_complication=True)
    assert (complication.classification, complication.next_step) == (Classification.COMPLICATION,
                                                                     NextStep.REFER_AND_FOLLOW_UP)


@pytest.mark.parametrize(
    ("previous", "previous_adverse", "expected"),
    [
        (Classification.ADVERSE_REACTION, False, NextStep.REFER_AND_FOLLOW_UP),  # classified so last time
        (Classification.CONTROLLED, True, NextStep.REFER_AND_FOLLOW_UP),  # noted last time (e.g. by phone)
        (Classification.CONTROLLED, False, NextStep.RECHECK_IN_TWO_WEEKS),  # the first time
    ],
)
def test_an_adverse_reaction_hard_to_control_is_referred(previous: Classification, previous_adverse: bool,
                                                         expected: NextStep) -> None:
    result = suggest(HT, Readings(sbp=126, dbp=78), visit_date=VISIT_DAY, age=60, adverse_reaction=True,
                     previous=previous, previous_adverse_reaction=previous_adverse)
    assert (result.classification, result.next_step) == (Classification.ADVERSE_REACTION, expected)
    if expected is NextStep.REFER_AND_FOLLOW_UP:
        assert result.referral_reason == "不良反应难以控制" and result.next_visit == date(2026, 3, 24)


def test_the_step_follows_the_doctors_classification() -> None:
    facts = StepFacts(previous=Classification.UNCONTROLLED)
    assert next_step(Classification.CONTROLLED, facts) == (NextStep.ROUTINE, None)
    assert next_step(Classification.UNCONTROLLED, facts) == (NextStep.REFER_AND_FOLLOW_UP, "连续两次控制不满意")
    assert next_step(None, facts) == (NextStep.RECHECK_IN_TWO_WEEKS, None)
    assert next_step(Classification.CONTROLLED, StepFacts(emergency=("心率 120 > 100 次/分",)))[0] is (
        NextStep.EMERGENCY_REFERRAL)


def test_heart_rate_over_100_and_the_new_danger_signs() -> None:
    assert emergency_reasons(HT, Readings(sbp=130, dbp=80, heart_rate=100)) == []
    assert emergency_reasons(DM, Readings(fasting_glucose=6.0, heart_rate=101)) == ["心率 101 > 100 次/分"]
    assert "存在不能处理的其他疾病" in HYPERTENSION_DANGER_SIGNS and "存在不能处理的其他疾病" in DIABETES_DANGER_SIGNS
    assert "视力突然骤降" in DIABETES_DANGER_SIGNS and "视力突然骤降" not in HYPERTENSION_DANGER_SIGNS


@pytest.mark.parametrize(
    ("disease", "values", "measurement", "expected"),
    [
        (HT, {"sbp": 130, "dbp": 80, "fasting_glucose": None}, None, True),  # an old visit: no measurement noted
        (HT, {"sbp": 130, "dbp": 80, "fasting_glucose": None}, "2", True),
        (HT, {"sbp": None, "dbp": None, "fasting_glucose": 6.0}, "1", False),
        (DM, {"sbp": 130, "dbp": 80, "fasting_glucose": None}, "1", False),
        (DM, {"sbp": None, "dbp": None, "fasting_glucose": 6.0}, "2", True),
        (DM, {"sbp": None, "dbp": None, "fasting_glucose": 6.0}, "3", False),
    ],
)
def test_which_visits_have_a_reading(disease: Disease, values: dict, measurement: str | None, expected: bool) -> None:
    assert has_reading(disease, measurement=measurement, **values) is expected


def test_three_months_later_is_clamped_to_the_end_of_the_month() -> None:
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert add_months(date(2027, 11, 30), 3) == date(2028, 2, 29)
    assert add_months(date(2026, 10, 31), 2) == date(2026, 12, 31)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"sbp": 59, "dbp": 40}, "sbp"),
        ({"sbp": 301, "dbp": 90}, "sbp"),
        ({"sbp": 120, "dbp": 29}, "dbp"),
        ({"sbp": 90, "dbp": 90}, "sbp"),  # SBP must be above DBP
        ({"heart_rate": 25}, "heart_rate"),
        ({"weight": 260}, "weight"),
        ({"fasting_glucose": 0.8}, "fasting_glucose"),
        ({"hba1c": 21}, "hba1c"),
    ],
)
def test_values_outside_the_sanity_ranges_are_refused_naming_the_field(values: dict, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        check_ranges(values)
    assert set(caught.value.errors) == {field}


def test_values_at_the_range_edges_are_accepted() -> None:
    assert range_problems({"sbp": 300, "dbp": 200, "heart_rate": 30, "weight": 20, "fasting_glucose": 35.0}) == {}


def test_reversed_blood_pressure_message_says_so() -> None:
    assert "填反" in range_problems({"sbp": 80, "dbp": 120})["sbp"]


def _visits(*specs: tuple[str, VisitMethod, int | None, int | None, float | None]) -> list[VisitFact]:
    return [VisitFact(date.fromisoformat(day), method, sbp, dbp, glucose) for day, method, sbp, dbp, glucose in specs]


CLINIC, HOME, PHONE = VisitMethod.CLINIC, VisitMethod.HOME, VisitMethod.PHONE


def test_phone_visits_do_not_count_as_face_to_face() -> None:
    visits = _visits(("2026-01-05", CLINIC, 130, 80, None), ("2026-04-05", HOME, 130, 80, None),
                     ("2026-07-05", PHONE, None, None, None), ("2026-10-05", CLINIC, 130, 80, None))
    verdict = standard_management(HT, visits, had_annual_check=True)
    assert verdict.counts is False
    assert verdict.reason == "面访 3 次，少于 4 次"


def test_four_face_to_face_visits_and_the_annual_check_count_as_standard() -> None:
    visits = _visits(*[(f"2026-0{m}-05", CLINIC, 130, 80, None) for m in (1, 4, 7, 9)])
    assert standard_management(HT, visits, had_annual_check=True).counts is True
    missing_check = standard_management(HT, visits, had_annual_check=False)
    assert (missing_check.counts, missing_check.reason) == (False, "本年未做健康体检")


def test_diabetes_face_to_face_visits_need_a_fasting_glucose() -> None:
    visits = _visits(("2026-01-05", CLINIC, 130, 80, 6.5), ("2026-04-05", CLINIC, 130, 80, None),
                     ("2026-07-05", HOME, 130, 80, 6.8), ("2026-10-05", CLINIC, 130, 80, 6.1))
    assert counted_face_to_face(DM, visits) == 3
    assert standard_management(DM, visits, had_annual_check=True).reason == "面访（含空腹血糖） 3 次，少于 4 次"


def test_no_visit_means_not_standard_and_not_controlled() -> None:
    assert standard_management(HT, [], had_annual_check=True) == control(HT, [], age=60)
    assert control(HT, [], age=60).reason == "本年无随访"


def test_control_reads_the_most_recent_visit_only() -> None:
    visits = _visits(("2026-11-02", CLINIC, 152, 94, None), ("2026-02-01", CLINIC, 120, 70, None))
    verdict = control(HT, visits, age=60)
    assert verdict.counts is False
    assert verdict.reason == "末次随访（11月02日，门诊）血压 152/94 未达标（应低于 140/90）"
    assert control(HT, visits, age=66).reason.endswith("血压 152/94 未达标（应低于 150/90）")
    assert control(HT, list(reversed(visits)), age=60) == verdict


def test_a_last_visit_without_a_reading_is_not_controlled() -> None:
    visits = _visits(("2026-02-01", CLINIC, 120, 70, None), ("2026-05-01", PHONE, None, None, None))
    assert control(HT, visits, age=60).reason == "末次随访（05月01日，电话）未测血压"


def test_diabetes_control_uses_the_fasting_glucose() -> None:
    visits = _visits(("2026-09-01", CLINIC, 130, 80, 6.4))
    assert control(DM, visits, age=70).counts is True
    high = _visits(("2026-09-01", CLINIC, 130, 80, 8.2))
    assert "空腹血糖 8.2 mmol/L 未达标" in control(DM, high, age=70).reason


@pytest.mark.parametrize(("total", "level"), [(0, Dependence.INDEPENDENT), (3, Dependence.INDEPENDENT),
                                              (4, Dependence.MILD), (8, Dependence.MILD),
                                              (9, Dependence.MODERATE), (18, Dependence.MODERATE),
                                              (19, Dependence.UNABLE), (37, Dependence.UNABLE)])
def test_self_care_levels(total: int, level: Dependence) -> None:
    assert self_care_level(total) is level


def test_self_care_score_follows_the_table() -> None:
    answers = {"eating": Dependence.MODERATE, "grooming": Dependence.MILD, "dressing": Dependence.INDEPENDENT,
               "toileting": Dependence.MILD, "activity": Dependence.MODERATE}
    result = self_care_score(answers)
    assert (result.total, result.level) == (3 + 1 + 0 + 1 + 5, Dependence.MODERATE)
    worst = self_care_score(dict.fromkeys(answers, Dependence.UNABLE))
    assert worst.total == 5 + 7 + 5 + 10 + 10


def test_self_care_needs_every_item() -> None:
    with pytest.raises(ValidationError) as caught:
        self_care_score({"eating": Dependence.INDEPENDENT})
    assert "梳洗" in caught.value.errors["self_care"]


def test_bmi() -> None:
    assert bmi(70, 175) == 22.9
