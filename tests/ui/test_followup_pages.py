"""工作台, the visit and health-check forms, the chronic panel and the indicators page.

Runs against a copy of the demo township (with its years of visits) and the real background
helper. Expected figures come from the services' own answers for the same actor and date, or
from plain SQL on the same file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QWidget

from desktop.app import App
from desktop.clock import now
from desktop.rules.elderly import Dependence
from desktop.rules.followup import Classification, Disease
from desktop.services.chronic_due import ChronicDueKind
from desktop.services.due import DueScope, due_list
from desktop.services.indicators import indicator_report
from desktop.ui import chronic_panel, form_dialog
from desktop.ui import tasks as tasks_module
from desktop.ui.chronic_panel import ChronicPanel, EndDialog, EnrolDialog
from desktop.ui.followup_form import FollowupForm, open_followup_form
from desktop.ui.health_check_form import HealthCheckForm, open_health_check_form
from desktop.ui.main_window import MainWindow
from desktop.ui.pages.home import HomePage
from desktop.ui.pages.indicators import IndicatorsPage, codes
from desktop.ui.pages.residents import ResidentsPage
from tests.ui.conftest import make_context, record_error_boxes, screenshot, settle, sql

WAIT_MS = 15_000
HT, DM = Disease.HYPERTENSION, Disease.DIABETES


@pytest.fixture(autouse=True)
def no_error_boxes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[BaseException]]:
    """Record what would go to the modal error box; none may appear."""
    shown = record_error_boxes(monkeypatch, form_dialog, tasks_module)
    yield shown
    assert not shown, f"unexpected error boxes: {shown!r}"




def commit_text(widget: QWidget, text: str) -> None:
    event = QInputMethodEvent("", [])
    event.setCommitString(text)
    QApplication.sendEvent(widget, event)


def open_home(qtbot, app: App, tasks, username: str) -> HomePage:
    ctx = make_context(app, tasks, username)
    page = HomePage(ctx)
    qtbot.addWidget(page)
    ctx.bus.changed.connect(page.on_changes)
    page.resize(1200, 700)
    page.show()
    page.activated()
    settle(qtbot, ctx)
    return page


def patient(app: App, disease: Disease, *, elderly: bool | None = None) -> int:
    """A demo patient under management for the disease, not visited today."""
    age = "" if elderly is None else ("AND r.birth_date <= date('now', '-66 years')" if elderly
                                     else "AND r.birth_date >= date('now', '-60 years')")
    return sql(app, "SELECT r.id FROM resident r JOIN chronic_enrolment e ON e.resident_id = r.id "
                    "WHERE e.disease = ? AND e.ended_on IS NULL AND r.status = 'active' AND r.village_id IN "
                    "(SELECT id FROM village WHERE code = '101') AND NOT EXISTS (SELECT 1 FROM followup_visit v "
                    f"WHERE v.resident_id = r.id AND v.visit_date >= date('now', '-1 day')) {age} "
                    "ORDER BY r.id LIMIT 1", disease.value)[0][0]


def visit_form(qtbot, app: App, tasks, disease: Disease = HT, username: str = "gongwei1", **kw) -> FollowupForm:
    ctx = make_context(app, tasks, username)
    host = QWidget()
    qtbot.addWidget(host)
    shown: list[FollowupForm] = []
    open_followup_form(ctx, host, patient(app, disease, **kw), disease, shown=shown.append)
    qtbot.waitUntil(lambda: bool(shown) and shown[0].isVisible(), timeout=WAIT_MS)
    shown[0].host = host  # the parent lives as long as the form is used
    return shown[0]


def type_bp(qtbot, form: FollowupForm, sbp: str, dbp: str) -> None:
    for edit, value in ((form.sbp, sbp), (form.dbp, dbp)):
        edit.clear()
        qtbot.keyClicks(edit, value)


def choose(qtbot, form: FollowupForm, classification: Classification) -> None:
    """Pick the classification with the keyboard, as a doctor would (the list starts on 请选择)."""
    form.classification.setFocus()
    while form.chosen() is not classification:
        qtbot.keyClick(form.classification, Qt.Key.Key_Down)


def fill_referral_if_asked(form: FollowupForm) -> None:
    if form.referral_reason.isEnabled():
        commit_text(form.referral_reason, "血压控制不满意")
        commit_text(form.referral_to, "县人民医院心内科")


# ----- 工作台


def test_home_counts_equal_the_due_list_for_each_scope(qtbot, themed, demo_app, tasks) -> None:
    page = open_home(qtbot, demo_app, tasks, "gongwei1")
    actor, today = page.ctx.actor, now().date()
    assert page.scope() is DueScope.BRANCH
    branch = due_list(demo_app.db, actor, on=today, scope=DueScope.BRANCH)
    assert page.counts() == branch.counts() and page.model.rowCount() == len(branch.items)
    page.scope_buttons[DueScope.MINE].click()
    settle(qtbot, page.ctx)
    mine = due_list(demo_app.db, actor, on=today, scope=DueScope.MINE)  # demo residents belong to village doctors
    assert page.counts() == mine.counts() and page.model.rowCount() == len(mine.items) < len(branch.items)
    page.scope_buttons[DueScope.BRANCH].click()
    settle(qtbot, page.ctx)
    total, late = branch.counts()[ChronicDueKind.ROUTINE]
    assert late > 0 and total > late
    page.count_buttons[(ChronicDueKind.ROUTINE, True)].click()
    assert page.model.rowCount() == late
    assert all(i.kind is ChronicDueKind.ROUTINE and i.due_on < today for i in page.shown_items())
    assert page.list_label.text() == f"慢病常规随访 · 逾期：共 {late:,} 人"
    page.count_buttons[(ChronicDueKind.ROUTINE, False)].click()
    assert page.model.rowCount() == total - late
    page.show_all.click()
    assert page.model.rowCount() == len(branch.items)


def test_village_doctor_sees_only_their_villages(qtbot, themed, demo_app, tasks) -> None:
    page = open_home(qtbot, demo_app, tasks, "cunyi001")
    actor = page.ctx.actor
    assert list(page.scope_buttons) == [DueScope.MY_VILLAGES]
    expected = due_list(demo_app.db, actor, on=now().date(), scope=DueScope.MY_VILLAGES)
    assert page.counts() == expected.counts()
    own = {name for (name,) in sql(demo_app, "SELECT name FROM village WHERE code IN ('001', '101')")}
    assert {item.village_name for item in page.shown_items()} == own
    assert [page.village.itemText(i) for i in range(page.village.count())] == ["全部负责村", "001 青山社区",
                                                                                "101 柳树村"]
    indicators = IndicatorsPage(page.ctx)
    qtbot.addWidget(indicators)
    indicators.activated()
    settle(qtbot, page.ctx)
    assert {row.name for row in indicators.villages.rows()} == own
    assert indicators.village.count() == 3


def test_clicking_through_opens_the_visit_or_the_health_check_form(qtbot, themed, demo_app, tasks) -> None:
    page = open_home(qtbot, demo_app, tasks, "gongwei1")
    page.count_buttons[(ChronicDueKind.ROUTINE, None)].click()
    page.view.setFocus()
    page.view.selectRow(0)
    item = page.shown_items()[0]
    qtbot.keyClick(page.view, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: isinstance(page.dialog, FollowupForm), timeout=WAIT_MS)
    form: FollowupForm = page.dialog
    assert form.disease is item.disease and form.record.card.resident_id == item.resident_id
    assert item.record_no in form.header.text()
    form.done(0)
    page.count_buttons[(ChronicDueKind.ELDERLY_CHECK, None)].click()
    page.view.selectRow(0)
    index = page.model.index(0, 1)
    centre = page.view.visualRect(index).center()
    qtbot.mouseClick(page.view.viewport(), Qt.MouseButton.LeftButton, pos=centre)  # a double-click begins pressed
    qtbot.mouseDClick(page.view.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    qtbot.waitUntil(lambda: isinstance(page.dialog, HealthCheckForm), timeout=WAIT_MS)
    assert page.dialog.record.card.resident_id == page.shown_items()[0].resident_id
    page.dialog.done(0)


def test_saving_a_visit_from_home_refreshes_the_counts(qtbot, themed, demo_app, tasks) -> None:
    page = open_home(qtbot, demo_app, tasks, "gongwei1")
    today = now().date()
    page.count_buttons[(ChronicDueKind.ROUTINE, True)].click()
    row = next(i for i, item in enumerate(page.shown_items()) if item.disease is HT and item.last_visit != today)
    item = page.shown_items()[row]
    before = page.counts()[ChronicDueKind.ROUTINE]
    page.view.selectRow(row)
    page.open_selected()
    qtbot.waitUntil(lambda: isinstance(page.dialog, FollowupForm) and page.dialog.isVisible(), timeout=WAIT_MS)
    form: FollowupForm = page.dialog
    type_bp(qtbot, form, "128", "78")
    assert form.classification.currentText() == "请选择" and form.suggested_label.text() == "规则建议：控制满意"
    choose(qtbot, form, Classification.CONTROLLED)
    qtbot.keyClick(form.sbp, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not form.isVisible(), timeout=WAIT_MS)
    stored = sql(demo_app, "SELECT sbp, dbp, classification, next_step, next_visit_date, doctor_name FROM "
                           "followup_visit WHERE resident_id = ? AND visit_date = ?", item.resident_id, f"{today}")
    assert stored[0][:4] == (128, 78, "1", "1") and stored[0][5] == "刘晓梅"
    settle(qtbot, page.ctx)
    assert item.resident_id not in {i.resident_id for i in page.shown_items() if i.disease is HT}
    assert page.counts()[ChronicDueKind.ROUTINE] == (before[0] - 1, before[1] - 1)
    assert page.counts() == due_list(demo_app.db, page.ctx.actor, on=today, scope=DueScope.BRANCH).counts()


# ----- the visit form


def test_the_suggestion_follows_the_blood_pressure_typed(qtbot, themed, demo_app, tasks) -> None:
    form = visit_form(qtbot, demo_app, tasks, elderly=False)
    # nothing is suggested before a reading exists, and nothing is chosen for the doctor
    assert form.suggestion.classification is None and form.chosen() is None
    assert form.suggested_label.text() == "规则建议：无（本次无测量值）" and "请医生选择" in form.suggestion_text()
    assert form.next_visit.text() == f"{now().date() + timedelta(days=14):%Y-%m-%d}"
    type_bp(qtbot, form, "128", "80")
    assert "此次随访分类 <b>控制满意</b>" in form.suggestion_text() and "常规随访" in form.suggestion_text()
    in_three_months = form.suggestion.next_visit
    assert form.next_visit.text() == f"{in_three_months:%Y-%m-%d}" and in_three_months > now().date() + timedelta(80)
    type_bp(qtbot, form, "156", "96")
    assert "此次随访分类 <b>控制不满意</b>" in form.suggestion_text()
    assert form.classification.currentText() == "请选择" and form.suggested_label.text() == "规则建议：控制不满意"
    assert form.next_visit.text() in (f"{now().date() + timedelta(days=14):%Y-%m-%d}",)
    assert form.emergency_text() == ""
    form.done(0)


def test_overriding_the_classification_needs_a_reason(qtbot, themed, demo_app, tasks) -> None:
    form = visit_form(qtbot, demo_app, tasks, elderly=False)
    resident_id = form.record.card.resident_id
    before = sql(demo_app, "SELECT count(*) FROM followup_visit WHERE resident_id = ?", resident_id)[0][0]
    type_bp(qtbot, form, "156", "96")
    assert not form.override_reason.isEnabled() or form.override_reason.text() == ""
    choose(qtbot, form, Classification.CONTROLLED)
    assert form.chosen() is Classification.CONTROLLED and form.override_reason.isEnabled()
    assert "医生改为“控制满意”" in form.suggestion_text()
    type_bp(qtbot, form, "158", "96")
    assert form.chosen() is Classification.CONTROLLED  # the doctor's choice stays while typing
    form.save()
    qtbot.waitUntil(lambda: bool(form.errors.message("override_reason")), timeout=WAIT_MS)
    assert "按规则本次应为“控制不满意”，改为“控制满意”须填写理由" in form.errors.message("override_reason")
    assert form.isVisible() and form.sbp.text() == "158"
    commit_text(form.override_reason, "家庭自测血压连续一周达标")
    form.save()
    qtbot.waitUntil(lambda: not form.isVisible(), timeout=WAIT_MS)
    stored = sql(demo_app, "SELECT classification, suggested_classification, override_reason FROM followup_visit "
                           "WHERE resident_id = ? ORDER BY id DESC LIMIT 1", resident_id)
    assert stored == [("1", "2", "家庭自测血压连续一周达标")]
    assert sql(demo_app, "SELECT count(*) FROM followup_visit WHERE resident_id = ?", resident_id)[0][0] == before + 1


def test_emergency_prompt_at_180_over_110_and_the_reasons_are_stored(qtbot, themed, demo_app, tasks) -> None:
    form = visit_form(qtbot, demo_app, tasks)
    type_bp(qtbot, form, "179", "109")
    assert form.emergency_text() == ""
    type_bp(qtbot, form, "180", "110")
    text = form.emergency_text()
    assert text.startswith("需紧急转诊：收缩压 180 ≥ 180 mmHg；舒张压 110 ≥ 110 mmHg")
    assert "转诊功能启用后" in text and "紧急转诊" in form.suggestion_text()
    assert form.referral_reason.isEnabled() and form.referral_to.isEnabled()
    form.save()
    qtbot.waitUntil(lambda: bool(form.errors.message("referral_to")), timeout=WAIT_MS)
    assert form.errors.message("classification").startswith("请选择此次随访分类（规则建议“控制不满意”）")
    assert form.errors.message("referral_reason") == "下一步为“紧急转诊”：请填写转诊原因。"
    choose(qtbot, form, Classification.UNCONTROLLED)
    commit_text(form.referral_reason, "血压 180/110")
    commit_text(form.referral_to, "县人民医院心内科")
    form.save()
    qtbot.waitUntil(lambda: not form.isVisible(), timeout=WAIT_MS)
    stored = sql(demo_app, "SELECT next_step, emergency_reasons, referral_to FROM followup_visit "
                           "WHERE resident_id = ? ORDER BY id DESC LIMIT 1", form.record.card.resident_id)[0]
    assert stored[0] == "4" and "180" in stored[1] and stored[2] == "县人民医院心内科"


def test_a_danger_sign_alone_raises_the_prompt_and_diabetes_uses_glucose(qtbot, themed, demo_app, tasks) -> None:
    form = visit_form(qtbot, demo_app, tasks, DM)
    type_bp(qtbot, form, "126", "78")
    qtbot.keyClicks(form.glucose, "6.2")
    assert "控制满意" in form.suggestion_text() and form.emergency_text() == ""
    form.glucose.clear()
    qtbot.keyClicks(form.glucose, "8.4")
    assert "<b>控制不满意</b>" in form.suggestion_text()
    form.danger.boxes["腹痛"].click()
    assert "危急情况：腹痛" in form.emergency_text()
    form.done(0)


def test_a_visit_entered_with_the_keyboard_only(qtbot, themed, demo_app, tasks) -> None:
    form = visit_form(qtbot, demo_app, tasks, username="luru1")
    form.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is form.visit_date, timeout=WAIT_MS)
    qtbot.keyClick(form.visit_date, Qt.Key.Key_Return)
    assert QApplication.focusWidget() is form.method
    form.sbp.setFocus()
    qtbot.keyClicks(form.sbp, "150")
    qtbot.keyClick(form.sbp, Qt.Key.Key_Return)
    assert QApplication.focusWidget() is form.dbp
    qtbot.keyClicks(form.dbp, "92")
    qtbot.keyClick(form.dbp, Qt.Key.Key_Return)
    assert QApplication.focusWidget() is form.weight
    choose(qtbot, form, Classification.UNCONTROLLED)
    qtbot.keyClick(form.classification, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is form.next_visit  # 更改理由 is skipped while the choice agrees with the rules
    qtbot.keyClick(form.next_visit, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is (form.referral_reason if form.referral_reason.isEnabled() else form.doctor)
    fill_referral_if_asked(form)  # the demo patient may have been uncontrolled last time too
    qtbot.keyClick(form.classification, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not form.isVisible(), timeout=WAIT_MS)
    stored = sql(demo_app, "SELECT sbp, dbp, method, doctor_name FROM followup_visit WHERE resident_id = ? "
                           "ORDER BY id DESC LIMIT 1", form.record.card.resident_id)
    assert stored == [(150, 92, "1", "黄小燕")]


def test_out_of_range_values_are_named_under_their_fields(qtbot, themed, demo_app, tasks) -> None:
    form = visit_form(qtbot, demo_app, tasks)
    type_bp(qtbot, form, "90", "120")
    qtbot.keyClicks(form.heart_rate, "300")
    form.save()
    qtbot.waitUntil(lambda: bool(form.errors.message("sbp")), timeout=WAIT_MS)
    assert form.errors.message("sbp") == "收缩压 90 应高于舒张压 120，请核对是否填反。"
    assert "心率 300 次/分 超出合理范围" in form.errors.message("heart_rate")
    assert QApplication.focusWidget() is form.sbp
    form.done(0)


def test_a_phone_visit_not_measured_and_the_rest_of_the_national_form(qtbot, themed, demo_app, tasks) -> None:
    form = visit_form(qtbot, demo_app, tasks, DM)
    assert form.width() <= 1366 and form.height() <= 768  # fits a 1366×768 screen; sections scroll
    assert not form.measurement.isEnabled() and form.measurement.currentText() == "医生测量"
    form.method.setCurrentIndex(form.method.findData("3"))
    assert form.measurement.isEnabled() and form.measurement.currentText() == "居民自测"
    qtbot.keyClicks(form.glucose, "8.1")
    assert form.suggested_label.text() == "规则建议：控制不满意"
    form.measurement.setCurrentIndex(form.measurement.findData("3"))
    assert form.glucose.text() == "" and not form.glucose.isEnabled() and not form.sbp.isEnabled()
    assert form.suggested_label.text() == "规则建议：无（本次无测量值）"
    assert form.next_visit.text() == f"{now().date() + timedelta(days=14):%Y-%m-%d}"  # not three months out
    choose(qtbot, form, Classification.CONTROLLED)
    form.save()
    qtbot.waitUntil(lambda: bool(form.errors.message("classification")), timeout=WAIT_MS)
    assert "不能为“控制满意”" in form.errors.message("classification")
    choose(qtbot, form, Classification.ADVERSE_REACTION)
    form.adverse.click()
    fill_referral_if_asked(form)  # a reaction noted last time too: 不良反应难以控制
    for edit, text in ((form.symptoms_other, "口干"), (form.signs_other, "自述足部发凉"),
                       (form.tests_other, "自测餐后血糖 11.2"), (form.insulin, "甘精胰岛素"),
                       (form.insulin_dose, "睡前 10 单位"), (form.adverse_note, "二甲双胍 胃肠不适")):
        commit_text(edit, text)
    form.advice.setCurrentCell(0, 0)
    form.advice.set_rows([("二甲双胍缓释片", "0.5g 每日1次")])
    form.signed.click()
    form.scroll.ensureWidgetVisible(form.signed)
    screenshot(form, "visit-form-phone")
    form.save()
    qtbot.waitUntil(lambda: not form.isVisible(), timeout=WAIT_MS)
    stored = sql(demo_app, "SELECT measurement, fasting_glucose, classification, suggested_classification, "
                           "symptoms_other, signs_other, tests_other, insulin, insulin_dose, medication_advice, "
                           "resident_signed, next_visit_date FROM followup_visit WHERE resident_id = ? "
                           "ORDER BY id DESC LIMIT 1", form.record.card.resident_id)[0]
    assert stored[:9] == ("3", None, "3", "3", "口干", "自述足部发凉", "自测餐后血糖 11.2",
                          "甘精胰岛素", "睡前 10 单位")
    assert json.loads(stored[9]) == [{"name": "二甲双胍缓释片", "dose": "0.5g 每日1次"}] and stored[10] == 1
    assert stored[11] == f"{now().date() + timedelta(days=14)}"


def test_bmi_uses_the_latest_height_and_a_weak_foot_pulse_needs_its_side(qtbot, themed, demo_app, tasks) -> None:
    form = visit_form(qtbot, demo_app, tasks, DM)
    form.weight.clear()
    qtbot.keyClicks(form.weight, "64")
    known = form.history.height_on(form.visit_day())
    assert ("按最近记录的身高" in form.bmi_label.text()) == (known is not None)
    qtbot.keyClicks(form.height_edit, "160")
    assert form.bmi_label.text().startswith("25.0 / ")
    type_bp(qtbot, form, "126", "78")
    qtbot.keyClicks(form.glucose, "6.3")
    form.foot_pulse.setCurrentIndex(form.foot_pulse.findData("2"))
    choose(qtbot, form, Classification.CONTROLLED)
    form.save()
    qtbot.waitUntil(lambda: bool(form.errors.message("foot_pulse")), timeout=WAIT_MS)
    assert "请选择双侧、左侧或右侧" in form.errors.message("foot_pulse")
    form.foot_side.setCurrentIndex(form.foot_side.findData("2"))
    form.save()
    qtbot.waitUntil(lambda: not form.isVisible(), timeout=WAIT_MS)
    assert sql(demo_app, "SELECT foot_pulse, foot_pulse_side, height FROM followup_visit WHERE resident_id = ? "
                         "ORDER BY id DESC LIMIT 1", form.record.card.resident_id) == [("2", "左侧", 160.0)]


# ----- the health check


def test_self_care_score_and_bmi_compute_as_typed_and_save(qtbot, themed, demo_app, tasks) -> None:
    ctx = make_context(demo_app, tasks, "gongwei1")
    host = QWidget()
    qtbot.addWidget(host)
    resident_id = sql(demo_app, "SELECT id FROM resident WHERE status = 'active' AND birth_date <= "
                                "date('now', '-70 years') AND id NOT IN (SELECT resident_id FROM health_check "
                                "WHERE check_date >= date('now', 'start of year')) ORDER BY id LIMIT 1")[0][0]
    shown: list[HealthCheckForm] = []
    open_health_check_form(ctx, host, resident_id, shown=shown.append)
    qtbot.waitUntil(lambda: bool(shown) and shown[0].isVisible(), timeout=WAIT_MS)
    form = shown[0]
    assert "65 岁及以上居民必填" in form.care_hint.text()
    qtbot.keyClicks(form.numbers["height"], "160")
    qtbot.keyClicks(form.numbers["weight"], "64")
    assert form.bmi_label.text().startswith("25.0 kg/m²")
    for name, value in {"sbp": "138", "dbp": "84"}.items():
        qtbot.keyClicks(form.numbers[name], value)
    assert form.abnormal.currentText() == "请选择"  # 健康评价 is the doctor's, never pre-filled
    form.save()
    qtbot.waitUntil(lambda: bool(form.errors.message("self_care")), timeout=WAIT_MS)
    assert "生活自理能力评估未填完" in form.errors.message("self_care")
    assert form.errors.message("evaluation") == "请选择健康评价：体检无异常或有异常。"
    form.abnormal.setCurrentIndex(form.abnormal.findData(False))
    levels = {"eating": Dependence.INDEPENDENT, "grooming": Dependence.MILD, "dressing": Dependence.INDEPENDENT,
              "toileting": Dependence.MODERATE, "activity": Dependence.MILD}
    for item, level in levels.items():
        form.care[item].setCurrentIndex(form.care[item].findData(level.value))
    assert form.score_text() == "7 分（轻度依赖）"
    form.guidance.boxes["7"].click()
    form.save()
    qtbot.waitUntil(lambda: not form.isVisible(), timeout=WAIT_MS)
    stored = sql(demo_app, "SELECT sbp, bmi, self_care_total, guidance, evaluation_abnormal FROM health_check "
                           "WHERE resident_id = ? ORDER BY id DESC LIMIT 1", resident_id)
    assert stored == [(138, 25.0, 7, '["7"]', 0)]


# ----- the chronic panel


def test_residents_page_opens_the_chronic_panel_and_its_dialogs(qtbot, themed, demo_app, tasks) -> None:
    ctx = make_context(demo_app, tasks, "gongwei1")
    page = ResidentsPage(ctx)
    qtbot.addWidget(page)
    page.show()
    page.activated()
    settle(qtbot, ctx)
    resident_id = patient(demo_app, HT)
    row = page.model.ids().index(resident_id)
    page.view.scrollTo(page.model.index(row, 0))  # the list loads a page of rows at a time
    qtbot.waitUntil(lambda: page.model.loaded(row), timeout=WAIT_MS)
    page.view.selectRow(row)
    panel = page.open_chronic()
    assert isinstance(panel, ChronicPanel)
    qtbot.waitUntil(panel.is_loaded, timeout=WAIT_MS)
    visits = sql(demo_app, "SELECT count(*) FROM followup_visit WHERE resident_id = ? AND disease = 'hypertension'",
                 resident_id)[0][0]
    assert panel.shown_disease() is HT and panel.visits.rowCount() == visits > 0
    assert panel.visit_count.text() == f"共 {visits} 次"
    has_dm = sql(demo_app, "SELECT count(*) FROM chronic_enrolment WHERE resident_id = ? AND disease = 'diabetes' "
                           "AND ended_on IS NULL", resident_id)[0][0]
    if not has_dm:
        dialog = panel.enrol()
        assert isinstance(dialog, EnrolDialog) and dialog.disease.currentText() == "2型糖尿病"
        qtbot.keyClicks(dialog.diagnosed_on, "20991301")
        dialog.save()
        assert "确诊日期" in dialog.errors.message("diagnosed_on")
        dialog.diagnosed_on.clear()
        qtbot.keyClicks(dialog.diagnosed_on, "2024.3.5")
        dialog.save()
        qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT_MS)
        qtbot.waitUntil(lambda: panel.enrolments.rowCount() == 2, timeout=WAIT_MS)
    ending = panel.end_selected()
    assert isinstance(ending, EndDialog)
    ending.save()
    qtbot.waitUntil(lambda: bool(ending.errors.message("end_reason")), timeout=WAIT_MS)
    ending.reason.setCurrentIndex(ending.reason.findData("失访"))
    ending.save()
    qtbot.waitUntil(lambda: not ending.isVisible(), timeout=WAIT_MS)
    settle(qtbot, ctx)
    assert sql(demo_app, "SELECT count(*) FROM chronic_enrolment WHERE resident_id = ? AND end_reason = '失访'",
               resident_id)[0][0] == 1
    panel.done(0)


def test_print_buttons_open_the_preview_and_hide_without_printing(qtbot, themed, demo_app, tasks,
                                                                    monkeypatch) -> None:
    from desktop.ui.print_preview import PrintPreviewDialog

    ctx = make_context(demo_app, tasks, "gongwei1")
    panel = ChronicPanel(ctx, patient(demo_app, HT, elderly=True))
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(panel.is_loaded, timeout=WAIT_MS)
    assert not panel.print_button.isHidden() and not panel.print_check_button.isHidden()
    panel.print_button.click()
    qtbot.waitUntil(lambda: bool(panel.findChildren(PrintPreviewDialog)), timeout=WAIT_MS)
    preview = panel.findChildren(PrintPreviewDialog)[0]
    latest = panel.record.visits_for(HT)[0].visit_date.year
    assert "高血压患者随访服务记录表" in preview.windowTitle() and f"{latest}年" in preview.windowTitle()
    preview.close()
    settle(qtbot, ctx)
    assert any(c.self_care_total is not None for c in panel.record.checks)  # a 65+ patient of the demo
    panel.print_check_button.click()
    qtbot.waitUntil(lambda: any("自理能力评估表" in d.windowTitle()
                                for d in panel.findChildren(PrintPreviewDialog)), timeout=WAIT_MS)
    monkeypatch.setattr(chronic_panel, "print_functions", lambda: None)
    bare = ChronicPanel(ctx, patient(demo_app, HT))
    qtbot.addWidget(bare)
    assert bare.print_button.isHidden() and bare.print_check_button.isHidden()
    settle(qtbot, ctx)


# ----- indicators


def open_indicators(qtbot, app: App, tasks, username: str = "gongwei1") -> IndicatorsPage:
    ctx = make_context(app, tasks, username)
    page = IndicatorsPage(ctx)
    qtbot.addWidget(page)
    page.resize(1300, 760)
    page.show()
    page.activated()
    settle(qtbot, ctx)
    return page


def test_indicator_figures_and_drill_down_match_the_report(qtbot, themed, demo_app, tasks) -> None:
    page = open_indicators(qtbot, demo_app, tasks)
    year = now().year
    report = indicator_report(demo_app.db, page.ctx.actor, year)
    shown = page.figures.rows()
    assert [f.code for f in shown] == list(codes())
    for row, figure in enumerate(shown):
        expected = report.branch(figure.code)
        assert (figure.numerator, figure.denominator) == (expected.numerator, expected.denominator)
        assert page.figures.index(row, 1).data() == f"{expected.numerator:,}"
    control_row = list(codes()).index("ht_control")
    page.figure_view.clicked.emit(page.figures.index(control_row, 3))
    expected = report.branch("ht_control")
    assert page.tabs.currentIndex() == 1 and page.people.rowCount() == expected.denominator > 0
    page.only_missing.setChecked(True)
    assert page.people.rowCount() == expected.denominator - expected.numerator
    assert all(p.verdict.reason for p in page.people.rows())
    village = page.villages.rows()[0]
    page.village_view.clicked.emit(page.villages.index(0, 1 + list(codes()).index("ht_standard")))
    figure = village.figures["ht_standard"]
    page.only_missing.setChecked(False)
    assert page.people.rowCount() == figure.denominator
    assert {p.verdict.village_id for p in page.people.rows()} == {village.village_id}
    page.people_view.selectRow(0)
    page.open_person()
    assert isinstance(page.dialog, ChronicPanel)
    qtbot.waitUntil(page.dialog.is_loaded, timeout=WAIT_MS)
    assert page.dialog.record.card.resident_id == page.people.rows()[0].verdict.resident_id
    page.dialog.done(0)


def test_indicators_for_an_earlier_year_and_one_village(qtbot, themed, demo_app, tasks) -> None:
    page = open_indicators(qtbot, demo_app, tasks)
    page.year.setCurrentIndex(1)
    village_id = page.village.itemData(2)
    page.village.setCurrentIndex(2)
    settle(qtbot, page.ctx)
    report = indicator_report(demo_app.db, page.ctx.actor, now().year - 1, village_id=village_id)
    assert [(f.numerator, f.denominator) for f in page.figures.rows()] == \
        [(report.branch(c).numerator, report.branch(c).denominator) for c in codes()]
    assert [row.village_id for row in page.villages.rows()] == [village_id]


def test_indicators_for_a_quarter_say_which_rule_they_used(qtbot, themed, demo_app, tasks) -> None:
    page = open_indicators(qtbot, demo_app, tasks)
    year = now().year - 1
    page.year.setCurrentIndex(1)
    settle(qtbot, page.ctx)
    assert [page.period.itemText(i) for i in range(6)] == ["全年", "第 1 季度", "第 2 季度", "第 3 季度", "第 4 季度",
                                                           "1 月"]
    assert page.rule.text().startswith(f"统计口径：{year} 年（{year}-01-01 至 {year}-12-31）")
    page.period.setCurrentIndex(page.period.findData(f"{year}-Q1"))
    settle(qtbot, page.ctx)
    report = indicator_report(demo_app.db, page.ctx.actor, f"{year}-Q1")
    assert [(f.numerator, f.denominator) for f in page.figures.rows()] == \
        [(report.branch(c).numerator, report.branch(c).denominator) for c in codes()]
    assert page.rule.text().startswith(f"统计口径：{year} 年第 1 季度（{year}-01-01 至 {year}-03-31）")
    assert page.status.text() == f"{year} 年第 1 季度：{year}-01-01 至 {year}-03-31"


def test_export_writes_the_indicators_workbook(qtbot, themed, demo_app, tasks, monkeypatch, tmp_path) -> None:
    import openpyxl

    from desktop.ui.pages import indicators as indicators_module

    target = tmp_path / "管理指标.xlsx"
    monkeypatch.setattr(indicators_module.QFileDialog, "getSaveFileName",
                        staticmethod(lambda *_args, **_kw: (str(target), "")))
    page = open_indicators(qtbot, demo_app, tasks)
    assert page.export_action.isVisible()
    page.export_action.trigger()
    qtbot.waitUntil(lambda: "已导出" in page.export_note.text(), timeout=WAIT_MS)
    book = openpyxl.load_workbook(target, read_only=True)
    assert book.sheetnames[0] == "指标汇总" and "高血压患者规范管理率" in book.sheetnames
    names = {cell for row in book["指标汇总"].iter_rows(min_row=2, values_only=True) for cell in row}
    assert {f.name for f in page.figures.rows()} <= names
    book.close()
    assessor = open_indicators(qtbot, demo_app, tasks, "kaohe1")
    assert not assessor.export_action.isVisible()


def test_indicators_page_in_the_navigation(qtbot, themed, demo_app, tasks) -> None:
    director = MainWindow(make_context(demo_app, tasks, "yuanzhang"))
    qtbot.addWidget(director)
    admin = MainWindow(make_context(demo_app, tasks, "admin"))
    qtbot.addWidget(admin)
    assert "管理指标" in [director.navigation.item(i).text() for i in range(director.navigation.count())]
    assert "管理指标" not in [admin.navigation.item(i).text() for i in range(admin.navigation.count())]
    assert isinstance(director.page("indicators"), IndicatorsPage)
    settle(qtbot, director.ctx)


# ----- screenshots


def test_screenshots_of_home_forms_and_indicators(qtbot, themed, demo_app, tasks) -> None:
    window = MainWindow(make_context(demo_app, tasks, "gongwei1"))
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    home = window.page("home")
    settle(qtbot, window.ctx)
    home.count_buttons[(ChronicDueKind.ROUTINE, True)].click()
    QApplication.processEvents()
    screenshot(window, "home")
    form = visit_form(qtbot, demo_app, tasks, elderly=False)
    type_bp(qtbot, form, "156", "96")
    qtbot.keyClicks(form.heart_rate, "78")
    QApplication.processEvents()
    screenshot(form, "visit-form")
    type_bp(qtbot, form, "186", "112")
    form.danger.boxes["剧烈头痛或头晕"].click()
    QApplication.processEvents()
    screenshot(form, "visit-form-emergency")
    form.done(0)
    host = QWidget()
    qtbot.addWidget(host)
    shown: list[HealthCheckForm] = []
    open_health_check_form(window.ctx, host, patient(demo_app, HT, elderly=True), shown=shown.append)
    qtbot.waitUntil(lambda: bool(shown), timeout=WAIT_MS)
    check = shown[0]
    for name, value in (("sbp", "142"), ("dbp", "86"), ("heart_rate", "72"), ("height", "158"), ("weight", "61"),
                        ("waist", "84")):
        qtbot.keyClicks(check.numbers[name], value)
    for item, index in {"eating": 1, "grooming": 2, "dressing": 1, "toileting": 3, "activity": 2}.items():
        check.care[item].setCurrentIndex(index)
    assert check.score_text() == "7 分（轻度依赖）"
    QApplication.processEvents()
    screenshot(check, "health-check-form")
    check.done(0)
    page = window.page("indicators")
    settle(qtbot, window.ctx)
    page.figure_view.clicked.emit(page.figures.index(list(codes()).index("ht_standard"), 3))
    page.only_missing.setChecked(True)
    QApplication.processEvents()
    screenshot(window, "indicators")
    panel = ChronicPanel(window.ctx, patient(demo_app, HT), parent=window)
    panel.open()
    qtbot.waitUntil(panel.is_loaded, timeout=WAIT_MS)
    QApplication.processEvents()
    screenshot(panel, "chronic-panel")
    panel.done(0)
