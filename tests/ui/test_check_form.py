"""The health-check form's 查体 and its live note of what the 规范 still lacks; the panel's 完整/不完整."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QApplication, QWidget

from desktop.rules.health_check_completeness import EXAMINATION_PARTS
from desktop.ui import form_dialog
from desktop.ui import tasks as tasks_module
from desktop.ui.chronic_panel import ChronicPanel
from desktop.ui.correction_forms import CorrectCheckForm
from desktop.ui.health_check_form import HealthCheckForm, open_health_check_form
from tests.ui.conftest import make_context, record_error_boxes, screenshot, settle, sql

WAIT_MS = 15_000
LACKING = ("ecg", "ultrasound")


@pytest.fixture(autouse=True)
def no_error_boxes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[BaseException]]:
    shown = record_error_boxes(monkeypatch, form_dialog, tasks_module)
    yield shown
    assert not shown, f"unexpected error boxes: {shown!r}"


def _resident(app, *, elderly: bool) -> int:
    """An active demo resident (70+ or under 60) without a check this year."""
    age = "birth_date <= date('now', '-70 years')" if elderly else "birth_date >= date('now', '-60 years')"
    return sql(app, f"SELECT id FROM resident WHERE status = 'active' AND {age} AND id NOT IN (SELECT resident_id "
                    "FROM health_check WHERE check_date >= date('now', 'start of year')) ORDER BY id LIMIT 1")[0][0]


def _form(qtbot, ctx, resident_id: int, host: QWidget) -> HealthCheckForm:
    shown: list[HealthCheckForm] = []
    open_health_check_form(ctx, host, resident_id, shown=shown.append)
    qtbot.waitUntil(lambda: bool(shown) and shown[0].isVisible(), timeout=WAIT_MS)
    return shown[0]


def _fill_all_but_ecg_and_ultrasound(qtbot, form: HealthCheckForm) -> None:
    for name, value in (("sbp", "142"), ("dbp", "86"), ("heart_rate", "72"), ("height", "158"), ("weight", "61"),
                        ("waist", "84")):
        qtbot.keyClicks(form.numbers[name], value)
    for box in form.care.values():
        box.setCurrentIndex(1)
    for key in EXAMINATION_PARTS:
        if key != "heart":
            form.normal_buttons[key].click()
    form.examination["heart"].setText("心律不齐")  # typed through the input method
    for key, edit in form.results.items():
        if key not in LACKING:
            edit.setText("未见异常")
    form.guidance.boxes["7"].click()
    form.abnormal.setCurrentIndex(form.abnormal.findData(True))


def test_the_examination_and_the_live_note_of_what_is_missing(qtbot, themed, demo_app, tasks) -> None:
    ctx = make_context(demo_app, tasks, "gongwei1")
    resident_id = _resident(demo_app, elderly=True)
    host = QWidget()
    qtbot.addWidget(host)
    form = _form(qtbot, ctx, resident_id, host)
    form.resize(1366, 740)
    assert all(edit.text() == "" for edit in form.examination.values())  # no finding until the doctor writes one
    assert form.completeness.isVisible() and "尚缺：生活自理能力评估、体格检查：血压" in form.completeness.text()
    assert "查体：皮肤、查体：淋巴结、查体：肺部、查体：心脏、查体：腹部" in form.completeness.text()
    _fill_all_but_ecg_and_ultrasound(qtbot, form)
    assert form.examination["lungs"].text() == "未见异常"
    assert "尚缺：心电图、腹部B超。可以先保存" in form.completeness.text()
    form.results["ecg"].setText("窦性心律")
    assert "尚缺：腹部B超。" in form.completeness.text()
    form.results["ecg"].clear()
    QApplication.processEvents()
    screenshot(form, "health-check-form-completeness")
    form.save()  # an incomplete check is saved: a note, not an error
    qtbot.waitUntil(lambda: not form.isVisible(), timeout=WAIT_MS)
    [(examination, results)] = sql(demo_app, "SELECT examination, results FROM health_check WHERE resident_id = ? "
                                             "ORDER BY id DESC LIMIT 1", resident_id)
    assert json.loads(examination) == {**dict.fromkeys(EXAMINATION_PARTS, "未见异常"), "heart": "心律不齐"}
    assert not set(LACKING) & set(json.loads(results))

    panel = ChronicPanel(ctx, resident_id)
    qtbot.addWidget(panel)
    panel.resize(1366, 740)
    panel.show()
    qtbot.waitUntil(panel.is_loaded, timeout=WAIT_MS)
    column = [c.title for c in panel.checks.columns].index("规范内容")
    assert panel.checks.data(panel.checks.index(0, column)) == "不完整（缺：心电图、腹部B超）"
    QApplication.processEvents()
    screenshot(panel, "chronic-panel-incomplete-check")
    panel.check_view.selectRow(0)
    panel.correct_check()
    qtbot.waitUntil(lambda: isinstance(panel.dialog, CorrectCheckForm) and panel.dialog.isVisible(), timeout=WAIT_MS)
    correction = panel.dialog
    assert correction.examination["heart"].text() == "心律不齐"
    assert "尚缺：心电图、腹部B超。" in correction.completeness.text()
    correction.results["ecg"].setText("窦性心律")
    correction.results["ultrasound"].setText("肝胆胰脾未见异常")
    assert correction.completeness.text().startswith("内容完整")
    correction.reason.setText("补录心电图和腹部B超结果")
    correction.save()
    qtbot.waitUntil(lambda: not correction.isVisible(), timeout=WAIT_MS)
    settle(qtbot, ctx)
    qtbot.waitUntil(lambda: panel.checks.data(panel.checks.index(0, column)) == "完整", timeout=WAIT_MS)
    panel.done(0)


def test_a_younger_residents_form_has_no_completeness_note(qtbot, themed, demo_app, tasks) -> None:
    host = QWidget()
    qtbot.addWidget(host)
    form = _form(qtbot, make_context(demo_app, tasks, "gongwei1"), _resident(demo_app, elderly=False), host)
    assert not form.completeness.isVisible()
    assert list(form.examination) == list(EXAMINATION_PARTS)
    form.done(0)
