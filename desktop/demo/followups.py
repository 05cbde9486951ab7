"""Demo chronic management: enrolments, years of follow-up visits and yearly health checks.

Every visit is planned the way a doctor follows the rules: the next one falls on the date the
previous visit set (give or take a few days, and sometimes missed); its readings come from the
patient's course under treatment (`desktop.demo.course`); its classification is the rules'
suggestion unless the doctor, with a reason, records otherwise; a next step of referral names
its reason and the hospital department. Nobody is enrolled before the programme existed
(2009) or before their record was made, and a death or move-out ends the enrolment that day.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, insert, select

from desktop.clock import now
from desktop.db import Database
from desktop.demo.checks import write_checks
from desktop.demo.course import REFERRAL_DEPARTMENTS, Course, habits_of
from desktop.demo.steps import HISTORY_YEARS, PROGRAMME_START, DemoContext, DemoStep
from desktop.jobs import ProgressFn, no_progress, raise_if_aborted
from desktop.models import ChronicEnrolment, FollowupVisit, Resident, ResidentCondition, Staff
from desktop.models.sync_columns import new_sync_rows
from desktop.rules.dates import age_on
from desktop.rules.followup import Classification, Disease, NextStep, Readings, VisitMethod, next_visit_date, suggest
from desktop.rules.population import ResidentStatus

CONDITION_DISEASE = {"hypertension": Disease.HYPERTENSION, "diabetes": Disease.DIABETES}
END_REASONS = {ResidentStatus.DECEASED.value: "死亡", ResidentStatus.MOVED_OUT.value: "迁出"}
UNMEASURED_REASON = "电话随访，患者未自测，无法判断控制情况"
STRICTER_REASONS = {Disease.HYPERTENSION: "患者自述近期家中自测血压多次高于150/95mmHg",
                    Disease.DIABETES: "患者自述近期自测餐后血糖多次高于13mmol/L"}

# Every visit row carries every optional column, so one executemany inserts them all.
VISIT_DEFAULTS: dict[str, object] = dict.fromkeys(
    ("override_reason", "adverse_reaction_note", "signs_other", "referral_reason", "referral_to", "referral_result",
     "referral_contact", "hba1c", "hba1c_date", "insulin", "insulin_dose"))

# Chance that a patient misses the two-week recheck, by how well their treatment holds.
RECHECK_MISSED = {"good": 0.15, "partial": 0.45, "poor": 0.7}


@dataclass(frozen=True)
class _Patient:
    resident_id: int
    birth: date
    sex: str
    disease: Disease
    diagnosed_on: date
    registered_on: date
    doctor_id: int | None
    doctor_name: str
    status: str
    status_date: date | None


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
    write_checks(db, rng=rng, abort=abort, today=today)
    return added


def _unmanaged_patients(session, today: date) -> list[_Patient]:
    doctors = dict(session.execute(select(Staff.id, Staff.name)).all())
    managed = set(session.execute(select(ChronicEnrolment.resident_id, ChronicEnrolment.disease)).all())
    rows = session.execute(
        select(Resident.id, Resident.birth_date, Resident.sex, ResidentCondition.kind, ResidentCondition.since,
               Resident.registered_on, Resident.responsible_doctor_id, Resident.status, Resident.status_date)
        .join(ResidentCondition, ResidentCondition.resident_id == Resident.id)
        .where(ResidentCondition.kind.in_(tuple(CONDITION_DISEASE)), ResidentCondition.deleted.is_(False),
               Resident.deleted.is_(False))
        .order_by(Resident.id)
    ).all()
    patients = []
    for rid, birth, sex, kind, since, registered_on, doctor_id, status, status_date in rows:
        disease = CONDITION_DISEASE[kind]
        diagnosed = since or today - timedelta(days=365)
        if (rid, disease.value) in managed or age_on(birth, diagnosed) < 35:
            continue
        patients.append(_Patient(rid, birth, sex, disease, diagnosed, registered_on, doctor_id,
                                 doctors.get(doctor_id, "王医生"), status, status_date))
    return patients


def _managed_from(patient: _Patient, rng: random.Random, today: date) -> date:
    """Enrolment: soon after diagnosis, never before the programme or the resident's record existed."""
    if patient.diagnosed_on < PROGRAMME_START:
        start = PROGRAMME_START + timedelta(days=rng.randrange(3 * 365))
    else:
        start = patient.diagnosed_on + timedelta(days=rng.randint(0, 30))
    return min(today, max(start, patient.registered_on))


@dataclass
class _History:
    """What the next visit needs to know about the earlier ones."""

    previous: Classification | None = None  # the last visit with a reading
    previous_adverse: bool = False  # a reaction on that visit: the drug was changed, no second reaction in a row
    short_run: int = 0  # visits in a row whose next step was not routine


def _plan_visits(patient: _Patient, enrolment_id: int, managed_from: date, rng: random.Random, *,
                 until: date, today: date) -> list[dict]:
    """The patient's visits from the start of management (or the history's start) up to `until`."""
    history_start = today - timedelta(days=365 * HISTORY_YEARS)
    first = max(managed_from, history_start)
    course = Course.start(rng, patient.disease, elderly=age_on(patient.birth, first) >= 65,
                          treated=managed_from < history_start - timedelta(days=60))
    lifestyle = habits_of(patient.resident_id, patient.sex).visit_lifestyle(patient.disease)
    day = first + timedelta(days=rng.randint(0, 40))
    late_payer = rng.random() < 0.12  # comes late or is hard to find
    # A few go away for most of a year (work elsewhere, living with a child) and are not followed up meanwhile.
    away_from = first + timedelta(days=rng.randrange(365 * HISTORY_YEARS)) if rng.random() < 0.05 else None
    state = _History()
    visits: list[dict] = []
    while day < until:
        row = _visit(patient, enrolment_id, day, course, lifestyle, state, rng)
        visits.append(row)
        step = NextStep(row["next_step"])
        state.short_run = 0 if step is NextStep.ROUTINE else state.short_run + 1
        course.age_a_little()
        if step is NextStep.ROUTINE:
            late = rng.randint(15, 100) if late_payer and rng.random() < 0.4 else rng.choice((0, 0, 1, 2, 3, 5, 9))
        elif step is not NextStep.EMERGENCY_REFERRAL and rng.random() < RECHECK_MISSED[course.kind]:
            late = rng.randint(40, 85)  # not back for the recheck: seen again on the doctor's next round
        else:
            late = rng.choice((0, 0, 1, 2, 3))
        day = row["next_visit_date"] + timedelta(days=late)
        if away_from is not None and day >= away_from:
            day, away_from = day + timedelta(days=rng.randint(250, 420)), None
    return visits


def _method(rng: random.Random, state: _History) -> tuple[VisitMethod, str]:
    """(how the visit was made, where its readings came from): a recheck is always face to face."""
    roll = rng.random()
    if state.short_run == 0 and roll < 0.1:
        return VisitMethod.PHONE, "2" if rng.random() < 0.78 else "3"
    return (VisitMethod.HOME if roll < 0.42 else VisitMethod.CLINIC), "1"


def _visit(patient: _Patient, enrolment_id: int, day: date, course: Course, lifestyle: dict[str, object],
           state: _History, rng: random.Random) -> dict:
    """One visit: readings, the doctor's classification and next step, treatment changes and referral."""
    disease = patient.disease
    method, measurement = _method(rng, state)
    readings = Readings() if measurement == "3" else course.readings(day, self_measured=measurement == "2")
    if state.short_run >= 3:  # after a referral the hospital's regimen holds: no endless two-week loop
        course.relief += 12 if disease is Disease.HYPERTENSION else 1.5
    adverse = method.is_face_to_face and not state.previous_adverse and rng.random() < 0.025 and bool(course.regimen)
    complication = method.is_face_to_face and rng.random() < 0.006 and course.complications < 2
    result = suggest(disease, readings, visit_date=day, age=age_on(patient.birth, day), adverse_reaction=adverse,
                     new_complication=complication, previous=state.previous)
    classification, step, override = result.classification, result.next_step, None
    if measurement == "3":
        classification, step, override = Classification.UNCONTROLLED, NextStep.RECHECK_IN_TWO_WEEKS, UNMEASURED_REASON
    elif (classification is Classification.CONTROLLED and step is NextStep.ROUTINE and method is VisitMethod.PHONE
          and rng.random() < 0.08):
        classification, step, override = Classification.UNCONTROLLED, NextStep.RECHECK_IN_TWO_WEEKS, \
            STRICTER_REASONS[disease]
    row = _visit_row(patient, enrolment_id, day, method, readings, rng)
    row |= {"measurement": measurement, "lifestyle": lifestyle,
            "medications": course.medications(), "insulin": course.insulin[0] if course.insulin else None,
            "insulin_dose": course.insulin[1] if course.insulin else None,
            "medication_adherence": course.adherence_code(),
            "adverse_reaction": adverse, "new_complication": complication,
            "classification": classification.value,
            "suggested_classification": None if measurement == "3" else result.classification.value,
            "override_reason": override, "next_step": step.value, "emergency_reasons": list(result.emergency),
            "next_visit_date": next_visit_date(day, step)}
    advice: list[dict[str, str]] = []
    if adverse:
        row["adverse_reaction_note"], advice = course.switch_for_reaction()
    if complication:
        row["signs_other"] = course.complication()
    if step in (NextStep.REFER_AND_FOLLOW_UP, NextStep.EMERGENCY_REFERRAL):
        row |= _referral(disease, result.emergency, row.get("signs_other"), arrived=course.reaches_referral(), rng=rng)
        course.after_referral(arrived=row["referral_result"] == "1")
    elif classification is Classification.UNCONTROLLED and measurement != "3" and rng.random() < 0.7:
        advice += course.intensify()  # otherwise the doctor first stresses taking the tablets regularly
    row["medication_advice"] = advice
    row = VISIT_DEFAULTS | row
    if measurement != "3":  # only a visit with a reading is the "previous" one the rules look back to
        state.previous, state.previous_adverse = classification, adverse
    return row


def _referral(disease: Disease, emergency: tuple[str, ...], complication: str | None, *, arrived: bool,
              rng: random.Random) -> dict:
    """转诊原因, 机构及科别, and whether the patient got there (most do)."""
    if emergency:
        reason = "；".join(emergency)
    elif complication:
        reason = f"出现新的并发症：{complication}"
    else:
        reason = "连续两次" + ("血压" if disease is Disease.HYPERTENSION else "血糖") + "控制不满意，调整治疗方案"
    return {"referral_reason": reason, "referral_to": REFERRAL_DEPARTMENTS[disease],
            "referral_result": "1" if arrived else "2", "referral_contact": "县医院慢病联络员 0558-6612" + str(
                rng.randint(100, 999))}


def _visit_row(patient: _Patient, enrolment_id: int, day: date, method: VisitMethod, readings: Readings,
               rng: random.Random) -> dict:
    """The parts of a visit that do not depend on the treatment."""
    face = method.is_face_to_face
    height = 150 + (patient.resident_id * 37) % 25 + (8 if patient.sex == "1" else 0)
    weight = round(height - 100 + ((patient.resident_id * 13) % 17) - 8 + rng.gauss(0, 0.8), 1)
    diabetes = patient.disease is Disease.DIABETES
    symptoms = _symptoms(patient.disease, readings, rng)
    row = {
        "enrolment_id": enrolment_id, "resident_id": patient.resident_id, "disease": patient.disease.value,
        "visit_date": day, "method": method.value, "symptoms": symptoms,
        "sbp": readings.sbp, "dbp": readings.dbp, "heart_rate": readings.heart_rate if face else None,
        "weight": weight if face else None, "height": float(height) if face else None,
        "target_weight": round(min(weight, 24 * (height / 100) ** 2), 1) if face else None,
        "fasting_glucose": readings.fasting_glucose, "hypoglycemia": None, "foot_pulse": None,
        "foot_pulse_side": None, "doctor_id": patient.doctor_id, "doctor_name": patient.doctor_name,
        "resident_signed": face and rng.random() < 0.93,
    }
    if diabetes:
        row["hypoglycemia"] = "1" if rng.random() < 0.92 else "2"
        if face:
            row["foot_pulse"] = _foot_pulse(patient.resident_id)
            row["foot_pulse_side"] = None if row["foot_pulse"] == "1" else "双侧" if patient.resident_id % 3 else "左侧"
            if day.month == 5 and patient.resident_id % 3 == 0:
                hba1c = min(14.0, max(5.0, (readings.fasting_glucose or 7) * 0.9 + 0.4))
                row["hba1c"], row["hba1c_date"] = round(hba1c, 1), day
    return row


def _foot_pulse(resident_id: int) -> str:
    """足背动脉搏动, the same from visit to visit: mostly normal, some weakened, rarely gone."""
    roll = (resident_id * 2654435761) % 100
    return "1" if roll < 86 else "2" if roll < 98 else "3"


def _symptoms(disease: Disease, readings: Readings, rng: random.Random) -> list[str]:
    high = (readings.sbp or 0) >= 160 or (readings.fasting_glucose or 0) >= 10
    if not high and rng.random() < 0.82:
        return ["1"]
    if disease is Disease.HYPERTENSION:
        return sorted(rng.sample(["2", "4", "6", "8"], rng.choice((1, 1, 2))))
    return sorted(rng.sample(["2", "4", "5", "7"], rng.choice((1, 2))))


def _write_patients(db: Database, patients: list[_Patient], rng: random.Random, today: date) -> int:
    with db.write() as session:
        next_id = (session.scalar(select(func.max(ChronicEnrolment.id))) or 0) + 1
        enrolments, visits = [], []
        for patient in patients:
            managed_from = _managed_from(patient, rng, today)
            ended = patient.status_date if patient.status in END_REASONS else None
            if ended is not None and managed_from >= ended:
                continue  # died or left before management began
            enrolment_id = next_id + len(enrolments)
            enrolments.append({"id": enrolment_id, "resident_id": patient.resident_id,
                               "disease": patient.disease.value, "diagnosed_on": patient.diagnosed_on,
                               "managed_from": managed_from, "responsible_doctor_id": patient.doctor_id,
                               "ended_on": ended, "end_reason": END_REASONS.get(patient.status) if ended else None})
            visits += _plan_visits(patient, enrolment_id, managed_from, rng, until=ended or today, today=today)
        for table, rows in ((ChronicEnrolment, enrolments), (FollowupVisit, visits)):
            if rows:
                session.execute(insert(table), new_sync_rows(session, table, rows))
        return len(visits)


def followups_step(db: Database, rng: random.Random, context: DemoContext) -> None:
    """Chronic enrolments with their visits, and the yearly health checks."""
    add_demo_followups(db, rng=rng, abort=context.abort, progress=context.progress)


STEP = DemoStep("followups", "正在生成慢病随访和体检……", followups_step, weight=0.35)
