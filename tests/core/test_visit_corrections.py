"""Correcting and voiding saved follow-up visits and health checks, worked by hand.

The typo of the issue: a visit stored as BP 15/92 (an old record from before the range checks)
is corrected to 150/92; a visit entered by mistake is voided and the day's visit entered again.
"""

from __future__ import annotations

import json
from contextlib import closing
from dataclasses import replace
from datetime import date
from types import SimpleNamespace

import pytest
from core_support import actor_for, person
from data_templates import open_database
from sqlalchemy import select

from desktop.app import App
from desktop.errors import PermissionDenied, UserFacingError, ValidationError
from desktop.models import AuditEntry, FollowupVisit, HealthCheck
from desktop.rules.elderly import Dependence
from desktop.rules.followup import Disease
from desktop.rules.visit_checks import VisitInput
from desktop.services.audit import Action, field_changes, verify_chain
from desktop.services.check_corrections import (
    CHECK_FIELD_LABELS,
    check_history,
    correct_health_check,
    stored_check,
    void_health_check,
)
from desktop.services.chronic import EnrolmentInput, end_enrolment, enrol
from desktop.services.followups import record_visit
from desktop.services.health_checks import HealthCheckInput, record_health_check
from desktop.services.indicators import indicator_report
from desktop.services.record_history import NOT_COMPARED
from desktop.services.residents import create_resident
from desktop.services.visit_corrections import (
    VISIT_FIELD_LABELS,
    correct_visit,
    stored_visit,
    visit_history,
    void_visit,
)

HT = Disease.HYPERTENSION
UNCONTROLLED, CONTROLLED = "2", "1"
ALL_CARE = dict.fromkeys(("eating", "grooming", "dressing", "toileting", "activity"), Dependence.INDEPENDENT)


def _enrolled(app: App, *, village: str = "101", sequence: int = 11, birth: str = "1960-05-05") -> int:
    clerk = actor_for(app.db, "luru1")
    resident_id = create_resident(app.db, clerk, person("王建国", birth, village=village, sequence=sequence)).resident_id
    enrol(app.db, actor_for(app.db, "gongwei1"), resident_id,
          EnrolmentInput(HT, diagnosed_on=date(2020, 3, 1), managed_from=date(2020, 4, 1)))
    return resident_id


def _visit(day: str, sbp: int, dbp: int, classification: str, **kwargs) -> VisitInput:
    return VisitInput(visit_date=day, method="1", sbp=sbp, dbp=dbp, classification=classification,
                      doctor_name="刘晓梅", **kwargs)


def _typo_visit(app: App, resident_id: int) -> int:
    """A visit stored as 15/92: saved as 125/92, then the old value written straight into the row."""
    saved = record_visit(app.db, actor_for(app.db, "gongwei1"), resident_id, HT,
                         _visit("2025-03-01", 125, 92, UNCONTROLLED))
    with app.db.write() as session:
        session.get(FollowupVisit, saved.visit_id).sbp = 15
    return saved.visit_id


def _last_entry(app: App) -> SimpleNamespace:
    with app.db.read() as session:
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
        return SimpleNamespace(**{name: getattr(entry, name) for name in (
            "action", "entity_type", "actor", "details", "summary", "before_digest", "after_digest")})


def test_field_changes_lists_each_changed_field_before_and_after() -> None:
    before = {"sbp": 15, "dbp": 92, "visit_date": date(2025, 3, 1), "symptoms": ["1"]}
    after = {"sbp": 150, "dbp": 92, "visit_date": date(2025, 3, 2), "symptoms": ["1"]}
    assert field_changes(before, after) == {"sbp": [15, 150], "visit_date": ["2025-03-01", "2025-03-02"]}


def test_the_typo_15_92_is_corrected_to_150_92_as_a_new_version_with_before_and_after(registry_app: App) -> None:
    resident_id = _enrolled(registry_app)
    visit_id = _typo_visit(registry_app, resident_id)
    opened = stored_visit(registry_app.db, actor_for(registry_app.db, "gongwei1"), visit_id)
    assert (opened.data.sbp, opened.data.dbp, opened.data.classification) == (15, 92, UNCONTROLLED)
    fixed = replace(opened.data, sbp="150")
    correct_visit(registry_app.db, actor_for(registry_app.db, "gongwei1"), visit_id, fixed,
                  reason="血压录入少打一位", expected_version=opened.version)
    with registry_app.db.read() as session:
        visit = session.get(FollowupVisit, visit_id)
        assert (visit.sbp, visit.version, visit.correction_reason) == (150, opened.version + 1, "血压录入少打一位")
        assert visit.corrected_at is not None and visit.sync_state == "pending" and not visit.deleted
    entry = _last_entry(registry_app)
    assert (entry.action, entry.entity_type, entry.actor) == (Action.UPDATE.value, "followup_visit", "gongwei1")
    assert entry.details == {"sbp": [15, 150], "correction_reason": [None, "血压录入少打一位"]}
    assert "更正" in entry.summary and "血压录入少打一位" in entry.summary
    assert entry.before_digest != entry.after_digest
    report = verify_chain(registry_app.db)
    assert report.intact and report.checked > 0


def test_a_correction_needs_a_reason_and_the_version_that_was_opened(registry_app: App) -> None:
    resident_id = _enrolled(registry_app)
    visit_id = _typo_visit(registry_app, resident_id)
    doctor = actor_for(registry_app.db, "gongwei1")
    opened = stored_visit(registry_app.db, doctor, visit_id)
    fixed = replace(opened.data, sbp="150")
    with pytest.raises(ValidationError) as caught:
        correct_visit(registry_app.db, doctor, visit_id, fixed, reason="  ", expected_version=opened.version)
    assert caught.value.errors == {"correction_reason": "请填写更正原因。"}
    with pytest.raises(ValidationError) as caught:  # the reason is named beside the visit's own problems
        correct_visit(registry_app.db, doctor, visit_id, replace(fixed, dbp="九十"), reason="",
                      expected_version=opened.version)
    assert {"dbp", "correction_reason"} <= set(caught.value.errors)
    correct_visit(registry_app.db, doctor, visit_id, fixed, reason="血压录入错误", expected_version=opened.version)
    with pytest.raises(UserFacingError, match="已被他人修改"):  # a second window still holds the old version
        correct_visit(registry_app.db, doctor, visit_id, replace(fixed, sbp="152"), reason="再改",
                      expected_version=opened.version)
    with registry_app.db.read() as session:
        assert session.get(FollowupVisit, visit_id).sbp == 150


def test_a_correction_runs_the_checks_of_a_new_visit_but_does_not_clash_with_itself(registry_app: App) -> None:
    resident_id = _enrolled(registry_app)
    doctor = actor_for(registry_app.db, "gongwei1")
    record_visit(registry_app.db, doctor, resident_id, HT, _visit("2025-03-20", 128, 82, CONTROLLED))
    visit_id = _typo_visit(registry_app, resident_id)
    opened = stored_visit(registry_app.db, doctor, visit_id)
    with pytest.raises(ValidationError) as caught:  # moved onto the other face-to-face visit's day
        correct_visit(registry_app.db, doctor, visit_id, replace(opened.data, sbp=150, visit_date="2025-03-20",
                                                                         next_visit_date=None),
                      reason="日期录错", expected_version=opened.version)
    assert "同一天不能登记两次面访" in caught.value.errors["visit_date"]
    with pytest.raises(ValidationError, match="超出合理范围"):
        correct_visit(registry_app.db, doctor, visit_id, opened.data, reason="核对", expected_version=opened.version)
    correct_visit(registry_app.db, doctor, visit_id, replace(opened.data, sbp=150), reason="血压录入错误",
                  expected_version=opened.version)
    again = stored_visit(registry_app.db, doctor, visit_id)
    with pytest.raises(UserFacingError, match="没有改动"):
        correct_visit(registry_app.db, doctor, visit_id, again.data, reason="核对", expected_version=again.version)


def test_a_voided_visit_no_longer_blocks_the_day_and_no_longer_counts(registry_app: App) -> None:
    resident_id = _enrolled(registry_app)
    doctor = actor_for(registry_app.db, "gongwei1")
    saved = record_visit(registry_app.db, doctor, resident_id, HT, _visit("2025-03-01", 128, 82, CONTROLLED))
    with pytest.raises(ValidationError, match="同一天不能登记两次面访"):
        record_visit(registry_app.db, doctor, resident_id, HT, _visit("2025-03-01", 150, 92, UNCONTROLLED))
    counted = indicator_report(registry_app.db, actor_for(registry_app.db, "kaohe1"), 2025).branch("ht_control")
    opened = stored_visit(registry_app.db, doctor, saved.visit_id)
    with pytest.raises(ValidationError) as caught:
        void_visit(registry_app.db, doctor, saved.visit_id, reason="", expected_version=opened.version)
    assert caught.value.errors == {"void_reason": "请填写作废原因。"}
    void_visit(registry_app.db, doctor, saved.visit_id, reason="录错了病人", expected_version=opened.version)
    with registry_app.db.read() as session:
        visit = session.get(FollowupVisit, saved.visit_id)
        assert (visit.deleted, visit.void_reason, visit.version) == (True, "录错了病人", opened.version + 1)
        assert visit.voided_at is not None and visit.sync_state == "pending"
    entry = _last_entry(registry_app)
    assert entry.action == Action.VOID.value and entry.details == {"void_reason": [None, "录错了病人"]}
    voided = indicator_report(registry_app.db, actor_for(registry_app.db, "kaohe1"), 2025).branch("ht_control")
    assert voided.numerator == counted.numerator - 1  # the indicators read deleted = False only
    assert stored_visit(registry_app.db, doctor, saved.visit_id).voided
    with pytest.raises(UserFacingError, match="已作废"):
        void_visit(registry_app.db, doctor, saved.visit_id, reason="再作废", expected_version=opened.version + 1)
    again = record_visit(registry_app.db, doctor, resident_id, HT, _visit("2025-03-01", 150, 92, UNCONTROLLED))
    assert again.visit_id != saved.visit_id
    assert verify_chain(registry_app.db).intact


def test_a_village_doctor_cannot_correct_or_void_another_villages_visit(registry_app: App) -> None:
    resident_id = _enrolled(registry_app, village="105")
    visit_id = _typo_visit(registry_app, resident_id)
    village_doctor = actor_for(registry_app.db, "cunyi101")
    opened = stored_visit(registry_app.db, actor_for(registry_app.db, "gongwei1"), visit_id)
    with pytest.raises(PermissionDenied):
        correct_visit(registry_app.db, village_doctor, visit_id, replace(opened.data, sbp=150), reason="改",
                      expected_version=opened.version)
    with pytest.raises(PermissionDenied):
        void_visit(registry_app.db, village_doctor, visit_id, reason="作废", expected_version=opened.version)
    with pytest.raises(PermissionDenied):
        visit_history(registry_app.db, village_doctor, visit_id)
    with pytest.raises(PermissionDenied):
        correct_visit(registry_app.db, actor_for(registry_app.db, "kaohe1"), visit_id, replace(opened.data, sbp=150),
                      reason="改", expected_version=opened.version)
    with registry_app.db.read() as session:
        visit = session.get(FollowupVisit, visit_id)
        assert (visit.sbp, visit.version, visit.deleted) == (15, opened.version, False)


def test_the_history_names_the_person_the_reason_and_each_change(registry_app: App) -> None:
    resident_id = _enrolled(registry_app)
    visit_id = _typo_visit(registry_app, resident_id)
    doctor = actor_for(registry_app.db, "gongwei1")
    opened = stored_visit(registry_app.db, doctor, visit_id)
    correct_visit(registry_app.db, doctor, visit_id, replace(opened.data, sbp=150), reason="血压录入错误",
                  expected_version=opened.version)
    void_visit(registry_app.db, doctor, visit_id, reason="重复录入", expected_version=opened.version + 1)
    history = visit_history(registry_app.db, doctor, visit_id)
    assert [(h.step, h.reason) for h in history] == [("新建", ""), ("更正", "血压录入错误"), ("作废", "重复录入")]
    assert {h.actor_name for h in history} == {doctor.display_name} and doctor.display_name != "gongwei1"
    assert [c.text for c in history[1].changes] == ["收缩压：15 → 150"]
    assert history[2].changes == ()


def _check(app: App, resident_id: int) -> int:
    record_health_check(app.db, actor_for(app.db, "gongwei1"), resident_id,
                        HealthCheckInput(check_date="2025-05-01", doctor_name="刘晓梅", sbp=135, dbp=85,
                                         self_care=ALL_CARE, guidance=("4",), evaluation_abnormal=False))
    with app.db.read() as session:
        return session.scalars(select(HealthCheck.id).where(HealthCheck.resident_id == resident_id)).one()


def test_a_health_check_is_corrected_and_voided_with_reasons(registry_app: App) -> None:
    resident_id = _enrolled(registry_app, birth="1950-01-01", village="105")
    check_id = _check(registry_app, resident_id)
    doctor = actor_for(registry_app.db, "gongwei1")
    opened = stored_check(registry_app.db, doctor, check_id)
    assert opened.data.self_care == ALL_CARE and opened.data.guidance == ("4",)
    fixed = replace(opened.data, sbp=153, guidance=("4", "7"))
    with pytest.raises(ValidationError, match="更正原因"):
        correct_health_check(registry_app.db, doctor, check_id, fixed, reason="", expected_version=opened.version)
    correct_health_check(registry_app.db, doctor, check_id, fixed, reason="血压抄错", expected_version=opened.version)
    entry = _last_entry(registry_app)
    assert entry.details == {"sbp": [135, 153], "guidance": [["4"], ["4", "7"]],
                             "correction_reason": [None, "血压抄错"]}
    with pytest.raises(UserFacingError, match="已被他人修改"):
        void_health_check(registry_app.db, doctor, check_id, reason="重复", expected_version=opened.version)
    with pytest.raises(PermissionDenied):
        void_health_check(registry_app.db, actor_for(registry_app.db, "cunyi101"), check_id, reason="重复",
                          expected_version=opened.version + 1)
    void_health_check(registry_app.db, doctor, check_id, reason="重复录入", expected_version=opened.version + 1)
    with registry_app.db.read() as session:
        check = session.get(HealthCheck, check_id)
        assert (check.sbp, check.deleted, check.void_reason, check.version) == (153, True, "重复录入",
                                                                                 opened.version + 2)
    history = check_history(registry_app.db, doctor, check_id)
    assert [c.text for c in history[1].changes] == ["收缩压：135 → 153", "健康指导：戒烟 → 戒烟、锻炼"]
    assert verify_chain(registry_app.db).intact


def test_the_changed_values_are_part_of_the_chain_and_other_entries_keep_no_details(registry_app: App) -> None:
    resident_id = _enrolled(registry_app)
    visit_id = _typo_visit(registry_app, resident_id)
    doctor = actor_for(registry_app.db, "gongwei1")
    opened = stored_visit(registry_app.db, doctor, visit_id)
    correct_visit(registry_app.db, doctor, visit_id, replace(opened.data, sbp=150), reason="血压录入错误",
                  expected_version=opened.version)
    with closing(open_database(registry_app.db.path, isolation_level=None)) as connection:
        without = connection.execute("SELECT count(*) FROM audit_entry WHERE details IS NULL").fetchone()[0]
        with_details = connection.execute("SELECT seq, details FROM audit_entry WHERE details IS NOT NULL").fetchall()
        assert without > 0 and len(with_details) == 1  # SQL NULL, not JSON null, where nothing was changed
        seq, details = with_details[0]
        assert json.loads(details)["sbp"] == [15, 150]
        connection.execute("DROP TRIGGER audit_entry_no_update")
        connection.execute("UPDATE audit_entry SET details = ? WHERE seq = ?",
                           (json.dumps({"sbp": [15, 140]}), seq))
    report = verify_chain(registry_app.db)
    assert report.first_bad_seq == seq and "内容被修改" in report.problem


def test_an_opened_visit_lists_its_filled_fields_in_chinese(registry_app: App) -> None:
    resident_id = _enrolled(registry_app)
    visit_id = _typo_visit(registry_app, resident_id)
    opened = stored_visit(registry_app.db, actor_for(registry_app.db, "gongwei1"), visit_id)
    shown = dict(opened.shown)
    assert shown["随访日期"] == "2025-03-01" and shown["随访方式"] == "门诊" and shown["收缩压"] == "15"
    assert shown["此次随访分类"] == "控制不满意" and shown["随访医生"] == "刘晓梅"
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in label) for label in shown)
    assert not opened.voided and opened.correction_reason is None


@pytest.mark.parametrize("model, labels", [(FollowupVisit, VISIT_FIELD_LABELS), (HealthCheck, CHECK_FIELD_LABELS)])
def test_every_compared_column_has_a_chinese_name_in_the_history(model, labels) -> None:
    compared = set(model.__mapper__.column_attrs.keys()) - NOT_COMPARED
    assert compared - set(labels) == set()


def test_a_visit_is_corrected_after_the_management_ended(registry_app: App) -> None:
    resident_id = _enrolled(registry_app)
    visit_id = _typo_visit(registry_app, resident_id)
    doctor = actor_for(registry_app.db, "gongwei1")
    with registry_app.db.read() as session:
        enrolment_id = session.get(FollowupVisit, visit_id).enrolment_id
    end_enrolment(registry_app.db, doctor, enrolment_id, on=date(2025, 6, 30), reason="迁出本辖区")
    opened = stored_visit(registry_app.db, doctor, visit_id)
    correct_visit(registry_app.db, doctor, visit_id, replace(opened.data, sbp=150), reason="血压录入错误",
                  expected_version=opened.version)
    again = stored_visit(registry_app.db, doctor, visit_id)
    with pytest.raises(ValidationError, match="不在该患者的管理期内"):
        correct_visit(registry_app.db, doctor, visit_id, replace(again.data, visit_date="2025-08-01",
                                                                 next_visit_date=None),
                      reason="日期录错", expected_version=again.version)


def test_grouped_answers_read_by_their_names() -> None:
    from desktop.services.check_corrections import CHECK_FIELD_NAMES
    from desktop.services.visit_corrections import visit_field_names

    visit = visit_field_names(HT)
    assert visit.show("lifestyle", {"salt": "2", "salt_target": "1", "cigarettes_per_day": 5.0}) == (
        "摄盐情况 中；摄盐情况（目标） 轻；日吸烟量 5")
    assert visit.show("medications", [{"name": "硝苯地平缓释片", "times_per_day": "2", "dose": "10mg"}]) == (
        "硝苯地平缓释片 每日2次 每次10mg")
    assert visit.show("symptoms", ["2", "4"]) == "头痛头晕、眼花耳鸣"
    assert CHECK_FIELD_NAMES.show("self_care", {"eating": 0, "toileting": 2}) == "进餐 可自理；如厕 中度依赖"
    assert CHECK_FIELD_NAMES.show("results", {"ecg": "窦性心律"}) == "心电图 窦性心律"


def test_a_stored_visit_reads_back_every_new_field_and_a_correction_keeps_them(registry_app: App) -> None:
    resident_id = _enrolled(registry_app)
    doctor = actor_for(registry_app.db, "gongwei1")
    saved = record_visit(registry_app.db, doctor, resident_id, HT, VisitInput(
        visit_date="2025-03-01", method="3", measurement="2", sbp=128, dbp=82, classification=CONTROLLED,
        doctor_name="刘晓梅", medication_advice=(("氨氯地平片", "5mg 每日1次"),), resident_signed=True))
    stored = stored_visit(registry_app.db, doctor, saved.visit_id)
    assert stored.data.medication_advice == (("氨氯地平片", "5mg 每日1次"),)
    assert (stored.data.measurement, stored.data.resident_signed) == ("2", True)

    correct_visit(registry_app.db, doctor, saved.visit_id, replace(stored.data, sbp=132),
                  reason="收缩压抄错", expected_version=stored.version)
    with registry_app.db.read() as session:
        visit = session.get(FollowupVisit, saved.visit_id)
        assert (visit.sbp, visit.measurement, visit.resident_signed) == (132, "2", True)
        assert visit.medication_advice == [{"name": "氨氯地平片", "dose": "5mg 每日1次"}]
