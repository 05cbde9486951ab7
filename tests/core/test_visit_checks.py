"""Checking a follow-up visit as entered: each bad value named, the rules' suggestion applied."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from desktop.errors import ValidationError
from desktop.rules.followup import Classification, Disease, NextStep, VisitMethod
from desktop.rules.visit_checks import PatientFacts, VisitInput, check_visit

TODAY = date(2026, 11, 23)
PATIENT = PatientFacts(birth_date=date(1958, 6, 1), diagnosed_on=date(2018, 3, 1), managed_from=date(2018, 4, 1))
GOOD = VisitInput(visit_date="2026-03-10", method="门诊", sbp="128", dbp="82", doctor_name="刘晓梅")


def _errors(data: VisitInput, patient: PatientFacts = PATIENT, disease: Disease = Disease.HYPERTENSION) -> dict:
    with pytest.raises(ValidationError) as caught:
        check_visit(disease, data, patient, today=TODAY)
    return caught.value.errors


def test_a_controlled_clinic_visit() -> None:
    visit = check_visit(Disease.HYPERTENSION, GOOD, PATIENT, today=TODAY)
    assert visit.method is VisitMethod.CLINIC
    assert visit.classification is Classification.CONTROLLED
    assert visit.next_visit_date == date(2026, 6, 10)
    assert visit.override_reason is None and not visit.emergency


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"visit_date": "2026-12-01"}, "visit_date", "晚于今天"),
        ({"visit_date": "1950-01-01"}, "visit_date", "早于出生日期"),
        ({"visit_date": "2017-05-01"}, "visit_date", "早于确诊日期"),
        ({"visit_date": "2018-03-15"}, "visit_date", "不在该患者的管理期内"),
        ({"visit_date": "2026-02-30"}, "visit_date", "随访日期"),
        ({"method": "上门"}, "method", "门诊、家庭、电话"),
        ({"sbp": "310"}, "sbp", "超出合理范围"),
        ({"sbp": "80", "dbp": "90"}, "sbp", "填反"),
        ({"sbp": "一百"}, "sbp", "不是数字"),
        ({"sbp": "128.5"}, "sbp", "整数"),
        ({"sbp": ""}, "sbp", "面访须测量血压"),
        ({"heart_rate": "250"}, "heart_rate", "心率"),
        ({"doctor_name": " "}, "doctor_name", "随访医生"),
        ({"next_visit_date": "2026-03-01"}, "next_visit_date", "晚于本次随访日期"),
        ({"classification": "控制不满意"}, "override_reason", "须填写理由"),
        ({"lifestyle": {"cigarettes_per_day": "150"}}, "cigarettes_per_day", "日吸烟量"),
        ({"lifestyle": {"salt_target": "很多"}}, "salt_target", "摄盐情况（目标）"),
        ({"symptoms": ("无症状", "头痛头晕")}, "symptoms", "无症状"),
        ({"medications": (("", "2", "5mg"),)}, "medications", "未填药名"),
    ],
)
def test_bad_values_are_named(change: dict, field: str, words: str) -> None:
    errors = _errors(replace(GOOD, **change))
    assert field in errors
    assert words in errors[field]


def test_ended_management_refuses_later_visits() -> None:
    ended = replace(PATIENT, ended_on=date(2026, 1, 31))
    assert "管理期" in _errors(GOOD, ended)["visit_date"]


def test_a_phone_visit_needs_no_measurement() -> None:
    visit = check_visit(Disease.HYPERTENSION, replace(GOOD, method="电话", sbp="", dbp=""), PATIENT, today=TODAY)
    assert visit.method is VisitMethod.PHONE
    assert visit.numbers["sbp"] is None


def test_full_width_numbers_are_read() -> None:
    visit = check_visit(Disease.DIABETES, replace(GOOD, fasting_glucose="６．２"), PATIENT, today=TODAY)
    assert visit.numbers["fasting_glucose"] == 6.2


def test_emergency_values_are_flagged_and_rechecked_in_two_weeks() -> None:
    visit = check_visit(Disease.HYPERTENSION, replace(GOOD, sbp="186", dbp="112"), PATIENT, today=TODAY)
    assert visit.emergency
    assert visit.suggestion.next_step is NextStep.EMERGENCY_REFERRAL
    assert visit.next_visit_date == date(2026, 3, 24)


def test_override_with_a_reason_is_kept_and_replans_the_next_visit() -> None:
    data = replace(GOOD, sbp="152", dbp="84", classification="1", override_reason="诊室血压偏高，家庭自测达标")
    visit = check_visit(Disease.HYPERTENSION, data, PATIENT, today=TODAY)
    assert visit.suggestion.classification is Classification.UNCONTROLLED
    assert visit.classification is Classification.CONTROLLED
    assert visit.override_reason == "诊室血压偏高，家庭自测达标"
    assert visit.next_visit_date == date(2026, 6, 10)


def test_second_uncontrolled_visit_is_referred() -> None:
    previous = replace(PATIENT, previous=Classification.UNCONTROLLED)
    visit = check_visit(Disease.HYPERTENSION, replace(GOOD, sbp="150", dbp="96"), previous, today=TODAY)
    assert visit.suggestion.next_step is NextStep.REFER_AND_FOLLOW_UP


def test_diabetes_glucose_out_of_range_is_named() -> None:
    errors = _errors(replace(GOOD, fasting_glucose="40"), disease=Disease.DIABETES)
    assert set(errors) == {"fasting_glucose"}
