"""The resident form's 个人基本信息表 sections: fitting a 1366×768 screen, the keyboard, saving, errors in place."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QLineEdit

from desktop.rules.idnumbers import make_id
from desktop.services.resident_query import get_resident
from desktop.ui import form_dialog
from desktop.ui import tasks as tasks_module
from desktop.ui.profile_sections import SECTION_TITLES
from desktop.ui.resident_form import ResidentForm, load_lookups
from tests.ui.conftest import make_context, record_error_boxes, screenshot, settle, sql

WAIT_MS = 10_000
SCREEN_W, SCREEN_H = 1366, 768
USABLE_H = SCREEN_H - 40 - 32  # the taskbar and the dialog's title bar


@pytest.fixture(autouse=True)
def no_error_boxes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[BaseException]]:
    shown = record_error_boxes(monkeypatch, form_dialog, tasks_module)
    monkeypatch.setattr(form_dialog, "confirm_discard", lambda _parent: True)  # closing at teardown asks nothing
    yield shown
    assert not shown, f"unexpected error boxes: {shown!r}"


def open_form(qtbot, app, tasks, *, resident_id: int | None = None) -> ResidentForm:
    ctx = make_context(app, tasks, "luru1")
    detail = get_resident(app.db, ctx.actor, resident_id) if resident_id else None
    form = ResidentForm(ctx, load_lookups(ctx), detail=detail)
    qtbot.addWidget(form)
    form.show()
    qtbot.waitExposed(form)
    return form


def commit_text(widget: QLineEdit, text: str) -> None:
    """Chinese text as an input method commits it."""
    event = QInputMethodEvent("", [])
    event.setCommitString(text)
    QApplication.sendEvent(widget, event)


def fill_new(form: ResidentForm, number: str) -> None:
    form.name.setText("欧阳芳")
    form.id_number.setText(number)
    form.village.setCurrentIndex(form.village.findData("101"))


def test_every_section_fits_a_small_screen_and_is_photographed(qtbot, themed, demo_app, tasks) -> None:
    resident_id = sql(demo_app, "SELECT id FROM resident ORDER BY id LIMIT 1")[0][0]
    form = open_form(qtbot, demo_app, tasks, resident_id=resident_id)
    titles = [form.tabs.tabText(i).replace("&", "") for i in range(form.tabs.count())]
    assert titles == ["1 基本信息", *(f"{i} {t}" for i, t in enumerate(SECTION_TITLES, start=2))]
    hint = form.sizeHint()
    assert hint.width() <= SCREEN_W and hint.height() <= USABLE_H, hint
    form.resize(hint)
    for index in range(form.tabs.count()):
        form.tabs.setCurrentIndex(index)
        QApplication.processEvents()
        page = form.tabs.currentWidget()
        assert page.minimumSizeHint().height() <= form.tabs.height(), titles[index]
        screenshot(form, f"resident-form-{index + 1}")


def test_the_sections_are_reached_and_filled_from_the_keyboard(qtbot, themed, demo_app, tasks) -> None:
    form = open_form(qtbot, demo_app, tasks)
    number = make_id("341522", date(1958, 7, 9), 182)
    fill_new(form, number)
    form.activateWindow()
    form.name.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is form.name, timeout=WAIT_MS)
    qtbot.keyClick(form.name, Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier)
    assert form.tabs.currentIndex() == 1
    sections = form.sections
    sections.residence.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is sections.residence, timeout=WAIT_MS)
    qtbot.keyClick(sections.residence, Qt.Key.Key_Down)
    qtbot.keyClick(sections.residence, Qt.Key.Key_Return)
    assert QApplication.focusWidget() is sections.work_unit
    commit_text(sections.work_unit, "红旗砖厂")
    form.tabs.setCurrentIndex(3)
    diseases = sections.history["diseases"]
    diseases.state.setCurrentIndex(diseases.state.findData("有"))
    first_disease, _, first_day = diseases.rows[0]
    first_disease.setCurrentIndex(first_disease.findData("2"))
    first_day.setText("2012-04")
    second_disease, second_name, second_day = diseases.rows[1]
    second_disease.setCurrentIndex(second_disease.findData("6"))
    assert second_name.isEnabled()
    second_name.setText("胃癌")
    second_day.setText("20190520")
    sections.family["father"].ticks["7"].setChecked(True)
    sections.allergies.ticks["2"].setChecked(True)
    sections.allergies.ticks["1"].setChecked(True)  # 无 clears 青霉素
    assert sections.allergies.codes() == ("1",)
    sections.living["fuel"].setCurrentIndex(sections.living["fuel"].findData("5"))
    qtbot.keyClick(form, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not form.isVisible(), timeout=WAIT_MS)
    stored = sql(demo_app, "SELECT residence_type, work_unit, drug_allergies, past_history, family_history, "
                           "living_environment FROM resident WHERE id_number = ?", number)
    (residence, unit, allergies, history, family, living), = stored
    assert (residence, unit, json.loads(allergies), json.loads(family), json.loads(living)) == (
        "1", "红旗砖厂", ["1"], {"father": ["7"]}, {"fuel": "5"})
    assert json.loads(history) == {"diseases": [{"name": "", "date": "2012-04-01", "code": "2"},
                                                {"name": "胃癌", "date": "2019-05-20", "code": "6"}]}


def test_a_profile_error_brings_its_section_forward_and_saves_nothing(qtbot, themed, demo_app, tasks) -> None:
    form = open_form(qtbot, demo_app, tasks)
    number = make_id("341522", date(1970, 3, 3), 191)
    fill_new(form, number)
    operations = form.sections.history["operations"]
    operations.state.setCurrentIndex(operations.state.findData("有"))
    _, name, day = operations.rows[0]
    name.setText("阑尾切除术")
    day.setText("1960-01")
    form.tabs.setCurrentIndex(0)
    form.save()
    qtbot.waitUntil(lambda: form.errors.message("past_history.operations") != "", timeout=WAIT_MS)
    assert form.errors.message("past_history.operations") == "既往史·手术：阑尾切除术的日期 1960-01-01 早于出生日期。"
    assert form.tabs.currentIndex() == 3 and form.tabs.tabBar().tabTextColor(3).name() != "#000000"
    screenshot(form, "resident-form-history-error")
    settle(qtbot, form.ctx)
    assert sql(demo_app, "SELECT count(*) FROM resident WHERE id_number = ?", number) == [(0,)]
    assert isinstance(QApplication.focusWidget(), QLineEdit | type(operations.state))
    form.done(0)


def test_the_record_prints_from_the_register(qtbot, themed, demo_app, tasks) -> None:
    from desktop.ui.pages.residents import ResidentsPage
    from desktop.ui.print_preview import PrintPreviewDialog

    ctx = make_context(demo_app, tasks, "luru1")
    page = ResidentsPage(ctx)
    qtbot.addWidget(page)
    page.resize(1300, 700)
    page.show()
    page.activated()
    settle(qtbot, ctx)
    page.view.selectRow(0)
    assert page.resident_actions["profile-print"].text() == "打印档案"
    page.run_action("profile-print")

    def preview() -> PrintPreviewDialog | None:
        return next((w for w in QApplication.topLevelWidgets() if isinstance(w, PrintPreviewDialog) and w.isVisible()),
                    None)

    qtbot.waitUntil(lambda: preview() is not None, timeout=WAIT_MS)
    dialog = preview()
    assert dialog.page_count == 2 and "居民健康档案" in dialog.windowTitle()
    dialog.close()
