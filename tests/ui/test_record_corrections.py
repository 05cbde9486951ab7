"""The chronic panel: a saved visit opened read-only, corrected with a reason, voided, and its history."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from desktop.rules.followup import Disease
from desktop.services.visit_corrections import correct_visit, stored_visit
from desktop.ui import form_dialog, record_view
from desktop.ui import tasks as tasks_module
from desktop.ui.chronic_panel import ChronicPanel
from desktop.ui.correction_forms import CorrectCheckForm, CorrectVisitForm
from desktop.ui.record_view import HistoryDialog, RecordView, VoidDialog
from tests.ui.conftest import make_context, record_error_boxes, screenshot, settle, sql

WAIT_MS = 15_000
HT = Disease.HYPERTENSION


@pytest.fixture(autouse=True)
def no_error_boxes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[BaseException]]:
    shown = record_error_boxes(monkeypatch, form_dialog, tasks_module)
    yield shown
    assert not shown, f"unexpected error boxes: {shown!r}"


def _patient(app) -> int:
    """A village-101 hypertension patient of the demo with two visits or more (the latest with a blood pressure)
    and a health check."""
    return sql(app, "SELECT r.id FROM resident r JOIN chronic_enrolment e ON e.resident_id = r.id "
                    "WHERE e.disease = 'hypertension' AND e.ended_on IS NULL AND r.status = 'active' "
                    "AND r.village_id IN (SELECT id FROM village WHERE code = '101') "
                    "AND (SELECT count(*) FROM followup_visit v WHERE v.resident_id = r.id "
                    "     AND v.disease = 'hypertension') >= 2 "
                    "AND EXISTS (SELECT 1 FROM health_check c WHERE c.resident_id = r.id) "
                    "AND (SELECT v.sbp FROM followup_visit v WHERE v.resident_id = r.id AND v.disease = 'hypertension' "
                    "     ORDER BY v.visit_date DESC, v.id DESC LIMIT 1) IS NOT NULL ORDER BY r.id LIMIT 1")[0][0]


def _panel(qtbot, app, tasks) -> ChronicPanel:
    ctx = make_context(app, tasks, "gongwei1")
    panel = ChronicPanel(ctx, _patient(app))
    qtbot.addWidget(panel)
    panel.resize(1366, 740)
    panel.show()
    qtbot.waitUntil(panel.is_loaded, timeout=WAIT_MS)
    panel.disease.setCurrentIndex(panel.disease.findData(HT.value))
    return panel


def _opened(qtbot, panel: ChronicPanel, kind: type):
    qtbot.waitUntil(lambda: isinstance(panel.dialog, kind) and panel.dialog.isVisible(), timeout=WAIT_MS)
    return panel.dialog


def _same_side(sbp: int, dbp: int) -> int:
    """Another systolic reading that leaves the rules' classification as it was (same side of 140 and 150)."""
    return next(sbp + delta for delta in (2, -2, 1, -1) if sbp + delta > dbp and all(
        (sbp < limit) == (sbp + delta < limit) for limit in (140, 150)))


def _shown(value) -> str:
    return "空" if value is None else f"{value:g}"


def _cell(panel: ChronicPanel, row: int, title: str) -> str:
    column = [c.title for c in panel.visits.columns].index(title)
    return panel.visits.data(panel.visits.index(row, column))


def test_a_visit_is_opened_corrected_voided_and_its_history_shown(qtbot, themed, demo_app, tasks,
                                                                   monkeypatch) -> None:
    panel = _panel(qtbot, demo_app, tasks)
    latest = panel.visits.row_at(0)
    weight, heart_rate = sql(demo_app, "SELECT weight, heart_rate FROM followup_visit WHERE id = ?", latest.id)[0]
    new_weight, new_heart_rate = (61.5 if weight != 61.5 else 62.5), (76 if heart_rate != 76 else 77)
    panel.visit_view.selectRow(0)
    panel.visit_view.setFocus()
    qtbot.keyClick(panel.visit_view, Qt.Key.Key_Return)  # Enter on the list opens the visit read-only
    view = _opened(qtbot, panel, RecordView)
    shown = dict(view.stored.shown)
    QApplication.processEvents()
    screenshot(view, "visit-read-only")
    assert shown["收缩压"] == str(latest.sbp) and not view.correct_button.isHidden()
    view.correct_button.click()
    form = _opened(qtbot, panel, CorrectVisitForm)
    assert form.sbp.text() == str(latest.sbp) and form.visit_date.text() == f"{latest.visit_date:%Y-%m-%d}"
    assert form.focusWidget() is form.reason  # the reason comes first on the keyboard path
    new_sbp = _same_side(latest.sbp, latest.dbp)
    form.sbp.setText(str(new_sbp))
    QApplication.processEvents()
    screenshot(form, "visit-correction-form")
    form.save()
    qtbot.waitUntil(lambda: "更正原因" in form.errors.message("correction_reason"), timeout=WAIT_MS)
    form.reason.setText("收缩压录入错误")
    form.save()
    qtbot.waitUntil(lambda: not form.isVisible(), timeout=WAIT_MS)
    settle(qtbot, panel.ctx)
    assert sql(demo_app, "SELECT sbp, correction_reason FROM followup_visit WHERE id = ?", latest.id) == [
        (new_sbp, "收缩压录入错误")]
    qtbot.waitUntil(lambda: _cell(panel, 0, "状态") == "已更正", timeout=WAIT_MS)

    second = panel.visits.row_at(1)
    panel.visit_view.selectRow(1)
    monkeypatch.setattr(record_view, "confirm_void", lambda _parent, _what: True)
    panel.void_visit()
    dialog = _opened(qtbot, panel, VoidDialog)
    dialog.save()
    qtbot.waitUntil(lambda: "作废原因" in dialog.errors.message("void_reason"), timeout=WAIT_MS)
    dialog.reason.setText("重复录入")
    dialog.save()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT_MS)
    settle(qtbot, panel.ctx)
    assert sql(demo_app, "SELECT deleted, void_reason FROM followup_visit WHERE id = ?", second.id) == [
        (1, "重复录入")]
    qtbot.waitUntil(lambda: _cell(panel, 1, "状态") == "已作废", timeout=WAIT_MS)
    tooltip_role = 3  # Qt.ToolTipRole
    assert panel.visits.data(panel.visits.index(1, 2), tooltip_role) == "已作废：重复录入"
    assert "已作废" in panel.visit_count.text()

    QApplication.processEvents()
    screenshot(panel, "chronic-panel-corrected-and-voided")
    opened = stored_visit(demo_app.db, panel.ctx.actor, latest.id)
    correct_visit(demo_app.db, panel.ctx.actor, latest.id,
                  replace(opened.data, weight=new_weight, heart_rate=new_heart_rate),
                  reason="体重抄错，心率补录", expected_version=opened.version)
    panel.visit_view.selectRow(0)
    panel.visit_history()
    history = _opened(qtbot, panel, HistoryDialog)
    rows = history.row_texts()
    assert [row[1] for row in rows][-2:] == ["更正", "更正"]
    assert rows[-2][2] == panel.ctx.actor.display_name != "gongwei1"
    assert rows[-2][3] == "收缩压录入错误"
    assert f"收缩压：{latest.sbp} → {new_sbp}" in rows[-2][4].split("\n")
    assert rows[-1][4].split("\n") == [f"体重：{_shown(weight)} → {new_weight:g}",
                                        f"心率：{_shown(heart_rate)} → {new_heart_rate}"]
    assert history.width() <= 1366 and history.height() <= 768
    QApplication.processEvents()
    screenshot(history, "visit-history")
    history.accept()


def _examination_and_results(app, check_id: int) -> tuple[dict, dict]:
    examination, results = sql(app, "SELECT examination, results FROM health_check WHERE id = ?", check_id)[0]
    return json.loads(examination), {key: f"{value}" for key, value in json.loads(results).items()}


def test_a_health_check_is_corrected_from_its_read_only_view(qtbot, themed, demo_app, tasks) -> None:
    panel = _panel(qtbot, demo_app, tasks)
    check = panel.checks.row_at(0)
    panel.check_view.selectRow(0)
    panel.view_check()
    view = _opened(qtbot, panel, RecordView)
    assert dict(view.stored.shown)["体检日期"] == f"{check.check_date:%Y-%m-%d}"
    assert "其他内容" not in dict(view.stored.shown)["查体"]  # every stored 查体 item by its name
    before = _examination_and_results(demo_app, check.id)
    view.correct_button.click()
    form = _opened(qtbot, panel, CorrectCheckForm)
    assert form.check_date.text() == f"{check.check_date:%Y-%m-%d}"
    form.numbers["waist"].setText("91")
    form.reason.setText("腰围抄错")
    form.save()
    qtbot.waitUntil(lambda: not form.isVisible(), timeout=WAIT_MS)
    settle(qtbot, panel.ctx)
    assert sql(demo_app, "SELECT waist, correction_reason FROM health_check WHERE id = ?", check.id) == [
        (91.0, "腰围抄错")]
    # the stored 查体 items the form has no field for are kept as they were; results read back as their text
    assert _examination_and_results(demo_app, check.id) == before


def test_who_may_not_edit_follow_ups_can_open_and_read_the_history_only(qtbot, themed, demo_app, tasks) -> None:
    ctx = make_context(demo_app, tasks, "kaohe1")
    panel = ChronicPanel(ctx, _patient(demo_app))
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(panel.is_loaded, timeout=WAIT_MS)
    assert [a.text() for a in panel.visit_menu if a.isVisible()] == ["查看…", "修改记录"]
    panel.visit_view.selectRow(0)
    panel.view_visit()
    view = _opened(qtbot, panel, RecordView)
    assert view.correct_button.isHidden() and view.void_button.isHidden() and not view.history_button.isHidden()
    view.history_button.click()
    _opened(qtbot, panel, HistoryDialog)
