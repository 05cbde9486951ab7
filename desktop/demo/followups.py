"""Demo chronic management: enrolments, years of follow-up visits and yearly health checks.

Every visit is planned the way a doctor follows the rules: the next one falls on the date the
previous visit set (give or take a few days, and sometimes missed), its classification and
next step come from `suggest`, and values drift around each patient's own baseline.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, insert, select

from desktop.clock import now
from desktop.db import Database
from desktop.demo.steps import DemoContext, DemoStep
from desktop.jobs import ProgressFn, no_progress, raise_if_aborted
from desktop.models import ChronicEnrolment, FollowupVisit, HealthCheck, Resident, ResidentCondition, Staff
from desktop.models.sync_columns import new_sync_rows
from desktop.rules.dates import age_on
from desktop.rules.elderly import SELF_CARE_ITEMS, Dependence, bmi, self_care_score
from desktop.rules.followup import Classification, Disease, NextStep, Readings, VisitMethod, suggest
from desktop.rules.population import ELDERLY_AGE

HISTORY_YEARS = 4
CONDITION_DISEASE = {"hypertension": Disease.HYPERTENSION, "diabetes": Disease.DIABETES}


@dataclass(frozen=True)
class _Patient:
    resident_id: int
    birth: date
    disease: Disease
    diagnosed_on: date
    doctor_id: int | None
    doctor_name: str



def add_demo_followups(db: Database, *, rng: random.Random, abort: threading.Event,
                       progress: ProgressFn = no_progress) -> int:
    """Enrol the demo's hypertension and diabetes patients not yet managed; returns visits added."""
    today = now().date()
    with db.read() as session:
        patients = _unmanaged_patients(session, today)
    added = 0
    for start in range(0, len(patients), 1000):
        raise_if_aborted(abort)
        added += _write_patients(db, patients[start:start + 1000], rng, today)
        progress(min(1.0, (start + 1000) / max(1, len(patients))), f"已生成慢病随访 {added} 次")
    with db.read() as session:
        people = _unchecked_people(session, today)
    for start in range(0, len(people), 2000):
        raise_if_aborted(abort)
        _write_checks(db, people[start:start + 2000], rng, today)
    return added


def _unmanaged_patients(session, today: date) -> list[_Patient]:
    doctors = dict(session.execute(select(Staff.id, Staff.name)).all())
    managed = set(session.execute(select(ChronicEnrolment.resident_id, ChronicEnrolment.disease)).all())
    rows = session.execute(
        select(Resident.id, Resident.birth_date, ResidentCondition.kind, ResidentCondition.since,
               Resident.responsible_doctor_id)
        .join(ResidentCondition, ResidentCondition.resident_id == Resident.id)
        .where(ResidentCondition.kind.in_(tuple(CONDITION_DISEASE)), ResidentCondition.deleted.is_(False),
               Resident.status == "active")
        .order_by(Resident.id)
    ).all()
    patients = []
    for rid, birth, kind, since, doctor_id in rows:
        disease = CONDITION_DISEASE[kind]
        diagnosed = since or today - timedelta(days=365)
        if (rid, disease.value) in managed or (disease is Disease.HYPERTENSION and age_on(birth, diagnosed) < 35):
            continue
        patients.append(_Patient(rid, birth, disease, diagnosed, doctor_id, doctors.get(doctor_id, "王医生")))
    return patients


class _Baseline:
    """A patient's own level and how well they keep to their treatment."""

    def __init__(self, rng: random.Random, disease: Disease) -> None:
        self.sbp = rng.gauss(134, 11)
        self.dbp = rng.gauss(82, 7)
        self.glucose = rng.gauss(7.4, 1.4) if disease is Disease.DIABETES else None
        self.adherence = rng.random()

    def readings(self, rng: random.Random, disease: Disease) -> Readings:
        sbp = int(min(230, max(95, rng.gauss(self.sbp, 10))))
        dbp = int(min(sbp - 20, max(55, rng.gauss(self.dbp, 7))))
        glucose = round(min(25, max(3.5, rng.gauss(self.glucose, 1.1))), 1) if self.glucose else None
        return Readings(sbp=sbp, dbp=dbp, fasting_glucose=glucose, heart_rate=min(100, int(rng.gauss(76, 8))))


def _plan_visits(patient: _Patient, enrolment_id: int, managed_from: date, rng: random.Random,
                 today: date) -> list[dict]:
    """The patient's visits from the start of management (or the history's start) to today, following the rules."""
    base = _Baseline(rng, patient.disease)
    day = max(managed_from, today - timedelta(days=365 * HISTORY_YEARS)) + timedelta(days=rng.randint(0, 40))
    previous: Classification | None = None
    visits: list[dict] = []
    while day <= today - timedelta(days=1):
        roll = rng.random()
        method = VisitMethod.PHONE if roll < 0.12 else VisitMethod.HOME if roll < 0.4 else VisitMethod.CLINIC
        readings = base.readings(rng, patient.disease)
        if method is VisitMethod.PHONE:  # the patient's own reading at home (居民自测)
            readings = Readings(sbp=readings.sbp, dbp=readings.dbp, fasting_glucose=readings.fasting_glucose)
        result = suggest(patient.disease, readings, visit_date=day, age=age_on(patient.birth, day), previous=previous)
        visits.append(_visit_row(patient, enrolment_id, day, method, readings, result, rng))
        previous = result.classification
        if result.next_step is not NextStep.ROUTINE:
            base.sbp -= 4  # treatment adjusted
        late = rng.choice((0, 0, 1, 2, 3, 5, 9)) if base.adherence > 0.2 else rng.randint(20, 120)
        day = result.next_visit + timedelta(days=late)
    return visits


def _visit_row(patient: _Patient, enrolment_id: int, day: date, method: VisitMethod, readings: Readings,
               result, rng: random.Random) -> dict:
    weight = round(rng.gauss(64, 9), 1)
    measured = method.is_face_to_face  # a phone call weighs nobody; target weight goes with a weight
    return {
        "enrolment_id": enrolment_id, "resident_id": patient.resident_id, "disease": patient.disease.value,
        "visit_date": day, "method": method.value, "symptoms": ["1"] if rng.random() < 0.7 else ["2"],
        "sbp": readings.sbp, "dbp": readings.dbp, "heart_rate": readings.heart_rate,
        "weight": weight if measured else None, "target_weight": round(weight - 2, 1) if measured else None,
        "fasting_glucose": readings.fasting_glucose, "lifestyle": {"salt": "2", "salt_target": "1"},
        "medication_adherence": "1" if rng.random() < 0.8 else "2", "adverse_reaction": False,
        "new_complication": False, "classification": result.classification.value,
        "suggested_classification": result.classification.value, "next_step": result.next_step.value,
        "measurement": "1" if measured else "2", "referral_reason": result.referral_reason,
        "referral_to": "县人民医院" if result.next_step.is_referral else None,
        "medications": [{"name": "硝苯地平缓释片" if patient.disease is Disease.HYPERTENSION else "二甲双胍片",
                         "times_per_day": "2", "dose": "10mg" if patient.disease is Disease.HYPERTENSION else "0.5g"}],
        "emergency_reasons": list(result.emergency), "next_visit_date": result.next_visit,
        "doctor_id": patient.doctor_id, "doctor_name": patient.doctor_name,
    }


def _write_patients(db: Database, patients: list[_Patient], rng: random.Random, today: date) -> int:
    with db.write() as session:
        next_id = (session.scalar(select(func.max(ChronicEnrolment.id))) or 0) + 1
        enrolments, visits = [], []
        for offset, patient in enumerate(patients):
            enrolment_id = next_id + offset
            managed_from = min(today, patient.diagnosed_on + timedelta(days=rng.randint(0, 30)))
            enrolments.append({"id": enrolment_id, "resident_id": patient.resident_id,
                               "disease": patient.disease.value, "diagnosed_on": patient.diagnosed_on,
                               "managed_from": managed_from, "responsible_doctor_id": patient.doctor_id})
            visits += _plan_visits(patient, enrolment_id, managed_from, rng, today)
        for table, rows in ((ChronicEnrolment, enrolments), (FollowupVisit, visits)):
            if rows:
                session.execute(insert(table), new_sync_rows(session, table, rows))
        return len(visits)


def _unchecked_people(session, today: date) -> list[tuple[int, date, int | None]]:
    """People 65+ and managed patients who have no health check yet."""
    born_by = date(today.year - ELDERLY_AGE, 12, 31)
    checked = select(HealthCheck.resident_id)
    managed = select(ChronicEnrolment.resident_id)
    return list(session.execute(
        select(Resident.id, Resident.birth_date, Resident.responsible_doctor_id)
        .where((Resident.birth_date <= born_by) | Resident.id.in_(managed), Resident.status == "active",
               Resident.id.not_in(checked))
    ).all())


def _write_checks(db: Database, people: list[tuple[int, date, int | None]], rng: random.Random, today: date) -> None:
    """Yearly checks for about 70% of these people in each past year (and some this year)."""
    with db.write() as session:
        rows = []
        for rid, birth, doctor_id in people:
            for year in range(today.year - HISTORY_YEARS + 1, today.year + 1):
                day = date(year, rng.randint(3, 10), rng.randint(1, 28))
                if day >= today or day < birth or rng.random() > 0.72:
                    continue
                elderly = age_on(birth, day) >= ELDERLY_AGE
                rows.append(_check_row(rid, day, doctor_id, rng, elderly=elderly))
        if rows:
            session.execute(insert(HealthCheck), new_sync_rows(session, HealthCheck, rows))


def _check_row(resident_id: int, day: date, doctor_id: int | None, rng: random.Random, *, elderly: bool) -> dict:
    height, weight = round(rng.gauss(160, 7), 1), round(rng.gauss(60, 9), 1)
    answers = {item: Dependence.INDEPENDENT if rng.random() < 0.85 else Dependence.MILD for item in SELF_CARE_ITEMS}
    sbp = int(rng.gauss(138, 14))
    return {
        "resident_id": resident_id, "check_date": day, "sbp": sbp, "dbp": int(min(sbp - 25, rng.gauss(82, 8))),
        "heart_rate": int(rng.gauss(74, 8)), "height": height, "weight": weight, "waist": round(rng.gauss(84, 8), 1),
        "bmi": bmi(weight, height), "self_care": {k: int(v) for k, v in answers.items()} if elderly else {},
        "self_care_total": self_care_score(answers).total if elderly else None, "lifestyle": {}, "results": {},
        "evaluation_abnormal": rng.random() < 0.3, "guidance": ["6", "7"], "doctor_id": doctor_id,
        "doctor_name": "公卫医生",
    }


def followups_step(db: Database, rng: random.Random, context: DemoContext) -> None:
    """Chronic enrolments with their visits, and the yearly health checks."""
    add_demo_followups(db, rng=rng, abort=context.abort, progress=context.progress)


STEP = DemoStep("followups", "正在生成慢病随访和体检……", followups_step, weight=0.35)
