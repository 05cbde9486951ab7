"""The one import dialog (residents' rosters and historical follow-ups) and the residents export action,
driven with pytest-qt on a real demo data directory."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from conftest import make_context, screenshot
from openpyxl import Workbook, load_workbook
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from sqlalchemy import func, select

from desktop.models import ChronicEnrolment, FollowupVisit, Resident
from desktop.rules.idnumbers import make_id
from desktop.services.resident_query import ResidentFilter
from desktop.ui.import_dialog import ImportDialog, run_import_dialog
from desktop.ui.resident_transfer import EXPORT_RESULT_NAME, run_export

WAIT_MS = 20_000
COUNTY = "341522"


def roster(path: Path, *, bad: bool) -> Path:
    """A title row, a header, three good rows (one ID ending in X) and optionally a bad one."""
    x_number = next(n for s in range(1, 999) if (n := make_id(COUNTY, date(1961, 7, 15), s)).endswith("X"))
    book = Workbook()
    sheet = book.active
    sheet.append(["柳树村居民花名册"])
    sheet.append(["姓名", "身份证号码", "所属村", "联系电话", "备注"])
    sheet.append(["甲一", make_id(COUNTY, date(1950, 1, 2), 811), "柳树村", "13800000001", ""])
    sheet.append(["乙二", "'" + x_number, "101", "", ""])
    sheet.append(["丙三", make_id(COUNTY, date(1952, 3, 4), 813), "柳树村", "", ""])
    if bad:
        sheet.append(["丁四", make_id(COUNTY, date(1953, 4, 5), 815)[:-1] + "0", "101", "", "校验位错"])
    book.save(path)
    return path


def residents(app) -> int:
    with app.db.read() as session:
        return session.scalar(select(func.count()).select_from(Resident))


@pytest.fixture
def clerk_context(demo_app, tasks):
    return make_context(demo_app, tasks, "luru1")


def open_dialog(qtbot, context, path: Path, kind: str = "residents") -> ImportDialog:
    dialog = ImportDialog(context, None, kind=kind, path=path)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.preview is not None, timeout=WAIT_MS)
    return dialog


def test_the_preview_shows_the_mapping_and_valid_only_imports_the_good_rows(
    qtbot, themed, demo_app, clerk_context, tmp_path: Path
) -> None:
    published = []
    clerk_context.bus.changed.connect(published.append)
    before = residents(demo_app)
    dialog = open_dialog(qtbot, clerk_context, roster(tmp_path / "r.xlsx", bad=True))
    assert "表头在第 2 行" in dialog.summary.text() and "E 备注" in dialog.summary.text()
    assert [dialog.mapping.item(r, 2).text() for r in range(dialog.mapping.rowCount())] == [
        "姓名", "身份证号码", "所属村", "联系电话"]
    assert dialog.sample.rowCount() == 4 and dialog.sample.item(0, 0).text() == "甲一"
    assert dialog.import_button.isEnabled() and dialog.all_or_nothing.isChecked()
    dialog.show()
    screenshot(dialog, "resident-import-preview")

    dialog.import_button.click()  # all or nothing: the bad row stops everything
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=WAIT_MS)
    assert not dialog.result.written and "第 6 行，身份证号码：" in dialog.outcome.text()
    assert residents(demo_app) == before and published == []

    dialog.valid_only.setChecked(True)
    dialog.result = None
    dialog.import_button.click()
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=WAIT_MS)
    assert dialog.result.summary_line() == "imported 3, updated 0, rejected 1"
    assert residents(demo_app) == before + 3
    assert published and published[-1].residents
    assert dialog.errors_button.isEnabled()
    screenshot(dialog, "resident-import-result")

    dialog.save_errors(tmp_path / "errors.xlsx")
    qtbot.waitUntil(lambda: "错误清单已保存" in dialog.outcome.text(), timeout=WAIT_MS)
    rows = list(load_workbook(tmp_path / "errors.xlsx").active.iter_rows(values_only=True))
    assert rows[1][:3] == (6, dialog.result.rejected[0].reason, "丁四")


def test_cancelling_the_import_leaves_the_database_unchanged(qtbot, themed, demo_app, tasks, tmp_path: Path) -> None:
    context = make_context(demo_app, tasks, "luru1")
    book = Workbook()
    book.active.append(["姓名", "身份证号", "所属村"])
    for i in range(3000):
        book.active.append([f"居民{chr(0x4E00 + i)}", make_id(COUNTY, date(1940, 1, 1) + timedelta(days=i), 821), "101"])
    book.save(tmp_path / "big.xlsx")
    before = residents(demo_app)
    dialog = open_dialog(qtbot, context, tmp_path / "big.xlsx")
    dialog.valid_only.setChecked(True)
    dialog.import_button.click()
    qtbot.waitUntil(lambda: bool(tasks.active), timeout=WAIT_MS)
    tasks.active[0].cancel()
    qtbot.waitUntil(lambda: "已取消" in dialog.outcome.text(), timeout=WAIT_MS)
    assert dialog.result is None and residents(demo_app) == before


def test_a_file_without_a_header_is_explained_in_the_dialog(qtbot, themed, clerk_context, tmp_path: Path) -> None:
    book = Workbook()
    book.active.append(["随便", "写写"])
    book.save(tmp_path / "nothing.xlsx")
    dialog = ImportDialog(clerk_context, None, path=tmp_path / "nothing.xlsx")
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: "表头" in dialog.summary.text(), timeout=WAIT_MS)
    assert not dialog.import_button.isEnabled()


def test_run_import_dialog_opens_modally(qtbot, themed, clerk_context, tmp_path: Path) -> None:
    seen = []

    def close_it() -> None:
        dialog = QApplication.activeModalWidget()
        seen.append(dialog)
        if isinstance(dialog, ImportDialog):
            qtbot.waitUntil(lambda: dialog.preview is not None, timeout=WAIT_MS)
            dialog.reject()

    QTimer.singleShot(300, close_it)
    run_import_dialog(clerk_context, None, path=roster(tmp_path / "r.xlsx", bad=False))
    assert seen and isinstance(seen[0], ImportDialog)


@pytest.mark.parametrize(("username", "masked"), [("luru1", False), ("yuanzhang", True)])
def test_export_writes_the_filtered_list_and_says_where(
    qtbot, themed, demo_app, tasks, tmp_path: Path, username: str, masked: bool
) -> None:
    context = make_context(demo_app, tasks, username)
    published = []
    context.bus.changed.connect(published.append)
    parent = QMessageBox()  # any window will do as the parent
    qtbot.addWidget(parent)
    with demo_app.db.read() as session:
        village_id, number = session.execute(select(Resident.village_id, Resident.id_number)
                                             .where(Resident.id_number.like("%X"))).first()
    run_export(context, parent, ResidentFilter(village_id=village_id, status=None), "", path=tmp_path / "list.xlsx")
    qtbot.waitUntil(lambda: parent.findChild(QMessageBox, EXPORT_RESULT_NAME) is not None, timeout=WAIT_MS)
    message = parent.findChild(QMessageBox, EXPORT_RESULT_NAME).text()
    assert str(tmp_path / "list.xlsx") in message and ("部分隐藏" in message) is masked
    numbers = [row[4] for row in load_workbook(tmp_path / "list.xlsx", read_only=True).active.iter_rows(
        min_row=2, values_only=True) if row[4]]
    assert (number in numbers) is not masked
    assert all(n[6:14] == "********" for n in numbers) is masked
    assert published and published[-1].audit


def visit_sheet(path: Path, id_number: str, name: str, day: date) -> Path:
    """A title row, a header and two phone visits: one good, one on an impossible date."""
    book = Workbook()
    sheet = book.active
    sheet.append(["历史随访登记"])
    sheet.append(["身份证号", "姓名", "疾病", "随访日期", "随访方式", "随访医生"])
    sheet.append(["'" + id_number, name, "高血压", day.isoformat(), "电话", "刘晓梅"])
    sheet.append(["'" + id_number, name, "高血压", "2025-02-30", "电话", "刘晓梅"])
    book.save(path)
    return path


def visits(app, resident_id: int) -> set[date]:
    with app.db.read() as session:
        return set(session.scalars(select(FollowupVisit.visit_date).where(FollowupVisit.resident_id == resident_id)))


def test_historical_follow_ups_import_through_the_same_dialog(
    qtbot, themed, demo_app, clerk_context, tmp_path: Path
) -> None:
    with demo_app.db.read() as session:
        resident_id, id_number, name, since = session.execute(
            select(Resident.id, Resident.id_number, Resident.name, ChronicEnrolment.managed_from)
            .join(ChronicEnrolment, ChronicEnrolment.resident_id == Resident.id)
            .where(ChronicEnrolment.disease == "hypertension", Resident.id_number.is_not(None),
                   Resident.status == "active", ChronicEnrolment.deleted.is_(False))
            .order_by(Resident.id)).first()
    taken = visits(demo_app, resident_id)
    day = next(d for n in range(3, 400) if (d := date.today() - timedelta(days=n)) not in taken and d > since)
    published = []
    clerk_context.bus.changed.connect(published.append)
    dialog = open_dialog(qtbot, clerk_context, visit_sheet(tmp_path / "v.xlsx", id_number, name, day), "followups")
    assert dialog.windowTitle() == "导入历史随访" and dialog.kind_box.count() == 2
    assert [dialog.mapping.item(r, 0).text() for r in range(dialog.mapping.rowCount())][:3] == ["身份证号", "姓名", "疾病"]
    assert dialog.template_button.isVisibleTo(dialog) and dialog.dry_run_button.isEnabled()

    dialog.dry_run_button.click()  # every row checked, nothing written, the errors listed per row
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=WAIT_MS)
    assert dialog.result.dry_run and "试导入完成（未写入）" in dialog.outcome.text()
    assert (dialog.errors.rowCount(), dialog.errors.item(0, 0).text()) == (1, "4")
    assert "随访日期" in dialog.errors.item(0, 1).text() and visits(demo_app, resident_id) == taken

    dialog.valid_only.setChecked(True)
    dialog.result = None
    dialog.import_button.click()
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=WAIT_MS)
    assert dialog.result.written and dialog.result.summary_line() == "imported 1, updated 0, rejected 1"
    assert visits(demo_app, resident_id) == taken | {day}
    assert published and published[-1].followups
    dialog.show()
    screenshot(dialog, "followup-import-result")
    dialog.save_template(tmp_path / "template.xlsx")
    qtbot.waitUntil(lambda: "模板已保存" in dialog.outcome.text(), timeout=WAIT_MS)
    assert load_workbook(tmp_path / "template.xlsx").sheetnames == ["随访记录", "填写说明"]
