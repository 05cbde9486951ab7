"""Demo yearly health checks (健康体检表) for people 65+ and managed patients.

A check carries what the doctor found: the symptoms, the physical examination, the 辅助检查
results as they are written on the form, the evaluation (abnormal or not, with what), and the
guidance chosen from it. About one check in eight lacks one or two 辅助检查 (no ECG that day,
the ultrasound not done), as happens in a township; nobody is checked after death or moving away.
"""

from __future__ import annotations

import random
import threading
from datetime import date

from sqlalchemy import insert, select

from desktop.db import Database
from desktop.demo.course import habits_of
from desktop.demo.steps import HISTORY_YEARS
from desktop.jobs import raise_if_aborted
from desktop.models import ChronicEnrolment, HealthCheck, Resident
from desktop.models.sync_columns import new_sync_rows
from desktop.rules.dates import age_on
from desktop.rules.elderly import SELF_CARE_ITEMS, Dependence, bmi, self_care_score
from desktop.rules.health_check_completeness import TEST_PARTS
from desktop.rules.population import ELDERLY_AGE

# The 辅助检查 the national specification names for the 65+ check, in the form's order.
RESULT_KEYS = tuple(TEST_PARTS)
ECG_FINDINGS = (("窦性心律，正常心电图", 84), ("窦性心律，ST-T改变", 12), ("窦性心动过缓", 6), ("心房颤动", 3),
                ("左心室高电压", 5), ("完全性右束支传导阻滞", 4))
ULTRASOUND_FINDINGS = (("肝胆胰脾未见明显异常", 80), ("脂肪肝", 18), ("胆囊结石", 8), ("肝囊肿", 6), ("胆囊息肉", 6))
SKIPPED_TESTS = ("ecg", "ultrasound", "liver_function", "kidney_function", "blood_lipids", "urine_routine")


def write_checks(db: Database, *, rng: random.Random, abort: threading.Event, today: date) -> None:
    """Checks for the people who have none yet, in batches."""
    with db.read() as session:
        people = _unchecked_people(session, today)
    for start in range(0, len(people), 2000):
        raise_if_aborted(abort)
        _write_batch(db, people[start:start + 2000], rng, today)


def _unchecked_people(session, today: date) -> list[tuple]:
    """(id, birth, sex, doctor, managed diseases, end date) of people 65+ and managed patients with no check yet."""
    born_by = date(today.year - ELDERLY_AGE, 12, 31)
    checked = select(HealthCheck.resident_id)
    managed: dict[int, set[str]] = {}
    for rid, disease in session.execute(select(ChronicEnrolment.resident_id, ChronicEnrolment.disease)):
        managed.setdefault(rid, set()).add(disease)
    rows = session.execute(
        select(Resident.id, Resident.birth_date, Resident.sex, Resident.responsible_doctor_id, Resident.status_date)
        .where((Resident.birth_date <= born_by) | Resident.id.in_(select(ChronicEnrolment.resident_id)),
               Resident.deleted.is_(False), Resident.id.not_in(checked))
        .order_by(Resident.id)
    ).all()
    return [(rid, birth, sex, doctor, frozenset(managed.get(rid, ())), ended)
            for rid, birth, sex, doctor, ended in rows]


def _write_batch(db: Database, people: list[tuple], rng: random.Random, today: date) -> None:
    """Yearly checks: most managed patients each year, about 70% of the other old people."""
    with db.write() as session:
        rows = []
        for rid, birth, sex, doctor_id, diseases, ended in people:
            share = 0.9 if diseases else 0.72
            for year in range(today.year - HISTORY_YEARS + 1, today.year + 1):
                day = date(year, rng.randint(3, 10), rng.randint(1, 28))
                if day >= today or day < birth or (ended is not None and day >= ended) or rng.random() > share:
                    continue
                rows.append(check_row(rid, day, rng, birth=birth, sex=sex, doctor_id=doctor_id, diseases=diseases))
        if rows:
            session.execute(insert(HealthCheck), new_sync_rows(session, HealthCheck, rows))


def check_row(resident_id: int, day: date, rng: random.Random, *, birth: date, sex: str, doctor_id: int | None,
              diseases: frozenset[str]) -> dict:
    """One filled-in check."""
    elderly = age_on(birth, day) >= ELDERLY_AGE
    height = round(rng.gauss(166 if sex == "1" else 155, 5), 1)
    weight = round(max(38.0, rng.gauss(height - 106, 8)), 1)
    hypertensive, diabetic = "hypertension" in diseases, "diabetes" in diseases
    sbp = int(min(200, max(100, rng.gauss(134 if hypertensive else 124, 12))))
    dbp = int(min(sbp - 25, max(55, rng.gauss(82, 8))))
    glucose = round(max(4.0, rng.gauss(7.6 if diabetic else 5.3, 1.4 if diabetic else 0.6)), 1)
    answers = {item: Dependence.INDEPENDENT if rng.random() < 0.88 else Dependence.MILD for item in SELF_CARE_ITEMS}
    results, findings = _results(rng, glucose, complete=rng.random() >= 0.13)
    if sbp >= 140 or dbp >= 90:
        findings.insert(0, f"血压偏高（{sbp}/{dbp}mmHg）")
    body_mass = bmi(weight, height)
    if body_mass >= 28:
        findings.append(f"肥胖（BMI {body_mass:g}）")
    habits = habits_of(resident_id, sex)
    guidance = ["1"] if diseases else []
    guidance += ["2"] if findings else []
    guidance += (["4"] if habits.cigarettes else []) + (["5"] if habits.alcohol_liang >= 2 else []) + ["6", "7"]
    guidance += ["8"] if body_mass >= 24 else []
    guidance += ["9"] if elderly and day.month >= 9 else []
    return {
        "resident_id": resident_id, "check_date": day, "sbp": sbp, "dbp": dbp,
        "heart_rate": int(min(98, max(56, rng.gauss(74, 8)))), "height": height, "weight": weight,
        "waist": round(rng.gauss(86 if sex == "1" else 80, 7), 1), "bmi": body_mass,
        "self_care": {k: int(v) for k, v in answers.items()} if elderly else {},
        "self_care_total": self_care_score(answers).total if elderly else None,
        "lifestyle": habits.check_lifestyle(), "symptoms": _symptoms(rng, elderly),
        "examination": _examination(rng, elderly), "results": results,
        "evaluation_abnormal": bool(findings),
        "evaluation_note": "；".join(f"{i}. {text}" for i, text in enumerate(findings, start=1)) or None,
        "guidance": sorted(set(guidance), key=int), "doctor_id": doctor_id, "doctor_name": "刘晓梅",
    }


def _results(rng: random.Random, glucose: float, *, complete: bool) -> tuple[dict[str, object], list[str]]:
    """The 辅助检查 as written on the form, and the abnormal findings among them."""
    findings: list[str] = []
    haemoglobin = int(rng.gauss(132, 14))
    results: dict[str, object] = {
        "blood_routine": f"血红蛋白{haemoglobin}g/L 白细胞{rng.uniform(4.0, 9.5):.1f}×10⁹/L "
                         f"血小板{int(rng.gauss(210, 45))}×10⁹/L",
        "urine_routine": "尿蛋白- 尿糖" + ("+" if glucose >= 10 else "-") + " 尿酮体- 尿潜血-",
        "liver_function": f"ALT {int(rng.gauss(24, 9))}U/L AST {int(rng.gauss(25, 7))}U/L "
                          f"总胆红素{rng.uniform(6, 19):.1f}μmol/L",
        "fasting_glucose": glucose,
    }
    creatinine = int(rng.gauss(78, 16))
    results["kidney_function"] = f"血肌酐{creatinine}μmol/L 血尿素{rng.uniform(3.2, 7.5):.1f}mmol/L"
    cholesterol, triglyceride = round(rng.gauss(5.0, 0.8), 2), round(max(0.5, rng.gauss(1.6, 0.6)), 2)
    results["blood_lipids"] = (f"总胆固醇{cholesterol}mmol/L 甘油三酯{triglyceride}mmol/L "
                         f"低密度脂蛋白{round(cholesterol * 0.6, 2)}mmol/L "
                         f"高密度脂蛋白{rng.uniform(0.9, 1.7):.2f}mmol/L")
    results["ecg"] = rng.choices([f for f, _ in ECG_FINDINGS], weights=[w for _, w in ECG_FINDINGS])[0]
    results["ultrasound"] = rng.choices([f for f, _ in ULTRASOUND_FINDINGS],
                                                  weights=[w for _, w in ULTRASOUND_FINDINGS])[0]
    if haemoglobin < 115:
        findings.append("轻度贫血")
    if glucose >= 7.0:
        findings.append(f"空腹血糖偏高（{glucose:g}mmol/L）")
    if creatinine > 110:
        findings.append("血肌酐偏高")
    if cholesterol >= 6.2 or triglyceride >= 2.3:
        findings.append("血脂异常")
    if not complete:
        for key in rng.sample(SKIPPED_TESTS[:4], rng.choice((1, 1, 2))):
            del results[key]
    for key, normal in (("ecg", "正常心电图"), ("ultrasound", "未见明显异常")):
        if key in results and normal not in str(results[key]):
            findings.append(f"{'心电图' if key == 'ecg' else '腹部B超'}：{results[key]}")
    return results, findings


def _symptoms(rng: random.Random, elderly: bool) -> list[str]:
    """症状 codes of the national form: mostly none; the old report dizziness, fatigue, joint pain."""
    if rng.random() < (0.62 if elderly else 0.8):
        return ["1"]
    return sorted(rng.sample(["3", "13", "14", "16", "19", "22", "23"], rng.choice((1, 1, 2))), key=int)


def _examination(rng: random.Random, elderly: bool) -> dict[str, object]:
    """查体 and 脏器功能 as the doctor records them."""
    vision = round(rng.uniform(0.4, 1.0) if elderly else rng.uniform(0.8, 1.2), 1)
    return {
        "lips": "红润", "dentition": "正常" if rng.random() < 0.5 else "缺齿",
        "pharynx": "无充血", "vision_left": vision,
        "vision_right": round(max(0.1, vision + rng.choice((-0.1, 0, 0.1))), 1),
        "hearing": "听见" if rng.random() < 0.9 else "听不清或无法听见",
        "motor_function": "可顺利完成" if rng.random() < 0.92 else "无法独立完成其中任何一个动作",
        "skin": "正常", "sclera": "正常", "lymph_nodes": "未触及",
        "lungs": "呼吸音正常，无罗音" if rng.random() < 0.9 else "呼吸音粗，可闻及少许干罗音",
        "heart": "心率齐，无杂音" if rng.random() < 0.93 else "心律不齐",
        "abdomen": "无压痛、包块，肝脾未触及", "lower_limb_edema": "无" if rng.random() < 0.94 else "单侧",
        "foot_pulse": "触及双侧对称" if rng.random() < 0.9 else "触及左侧弱或消失",
    }
