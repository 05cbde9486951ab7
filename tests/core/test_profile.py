"""The 个人基本信息表: national codes, the checks of what is entered, and the resident service storing it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from core_support import actor_for, person
from sqlalchemy import select

from desktop.app import App
from desktop.errors import ValidationError
from desktop.models import AuditEntry, Resident
from desktop.rules.profile import (
    BLOOD_TYPES,
    DISABILITIES,
    PAST_DISEASES,
    PAYMENT_METHODS,
    HistoryEntry,
    HistoryRow,
    Profile,
    ProfileInput,
    check_profile,
    history_text,
    labels,
    profile_from_columns,
)
from desktop.services.resident_query import get_resident
from desktop.services.residents import create_resident, update_resident

BIRTH, TODAY = date(1955, 6, 15), date(2026, 3, 1)


def _check(**fields: object) -> tuple[Profile, dict[str, str]]:
    return check_profile(ProfileInput(**fields), birth=BIRTH, today=TODAY)  # type: ignore[arg-type]


def test_the_code_lists_are_the_national_forms() -> None:
    assert BLOOD_TYPES == {"1": "A型", "2": "B型", "3": "O型", "4": "AB型", "5": "不详"}
    assert PAYMENT_METHODS["3"] == "新型农村合作医疗" and PAYMENT_METHODS["8"] == "其他"
    assert PAST_DISEASES["8"] == "严重精神障碍" and PAST_DISEASES["13"] == "其他" and len(PAST_DISEASES) == 13
    assert DISABILITIES["1"] == "无残疾" and DISABILITIES["8"] == "其他残疾"


def test_codes_and_labels_are_both_accepted_and_stored_as_codes() -> None:
    profile, errors = _check(blood_type="AB型", rh="1", education="初中", occupation="农、林、牧、渔、水利业生产人员",
                             marital_status="2", residence_type="户籍", payment_methods="新型农村合作医疗、7",
                             drug_allergies=["青霉素", "5"], drug_allergy_other="头孢", exposures="无",
                             disabilities="肢体残疾", living_environment={"fuel": "柴火", "toilet": "1"})
    assert errors == {}
    assert (profile.blood_type, profile.rh, profile.education, profile.occupation, profile.marital_status,
            profile.residence_type) == ("4", "1", "7", "4", "2", "1")
    assert profile.payment_methods == ("3", "7") and profile.drug_allergies == ("2", "5")
    assert profile.drug_allergy_other == "头孢" and profile.exposures == ("1",) and profile.disabilities == ("5",)
    assert profile.living_environment == {"fuel": "5", "toilet": "1"}


def test_none_stands_alone_and_unknown_choices_are_named_in_chinese() -> None:
    _, errors = _check(blood_type="C型", drug_allergies="无、青霉素", disabilities="无残疾、视力残疾",
                       family_history={"father": "无、高血压"}, living_environment={"water": "9"})
    assert errors["blood_type"].startswith("血型：“C型”不在可选范围内（1 A型")
    assert errors["drug_allergies"] == "药物过敏史：“无”不能与其他选项同时选择。"
    assert errors["disabilities"] == "残疾情况：“无残疾”不能与其他选项同时选择。"
    assert errors["family_history.father"] == "家族史·父亲：“无”不能与其他选项同时选择。"
    assert errors["living_environment.water"].startswith("饮水：“9”不在可选范围内")


def test_the_other_text_ticks_other_and_payment_has_no_none() -> None:
    profile, errors = _check(payment_methods="城镇职工基本医疗保险", payment_other="大病保险",
                             disabilities="其他残疾：精神发育迟缓")
    assert errors == {}
    assert profile.payment_methods == ("1", "8") and profile.payment_other == "大病保险"
    assert profile.disabilities == ("8",) and profile.disability_other == "精神发育迟缓"
    assert labels(profile.payment_methods, PAYMENT_METHODS, profile.payment_other, "8") == "城镇职工基本医疗保险、其他：大病保险"


def test_past_history_reads_text_and_rows_with_dates() -> None:
    profile, errors = _check(past_history={
        "diseases": "高血压（2015-03）、恶性肿瘤：肺癌（2019-05-01）、慢性肾病",
        "operations": [HistoryRow("阑尾切除术", "20000102")], "traumas": "无", "transfusions": None})
    assert errors == {}
    assert profile.past_history["diseases"] == (
        HistoryEntry("", date(2015, 3, 1), "2"), HistoryEntry("肺癌", date(2019, 5, 1), "6"),
        HistoryEntry("慢性肾病", None, "13"))
    assert profile.past_history["operations"] == (HistoryEntry("阑尾切除术", date(2000, 1, 2)),)
    assert profile.past_history["traumas"] == ()
    assert "transfusions" not in profile.past_history
    assert history_text(profile.past_history["diseases"]) == "高血压（2015-03-01）、恶性肿瘤：肺癌（2019-05-01）、其他：慢性肾病"
    assert history_text(profile.past_history["traumas"]) == "无" and history_text(None) == ""
    assert profile_from_columns(profile.columns()) == profile


def test_history_dates_may_be_written_with_slashes_or_in_chinese() -> None:
    profile, errors = _check(past_history={"diseases": "高血压(2015/3/1)，糖尿病（2016年5月）"})
    assert errors == {}
    assert [e.day for e in profile.past_history["diseases"]] == [date(2015, 3, 1), date(2016, 5, 1)]


@pytest.mark.parametrize(("kind", "value", "message"), [
    ("diseases", "高血压（1950-01-01）", "既往史·疾病：高血压的日期 1950-01-01 早于出生日期。"),
    ("operations", "胆囊切除（2027-01-01）", "既往史·手术：胆囊切除的日期 2027-01-01 晚于今天。"),
    ("diseases", "无、糖尿病", "既往史·疾病：“无”不能与其他疾病同时填写。"),
    ("traumas", [HistoryRow("", "2020-01-01")], "既往史·外伤：填写了日期，请填写外伤的名称。"),
    ("transfusions", [HistoryRow("", "2020-01-01")], "既往史·输血：填写了日期，请填写输血的原因。"),
    ("diseases", "糖尿病（2020-13）", "既往史·疾病：糖尿病的日期：月份 13 不存在。"),
])
def test_past_history_dates_are_checked_against_birth_and_today(kind: str, value: object, message: str) -> None:
    _, errors = _check(past_history={kind: value})
    assert errors == {f"past_history.{kind}": message}


def test_genetic_disease_and_contact_phone() -> None:
    profile, errors = _check(genetic_disease="有：血友病", contact_phone="139 0000 1111")
    assert (profile.genetic_disease, profile.contact_phone, errors) == ("血友病", "13900001111", {})
    assert _check(genetic_disease="无")[0].genetic_disease == "无"
    _, errors = _check(genetic_disease="有", contact_phone="12345")
    assert errors["genetic_disease"] == "遗传病史：选了“有”，请填写遗传病名称。"
    assert errors["contact_phone"].startswith("联系人电话：")


# --- the service ------------------------------------------------------------------------------------------


FULL = ProfileInput(residence_type="1", work_unit="红星村委会", contact_name="张小红", contact_phone="13900001111",
                    blood_type="3", rh="2", education="8", occupation="4", marital_status="2",
                    payment_methods="3", drug_allergies="青霉素", exposures="无",
                    past_history={"diseases": "高血压（2015-03-01）", "operations": "无"},
                    family_history={"father": "脑卒中", "mother": "无"}, genetic_disease="无", disabilities="无残疾",
                    living_environment={"kitchen_exhaust": "4", "fuel": "5", "water": "3", "toilet": "2",
                                        "livestock": "4"})


def test_create_and_update_store_the_profile_and_audit_it(registry_app: App) -> None:
    clerk = actor_for(registry_app.db, "luru1")
    saved = create_resident(registry_app.db, clerk, person("王秀英", "1955-06-15", sequence=22, profile=FULL))
    detail = get_resident(registry_app.db, clerk, saved.resident_id)
    assert detail.profile.blood_type == "3" and detail.profile.past_history["diseases"][0].code == "2"
    assert detail.profile.living_environment["fuel"] == "5" and detail.profile.contact_phone == "13900001111"
    edited = replace(FULL, blood_type="1", past_history={**FULL.past_history, "operations": "白内障手术（2020-08）"})
    update_resident(registry_app.db, clerk, saved.resident_id,
                    person("王秀英", "1955-06-15", sequence=22, profile=edited), expected_version=detail.version)
    with registry_app.db.read() as session:
        resident = session.get(Resident, saved.resident_id)
        assert resident.blood_type == "1"
        assert resident.past_history["operations"] == [{"name": "白内障手术", "date": "2020-08-01"}]
        summary = session.scalar(select(AuditEntry.summary).order_by(AuditEntry.seq.desc()).limit(1))
    assert "blood_type" in summary and "past_history" in summary


def test_an_edit_without_the_profile_keeps_it_and_a_bad_profile_is_refused(registry_app: App) -> None:
    clerk = actor_for(registry_app.db, "luru1")
    saved = create_resident(registry_app.db, clerk, person("李建国", "1960-01-01", profile=FULL))
    update_resident(registry_app.db, clerk, saved.resident_id, person("李建国", "1960-01-01", address="东头"),
                    expected_version=None)
    with registry_app.db.read() as session:
        assert session.get(Resident, saved.resident_id).blood_type == "3"
    with pytest.raises(ValidationError) as refused:
        update_resident(registry_app.db, clerk, saved.resident_id,
                        person("李建国", "1960-01-01", profile=replace(FULL, exposures="无、射线")),
                        expected_version=None)
    assert refused.value.errors == {"exposures": "暴露史：“无”不能与其他选项同时选择。"}


def test_a_masked_reader_sees_the_contacts_phone_masked(registry_app: App) -> None:
    clerk = actor_for(registry_app.db, "luru1")
    saved = create_resident(registry_app.db, clerk, person("赵大", "1970-02-02", village="001", profile=FULL))
    detail = get_resident(registry_app.db, actor_for(registry_app.db, "yuanzhang"), saved.resident_id)
    assert detail.masked and detail.profile.contact_phone == "139****1111"


def test_every_demo_profile_passes_the_entry_checks_and_matches_the_conditions(demo_app: App) -> None:
    from desktop.models import ResidentCondition
    from desktop.rules.profile import profile_of
    from desktop.transfer.roster_profile import PROFILE_COLUMNS, profile_cells, profile_input

    with demo_app.db.read() as session:
        residents = list(session.scalars(select(Resident)))
        hypertensive = set(session.scalars(select(ResidentCondition.resident_id).where(
            ResidentCondition.kind == "hypertension", ResidentCondition.deleted.is_(False))))
        today = date.today()
        filled = 0
        for resident in residents:
            profile = profile_of(resident)
            texts = {f: v for f, v in zip(PROFILE_COLUMNS, profile_cells(profile), strict=True) if v}
            again, errors = check_profile(profile_input(texts, PROFILE_COLUMNS), birth=resident.birth_date, today=today)
            assert errors == {} and again == profile, resident.record_no
            codes = {entry.code for entry in profile.past_history.get("diseases", ())}
            assert ("2" in codes) == (resident.id in hypertensive), resident.record_no
            filled += profile.blood_type is not None and bool(profile.living_environment)
    assert filled == len(residents) > 1000
