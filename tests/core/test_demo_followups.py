"""The demo's chronic management follows the same rules as anything a doctor enters, and looks like real work."""

from __future__ import annotations

from collections import Counter, defaultdict
from contextlib import closing
from dataclasses import fields
from datetime import date
from pathlib import Path

import pytest
from data_templates import open_database, opened_copy
from sqlalchemy import select

from desktop.app import App, open_app
from desktop.clock import now
from desktop.demo import build_demo
from desktop.demo.checks import RESULT_KEYS
from desktop.demo.steps import PROGRAMME_START
from desktop.errors import ValidationError
from desktop.models import ChronicEnrolment, FollowupVisit, HealthCheck, Resident
from desktop.paths import DB_FILENAME
from desktop.rules.elderly import Dependence
from desktop.rules.followup import Classification, Disease, NextStep, Readings, VisitMethod, next_visit_date, suggest
from desktop.rules.visit_checks import PatientFacts, VisitInput, check_visit
from desktop.services.health_checks import HealthCheckInput
from desktop.services.health_checks import _check as check_health_check
from desktop.services.indicators import indicator_report
from desktop.services.permissions import Actor, Role


def _age(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


@pytest.fixture(scope="module")
def records(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The demo's enrolments, visits (by enrolment, in date order), checks and residents, read once."""
    for app in opened_copy(demo_template, tmp_path_factory.mktemp("demo-records")):
        with app.db.read() as session:
            enrolments = {e.id: e for e in session.scalars(select(ChronicEnrolment))}
            residents = {r.id: r for r in session.scalars(select(Resident))}
            visits = session.scalars(select(FollowupVisit).order_by(FollowupVisit.enrolment_id,
                                                                    FollowupVisit.visit_date)).all()
            checks = session.scalars(select(HealthCheck)).all()
            session.expunge_all()
    by_enrolment: dict[int, list[FollowupVisit]] = defaultdict(list)
    for visit in visits:
        by_enrolment[visit.enrolment_id].append(visit)
    return {"enrolments": enrolments, "residents": residents, "visits": by_enrolment, "checks": checks,
            "all_visits": visits}


def test_demo_visits_follow_the_rules(records) -> None:
    enrolments, residents, today = records["enrolments"], records["residents"], now().date()
    assert len(enrolments) > 100 and len(records["all_visits"]) > 10 * len(enrolments)
    for enrolment_id, own in records["visits"].items():
        enrolment = enrolments[enrolment_id]
        disease, birth = Disease(enrolment.disease), residents[enrolment.resident_id].birth_date
        assert _age(birth, enrolment.managed_from) >= 35
        previous = None
        face_days = set()
        for visit in own:
            where = f"visit {visit.id} ({visit.visit_date})"
            assert enrolment.managed_from <= visit.visit_date < (enrolment.ended_on or today), where
            method = VisitMethod(visit.method)
            measured = visit.measurement != "3"
            if method.is_face_to_face:
                assert visit.visit_date not in face_days and visit.measurement == "1", where
                face_days.add(visit.visit_date)
                assert visit.weight is not None and visit.target_weight is not None, where
            else:
                assert visit.weight is None and visit.target_weight is None, where  # nobody is weighed on the phone
                assert visit.measurement in ("2", "3"), where
            if not measured:
                assert (visit.sbp, visit.dbp, visit.fasting_glucose, visit.suggested_classification) == (
                    None, None, None, None), where
                assert visit.classification != Classification.CONTROLLED.value and visit.override_reason, where
            else:
                readings = Readings(sbp=visit.sbp, dbp=visit.dbp, fasting_glucose=visit.fasting_glucose)
                expected = suggest(disease, readings, visit_date=visit.visit_date, age=_age(birth, visit.visit_date),
                                   adverse_reaction=visit.adverse_reaction, new_complication=visit.new_complication,
                                   previous=previous)
                assert visit.suggested_classification == expected.classification.value, where
                assert visit.emergency_reasons == list(expected.emergency), where
                if visit.override_reason is None:
                    assert (visit.classification, visit.next_step) == (
                        expected.classification.value, expected.next_step.value), where
            assert visit.classification and (visit.override_reason is None) == (
                visit.classification == visit.suggested_classification), where
            assert visit.next_visit_date == next_visit_date(visit.visit_date, NextStep(visit.next_step)), where
            if visit.next_step in (NextStep.REFER_AND_FOLLOW_UP.value, NextStep.EMERGENCY_REFERRAL.value):
                assert visit.referral_reason and visit.referral_to and visit.referral_result in ("1", "2"), where
            else:
                assert visit.referral_reason is None and visit.referral_to is None, where
            if measured:
                previous = Classification(visit.classification)


def test_no_enrolment_before_the_programme_or_the_record(records) -> None:
    residents = records["residents"]
    for enrolment in records["enrolments"].values():
        assert enrolment.managed_from >= PROGRAMME_START, enrolment.id
        assert enrolment.managed_from >= residents[enrolment.resident_id].registered_on, enrolment.id
        assert enrolment.diagnosed_on <= enrolment.managed_from, enrolment.id


def test_no_patient_loops_on_two_week_rechecks(records) -> None:
    for own in records["visits"].values():
        run = longest = 0
        for before, after in zip(own, own[1:]):
            run = run + 1 if (after.visit_date - before.visit_date).days < 30 else 0
            longest = max(longest, run)
        assert longest <= 6, f"enrolment {own[0].enrolment_id}: {longest} rechecks in a row"
        per_year = Counter(visit.visit_date.year for visit in own)
        assert max(per_year.values()) <= 14, own[0].enrolment_id


def test_blood_pressure_looks_like_managed_rural_patients(records) -> None:
    visits = [v for v in records["all_visits"] if v.disease == Disease.HYPERTENSION.value]
    measured = [v for v in visits if v.sbp is not None]
    classes = Counter(v.classification for v in visits)
    assert 0.5 <= classes[Classification.CONTROLLED.value] / len(visits) <= 0.85
    assert 0 < sum(v.sbp >= 180 for v in measured) < 0.03 * len(measured)
    assert classes[Classification.ADVERSE_REACTION.value] > 0 and classes[Classification.COMPLICATION.value] > 0
    assert all(v.adverse_reaction_note for v in visits if v.adverse_reaction)
    assert sum(len(v.medications) >= 2 for v in visits) > 0.4 * len(visits)
    assert all(m["name"] and m["dose"] and m["times_per_day"] for v in visits for m in v.medications)
    overrides = [v for v in visits if v.override_reason]
    assert 0 < len(overrides) < 0.05 * len(visits)
    phone = Counter(v.measurement for v in visits if v.method == VisitMethod.PHONE.value)
    assert phone["2"] > phone["3"] > 0


def test_diabetes_glucose_responds_to_treatment(records) -> None:
    better = worse = 0
    insulin = 0
    for own in records["visits"].values():
        if own[0].disease != Disease.DIABETES.value:
            continue
        insulin += any(v.insulin for v in own)
        for before, after in zip(own, own[1:]):
            if before.next_step == NextStep.RECHECK_IN_TWO_WEEKS.value and before.fasting_glucose \
                    and after.fasting_glucose and (after.visit_date - before.visit_date).days < 30:
                better += after.fasting_glucose < before.fasting_glucose
                worse += after.fasting_glucose >= before.fasting_glucose
    assert better > 2 * worse
    assert insulin > 0


def test_lifestyle_and_foot_pulse_are_filled_as_doctors_fill_them(records) -> None:
    for visit in records["all_visits"]:
        lifestyle = visit.lifestyle
        for key in ("cigarettes_per_day", "alcohol_liang_per_day", "exercise_times_per_week", "mood", "compliance"):
            assert key in lifestyle, (visit.id, key)
        assert ("salt" in lifestyle) == (visit.disease == Disease.HYPERTENSION.value), visit.id
        assert visit.medication_adherence in ("1", "2", "3"), visit.id
        if visit.disease == Disease.DIABETES.value and VisitMethod(visit.method).is_face_to_face:
            assert visit.foot_pulse in ("1", "2", "3"), visit.id
            assert (visit.foot_pulse_side is None) == (visit.foot_pulse == "1"), visit.id
    moods = Counter(v.lifestyle["mood"] for v in records["all_visits"])
    assert moods["1"] > moods["2"] > 0


def test_deaths_and_move_outs_end_management(records) -> None:
    residents, today = records["residents"], now().date()
    statuses = Counter(r.status for r in residents.values())
    per_thousand_a_year = {status: 1000 * statuses[status] / len(residents) / 4 for status in ("deceased", "moved_out")}
    assert 5 <= per_thousand_a_year["deceased"] <= 12 and 1 <= per_thousand_a_year["moved_out"] <= 6
    gone = {rid: r for rid, r in residents.items() if r.status != "active"}
    assert len({r.status_date.year for r in gone.values() if r.status == "deceased"}) >= 4
    for resident in gone.values():
        assert resident.status_note and resident.registered_on < resident.status_date < today, resident.id
    for enrolment in records["enrolments"].values():
        resident = residents[enrolment.resident_id]
        if resident.status == "active":
            assert enrolment.ended_on is None and enrolment.end_reason is None, enrolment.id
        else:
            reason = {"deceased": "死亡", "moved_out": "迁出"}[resident.status]
            assert (enrolment.ended_on, enrolment.end_reason) == (resident.status_date, reason), enrolment.id
    for visit in records["all_visits"]:
        ended = gone.get(visit.resident_id)
        assert ended is None or visit.visit_date < ended.status_date, visit.id
    for check in records["checks"]:
        ended = gone.get(check.resident_id)
        assert ended is None or check.check_date < ended.status_date, check.id


def test_health_checks_carry_results_and_a_decided_evaluation(records) -> None:
    residents = records["residents"]
    elderly = [c for c in records["checks"] if _age(residents[c.resident_id].birth_date, c.check_date) >= 65]
    assert elderly
    incomplete = 0
    for check in records["checks"]:
        assert check.evaluation_abnormal in (True, False) and check.examination and check.guidance, check.id
        assert (check.evaluation_note is not None) == check.evaluation_abnormal, check.id
        assert set(check.results) <= set(RESULT_KEYS) and check.lifestyle and check.symptoms, check.id
    elderly_ids = {check.id for check in elderly}
    for check in records["checks"]:
        assert (check.self_care_total is not None) == (check.id in elderly_ids), check.id
    for check in elderly:
        missing = [key for key in RESULT_KEYS if key not in check.results]
        assert len(missing) <= 2, check.id
        incomplete += bool(missing)
    assert 0.08 <= incomplete / len(elderly) <= 0.18
    abnormal = sum(c.evaluation_abnormal for c in records["checks"]) / len(records["checks"])
    assert 0.4 <= abnormal <= 0.9


def test_the_figures_of_a_full_year_are_plausible(demo_app: App) -> None:
    director = Actor(account_id=None, username="yuanzhang", display_name="陈建国", role=Role.DIRECTOR)
    report = indicator_report(demo_app.db, director, now().date().year - 1)
    for code, low, high in (("ht_standard", 0.55, 0.9), ("dm_standard", 0.5, 0.9), ("ht_control", 0.5, 0.85),
                            ("dm_control", 0.45, 0.85)):
        figure = report.branch(code)
        assert low <= figure.numerator / figure.denominator <= high, (code, figure)


def _only_known(cls: type, values: dict) -> dict:
    """The values the input type takes (the checks grow fields; a record fills every field the form has)."""
    known = {f.name for f in fields(cls)}
    return {name: value for name, value in values.items() if name in known}


def _visit_input(visit: FollowupVisit) -> VisitInput:
    """A stored visit as the form would hand it to the checks."""
    text = {name: getattr(visit, name) or "" for name in (
        "medication_adherence", "hypoglycemia", "foot_pulse", "foot_pulse_side", "classification", "override_reason",
        "referral_reason", "referral_to", "referral_result", "referral_contact", "adverse_reaction_note", "measurement",
        "insulin", "insulin_dose", "symptoms_other", "signs_other", "tests_other", "next_step")}
    numbers = {name: getattr(visit, name) for name in (
        "sbp", "dbp", "weight", "target_weight", "height", "heart_rate", "fasting_glucose", "hba1c")}
    return VisitInput(**_only_known(VisitInput, {
        **text, **numbers, "visit_date": visit.visit_date, "method": visit.method, "hba1c_date": visit.hba1c_date,
        "symptoms": tuple(visit.symptoms), "adverse_reaction": visit.adverse_reaction,
        "new_complication": visit.new_complication, "next_visit_date": visit.next_visit_date,
        "medications": tuple((m["name"], m["times_per_day"], m["dose"]) for m in visit.medications),
        "medication_advice": tuple((a["name"], a["dose"]) for a in visit.medication_advice),
        "doctor_name": visit.doctor_name, "doctor_id": visit.doctor_id, "lifestyle": dict(visit.lifestyle),
        "resident_signed": visit.resident_signed,
    }))


def test_every_demo_visit_passes_the_entry_checks(records) -> None:
    enrolments, residents, today = records["enrolments"], records["residents"], now().date()
    failures = []
    for enrolment_id, own in records["visits"].items():
        enrolment = enrolments[enrolment_id]
        resident = residents[enrolment.resident_id]
        previous = None
        for visit in own:
            facts = PatientFacts(**_only_known(PatientFacts, {
                "birth_date": resident.birth_date, "diagnosed_on": enrolment.diagnosed_on,
                "managed_from": enrolment.managed_from, "ended_on": enrolment.ended_on, "previous": previous,
                "status_date": resident.status_date}))
            where = f"随访 {visit.id}（{resident.record_no} {resident.name} {visit.visit_date}）"
            try:
                clean = check_visit(Disease(visit.disease), _visit_input(visit), facts, today=today)
            except ValidationError as error:
                failures.append(f"{where}: {error.errors}")
                continue
            if (clean.classification.value, clean.next_visit_date) != (visit.classification, visit.next_visit_date):
                failures.append(f"{where}: checks give {clean.classification.value} {clean.next_visit_date}, "
                                f"stored {visit.classification} {visit.next_visit_date}")
            if visit.measurement != "3":
                previous = Classification(visit.classification)
    assert not failures, "\n".join(failures[:20])


def test_every_demo_health_check_passes_the_entry_checks(records) -> None:
    residents, today = records["residents"], now().date()
    failures = []
    for check in records["checks"]:
        data = HealthCheckInput(**_only_known(HealthCheckInput, {
            "check_date": check.check_date, "doctor_name": check.doctor_name, "doctor_id": check.doctor_id,
            **{name: getattr(check, name) for name in ("sbp", "dbp", "heart_rate", "height", "weight", "waist")},
            "self_care": {item: Dependence(level) for item, level in check.self_care.items()},
            "lifestyle": dict(check.lifestyle), "results": dict(check.results), "symptoms": tuple(check.symptoms),
            "examination": dict(check.examination), "evaluation_abnormal": check.evaluation_abnormal,
            "evaluation_note": check.evaluation_note or "", "guidance": tuple(check.guidance),
        }))
        resident = residents[check.resident_id]
        try:
            _, total = check_health_check(data, resident, today)
        except ValidationError as error:
            where = f"体检 {check.id}（{resident.record_no} {resident.name} {check.check_date}）"
            failures.append(f"{where}: {error.errors}")
            continue
        if total != check.self_care_total:
            failures.append(f"体检 {check.id}: self-care total {total}, stored {check.self_care_total}")
    assert not failures, "\n".join(failures[:20])


def _contents(path: Path) -> list[list[tuple]]:
    """The demo's records without their random sync identities."""
    queries = (
        "SELECT id, status, status_date, status_note FROM resident ORDER BY id",
        "SELECT resident_id, disease, managed_from, ended_on, end_reason FROM chronic_enrolment ORDER BY id",
        "SELECT resident_id, visit_date, method, measurement, sbp, dbp, fasting_glucose, classification, next_step, "
        "medications, medication_advice, lifestyle, referral_reason, foot_pulse FROM followup_visit ORDER BY id",
        "SELECT resident_id, check_date, results, examination, evaluation_abnormal, guidance FROM health_check "
        "ORDER BY id",
    )
    with closing(open_database(path)) as connection:
        return [connection.execute(sql).fetchall() for sql in queries]


def test_the_same_seed_builds_the_same_records(tmp_path: Path) -> None:
    built = []
    for name in ("first", "second"):
        app = open_app(tmp_path / name)
        try:
            build_demo(app.db, residents=400)
        finally:
            app.close()
        built.append(_contents(tmp_path / name / DB_FILENAME))
    assert built[0] == built[1]
    assert all(built[0])
