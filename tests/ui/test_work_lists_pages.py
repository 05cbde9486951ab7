"""工作台 and 管理指标 lists in the window: phone and address shown (masked per role), exported, printed.

Runs against a copy of the demo township and the real background helper; expected values come
from plain SQL on the same file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

from desktop.app import App
from desktop.rules.phones import mask_phone
from desktop.services.chronic_due import ChronicDueKind
from desktop.services.due import DueScope
from desktop.ui import form_dialog
from desktop.ui import tasks as tasks_module
from desktop.ui.pages.home import DUE_COLUMNS, HomePage
from desktop.ui.pages.indicators import PEOPLE_COLUMNS, IndicatorsPage
from desktop.ui.print_preview import PrintPreviewDialog
from tests.ui.conftest import make_context, record_error_boxes, screenshot, settle, sql

WAIT_MS = 15_000


@pytest.fixture(autouse=True)
def no_error_boxes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[BaseException]]:
    shown = record_error_boxes(monkeypatch, form_dialog, tasks_module)
    yield shown
    assert not shown, f"unexpected error boxes: {shown!r}"


def open_page(qtbot, app: App, tasks, username: str, page_type):
    ctx = make_context(app, tasks, username)
    page = page_type(ctx)
    qtbot.addWidget(page)
    ctx.bus.changed.connect(page.on_changes)
    page.resize(1366, 720)
    page.show()
    page.activated()
    settle(qtbot, ctx)
    return page


def phones(app: App) -> dict[str, tuple[str, str]]:
    """record number -> (phone, address) as stored."""
    rows = sql(app, "SELECT record_no, phone, address FROM resident")
    return {record_no: (phone or "", address) for record_no, phone, address in rows}


def column(columns, title: str) -> int:
    return [c.title for c in columns].index(title)


def test_the_due_list_shows_full_phones_to_a_village_doctor_and_masked_to_the_director(qtbot, themed, demo_app,
                                                                                      tasks) -> None:
    stored = phones(demo_app)
    phone_at, address_at = column(DUE_COLUMNS, "联系电话"), column(DUE_COLUMNS, "住址")
    doctor = open_page(qtbot, demo_app, tasks, "cunyi001", HomePage)
    rows = [(doctor.model.index(r, 1).data(), doctor.model.index(r, phone_at).data(),
             doctor.model.index(r, address_at).data()) for r in range(doctor.model.rowCount())]
    assert rows and all((phone, address) == stored[no] for no, phone, address in rows)
    assert any(phone and "*" not in phone for _, phone, _ in rows)
    director = open_page(qtbot, demo_app, tasks, "yuanzhang", HomePage)
    shown = [(director.model.index(r, 1).data(), director.model.index(r, phone_at).data())
             for r in range(director.model.rowCount())]
    assert shown and all(phone == (mask_phone(stored[no][0]) if stored[no][0] else "") for no, phone in shown)
    screenshot(doctor, "home-due-list-with-phones")


def test_the_due_list_exports_what_is_shown_and_prints_a_sheet_per_doctor(qtbot, themed, demo_app, tasks,
                                                                         tmp_path: Path) -> None:
    page = open_page(qtbot, demo_app, tasks, "gongwei1", HomePage)
    assert page.scope() is DueScope.BRANCH
    page.count_buttons[(ChronicDueKind.ELDERLY_CHECK, None)].click()
    shown = page.shown_items()
    assert shown and all(item.kind is ChronicDueKind.ELDERLY_CHECK for item in shown)
    out = tmp_path / "待办.xlsx"
    page.export_due(out)
    qtbot.waitUntil(lambda: out.exists(), timeout=WAIT_MS)
    settle(qtbot, page.ctx)
    sheet = openpyxl.load_workbook(out, read_only=True)["待办名单"]
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    assert {"联系电话", "住址", "性别", "年龄", "责任医生"} <= set(header)
    assert sorted(row[header.index("档案编号")] for row in rows[1:]) == sorted(item.record_no for item in shown)
    dialogs: list[PrintPreviewDialog] = []
    page.print_due(on_shown=dialogs.append)
    qtbot.waitUntil(lambda: bool(dialogs), timeout=WAIT_MS)
    texts = [text for sheet in dialogs[0].sheets for text in sheet.texts()]
    doctors = {item.doctor_name for item in shown}
    assert {f"责任医生：{name}（共 {sum(i.doctor_name == name for i in shown)} 人）" for name in doctors} <= set(texts)
    assert {item.name for item in shown} <= set(texts)
    screenshot(dialogs[0], "door-to-door-preview")
    dialogs[0].close()


def test_an_indicator_list_shows_contacts_and_exports_and_prints_them(qtbot, themed, demo_app, tasks,
                                                                       tmp_path: Path) -> None:
    page = open_page(qtbot, demo_app, tasks, "gongwei1", IndicatorsPage)
    code = next(code for code in page.codes if page.report.people.get(code))
    page.only_missing.setChecked(True)
    page.show_people(code, None)
    settle(qtbot, page.ctx)
    stored = phones(demo_app)
    phone_at, address_at = column(PEOPLE_COLUMNS, "联系电话"), column(PEOPLE_COLUMNS, "住址")
    count = page.people.rowCount()
    assert count > 0
    for row in range(min(count, 100)):
        record_no = page.people.index(row, 0).data()
        assert (page.people.index(row, phone_at).data(), page.people.index(row, address_at).data()) == stored[record_no]
    out = tmp_path / "名单.xlsx"
    page.export_people(out)
    qtbot.waitUntil(lambda: out.exists(), timeout=WAIT_MS)
    settle(qtbot, page.ctx)
    rows = list(openpyxl.load_workbook(out, read_only=True).active.iter_rows(values_only=True))
    assert "联系电话" in rows[0] and len(rows) == count + 1
    dialogs: list[PrintPreviewDialog] = []
    page.print_people(on_shown=dialogs.append)
    qtbot.waitUntil(lambda: bool(dialogs), timeout=WAIT_MS)
    texts = {text for sheet in dialogs[0].sheets for text in sheet.texts()}
    assert page.people.index(0, 1).data() in texts
    dialogs[0].close()
