"""Checking a follow-up visit as entered: each bad value named, the rules' suggestion applied."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from desktop.errors import ValidationError
from desktop.rules.followup import Classification, Disease, Measurement, NextStep, VisitMethod
from desktop.rules.visit_checks import PatientFacts, VisitInput, check_visit

TODAY = date(2026, 11, 23)
PATIENT = PatientFacts(birth_date=date(1958, 6, 1), diagnosed_on=date(2018, 3, 1), managed_from=date(2018, 4, 1))
GOOD = VisitInput(visit_date="2026-03-10", method="门诊", sbp="128", dbp="82", doctor_name="刘晓梅", classification="控制满意")
REFERRAL = {"referral_reason": "血压控制不满意", "referral_to": "县人民医院心内科"}


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
    data = replace(GOOD, method="电话", sbp="", dbp="", classification="控制不满意")
    visit = check_visit(Disease.HYPERTENSION, data, PATIENT, today=TODAY)
    assert visit.method is VisitMethod.PHONE
    assert visit.numbers["sbp"] is None
    assert visit.measurement is Measurement.NOT_MEASURED
    assert visit.suggestion.classification is None and visit.override_reason is None
    assert visit.next_step is NextStep.RECHECK_IN_TWO_WEEKS and visit.next_visit_date == date(2026, 3, 24)


def test_full_width_numbers_are_read() -> None:
    visit = check_visit(Disease.DIABETES, replace(GOOD, fasting_glucose="６．２"), PATIENT, today=TODAY)
    assert visit.numbers["fasting_glucose"] == 6.2


def test_emergency_values_are_flagged_and_rechecked_in_two_weeks() -> None:
    data = replace(GOOD, sbp="186", dbp="112", classification="2", **REFERRAL)
    visit = check_visit(Disease.HYPERTENSION, data, PATIENT, today=TODAY)
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
    data = replace(GOOD, sbp="150", dbp="96", classification="2")
    errors = _errors(data, previous)
    assert errors == {"referral_reason": "下一步为“两次控制不满意转诊随访”：请填写转诊原因。",
                      "referral_to": "下一步为“两次控制不满意转诊随访”：请填写转诊机构及科别。"}
    visit = check_visit(Disease.HYPERTENSION, replace(data, **REFERRAL), previous, today=TODAY)
    assert visit.suggestion.next_step is visit.next_step is NextStep.REFER_AND_FOLLOW_UP
    assert visit.referral_to == "县人民医院心内科"


def test_diabetes_glucose_out_of_range_is_named() -> None:
    errors = _errors(replace(GOOD, fasting_glucose="40"), disease=Disease.DIABETES)
    assert set(errors) == {"fasting_glucose"}


def test_the_classification_is_the_doctors_choice() -> None:
    errors = _errors(replace(GOOD, classification=""))
    assert errors == {"classification": "请选择此次随访分类（规则建议“控制满意”）。"}
    phone = replace(GOOD, method="电话", sbp="", dbp="", classification="")
    assert _errors(phone) == {"classification": "请选择此次随访分类（本次没有测量值，规则无建议）。"}


def test_without_a_reading_anything_but_controlled_may_be_chosen() -> None:
    phone = replace(GOOD, method="电话", sbp="", dbp="")
    assert "不能为“控制满意”" in _errors(phone)["classification"]
    for chosen in ("控制不满意", "不良反应", "并发症"):
        data = replace(phone, classification=chosen, **REFERRAL)
        assert check_visit(Disease.HYPERTENSION, data, PATIENT, today=TODAY).override_reason is None
    # a diabetes visit decides by the fasting glucose: blood pressure alone is no reading for it
    assert "不能为“控制满意”" in _errors(GOOD, disease=Disease.DIABETES)["classification"]


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"measurement": "医生测量"}, "measurement", "居民自测"),
        ({"measurement": "未测", "sbp": "132", "dbp": "84"}, "measurement", "不应填写血压或血糖"),
        ({"measurement": "居民自测"}, "sbp", "居民在家测得的收缩压"),
        ({"measurement": "居民自测", "sbp": "132"}, "dbp", "请同时填写舒张压"),
    ],
)
def test_a_phone_visit_has_the_patients_reading_or_is_not_measured(change: dict, field: str, words: str) -> None:
    phone = {"method": "电话", "sbp": "", "dbp": "", "classification": "控制不满意"}
    errors = _errors(replace(GOOD, **{**phone, **change}))
    assert words in errors[field]


def test_a_home_reading_by_phone_is_classified_like_a_measured_one() -> None:
    data = replace(GOOD, method="电话", sbp="132", dbp="84")
    visit = check_visit(Disease.HYPERTENSION, data, PATIENT, today=TODAY)
    assert visit.measurement is Measurement.SELF and visit.classification is Classification.CONTROLLED
    assert visit.next_visit_date == date(2026, 6, 10)
    assert "measurement" in _errors(replace(GOOD, measurement="居民自测"))


def test_new_fields_are_checked() -> None:
    diabetes = replace(GOOD, fasting_glucose="6.1")
    errors = _errors(replace(diabetes, foot_pulse="减弱", insulin_dose="8 单位", medication_advice=(("", "5mg"),),
                             referral_result="转走了"), disease=Disease.DIABETES)
    assert set(errors) == {"foot_pulse_side", "insulin", "medication_advice", "referral_result"}
    assert "双侧、左侧或右侧" in errors["foot_pulse_side"]
    assert "side" not in _errors(replace(diabetes, foot_pulse="触及正常", foot_pulse_side="左侧"),
                                 disease=Disease.DIABETES)["foot_pulse_side"]
    visit = check_visit(Disease.DIABETES, replace(diabetes, foot_pulse="3", foot_pulse_side="右侧", insulin="甘精胰岛素",
                                                  referral_result="到位", resident_signed=True), PATIENT, today=TODAY)
    assert (visit.foot_pulse_side, visit.insulin, visit.referral_result, visit.resident_signed) == (
        "右侧", "甘精胰岛素", "1", True)


def test_a_historical_visit_may_leave_what_the_paper_left_empty() -> None:
    previous = replace(PATIENT, previous=Classification.UNCONTROLLED)
    data = replace(GOOD, sbp="150", dbp="96", classification="", historical=True)
    visit = check_visit(Disease.HYPERTENSION, data, previous, today=TODAY)
    assert visit.classification is None and visit.suggestion.classification is Classification.UNCONTROLLED
    assert visit.next_step is NextStep.REFER_AND_FOLLOW_UP and visit.referral_reason is None


def test_heart_rate_over_100_is_an_emergency() -> None:
    data = replace(GOOD, heart_rate="108", **REFERRAL)
    visit = check_visit(Disease.HYPERTENSION, data, PATIENT, today=TODAY)
    assert visit.suggestion.emergency == ("心率 108 > 100 次/分",)
    assert visit.classification is Classification.CONTROLLED and visit.next_step is NextStep.EMERGENCY_REFERRAL
    assert set(_errors(replace(GOOD, heart_rate="108"))) == {"referral_reason", "referral_to"}
