"""Life events and record moves in the window: the status dialog says what it ends, a village doctor
asks for another village's record, the branch decides from the home page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QMessageBox, QWidget

from desktop.services.record_moves import MoveDueKind
from desktop.ui import form_dialog
from desktop.ui import tasks as tasks_module
from desktop.ui.pages.home import HomePage
from desktop.ui.pages.residents import ResidentsPage
from desktop.ui.record_move_dialog import MoveDecisionDialog
from desktop.ui.resident_form import ASK_MOVE, StatusDialog
from tests.ui.conftest import make_context, record_error_boxes, settle, sql

WAIT_MS = 10_000


@pytest.fixture(autouse=True)
def no_error_boxes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[BaseException]]:
    """Record what would go to the modal error box; none may appear."""
    shown = record_error_boxes(monkeypatch, form_dialog, tasks_module)
    yield shown
    assert not shown, f"unexpected error boxes: {shown!r}"


def _page(qtbot, page_class, app, tasks, username: str) -> QWidget:
    ctx = make_context(app, tasks, username)
    page = page_class(ctx)
    qtbot.addWidget(page)
    ctx.bus.changed.connect(page.on_changes)
    page.resize(1300, 700)
    page.show()
    page.activated()
    settle(qtbot, ctx)
    return page


def test_the_status_dialog_says_which_management_a_death_ends(qtbot, themed, demo_app, tasks) -> None:
    resident_id, name = sql(demo_app, "SELECT r.id, r.name FROM resident r WHERE r.status = 'active' AND "
                                      "(SELECT count(*) FROM chronic_enrolment e WHERE e.resident_id = r.id "
                                      "AND e.ended_on IS NULL) = 2 ORDER BY r.id LIMIT 1")[0]
    page: ResidentsPage = _page(qtbot, ResidentsPage, demo_app, tasks, "luru1")
    page.search.setText(name)
    qtbot.waitUntil(lambda: page.model.row_for(resident_id) is not None, timeout=WAIT_MS)
    page.view.selectRow(list(page.model.ids()).index(resident_id))
    dialog = page.mark_status()
    assert isinstance(dialog, StatusDialog)
    dialog.status.setCurrentIndex(dialog.status.findText("死亡"))
    qtbot.waitUntil(lambda: dialog.effect.text() != "", timeout=WAIT_MS)
    assert dialog.effect.text().startswith("将同时结束高血压、2型糖尿病管理（终止原因：死亡）")
    dialog.status.setCurrentIndex(dialog.status.findText("在册"))
    assert dialog.effect.isHidden()
    dialog.done(0)


def test_a_village_doctor_asks_to_move_anothers_resident_and_the_branch_approves(qtbot, themed, demo_app,
                                                                                  tasks) -> None:
    resident_id, name, record_no, number = sql(
        demo_app, "SELECT r.id, r.name, r.record_no, r.id_number FROM resident r JOIN village v ON v.id = r.village_id "
                  "WHERE v.code = '102' AND r.status = 'active' AND r.id_number IS NOT NULL "
                  "AND r.id NOT IN (SELECT head_id FROM household WHERE head_id IS NOT NULL) "
                  "AND r.id NOT IN (SELECT resident_id FROM resident_transfer) ORDER BY r.id LIMIT 1")[0]
    page: ResidentsPage = _page(qtbot, ResidentsPage, demo_app, tasks, "cunyi001")
    form = page.new_resident()
    form.name.setText("重复人")
    form.id_number.setText(number)
    form.village.setCurrentIndex(form.village.findData("101"))
    form.save()
    qtbot.waitUntil(lambda: form.duplicate_box is not None, timeout=WAIT_MS)
    message = form.duplicate_box.text()
    assert name not in message and record_no not in message and "已在其他村建档" in message
    next(b for b in form.duplicate_box.buttons() if b.text() == ASK_MOVE).click()
    qtbot.waitUntil(lambda: form.move_request is not None, timeout=WAIT_MS)
    assert not form.isVisible() and form.move_box is not None and "柳树村" in form.move_box.text()
    form.move_box.done(0)

    home: HomePage = _page(qtbot, HomePage, demo_app, tasks, "luru1")
    home.count_buttons[(MoveDueKind.PENDING, None)].click()
    row = next(i for i, item in enumerate(home.shown_items()) if item.resident_id == resident_id)
    home.view.selectRow(row)
    home.open_selected()
    qtbot.waitUntil(lambda: isinstance(home.dialog, MoveDecisionDialog), timeout=WAIT_MS)
    dialog: MoveDecisionDialog = home.dialog
    assert (dialog.move.name, dialog.move.to_village) == (name, "柳树村")
    dialog.save()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT_MS)
    assert sql(demo_app, "SELECT v.code FROM resident r JOIN village v ON v.id = r.village_id WHERE r.id = ?",
               resident_id) == [("101",)]
    settle(qtbot, home.ctx)
    assert resident_id not in {item.resident_id for item in home.shown_items()}
    doctor_home: HomePage = _page(qtbot, HomePage, demo_app, tasks, "cunyi001")
    doctor_home.count_buttons[(MoveDueKind.DECIDED, None)].click()
    row = next(i for i, item in enumerate(doctor_home.shown_items()) if item.resident_id == resident_id)
    assert doctor_home.shown_items()[row].name == name
    doctor_home.view.selectRow(row)
    doctor_home.open_selected()
    qtbot.waitUntil(lambda: doctor_home.findChild(QMessageBox, "moveDecision") is not None, timeout=WAIT_MS)
    box = doctor_home.findChild(QMessageBox, "moveDecision")
    assert box.text().startswith(f"申请把{name}的档案迁入柳树村：卫生院已同意")
    box.done(0)
