"""One resident's chronic record for the panel and forms; the visit stored with its free-text details."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest
from core_support import actor_for, person
from data_templates import open_database

from desktop.app import App
from desktop.errors import PermissionDenied, ValidationError
from desktop.rules.followup import Classification, Disease
from desktop.rules.visit_checks import VisitInput
from desktop.services.chronic import EnrolmentInput, end_enrolment, enrol
from desktop.services.chronic_query import chronic_record
from desktop.services.followups import record_visit
from desktop.services.residents import create_resident

HT = Disease.HYPERTENSION


def _patient(app: App) -> int:
    clerk, doctor = actor_for(app.db, "luru1"), actor_for(app.db, "gongwei1")
    resident_id = create_resident(app.db, clerk, person("张建国", "1950-05-06", village="101")).resident_id
    enrol(app.db, doctor, resident_id, EnrolmentInput(HT, date(2020, 3, 1), date(2020, 4, 1), doctor.staff_id))
    return resident_id


def _visit(day: str, sbp: int, dbp: int) -> VisitInput:
    return VisitInput(visit_date=day, method="1", sbp=sbp, dbp=dbp, doctor_name="刘晓梅",
                      classification="1" if sbp < 150 and dbp < 90 else "2",
                      medications=(("氨氯地平", "1", "5mg"),))


def test_record_lists_enrolments_visits_newest_first_and_the_previous_visit(registry_app: App) -> None:
    resident_id = _patient(registry_app)
    doctor = actor_for(registry_app.db, "gongwei1")
    record_visit(registry_app.db, doctor, resident_id, HT, _visit("2025-01-10", 128, 80))
    record_visit(registry_app.db, doctor, resident_id, HT, _visit("2025-04-10", 156, 96))
    record = chronic_record(registry_app.db, doctor, resident_id)
    assert record.card.name == "张建国" and record.card.age(date(2025, 5, 6)) == 75
    enrolment = record.open_enrolment(HT)
    assert enrolment is not None and enrolment.doctor_name == "刘晓梅"
    assert record.open_enrolment(Disease.DIABETES) is None
    assert [v.visit_date for v in record.visits_for(HT)] == [date(2025, 4, 10), date(2025, 1, 10)]
    assert record.visits[0].classification is record.visits[0].suggested is Classification.UNCONTROLLED
    assert record.visits[0].medications == (("氨氯地平", "1", "5mg"),)
    assert record.previous_visit(HT, date(2025, 4, 10)).visit_date == date(2025, 1, 10)
    assert record.previous_visit(HT, date(2025, 1, 10)) is None
    end_enrolment(registry_app.db, doctor, enrolment.id, on=date(2025, 5, 1), reason="失访")
    ended = chronic_record(registry_app.db, doctor, resident_id).enrolments[0]
    assert (ended.ended_on, ended.end_reason, ended.is_open) == (date(2025, 5, 1), "失访", False)


def test_village_doctor_of_another_village_is_refused(registry_app: App) -> None:
    resident_id = _patient(registry_app)
    assert chronic_record(registry_app.db, actor_for(registry_app.db, "cunyi001"), resident_id).card.record_no
    with pytest.raises(PermissionDenied):
        chronic_record(registry_app.db, actor_for(registry_app.db, "cunyi102"), resident_id)


def _stored(app: App) -> list[tuple]:
    connection = open_database(app.paths.database)
    try:
        return connection.execute("SELECT sbp, referral_reason, referral_to, adverse_reaction_note, emergency_reasons "
                                  "FROM followup_visit").fetchall()
    finally:
        connection.close()


def test_details_are_stored_with_the_visit_and_a_refused_visit_stores_nothing(registry_app: App) -> None:
    resident_id = _patient(registry_app)
    doctor = actor_for(registry_app.db, "gongwei1")
    details = {"referral_reason": " 血压 182/112\n", "referral_to": "县人民医院", "adverse_reaction_note": "  "}
    saved = record_visit(registry_app.db, doctor, resident_id, HT, replace(_visit("2025-02-01", 182, 112), **details))
    assert saved.emergency_reasons and saved.changes.followups
    with pytest.raises(ValidationError) as refused:
        record_visit(registry_app.db, doctor, resident_id, HT, replace(_visit("2025-02-03", 80, 90), **details))
    assert "收缩压" in refused.value.errors["sbp"]
    too_long = replace(_visit("2025-02-04", 130, 80), referral_to="县" * 101)
    with pytest.raises(ValidationError) as refused:
        record_visit(registry_app.db, doctor, resident_id, HT, too_long)
    assert refused.value.errors == {"referral_to": "转诊机构及科别最多 100 字（现 101 字），请精简。"}
    rows = _stored(registry_app)
    assert len(rows) == 1
    assert rows[0][:4] == (182, "血压 182/112", "县人民医院", None)
    assert "收缩压 182" in json.loads(rows[0][4])[0]
