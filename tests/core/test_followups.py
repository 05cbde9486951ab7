"""Chronic management through the services: enrolment, visits, health checks, due list, indicators."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from core_support import actor_for, complete_check, person, set_examination
from sqlalchemy import func, select

from desktop.app import App
from desktop.clock import now
from desktop.errors import PermissionDenied, UserFacingError, ValidationError
from desktop.models import AuditEntry, FollowupVisit, HealthCheck
from desktop.rules.elderly import Dependence
from desktop.rules.followup import Classification, Disease, NextStep
from desktop.rules.visit_checks import VisitInput
from desktop.services.chronic import EnrolmentInput, end_enrolment, enrol
from desktop.services.chronic_due import ChronicDueKind
from desktop.services.due import DueScope, due_list
from desktop.services.followups import on_emergency, previous_classification, record_visit
from desktop.services.health_checks import HealthCheckInput, record_health_check
from desktop.services.indicators import indicator_report
from desktop.services.residents import create_resident
from desktop.services.visit_history import latest_height_in, visit_history

HT, DM = Disease.HYPERTENSION, Disease.DIABETES
YEAR = 2025
ALL_CARE = dict.fromkeys(("eating", "grooming", "dressing", "toileting", "activity"), Dependence.INDEPENDENT)


def _patient(app: App, name: str, birth: str, *, village: str = "101", sequence: int = 11) -> int:
    clerk = actor_for(app.db, "luru1")
    return create_resident(app.db, clerk, person(name, birth, village=village, sequence=sequence)).resident_id


def _enrolled(app: App, name: str, birth: str, disease: Disease = HT, **kwargs) -> int:
    resident_id = _patient(app, name, birth, **kwargs)
    enrol(app.db, actor_for(app.db, "gongwei1"), resident_id,
          EnrolmentInput(disease, diagnosed_on=date(2020, 3, 1), managed_from=date(2020, 4, 1)))
    return resident_id


def _visit(day: str, sbp: int | None = 128, dbp: int | None = 82, method: str = "1", **kwargs) -> VisitInput:
    """A visit whose doctor chose the classification the rules suggest for a patient under 65 (控制不满意 unmeasured)."""
    kwargs.setdefault("classification", "2" if sbp is None or sbp >= 140 or dbp >= 90 else "1")
    return VisitInput(visit_date=day, method=method, sbp=sbp, dbp=dbp, doctor_name="刘晓梅", **kwargs)


REFERRAL = {"referral_reason": "连续两次控制不满意", "referral_to": "县人民医院心内科"}


def _record(app: App, resident_id: int, visit: VisitInput, disease: Disease = HT):
    return record_visit(app.db, actor_for(app.db, "gongwei1"), resident_id, disease, visit)


def test_enrolment_records_the_diagnosis_and_refuses_a_second_open_one(registry_app: App) -> None:
    resident_id = _enrolled(registry_app, "王建国", "1955-05-05")
    doctor = actor_for(registry_app.db, "gongwei1")
    with pytest.raises(UserFacingError, match="已在高血压管理中"):
        enrol(registry_app.db, doctor, resident_id, EnrolmentInput(HT, date(2021, 1, 1), date(2021, 1, 1)))
    from desktop.services.resident_query import get_resident

    detail = get_resident(registry_app.db, doctor, resident_id)
    assert ("hypertension", date(2020, 3, 1)) in detail.conditions


def test_hypertension_management_starts_at_35(registry_app: App) -> None:
    young = _patient(registry_app, "李小军", "2000-01-01")
    with pytest.raises(ValidationError) as caught:
        enrol(registry_app.db, actor_for(registry_app.db, "gongwei1"), young,
              EnrolmentInput(HT, date(2024, 1, 1), date(2024, 1, 1)))
    assert "35 岁" in caught.value.errors["managed_from"]


def test_visit_for_someone_not_under_management_is_refused(registry_app: App) -> None:
    resident_id = _patient(registry_app, "赵春华", "1950-02-02")
    with pytest.raises(UserFacingError, match="未纳入高血压管理"):
        _record(registry_app, resident_id, _visit("2025-03-01"))


def test_visit_stores_the_suggestion_and_next_date(registry_app: App) -> None:
    resident_id = _enrolled(registry_app, "王建国", "1960-05-05")
    saved = _record(registry_app, resident_id, _visit("2025-03-01", 152, 94))
    assert saved.classification is saved.suggested is Classification.UNCONTROLLED
    assert saved.next_visit_date == date(2025, 3, 15)
    with pytest.raises(ValidationError) as caught:
        _record(registry_app, resident_id, _visit("2025-03-15", 150, 92))
    assert set(caught.value.errors) == {"referral_reason", "referral_to"}
    assert "两次控制不满意转诊随访" in caught.value.errors["referral_reason"]
    second = _record(registry_app, resident_id, _visit("2025-03-15", 150, 92, **REFERRAL))
    with registry_app.db.read() as session:
        stored = session.get(FollowupVisit, second.visit_id)
        assert stored.next_step == NextStep.REFER_AND_FOLLOW_UP.value  # second uncontrolled in a row


def test_two_face_to_face_visits_the_same_day_are_refused_but_a_phone_call_is_not(registry_app: App) -> None:
    resident_id = _enrolled(registry_app, "王建国", "1960-05-05")
    _record(registry_app, resident_id, _visit("2025-03-01"))
    with pytest.raises(ValidationError) as caught:
        _record(registry_app, resident_id, _visit("2025-03-01", method="2"))
    assert "同一天不能登记两次面访" in caught.value.errors["visit_date"]
    _record(registry_app, resident_id, _visit("2025-03-01", None, None, method="3"))


def test_refused_visit_writes_nothing(registry_app: App) -> None:
    resident_id = _enrolled(registry_app, "王建国", "1960-05-05")

    def counts() -> tuple[int, int]:
        with registry_app.db.read() as session:
            return (session.scalar(select(func.count(FollowupVisit.id))),
                    session.scalar(select(func.count()).select_from(AuditEntry)))

    before = counts()
    with pytest.raises(ValidationError):
        _record(registry_app, resident_id, _visit("2025-03-01", 80, 120))
    assert counts() == before


def test_emergency_visit_calls_the_registered_handlers_in_its_transaction(registry_app: App) -> None:
    resident_id = _enrolled(registry_app, "王建国", "1960-05-05")
    seen: list[tuple[int, list[str]]] = []
    on_emergency(lambda session, actor, visit: seen.append((visit.resident_id, list(visit.emergency_reasons))))
    try:
        saved = _record(registry_app, resident_id, _visit("2025-03-01", 186, 100, **REFERRAL))
    finally:
        from desktop.services import followups

        followups._emergency_handlers.clear()
    assert saved.emergency_reasons == ("收缩压 186 ≥ 180 mmHg",)
    assert seen == [(resident_id, ["收缩压 186 ≥ 180 mmHg"])]


def test_village_doctor_cannot_record_outside_their_villages(registry_app: App) -> None:
    resident_id = _enrolled(registry_app, "王建国", "1960-05-05", village="105")
    with pytest.raises(PermissionDenied):
        record_visit(registry_app.db, actor_for(registry_app.db, "cunyi001"), resident_id, HT, _visit("2025-03-01"))


def test_ended_management_refuses_later_visits(registry_app: App) -> None:
    resident_id = _enrolled(registry_app, "王建国", "1960-05-05")
    from desktop.models import ChronicEnrolment

    with registry_app.db.read() as session:
        enrolment_id = session.scalar(select(ChronicEnrolment.id).where(ChronicEnrolment.resident_id == resident_id))
    end_enrolment(registry_app.db, actor_for(registry_app.db, "gongwei1"), enrolment_id, on=date(2025, 1, 31),
                  reason="迁出本辖区")
    with pytest.raises(UserFacingError):
        _record(registry_app, resident_id, _visit("2025-03-01"))


def test_health_check_for_65_plus_needs_the_self_care_assessment(registry_app: App) -> None:
    resident_id = _patient(registry_app, "张桂英", "1950-07-07", sequence=12)
    nurse = actor_for(registry_app.db, "gongwei1")
    data = HealthCheckInput(check_date="2025-05-01", doctor_name="刘晓梅", sbp=130, dbp=80, height=160, weight=60,
                            evaluation_abnormal=False)
    with pytest.raises(ValidationError) as caught:
        record_health_check(registry_app.db, nurse, resident_id, data)
    assert "生活自理能力评估未填完" in caught.value.errors["self_care"]
    record_health_check(registry_app.db, nurse, resident_id, replace(data, self_care=ALL_CARE))


def test_health_check_evaluation_is_the_doctors_choice_not_a_default(registry_app: App) -> None:
    resident_id = _patient(registry_app, "李小军", "1980-07-07", sequence=12)
    doctor = actor_for(registry_app.db, "gongwei1")
    data = HealthCheckInput(check_date="2025-05-01", doctor_name="刘晓梅", sbp=130, dbp=80)
    with pytest.raises(ValidationError) as caught:
        record_health_check(registry_app.db, doctor, resident_id, data)
    assert caught.value.errors == {"evaluation": "请选择健康评价：体检无异常或有异常。"}
    record_health_check(registry_app.db, doctor, resident_id, replace(data, evaluation_abnormal=True))
    with registry_app.db.read() as session:
        assert session.scalar(select(HealthCheck.evaluation_abnormal)) is True


def test_indicators_count_with_reasons(registry_app: App) -> None:
    """Four patients worked by hand: all well, too few visits, uncontrolled at the last visit, never visited."""
    good = _enrolled(registry_app, "王一", "1965-01-01", sequence=11)
    few = _enrolled(registry_app, "王二", "1965-01-02", sequence=13)
    high = _enrolled(registry_app, "王三", "1965-01-03", sequence=15)
    _enrolled(registry_app, "王四", "1965-01-04", sequence=17)
    doctor = actor_for(registry_app.db, "gongwei1")
    for resident_id in (good, few, high):
        record_health_check(registry_app.db, doctor, resident_id,
                            HealthCheckInput(check_date="2025-06-01", doctor_name="刘晓梅", evaluation_abnormal=False))
    for month in ("01", "04", "07", "10"):
        _record(registry_app, good, _visit(f"2025-{month}-10"))
        last = month == "10"
        _record(registry_app, high, _visit(f"2025-{month}-10", 152 if last else 128, 94 if last else 82))
    _record(registry_app, few, _visit("2025-01-10"))
    _record(registry_app, few, _visit("2025-04-10", None, None, method="3"))
    report = indicator_report(registry_app.db, doctor, YEAR)
    standard, control = report.branch("ht_standard"), report.branch("ht_control")
    assert (standard.numerator, standard.denominator) == (2, 4)
    assert (control.numerator, control.denominator) == (1, 4)  # only 'good': the others' last visits fail
    reasons = {v.name: v.reason for v in report.people["ht_control"]}
    assert reasons["王三"] == "末次随访（10月10日，门诊）血压 152/94 未达标（应低于 140/90）"
    assert reasons["王四"] == "本年无随访"
    assert reasons["王二"] == "末次随访（04月10日，电话）未测血压"
    few_reason = next(v.reason for v in report.people["ht_standard"] if v.name == "王二")
    assert few_reason == "面访 1 次，少于 4 次"


def test_elderly_indicator_counts_complete_checks_only(registry_app: App) -> None:
    checked = _patient(registry_app, "张桂英", "1950-07-07", sequence=12)
    _patient(registry_app, "李秀兰", "1951-08-08", sequence=14)
    _patient(registry_app, "刘小明", "1990-08-08", sequence=15)
    partial = _patient(registry_app, "周玉珍", "1949-03-03", sequence=16)
    nurse = actor_for(registry_app.db, "gongwei1")
    record_health_check(registry_app.db, nurse, checked, complete_check("2025-05-01", self_care=ALL_CARE))
    set_examination(registry_app.db, checked)
    record_health_check(registry_app.db, nurse, partial,
                        HealthCheckInput(check_date="2025-05-01", doctor_name="刘晓梅", self_care=ALL_CARE,
                                         evaluation_abnormal=False))
    report = indicator_report(registry_app.db, actor_for(registry_app.db, "kaohe1"), YEAR)
    figure = report.branch("elderly_care")
    assert (figure.numerator, figure.denominator) == (1, 3)
    reasons = {v.name: v.reason for v in report.people["elderly_care"]}
    assert reasons["李秀兰"] == "本年未做健康体检" and reasons["张桂英"] is None
    assert reasons["周玉珍"].startswith("本年体检不完整，缺：体格检查：血压、体格检查：脉率")
    assert reasons["周玉珍"].endswith("心电图、腹部B超、健康指导")


def test_due_list_kinds_and_scope(registry_app: App) -> None:
    today = now().date()
    recheck = _enrolled(registry_app, "王一", "1965-01-01", sequence=11)
    routine = _enrolled(registry_app, "王二", "1965-01-02", sequence=13, village="105")
    _record(registry_app, recheck, _visit((today - timedelta(days=20)).isoformat(), 152, 94))
    _record(registry_app, routine, _visit((today - timedelta(days=95)).isoformat()))
    clerk = actor_for(registry_app.db, "luru1")
    due = due_list(registry_app.db, clerk, on=today)
    kinds = {(item.name, item.kind) for item in due.items}
    assert ("王一", ChronicDueKind.RECHECK) in kinds and ("王二", ChronicDueKind.ROUTINE) in kinds
    assert all(item.due_on < today for item in due.items if item.kind is not ChronicDueKind.ELDERLY_CHECK)
    village_doctor = actor_for(registry_app.db, "cunyi001")
    mine = due_list(registry_app.db, village_doctor, on=today, scope=DueScope.MY_VILLAGES)
    assert {item.name for item in mine.items} == {"王一"}


def test_only_visits_with_a_reading_are_the_previous_classification(registry_app: App) -> None:
    """Uncontrolled, then a phone call 未测, then uncontrolled again: the second uncontrolled in a row is referred."""
    resident_id = _enrolled(registry_app, "王建国", "1960-05-05")
    _record(registry_app, resident_id, _visit("2025-03-01", 152, 94))
    phone = _record(registry_app, resident_id, _visit("2025-03-10", None, None, method="3", measurement="未测",
                                                      classification="3"))
    assert phone.suggested is None and phone.next_visit_date == date(2025, 3, 24)  # two weeks, not three months
    with registry_app.db.read() as session:
        assert session.get(FollowupVisit, phone.visit_id).measurement == "3"
        assert previous_classification(session, resident_id, HT, date(2025, 3, 15)) is Classification.UNCONTROLLED
    with pytest.raises(ValidationError) as caught:
        _record(registry_app, resident_id, _visit("2025-03-15", 150, 92))
    assert "referral_to" in caught.value.errors


def test_a_phone_visit_with_no_reading_cannot_be_controlled(registry_app: App) -> None:
    resident_id = _enrolled(registry_app, "王建国", "1960-05-05")
    with pytest.raises(ValidationError) as caught:
        _record(registry_app, resident_id, _visit("2025-03-10", None, None, method="3", classification="1"))
    assert "不能为“控制满意”" in caught.value.errors["classification"]
    saved = _record(registry_app, resident_id, _visit("2025-03-10", 132, 84, method="3", measurement="居民自测"))
    assert saved.classification is Classification.CONTROLLED and saved.next_visit_date == date(2025, 6, 10)


def test_an_adverse_reaction_twice_in_a_row_is_referred(registry_app: App) -> None:
    resident_id = _enrolled(registry_app, "王建国", "1960-05-05")
    first = _record(registry_app, resident_id, _visit("2025-03-01", adverse_reaction=True, classification="3"))
    assert first.suggested is Classification.ADVERSE_REACTION and first.next_visit_date == date(2025, 3, 15)
    with pytest.raises(ValidationError) as caught:
        _record(registry_app, resident_id, _visit("2025-03-15", adverse_reaction=True, classification="3"))
    assert "两次控制不满意转诊随访" in caught.value.errors["referral_reason"]
    second = _record(registry_app, resident_id, _visit("2025-03-15", adverse_reaction=True, classification="3",
                                                       referral_reason="不良反应难以控制", referral_to="县医院心内科"))
    with registry_app.db.read() as session:
        stored = session.get(FollowupVisit, second.visit_id)
        assert (stored.next_step, stored.referral_reason) == (NextStep.REFER_AND_FOLLOW_UP.value, "不良反应难以控制")


def test_every_field_of_the_national_form_is_stored(registry_app: App) -> None:
    resident_id = _enrolled(registry_app, "李秀兰", "1960-05-05", disease=Disease.DIABETES)
    saved = _record(registry_app, resident_id, _visit(
        "2025-03-01", 132, 80, fasting_glucose="6.4", classification="1", symptoms_other="口干",
        signs_other="双下肢轻度水肿", tests_other="尿微量白蛋白 25 mg/L", foot_pulse="2", foot_pulse_side="双侧",
        insulin="门冬胰岛素", insulin_dose="早餐前 8 单位", medication_advice=(("二甲双胍", "0.5g 每日3次"),),
        referral_result="到位", referral_contact="张医生", resident_signed=True), disease=Disease.DIABETES)
    with registry_app.db.read() as session:
        v = session.get(FollowupVisit, saved.visit_id)
        assert (v.measurement, v.symptoms_other, v.signs_other, v.tests_other, v.foot_pulse, v.foot_pulse_side) == (
            "1", "口干", "双下肢轻度水肿", "尿微量白蛋白 25 mg/L", "2", "双侧")
        assert (v.insulin, v.insulin_dose, v.medication_advice) == (
            "门冬胰岛素", "早餐前 8 单位", [{"name": "二甲双胍", "dose": "0.5g 每日3次"}])
        assert (v.referral_result, v.referral_contact, v.resident_signed) == ("1", "张医生", True)
        assert (v.classification, v.suggested_classification) == ("1", "1")


def test_the_forms_history_skips_unmeasured_visits_and_knows_the_latest_height(registry_app: App) -> None:
    resident_id = _enrolled(registry_app, "王建国", "1960-05-05")
    doctor = actor_for(registry_app.db, "gongwei1")
    record_health_check(registry_app.db, doctor, resident_id, HealthCheckInput(
        check_date="2025-01-05", doctor_name="刘晓梅", height=168, weight=70, evaluation_abnormal=False))
    _record(registry_app, resident_id, _visit("2025-03-01", 152, 94))
    _record(registry_app, resident_id, _visit("2025-03-10", None, None, method="3", classification="3",
                                              adverse_reaction=True))
    history = visit_history(registry_app.db, doctor, resident_id, HT)
    previous = history.previous_with_reading(date(2025, 3, 15))
    assert (previous.visit_date, previous.classification) == (date(2025, 3, 1), Classification.UNCONTROLLED)
    assert history.previous(date(2025, 3, 15)).adverse_reaction is True
    assert history.height_on(date(2025, 3, 15)) == 168 and history.height_on(date(2024, 12, 31)) is None
    with registry_app.db.read() as session:
        assert latest_height_in(session, resident_id, date(2025, 3, 15)) == 168
