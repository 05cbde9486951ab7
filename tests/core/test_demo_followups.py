"""The demo's chronic management follows the same rules as anything a doctor enters."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import select

from desktop.app import App
from desktop.clock import now
from desktop.models import ChronicEnrolment, FollowupVisit, HealthCheck, Resident
from desktop.rules.followup import Classification, Disease, Readings, VisitMethod, range_problems, suggest


def _age(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def test_demo_visits_follow_the_rules(demo_app: App) -> None:
    with demo_app.db.read() as session:
        enrolments = {e.id: e for e in session.scalars(select(ChronicEnrolment))}
        births = dict(session.execute(select(Resident.id, Resident.birth_date)).all())
        visits = session.scalars(select(FollowupVisit).order_by(FollowupVisit.enrolment_id,
                                                                FollowupVisit.visit_date)).all()
        _check_visits(enrolments, births, visits, now().date())


def _check_visits(enrolments: dict, births: dict, visits: list[FollowupVisit], today: date) -> None:
    assert len(enrolments) > 100 and len(visits) > 10 * len(enrolments)
    by_enrolment: dict[int, list[FollowupVisit]] = defaultdict(list)
    for visit in visits:
        by_enrolment[visit.enrolment_id].append(visit)
    for enrolment_id, own in by_enrolment.items():
        enrolment = enrolments[enrolment_id]
        disease, birth = Disease(enrolment.disease), births[enrolment.resident_id]
        if disease is Disease.HYPERTENSION:
            assert _age(birth, enrolment.managed_from) >= 35
        previous = None
        face_days = set()
        for visit in own:
            assert enrolment.managed_from <= visit.visit_date < today
            assert range_problems({"sbp": visit.sbp, "dbp": visit.dbp, "fasting_glucose": visit.fasting_glucose}) == {}
            method = VisitMethod(visit.method)
            if method.is_face_to_face:
                assert visit.visit_date not in face_days
                face_days.add(visit.visit_date)
                assert visit.weight is not None and visit.target_weight is not None
            else:
                assert visit.weight is None and visit.target_weight is None  # nobody is weighed on the phone
            readings = Readings(sbp=visit.sbp, dbp=visit.dbp, fasting_glucose=visit.fasting_glucose)
            expected = suggest(disease, readings, visit_date=visit.visit_date, age=_age(birth, visit.visit_date),
                               previous=previous)
            assert (visit.classification, visit.next_step, visit.next_visit_date) == (
                expected.classification.value, expected.next_step.value, expected.next_visit)
            assert visit.measurement == ("1" if method.is_face_to_face else "2")  # by phone: the home reading
            previous = Classification(visit.classification)


def test_demo_elderly_checks_carry_the_self_care_score(demo_app: App) -> None:
    with demo_app.db.read() as session:
        rows = session.execute(select(HealthCheck.check_date, HealthCheck.self_care_total, Resident.birth_date)
                               .join(Resident, Resident.id == HealthCheck.resident_id)).all()
    assert rows
    for day, total, birth in rows:
        assert (total is not None) == (_age(birth, day) >= 65)
