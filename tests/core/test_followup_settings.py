"""The branch's follow-up rules and prevalence: stored as settings, used by visits and indicators."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from core_support import actor_for, person
from sqlalchemy import select

from desktop.app import App
from desktop.errors import PermissionDenied, ValidationError
from desktop.models import AuditEntry
from desktop.rules.followup import DEFAULT_RULES, Classification, Disease
from desktop.rules.visit_checks import VisitInput
from desktop.services.chronic import EnrolmentInput, enrol
from desktop.services.followups import record_visit
from desktop.services.indicators import indicator_report
from desktop.services.residents import create_resident
from desktop.services.settings import DEFAULT_PREVALENCE, followup_rules, prevalence, set_followup_rules

HT, DM = Disease.HYPERTENSION, Disease.DIABETES


def _elderly_patient(app: App) -> int:
    clerk, doctor = actor_for(app.db, "luru1"), actor_for(app.db, "gongwei1")
    resident_id = create_resident(app.db, clerk, person("王建国", "1955-05-05", village="101", sequence=11)).resident_id
    enrol(app.db, doctor, resident_id, EnrolmentInput(HT, diagnosed_on=date(2020, 3, 1), managed_from=date(2020, 4, 1)))
    return resident_id


def _visit(app: App, resident_id: int, day: str, sbp: int, dbp: int, classification: str = "1"):
    data = VisitInput(visit_date=day, method="1", sbp=sbp, dbp=dbp, doctor_name="刘晓梅", classification=classification)
    return record_visit(app.db, actor_for(app.db, "gongwei1"), resident_id, HT, data)


def _control_reason(app: App) -> tuple[int, str]:
    report = indicator_report(app.db, actor_for(app.db, "kaohe1"), 2025)
    verdict = next(v for v in report.people["ht_control"] if v.name == "王建国")
    return report.branch("ht_control").numerator, verdict.reason


def test_defaults_until_the_branch_changes_them(registry_app: App) -> None:
    assert followup_rules(registry_app.db) == DEFAULT_RULES
    assert prevalence(registry_app.db) == DEFAULT_PREVALENCE


def test_a_stricter_elderly_target_changes_the_suggestion_and_the_control_indicator(registry_app: App) -> None:
    """A 70-year-old at 145/85: controlled under the national 150/90, not under a county's 140/90."""
    resident_id = _elderly_patient(registry_app)
    assert _visit(registry_app, resident_id, "2025-03-01", 145, 85).suggested is Classification.CONTROLLED
    assert _control_reason(registry_app) == (1, None)
    admin = actor_for(registry_app.db, "admin")
    set_followup_rules(registry_app.db, admin, replace(DEFAULT_RULES, elderly_sbp_target=140), DEFAULT_PREVALENCE)
    assert followup_rules(registry_app.db).elderly_sbp_target == 140
    numerator, reason = _control_reason(registry_app)
    assert numerator == 0
    assert reason == "末次随访（03月01日，门诊）血压 145/85 未达标（应低于 140/90）"
    saved = _visit(registry_app, resident_id, "2025-06-01", 145, 85, classification="2")
    assert saved.suggested is saved.classification is Classification.UNCONTROLLED
    assert saved.next_visit_date == date(2025, 6, 15)
    with registry_app.db.read() as session:
        summaries = session.scalars(select(AuditEntry.summary).where(AuditEntry.entity_id == "followup_rules")).all()
    assert summaries == ["随访规则：老年患者收缩压控制目标 150 → 140"]


def test_prevalence_sets_the_coverage_denominator(registry_app: App) -> None:
    _elderly_patient(registry_app)
    kaohe = actor_for(registry_app.db, "kaohe1")
    before = indicator_report(registry_app.db, kaohe, 2025).branch("ht_coverage").denominator
    set_followup_rules(registry_app.db, actor_for(registry_app.db, "admin"), DEFAULT_RULES, {HT: 0.55, DM: 0.112})
    after = indicator_report(registry_app.db, kaohe, 2025).branch("ht_coverage").denominator
    assert after == pytest.approx(before * 2, abs=0.1)
    assert prevalence(registry_app.db) == {HT: 0.55, DM: 0.112}


def test_bad_values_are_named_and_nothing_is_stored(registry_app: App) -> None:
    admin = actor_for(registry_app.db, "admin")
    bad = replace(DEFAULT_RULES, elderly_sbp_target=200, glucose_target=17.0, recheck_interval_days=10.5)
    with pytest.raises(ValidationError) as refused:
        set_followup_rules(registry_app.db, admin, bad, {HT: 1.5, DM: 0.112})
    errors = refused.value.errors
    assert errors["elderly_sbp_target"] == "老年患者收缩压控制目标 200 mmHg 应在 110–160 之间。"
    assert errors["glucose_target"] == "空腹血糖控制目标 17 mmol/L 应在 5–10 之间。"
    assert errors["recheck_interval_days"] == "控制不满意复查间隔应为整数。"
    assert "高血压患病率应在 0 与 1 之间" in errors["prevalence_hypertension"]
    inverted = replace(DEFAULT_RULES, emergency_glucose_low=4.5, glucose_target=5.0, sbp_target=160, emergency_sbp=160)
    with pytest.raises(ValidationError) as refused:
        set_followup_rules(registry_app.db, admin, inverted, DEFAULT_PREVALENCE)
    assert refused.value.errors == {"emergency_sbp": "紧急转诊收缩压应高于收缩压控制目标。"}
    assert followup_rules(registry_app.db) == DEFAULT_RULES


def test_only_the_branch_admin_changes_the_rules(registry_app: App) -> None:
    with pytest.raises(PermissionDenied):
        set_followup_rules(registry_app.db, actor_for(registry_app.db, "gongwei1"),
                           replace(DEFAULT_RULES, sbp_target=130), DEFAULT_PREVALENCE)
    assert followup_rules(registry_app.db) == DEFAULT_RULES
