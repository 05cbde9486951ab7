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
from desktop.models import AuditEntry, FollowupVisit
from desktop.rules.elderly import Dependence
from desktop.rules.followup import Classification, Disease, NextStep
from desktop.rules.visit_checks import VisitInput
from desktop.services.chronic import EnrolmentInput, end_enrolment, enrol
from desktop.services.chronic_due import ChronicDueKind
from desktop.services.due import DueScope, due_list
from desktop.services.followups import on_emergency, record_visit
from desktop.services.health_checks import HealthCheckInput, record_health_check
from desktop.services.indicators import indicator_report
from desktop.services.residents import create_resident

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
    return VisitInput(visit_date=day, method=method, sbp=sbp, dbp=dbp, doctor_name="刘晓梅", **kwargs)


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
    assert saved.classification is Classification.UNCONTROLLED
    assert saved.next_visit_date == date(2025, 3, 15)
    second = _record(registry_app, resident_id, _visit("2025-03-15", 150, 92))
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
        saved = _record(registry_app, resident_id, _visit("2025-03-01", 186, 100))
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
    data = HealthCheckInput(check_date="2025-05-01", doctor_name="刘晓梅", sbp=130, dbp=80, height=160, weight=60)
    with pytest.raises(ValidationError) as caught:
        record_health_check(registry_app.db, nurse, resident_id, data)
    assert "生活自理能力评估未填完" in caught.value.errors["self_care"]
    record_health_check(registry_app.db, nurse, resident_id, replace(data, self_care=ALL_CARE))


def test_indicators_count_with_reasons(registry_app: App) -> None:
    """Four patients worked by hand: all well, too few visits, uncontrolled at the last visit, never visited."""
    good = _enrolled(registry_app, "王一", "1965-01-01", sequence=11)
    few = _enrolled(registry_app, "王二", "1965-01-02", sequence=13)
    high = _enrolled(registry_app, "王三", "1965-01-03", sequence=15)
    _enrolled(registry_app, "王四", "1965-01-04", sequence=17)
    doctor = actor_for(registry_app.db, "gongwei1")
    for resident_id in (good, few, high):
        record_health_check(registry_app.db, doctor, resident_id,
                            HealthCheckInput(check_date="2025-06-01", doctor_name="刘晓梅"))
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
                        HealthCheckInput(check_date="2025-05-01", doctor_name="刘晓梅", self_care=ALL_CARE))
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
