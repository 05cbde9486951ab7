"""The import dialog and the export action, driven with pytest-qt on a real demo data directory."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from conftest import make_context, screenshot
from openpyxl import Workbook, load_workbook
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from sqlalchemy import func, select

from desktop.models import Resident
from desktop.rules.idnumbers import make_id
from desktop.services.resident_query import ResidentFilter
from desktop.ui.resident_transfer import EXPORT_RESULT_NAME, ImportDialog, run_export, run_import_dialog

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


def open_dialog(qtbot, context, path: Path) -> ImportDialog:
    dialog = ImportDialog(context, None, path=path)
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
