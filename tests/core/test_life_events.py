"""Death and move-out: management ends on the date, later services are refused, due lists drop the person."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from core_support import actor_for, person
from sqlalchemy import select

from desktop.app import App
from desktop.errors import PermissionDenied, ValidationError
from desktop.models import AuditEntry, ChronicEnrolment, Resident
from desktop.rules.elderly import Dependence
from desktop.rules.followup import Disease
from desktop.rules.population import ResidentStatus
from desktop.rules.visit_checks import VisitInput
from desktop.services.chronic import EnrolmentInput, enrol
from desktop.services.due import due_list
from desktop.services.followups import record_visit
from desktop.services.health_checks import HealthCheckInput, record_health_check
from desktop.services.life_events import ensure_alive_on
from desktop.services.residents import create_resident, set_status
from desktop.services.visit_corrections import correct_visit, stored_visit

HT, DM = Disease.HYPERTENSION, Disease.DIABETES
DEATH = date(2026, 5, 3)


def _enrolled_in_both(app: App) -> int:
    resident_id = create_resident(app.db, actor_for(app.db, "luru1"), person("王建国", "1950-05-05")).resident_id
    doctor = actor_for(app.db, "gongwei1")
    for disease in (HT, DM):
        enrol(app.db, doctor, resident_id, EnrolmentInput(disease, diagnosed_on=date(2020, 3, 1),
                                                          managed_from=date(2020, 4, 1)))
    return resident_id


def _visit(day: str) -> VisitInput:
    return VisitInput(visit_date=day, method="1", sbp=128, dbp=82, classification="1", doctor_name="刘晓梅")


def _check(day: str) -> HealthCheckInput:
    care = dict.fromkeys(("eating", "grooming", "dressing", "toileting", "activity"), Dependence.INDEPENDENT)
    return HealthCheckInput(day, doctor_name="刘晓梅", self_care=care, evaluation_abnormal=False)


def _enrolments(app: App, resident_id: int) -> dict[str, tuple[date | None, str | None]]:
    with app.db.read() as session:
        rows = session.execute(select(ChronicEnrolment.disease, ChronicEnrolment.ended_on, ChronicEnrolment.end_reason)
                               .where(ChronicEnrolment.resident_id == resident_id)).all()
    return {disease: (ended, reason) for disease, ended, reason in rows}


def _died(app: App, resident_id: int, on: date = DEATH):
    return set_status(app.db, actor_for(app.db, "gongwei1"), resident_id, ResidentStatus.DECEASED, on=on,
                      note="家属告知")


def test_death_closes_every_open_enrolment_with_the_reason_and_date_and_audits_it(registry_app: App) -> None:
    resident_id = _enrolled_in_both(registry_app)
    saved = _died(registry_app, resident_id)
    assert saved.effect == "结束高血压、2型糖尿病管理"
    assert _enrolments(registry_app, resident_id) == {"hypertension": (DEATH, "死亡"), "diabetes": (DEATH, "死亡")}
    with registry_app.db.read() as session:
        summaries = list(session.scalars(select(AuditEntry.summary).order_by(AuditEntry.seq.desc()).limit(3)))
    assert summaries[0].endswith("标记为死亡，结束高血压、2型糖尿病管理")
    assert all("因死亡（2026-05-03）终止" in text for text in summaries[1:])


def test_move_out_closes_with_its_own_reason(registry_app: App) -> None:
    resident_id = _enrolled_in_both(registry_app)
    set_status(registry_app.db, actor_for(registry_app.db, "luru1"), resident_id, ResidentStatus.MOVED_OUT,
               on=date(2025, 6, 1))
    assert set(_enrolments(registry_app, resident_id).values()) == {(date(2025, 6, 1), "迁出本辖区")}


def test_a_visit_after_death_is_refused_naming_the_date_and_one_on_or_before_is_accepted(registry_app: App) -> None:
    resident_id = _enrolled_in_both(registry_app)
    doctor = actor_for(registry_app.db, "gongwei1")

    def _record(day: str) -> None:
        record_visit(registry_app.db, doctor, resident_id, HT, _visit(day))

    _record("2026-04-20")
    _died(registry_app, resident_id)
    with pytest.raises(ValidationError) as caught:
        _record("2026-05-04")
    assert caught.value.errors["visit_date"] == "该居民已于 2026-05-03 死亡，不能登记此后的随访。"
    _record("2026-05-03")  # the day of death itself is still within management


def test_a_health_check_after_death_or_move_out_is_refused(registry_app: App) -> None:
    resident_id = _enrolled_in_both(registry_app)
    doctor = actor_for(registry_app.db, "gongwei1")
    _died(registry_app, resident_id)
    with pytest.raises(ValidationError) as caught:
        record_health_check(registry_app.db, doctor, resident_id, _check("2026-06-01"))
    assert caught.value.errors["check_date"] == "该居民已于 2026-05-03 死亡，不能登记此后的体检。"
    set_status(registry_app.db, doctor, resident_id, ResidentStatus.ACTIVE, on=None, note="误登记")
    set_status(registry_app.db, doctor, resident_id, ResidentStatus.MOVED_OUT, on=date(2026, 2, 1))
    with pytest.raises(ValidationError, match="已于 2026-02-01 迁出本辖区，不能登记此后的体检"):
        record_health_check(registry_app.db, doctor, resident_id, _check("2026-02-02"))


def test_the_guard_is_silent_for_residents_on_the_register_and_days_not_after_the_event() -> None:
    alive = Resident(status="active", status_date=None)
    dead = Resident(status="deceased", status_date=DEATH)
    ensure_alive_on(alive, date(2030, 1, 1))
    ensure_alive_on(dead, DEATH)
    ensure_alive_on(dead, None)
    with pytest.raises(ValidationError, match="不能登记此后的签约"):
        ensure_alive_on(dead, date(2026, 5, 4), what="签约", field="signed_on")


def test_a_death_dated_before_recorded_visits_is_refused(registry_app: App) -> None:
    resident_id = _enrolled_in_both(registry_app)
    record_visit(registry_app.db, actor_for(registry_app.db, "gongwei1"), resident_id, HT, _visit("2026-04-20"))
    with pytest.raises(ValidationError) as caught:
        _died(registry_app, resident_id, on=date(2026, 4, 1))
    assert "之后还有 1 条随访或体检记录（最近 2026-04-20）" in caught.value.errors["status_date"]
    assert _enrolments(registry_app, resident_id) == {"hypertension": (None, None), "diabetes": (None, None)}


def test_back_on_the_register_needs_a_reason_and_reopens_what_the_event_closed(registry_app: App) -> None:
    resident_id = _enrolled_in_both(registry_app)
    doctor = actor_for(registry_app.db, "gongwei1")
    _died(registry_app, resident_id)
    with pytest.raises(ValidationError) as caught:
        set_status(registry_app.db, doctor, resident_id, ResidentStatus.ACTIVE, on=None)
    assert "恢复在册请填写原因" in caught.value.errors["status_note"]
    saved = set_status(registry_app.db, doctor, resident_id, ResidentStatus.ACTIVE, on=None, note="误登记为死亡")
    assert saved.effect == "恢复高血压、2型糖尿病管理"
    assert _enrolments(registry_app, resident_id) == {"hypertension": (None, None), "diabetes": (None, None)}
    record_visit(registry_app.db, doctor, resident_id, HT, _visit("2026-05-20"))


def test_back_on_the_register_leaves_alone_management_ended_for_another_reason(registry_app: App) -> None:
    from desktop.services.chronic import end_enrolment

    resident_id = _enrolled_in_both(registry_app)
    doctor = actor_for(registry_app.db, "gongwei1")
    with registry_app.db.read() as session:
        dm_id = session.scalar(select(ChronicEnrolment.id).where(ChronicEnrolment.resident_id == resident_id,
                                                                   ChronicEnrolment.disease == "diabetes"))
    end_enrolment(registry_app.db, doctor, dm_id, on=date(2025, 1, 1), reason="排除诊断")
    _died(registry_app, resident_id)
    set_status(registry_app.db, doctor, resident_id, ResidentStatus.ACTIVE, on=None, note="误登记为死亡")
    assert _enrolments(registry_app, resident_id) == {"hypertension": (None, None),
                                                      "diabetes": (date(2025, 1, 1), "排除诊断")}


def test_a_corrected_death_date_moves_the_end_of_management_with_it(registry_app: App) -> None:
    resident_id = _enrolled_in_both(registry_app)
    _died(registry_app, resident_id)
    saved = _died(registry_app, resident_id, on=date(2026, 5, 1))
    assert saved.effect == ""
    assert set(_enrolments(registry_app, resident_id).values()) == {(date(2026, 5, 1), "死亡")}


def test_due_lists_drop_the_dead_and_moved_out(registry_app: App) -> None:
    clerk = actor_for(registry_app.db, "luru1")
    dead, moved = _enrolled_in_both(registry_app), create_resident(
        registry_app.db, clerk, person("李秀英", "1948-02-02", sequence=13)).resident_id
    enrol(registry_app.db, actor_for(registry_app.db, "gongwei1"), moved,
          EnrolmentInput(HT, diagnosed_on=date(2020, 3, 1), managed_from=date(2020, 4, 1)))
    today = date.today()
    listed = lambda: {item.resident_id for item in due_list(registry_app.db, clerk, on=today).items}  # noqa: E731
    assert {dead, moved} <= listed()
    _died(registry_app, dead)
    set_status(registry_app.db, clerk, moved, ResidentStatus.MOVED_OUT, on=date(2025, 6, 1))
    assert not {dead, moved} & listed()


def test_the_dialog_is_told_beforehand_what_a_status_change_does_to_management(registry_app: App) -> None:
    from desktop.services.life_events import status_effects

    resident_id = _enrolled_in_both(registry_app)
    clerk = actor_for(registry_app.db, "luru1")
    effects = status_effects(registry_app.db, clerk, resident_id)
    assert effects.text(ResidentStatus.DECEASED) == "将同时结束高血压、2型糖尿病管理"
    assert effects.text(ResidentStatus.ACTIVE) == ""
    _died(registry_app, resident_id)
    effects = status_effects(registry_app.db, clerk, resident_id)
    assert (effects.text(ResidentStatus.MOVED_OUT), effects.text(ResidentStatus.ACTIVE)) == (
        "", "将恢复高血压、2型糖尿病管理")
    with pytest.raises(PermissionDenied):
        status_effects(registry_app.db, actor_for(registry_app.db, "cunyi102"), resident_id)


def test_due_lists_drop_an_ended_enrolment_of_a_resident_still_on_the_register(registry_app: App) -> None:
    from desktop.services.chronic import end_enrolment

    resident_id = _enrolled_in_both(registry_app)
    doctor = actor_for(registry_app.db, "gongwei1")
    with registry_app.db.read() as session:
        dm_id = session.scalar(select(ChronicEnrolment.id).where(ChronicEnrolment.resident_id == resident_id,
                                                                   ChronicEnrolment.disease == "diabetes"))

    def listed() -> set[tuple[int, Disease | None]]:
        return {(i.resident_id, i.disease) for i in due_list(registry_app.db, doctor, on=date.today()).items}

    assert {(resident_id, HT), (resident_id, DM)} <= listed()
    end_enrolment(registry_app.db, doctor, dm_id, on=date(2025, 1, 1), reason="排除诊断")
    assert (resident_id, HT) in listed() and (resident_id, DM) not in listed()


def test_a_correction_may_not_move_a_visit_past_the_death(registry_app: App) -> None:
    resident_id = _enrolled_in_both(registry_app)
    doctor = actor_for(registry_app.db, "gongwei1")
    visit_id = record_visit(registry_app.db, doctor, resident_id, HT, _visit("2026-04-20")).visit_id
    _died(registry_app, resident_id)
    opened = stored_visit(registry_app.db, doctor, visit_id)
    with pytest.raises(ValidationError) as caught:
        correct_visit(registry_app.db, doctor, visit_id, replace(opened.data, visit_date="2026-05-10"),
                      reason="日期填错", expected_version=opened.version)
    assert caught.value.errors["visit_date"] == "该居民已于 2026-05-03 死亡，不能登记此后的随访。"
    correct_visit(registry_app.db, doctor, visit_id, replace(opened.data, visit_date="2026-04-21"),
                  reason="日期填错", expected_version=opened.version)
