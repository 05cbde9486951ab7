"""Period indicators worked by hand: what was due by a quarter's end, proration, deaths, 常住, diabetes from 35."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from core_support import actor_for, complete_check, person, set_examination
from sqlalchemy import select

from desktop.app import App
from desktop.errors import PermissionDenied, ValidationError
from desktop.models import AuditEntry, ChronicEnrolment, Resident
from desktop.rules.chronic_indicators import (
    DEFAULT_INDICATOR_RULES,
    ControlBasis,
    IndicatorRules,
    expectation,
    whole_months,
)
from desktop.rules.elderly import Dependence
from desktop.rules.followup import Disease
from desktop.rules.health_check_completeness import EXAMINATION_PARTS, TEST_PARTS, is_complete, missing_parts
from desktop.rules.visit_checks import VisitInput
from desktop.services.chronic import EnrolmentInput, end_enrolment, enrol
from desktop.services.followups import record_visit
from desktop.services.health_checks import record_health_check
from desktop.services.indicator_base import Period
from desktop.services.indicators import indicator_report
from desktop.services.residents import create_resident
from desktop.services.settings import indicator_rules, set_indicator_rules
from desktop.sync.reports import period_figures

HT, DM = Disease.HYPERTENSION, Disease.DIABETES
LONG_AGO = date(2020, 4, 1)
ALL_CARE = dict.fromkeys(("eating", "grooming", "dressing", "toileting", "activity"), Dependence.INDEPENDENT)


def _owed(managed_from: date, end: str, rules: IndicatorRules = DEFAULT_INDICATOR_RULES) -> tuple[int, bool]:
    owed = expectation(managed_from=managed_from, period_end=date.fromisoformat(end), per_year=4, rules=rules)
    return owed.visits, owed.annual_check


def test_visits_owed_scale_with_the_time_of_year() -> None:
    assert [_owed(LONG_AGO, end) for end in ("2025-03-31", "2025-06-30", "2025-09-30", "2025-12-31")] == [
        (1, False), (2, False), (3, False), (4, True)]
    assert _owed(LONG_AGO, "2025-01-31") == (0, False)  # the first quarter's visit is not late in January
    assert _owed(LONG_AGO, "2025-05-31") == (1, False)
    assert _owed(LONG_AGO, "2025-12-15") == (3, False)  # the year not closed yet: November's end counts


def test_an_enrolment_during_the_year_is_prorated_by_whole_months() -> None:
    assert _owed(date(2025, 12, 10), "2025-12-31") == (0, False)  # a December enrolment owes nothing
    assert _owed(date(2025, 10, 1), "2025-12-31") == (1, False)  # 3 months: one visit, no check yet
    assert _owed(date(2025, 7, 1), "2025-12-31") == (2, True)  # 6 months: two visits and the check
    assert _owed(date(2025, 7, 2), "2025-12-31") == (1, False)  # July not whole: 5 months
    assert _owed(date(2025, 12, 10), "2025-12-31", replace(DEFAULT_INDICATOR_RULES, prorate_enrolment=False)) == (
        4, True)
    assert _owed(date(2025, 7, 1), "2025-12-31", replace(DEFAULT_INDICATOR_RULES, annual_check_min_months=7)) == (
        2, False)
    assert whole_months(date(2025, 1, 1), date(2025, 1, 30)) == 0
    assert whole_months(date(2024, 11, 15), date(2025, 2, 28)) == 3


def test_missing_parts_of_a_check_are_named_in_the_form_order() -> None:
    complete = {"self_care_total": 0, "sbp": 128, "dbp": 80, "heart_rate": 72, "height": 160, "weight": 60,
                "waist": 80, "examination": dict.fromkeys(EXAMINATION_PARTS, "1"),
                "results": dict.fromkeys(TEST_PARTS, "正常"), "guidance": ["6"]}
    assert missing_parts(complete) == [] and is_complete(complete)
    lacking = {**complete, "waist": None, "examination": {**complete["examination"], "heart": ""},
               "results": {k: v for k, v in complete["results"].items() if k not in ("ecg", "ultrasound")},
               "guidance": [], "self_care_total": None}
    assert missing_parts(lacking) == ["生活自理能力评估", "体格检查：腰围", "查体：心脏", "心电图", "腹部B超", "健康指导"]
    assert len(missing_parts({})) == 1 + 4 + len(EXAMINATION_PARTS) + len(TEST_PARTS) + 1


def _resident(app: App, name: str, birth: str, sequence: int, **fields) -> int:
    clerk = actor_for(app.db, "luru1")
    return create_resident(app.db, clerk, person(name, birth, sequence=sequence, **fields)).resident_id


def _patient(app: App, name: str, birth: str, sequence: int, *, disease: Disease = HT,
             managed_from: date = LONG_AGO) -> int:
    resident_id = _resident(app, name, birth, sequence)
    enrol(app.db, actor_for(app.db, "gongwei1"), resident_id,
          EnrolmentInput(disease, diagnosed_on=min(managed_from, date(2020, 3, 1)), managed_from=managed_from))
    return resident_id


def _visit(app: App, resident_id: int, day: str, sbp: int = 128, dbp: int = 82, method: str = "1") -> None:
    controlled = sbp < 140 and dbp < 90
    record_visit(app.db, actor_for(app.db, "gongwei1"), resident_id, HT,
                 VisitInput(visit_date=day, method=method, sbp=sbp, dbp=dbp, doctor_name="刘晓梅",
                            measurement="1" if method != "3" else "2", classification="1" if controlled else "2",
                            referral_reason="" if controlled else "血压控制不满意",
                            referral_to="" if controlled else "县人民医院心内科"))


def _report(app: App, period: str, **kwargs):
    return indicator_report(app.db, actor_for(app.db, "kaohe1"), period, **kwargs)


def _verdicts(report, code: str) -> dict[str, str | None]:
    return {v.name: (None if v.counts else v.reason) for v in report.people[code]}


def test_a_quarter_asks_what_was_due_by_its_end(registry_app: App) -> None:
    """王一 seen in February, 王二 only in April: Q1 owes one visit, Q2 two."""
    one = _patient(registry_app, "王一", "1970-01-01", 11)
    two = _patient(registry_app, "王二", "1970-01-02", 13)
    _visit(registry_app, one, "2025-02-10")
    _visit(registry_app, two, "2025-04-10", 152, 94)
    q1 = _report(registry_app, "2025-Q1")
    assert (q1.period.start, q1.period.end) == (date(2025, 1, 1), date(2025, 3, 31))
    assert _verdicts(q1, "ht_standard") == {"王一": None, "王二": "本年无随访"}
    assert _verdicts(q1, "ht_control") == {"王一": None}  # only the patients seen in the quarter
    q2 = _report(registry_app, "2025-Q2")
    assert _verdicts(q2, "ht_standard") == {"王一": "面访 1 次，少于应完成的 2 次（按管理 6 个整月折算）",
                                            "王二": "面访 1 次，少于应完成的 2 次（按管理 6 个整月折算）"}
    assert _verdicts(q2, "ht_control") == {"王二": "末次随访（04月10日，门诊）血压 152/94 未达标（应低于 140/90）"}
    whole = replace(DEFAULT_INDICATOR_RULES, control_basis=ControlBasis.YEAR_TO_DATE.value)
    q1_whole = _report(registry_app, "2025-Q1", indicator_rules=whole)
    assert _verdicts(q1_whole, "ht_control") == {"王一": None, "王二": "本年无随访"}
    assert "期末在管的全部患者" in q1_whole.rule_text
    assert "2025 年第 1 季度" in q1.rule_text and "应完成面访 1 次" in q1.rule_text
    assert "本期内有随访的患者" in q1.rule_text
    q4, year = _report(registry_app, "2025-Q4"), _report(registry_app, "2025")
    assert _verdicts(q4, "ht_control") == {}  # nobody seen in the quarter, though it closes the year
    assert set(_verdicts(year, "ht_control")) == {"王一", "王二"}  # the year counts every managed patient
    assert _verdicts(q4, "ht_standard")["王一"] == "面访 1 次，少于 4 次；本年未做健康体检"
    march = _report(registry_app, "2025-03")
    assert march.period.name == "2025-03" and _verdicts(march, "ht_standard")["王一"] is None


def test_a_december_enrolment_is_not_failed_for_missing_four_visits(registry_app: App) -> None:
    late = _patient(registry_app, "王三", "1960-01-03", 15, managed_from=date(2025, 12, 10))
    summer = _patient(registry_app, "王四", "1960-01-04", 17, managed_from=date(2025, 7, 1))
    for day in ("2025-08-10", "2025-11-10"):
        _visit(registry_app, summer, day)
    record_health_check(registry_app.db, actor_for(registry_app.db, "gongwei1"), summer, complete_check("2025-09-01", self_care=ALL_CARE))
    year = _report(registry_app, "2025")
    assert _verdicts(year, "ht_standard") == {"王四": None}  # 王三 owed nothing yet: not in the denominator
    assert _verdicts(year, "ht_control")["王三"] == "本年无随访"  # the closed year counts every managed patient
    assert year.branch("ht_coverage").numerator == 2
    assert {v.resident_id for v in year.people["ht_control"]} == {late, summer}


def test_a_death_or_an_ended_enrolment_leaves_the_later_denominators(registry_app: App) -> None:
    died = _patient(registry_app, "王五", "1950-01-05", 19)
    ended = _patient(registry_app, "王六", "1960-01-06", 21)
    for resident_id in (died, ended):
        _visit(registry_app, resident_id, "2025-02-10")
    with registry_app.db.write() as session:
        resident = session.get(Resident, died)
        resident.status, resident.status_date = "deceased", date(2025, 6, 15)
        enrolment_id = session.scalar(select(ChronicEnrolment.id).where(ChronicEnrolment.resident_id == ended))
    end_enrolment(registry_app.db, actor_for(registry_app.db, "gongwei1"), enrolment_id, on=date(2025, 5, 1),
                  reason="失访")
    q1, q2, q3 = (_report(registry_app, f"2025-Q{n}") for n in (1, 2, 3))
    assert set(_verdicts(q1, "ht_standard")) == {"王五", "王六"} and "王五" in _verdicts(q1, "elderly_care")
    assert set(_verdicts(q2, "ht_standard")) == set() and "王五" not in _verdicts(q2, "elderly_care")
    assert set(_verdicts(q3, "ht_standard")) == set() and q3.branch("ht_coverage").numerator == 0


def test_the_resident_denominators_follow_the_residence_type(registry_app: App) -> None:
    ids = [_resident(registry_app, name, f"1950-02-0{n + 1}", 11 + 2 * n) for n, name in enumerate(("张甲", "张乙", "张丙"))]
    with registry_app.db.write() as session:
        for resident_id, kind in zip(ids, ("1", "2", None), strict=True):
            session.get(Resident, resident_id).residence_type = kind
    everyone = _report(registry_app, "2025")
    assert everyone.branch("elderly_care").denominator == 3
    assert "户籍和非户籍均计" in everyone.rule_text
    registered = _report(registry_app, "2025", indicator_rules=replace(DEFAULT_INDICATOR_RULES, registered_only=True))
    assert set(_verdicts(registered, "elderly_care")) == {"张甲"}
    assert registered.branch("ht_coverage").denominator == pytest.approx(1 * 0.275, abs=0.1)


def test_diabetes_starts_at_35_unless_the_branch_says_otherwise(registry_app: App) -> None:
    young = _resident(registry_app, "李小军", "1995-01-01", 11)
    _resident(registry_app, "李中年", "1980-01-01", 13)
    _resident(registry_app, "李老汉", "1950-01-01", 15)
    doctor, admin = actor_for(registry_app.db, "gongwei1"), actor_for(registry_app.db, "admin")
    data = EnrolmentInput(DM, diagnosed_on=date(2025, 1, 1), managed_from=date(2025, 1, 1))
    with pytest.raises(ValidationError) as caught:
        enrol(registry_app.db, doctor, young, data)
    assert caught.value.errors["managed_from"] == "2型糖尿病患者健康管理服务对象为 35 岁及以上居民。"
    year = _report(registry_app, "2025", prevalence={HT: 0.5, DM: 0.5})
    assert year.branch("dm_coverage").denominator == 1.0 and year.branch("ht_coverage").denominator == 1.5
    with pytest.raises(ValidationError) as bad:
        set_indicator_rules(registry_app.db, admin, replace(DEFAULT_INDICATOR_RULES, diabetes_minimum_age=10))
    assert "18–60" in bad.value.errors["diabetes_minimum_age"]
    with pytest.raises(PermissionDenied):
        set_indicator_rules(registry_app.db, doctor, replace(DEFAULT_INDICATOR_RULES, diabetes_minimum_age=25))
    set_indicator_rules(registry_app.db, admin, replace(DEFAULT_INDICATOR_RULES, diabetes_minimum_age=25))
    assert indicator_rules(registry_app.db).diabetes_minimum_age == 25
    enrol(registry_app.db, doctor, young, data)
    assert _report(registry_app, "2025", prevalence={HT: 0.5, DM: 0.5}).branch("dm_coverage").denominator == 1.5
    with registry_app.db.read() as session:
        summaries = session.scalars(select(AuditEntry.summary).where(AuditEntry.entity_id == "indicator_rules")).all()
    assert summaries == ["指标统计规则：2型糖尿病管理起始年龄 35 → 25"]


def test_the_period_report_json_names_the_rule_it_used(registry_app: App) -> None:
    patient = _patient(registry_app, "王七", "1960-01-07", 11)
    _visit(registry_app, patient, "2025-02-10")
    record_health_check(registry_app.db, actor_for(registry_app.db, "gongwei1"), patient,
                        complete_check("2025-03-01", self_care=ALL_CARE))
    set_examination(registry_app.db, patient)
    quarter = Period.for_quarter(2025, 1, date(2026, 1, 5))
    body = period_figures(_report(registry_app, quarter), quarter, "site", "分院")
    assert (body["period"], body["period_start"], body["period_end"]) == ("2025-Q1", "2025-01-01", "2025-03-31")
    assert body["counted_from"] == "2025-01-01"
    assert body["rules"]["chronic"].startswith("2025 年第 1 季度（2025-01-01 至 2025-03-31）")
    standard = next(f for f in body["figures"] if f["code"] == "ht_standard")
    assert (standard["numerator"], standard["denominator"]) == (1, 1)


def test_period_text_forms_and_their_mistakes() -> None:
    today = date(2026, 5, 20)
    assert [Period.parse(text, today).name for text in ("2025", "2025-Q4", "2025q2", "2025-03", "2026-5")] == [
        "2025", "2025-Q4", "2025-Q2", "2025-03", "2026-05"]
    assert Period.parse("2026-Q2", today).end == today
    for text, field in (("2025-Q5", "季度 5"), ("2025-13", "月份 13"), ("2026-Q3", "尚未开始"), ("25-1", "2026、")):
        with pytest.raises(ValidationError) as caught:
            Period.parse(text, today)
        assert field in caught.value.message


def test_each_stored_check_is_judged_by_missing_parts(registry_app: App) -> None:
    """Checks written straight to the table (JSON as stored) read as `missing_parts` reads the values."""
    from desktop.models import HealthCheck
    from desktop.services.chronic_indicators import YearFacts

    full = {"self_care_total": 0, "sbp": 128, "dbp": 80, "heart_rate": 72, "height": 160.0, "weight": 60.0,
            "waist": 80.0, "examination": dict.fromkeys(EXAMINATION_PARTS, "1"),
            "results": dict.fromkeys(TEST_PARTS, "正常"), "guidance": ["6"]}
    variants = [full, {**full, "self_care_total": None, "dbp": None, "guidance": []},
                {**full, "examination": {"skin": " ", "heart": 0, "lungs": [], "abdomen": {}, "lymph_nodes": None}},
                {**full, "results": {"ecg": "窦性心律", "ultrasound": 1}, "examination": {}},
                {"examination": {}, "results": {}, "guidance": []}]
    names = ("赵一", "赵二", "赵三", "赵四", "赵五")
    ids = [_resident(registry_app, name, f"1950-03-0{n + 1}", 11 + 2 * n) for n, name in enumerate(names)]
    with registry_app.db.write() as session:
        for resident_id, values in zip(ids, variants, strict=True):
            session.add(HealthCheck(resident_id=resident_id, check_date=date(2025, 5, 1), doctor_name="刘晓梅",
                                    **values))
    with registry_app.db.read() as session:
        gaps = YearFacts.read(session, Period.for_year(2025, date(2026, 1, 5))).gaps
    assert [gaps[resident_id] for resident_id in ids] == [missing_parts(values) for values in variants]
    assert gaps[ids[0]] == [] and gaps[ids[2]][:3] == ["查体：皮肤", "查体：淋巴结", "查体：肺部"]
    year = _report(registry_app, "2025")
    assert _verdicts(year, "elderly_care")["赵一"] is None
    assert _verdicts(year, "elderly_care")["赵二"] == "本年体检不完整，缺：生活自理能力评估、体格检查：血压、健康指导"
