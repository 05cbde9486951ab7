"""居民档案 page: search, filters, scope, masking, the form and its keyboard flow, status, households.

Runs against a copy of the demo township (3000 residents) and the real background helper.
Expected figures come from plain SQL on the same file, not from the services under test.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QWidget

from desktop.app import App
from desktop.clock import now
from desktop.rules.idnumbers import make_id
from desktop.rules.population import ResidentStatus
from desktop.services.residents import set_status
from desktop.ui import form_dialog, household_view
from desktop.ui import tasks as tasks_module
from desktop.ui.main_window import MainWindow
from desktop.ui.pages.residents import ResidentsPage
from desktop.ui.resident_form import FROM_ID, ResidentForm, StatusDialog
from tests.ui.conftest import make_context, record_error_boxes, screenshot, settle, sql

WAIT_MS = 10_000


@pytest.fixture(autouse=True)
def no_error_boxes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[BaseException]]:
    """Record what would go to the modal error box; none may appear."""
    shown = record_error_boxes(monkeypatch, form_dialog, household_view, tasks_module)
    yield shown
    assert not shown, f"unexpected error boxes: {shown!r}"



def open_page(qtbot, app: App, tasks, username: str = "luru1") -> ResidentsPage:
    ctx = make_context(app, tasks, username)
    page = ResidentsPage(ctx)
    qtbot.addWidget(page)
    ctx.bus.changed.connect(page.on_changes)
    page.resize(1300, 700)
    page.show()
    page.activated()
    settle(qtbot, page.ctx)
    return page



def shown_ids(page: ResidentsPage) -> list[int]:
    return list(page.model.ids())


def cell(page: ResidentsPage, row: int, column: int) -> str:
    return page.model.index(row, column).data() or ""


def search_for(qtbot, page: ResidentsPage, text: str, *, ime: bool = False) -> None:
    """Type into the search box (ASCII by key clicks, Chinese as an input method commits it)."""
    page.focus_search()
    page.search.clear()
    if ime:
        event = QInputMethodEvent("", [])
        event.setCommitString(text)
        QApplication.sendEvent(page.search, event)
    else:
        qtbot.keyClicks(page.search, text)
    assert page.search.text() == text and page.is_loading()
    qtbot.waitUntil(lambda: not page.is_loading(), timeout=WAIT_MS)
    assert "按匹配程度排序" in page.count_label.text()
    settle(qtbot, page.ctx)


def commit_text(widget: QWidget, text: str) -> None:
    event = QInputMethodEvent("", [])
    event.setCommitString(text)
    QApplication.sendEvent(widget, event)


def active_count(app: App, where: str = "1", *args: object) -> int:
    return sql(app, f"SELECT count(*) FROM resident WHERE deleted = 0 AND status = 'active' AND {where}", *args)[0][0]


# ----- the list


def test_the_list_is_lazy_and_counts_the_register(qtbot, themed, demo_app, tasks) -> None:
    page = open_page(qtbot, demo_app, tasks)
    total = active_count(demo_app)
    assert total > 2500
    assert page.model.rowCount() == total
    assert page.count_label.text() == f"共 {total:,} 人"
    assert page.model.loaded(0) and not page.model.loaded(total - 1)
    first = sql(demo_app, "SELECT record_no, name FROM resident WHERE deleted = 0 AND status = 'active' "
                          "ORDER BY record_no LIMIT 1")[0]
    assert (cell(page, 0, 0), cell(page, 0, 1)) == first
    page.view.scrollToBottom()
    qtbot.waitUntil(lambda: page.model.loaded(total - 1), timeout=WAIT_MS)
    last = sql(demo_app, "SELECT record_no FROM resident WHERE deleted = 0 AND status = 'active' "
                         "ORDER BY record_no DESC LIMIT 1")[0][0]
    qtbot.waitUntil(lambda: cell(page, total - 1, 0) == last, timeout=WAIT_MS)


def test_sorting_by_a_header_reorders_the_whole_register(qtbot, themed, demo_app, tasks) -> None:
    page = open_page(qtbot, demo_app, tasks)
    page.view.sortByColumn(3, Qt.SortOrder.DescendingOrder)  # 出生日期, youngest first
    qtbot.waitUntil(lambda: page.model.sort_key() == ("birth_date", True), timeout=WAIT_MS)
    settle(qtbot, page.ctx)
    youngest = sql(demo_app, "SELECT max(birth_date) FROM resident WHERE deleted = 0 AND status = 'active'")[0][0]
    assert cell(page, 0, 3) == youngest
    page.view.sortByColumn(6, Qt.SortOrder.AscendingOrder)  # 身份证号: not sortable, nothing changes
    assert page.model.sort_key() == ("birth_date", True)


def test_search_by_pinyin_initials_shows_exact_before_prefix(qtbot, themed, demo_app, tasks) -> None:
    page = open_page(qtbot, demo_app, tasks)
    initials = sql(demo_app, "SELECT name_initials FROM resident WHERE deleted = 0 AND status = 'active' "
                             "AND length(name_initials) = 2 GROUP BY name_initials ORDER BY count(*) DESC LIMIT 1")[0][0]
    search_for(qtbot, page, initials)
    found = {rid: (key, pinyin) for rid, key, pinyin in sql(demo_app, "SELECT id, name_initials, name_pinyin FROM resident")}
    keys = [found[rid] for rid in shown_ids(page)]
    exact = sum(1 for key, _pinyin in keys if key == initials)
    assert exact >= 1 and len(keys) > exact
    assert [key for key, _pinyin in keys[:exact]] == [initials] * exact
    # after the exact ones, names whose initials or full pinyin begin with what was typed (zh: 张明 zhangming)
    assert all(key.startswith(initials) or pinyin.startswith(initials) for key, pinyin in keys[exact:])


def test_search_by_the_last_four_id_digits(qtbot, themed, demo_app, tasks) -> None:
    page = open_page(qtbot, demo_app, tasks)
    resident_id, id_number = sql(demo_app, "SELECT id, id_number FROM resident WHERE id_number IS NOT NULL "
                                           "AND status = 'active' ORDER BY id LIMIT 1 OFFSET 77")[0]
    search_for(qtbot, page, id_number[-4:])
    assert resident_id in shown_ids(page)
    row = shown_ids(page).index(resident_id)
    assert cell(page, row, 6) == id_number


def test_keys_ctrl_f_down_arrows_and_enter(qtbot, themed, demo_app, tasks) -> None:
    page = open_page(qtbot, demo_app, tasks)
    page.activateWindow()
    page.view.setFocus()
    qtbot.keyClick(page.view, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is page.search
    qtbot.keyClick(page.search, Qt.Key.Key_Down)
    assert QApplication.focusWidget() is page.view and page.selected_id() == shown_ids(page)[0]
    qtbot.keyClick(page.view, Qt.Key.Key_Down)
    qtbot.keyClick(page.view, Qt.Key.Key_Down)
    assert page.selected_id() == shown_ids(page)[2]
    qtbot.keyClick(page.view, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: isinstance(page.dialog, ResidentForm), timeout=WAIT_MS)
    assert page.dialog.detail.id == shown_ids(page)[2]
    page.dialog.done(0)


def test_chinese_name_from_the_input_method_and_enter_opens_the_top_hit(qtbot, themed, demo_app, tasks) -> None:
    page = open_page(qtbot, demo_app, tasks)
    name = sql(demo_app, "SELECT name FROM resident WHERE deleted = 0 AND status = 'active' AND length(name) = 2 "
                         "GROUP BY name HAVING count(*) >= 2 ORDER BY count(*) DESC LIMIT 1")[0][0]
    search_for(qtbot, page, name, ime=True)
    names = [cell(page, row, 1) for row in range(page.model.rowCount())]
    exact = names.count(name)
    assert exact >= 2 and names[:exact] == [name] * exact
    assert all(name in other for other in names[exact:])
    qtbot.keyClick(page.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: isinstance(page.dialog, ResidentForm), timeout=WAIT_MS)
    assert page.dialog.detail.id == shown_ids(page)[0] and page.dialog.name.text() == name
    page.dialog.done(0)


def test_filters_change_the_count(qtbot, themed, demo_app, tasks) -> None:
    page = open_page(qtbot, demo_app, tasks)
    village_id = sql(demo_app, "SELECT id FROM village WHERE code = '102'")[0][0]
    page.village.setCurrentIndex(page.village.findData(village_id))
    expected = active_count(demo_app, "village_id = ?", village_id)
    qtbot.waitUntil(lambda: page.count_label.text() == f"共 {expected:,} 人", timeout=WAIT_MS)
    page.village.setCurrentIndex(0)
    page.key_population.setCurrentIndex(page.key_population.findText("高血压患者"))
    expected = active_count(demo_app, "id IN (SELECT resident_id FROM resident_condition "
                                      "WHERE kind = 'hypertension' AND deleted = 0)")
    qtbot.waitUntil(lambda: page.count_label.text() == f"共 {expected:,} 人", timeout=WAIT_MS)
    page.key_population.setCurrentIndex(page.key_population.findText("65岁及以上老年人"))
    today = now().date()
    cutoff = today.replace(year=today.year - 65).isoformat()
    elderly = active_count(demo_app, "birth_date <= ?", cutoff)
    qtbot.waitUntil(lambda: page.count_label.text() == f"共 {elderly:,} 人", timeout=WAIT_MS)
    assert all("65岁+" in cell(page, row, 9) for row in range(50))
    page.key_population.setCurrentIndex(0)
    page.age_band.setCurrentIndex(page.age_band.findText("0-6岁"))
    young = active_count(demo_app, "birth_date > ?", today.replace(year=today.year - 7).isoformat())
    qtbot.waitUntil(lambda: page.count_label.text() == f"共 {young:,} 人", timeout=WAIT_MS)
    page.age_band.setCurrentIndex(0)
    page.status.setCurrentIndex(page.status.findText("全部"))
    everyone = sql(demo_app, "SELECT count(*) FROM resident WHERE deleted = 0")[0][0]
    qtbot.waitUntil(lambda: page.count_label.text() == f"共 {everyone:,} 人", timeout=WAIT_MS)


def test_village_doctor_sees_only_own_villages(qtbot, themed, demo_app, tasks) -> None:
    page = open_page(qtbot, demo_app, tasks, "cunyi001")
    villages = [page.village.itemText(i) for i in range(page.village.count())]
    assert villages == ["全部负责村", "001 青山社区", "101 柳树村"]
    expected = active_count(demo_app, "village_id IN (SELECT id FROM village WHERE code IN ('001', '101'))")
    assert page.count_label.text() == f"共 {expected:,} 人"
    page.view.scrollToBottom()
    qtbot.waitUntil(lambda: page.model.loaded(page.model.rowCount() - 1), timeout=WAIT_MS)
    shown = {cell(page, row, 5) for row in range(page.model.rowCount()) if page.model.loaded(row)}
    assert shown == {"青山社区", "柳树村"}
    outsider = sql(demo_app, "SELECT name_initials FROM resident r JOIN village v ON v.id = r.village_id "
                             "WHERE v.code = '112' AND length(name_initials) = 3 LIMIT 1")[0][0]
    search_for(qtbot, page, outsider)
    assert {cell(page, row, 5) for row in range(page.model.rowCount())} <= {"青山社区", "柳树村"}


def test_assessor_sees_masked_numbers_and_a_read_only_form(qtbot, themed, demo_app, tasks) -> None:
    page = open_page(qtbot, demo_app, tasks, "kaohe1")
    ids = [cell(page, row, 6) for row in range(20)]
    assert all("********" in number for number in ids if number)
    assert not page.new_action.isVisible() and not page.status_action.isVisible()
    assert not page.import_action.isVisible() and not page.export_action.isVisible()
    assert page.open_action.text() == "查看"
    page.view.selectRow(0)
    page.open_selected()
    qtbot.waitUntil(lambda: isinstance(page.dialog, ResidentForm), timeout=WAIT_MS)
    form = page.dialog
    assert "********" in form.id_number.text() and not form.id_number.isEnabled()
    assert form.save_button.isHidden() and form.windowTitle() == "查看居民档案"
    form.reject()
    assert not form.isVisible()


def test_clerk_sees_import_and_export_director_only_export(qtbot, themed, demo_app, tasks) -> None:
    clerk = open_page(qtbot, demo_app, tasks, "luru1")
    assert clerk.import_action.isVisible() and clerk.export_action.isVisible()
    director = open_page(qtbot, demo_app, tasks, "yuanzhang")
    assert not director.import_action.isVisible() and director.export_action.isVisible()


def test_the_page_is_in_the_navigation_for_resident_roles_only(qtbot, themed, demo_app, tasks) -> None:
    clerk = MainWindow(make_context(demo_app, tasks, "luru1"))
    qtbot.addWidget(clerk)
    admin = MainWindow(make_context(demo_app, tasks, "admin"))
    qtbot.addWidget(admin)
    titles = [clerk.navigation.item(i).text() for i in range(clerk.navigation.count())]
    assert titles[1] == "居民档案"
    assert "居民档案" not in [admin.navigation.item(i).text() for i in range(admin.navigation.count())]
    assert isinstance(clerk.page("residents"), ResidentsPage)


def test_window_screenshots_of_the_list_a_search_and_the_form(qtbot, themed, demo_app, tasks) -> None:
    window = MainWindow(make_context(demo_app, tasks, "luru1"))
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    page = window.page("residents")
    settle(qtbot, page.ctx)
    page.view.selectRow(2)
    QApplication.processEvents()
    screenshot(window, "residents-list")
    surname = sql(demo_app, "SELECT substr(name, 1, 1) FROM resident WHERE length(name) = 3 "
                            "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")[0][0]
    name = sql(demo_app, "SELECT name FROM resident WHERE name LIKE ? AND length(name) = 2 "
                         "GROUP BY name ORDER BY count(*) DESC LIMIT 1", surname + "%")[0][0]
    search_for(qtbot, page, name, ime=True)
    page.view.selectRow(0)
    QApplication.processEvents()
    screenshot(window, "residents-search")
    qtbot.keyClick(page.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: isinstance(page.dialog, ResidentForm), timeout=WAIT_MS)
    QApplication.processEvents()
    screenshot(page.dialog, "resident-form")
    page.dialog.done(0)


# ----- the form


def new_id(birth: date, sequence: int) -> str:
    return make_id("341522", birth, sequence)


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None
    return widget


def test_create_a_resident_with_the_keyboard_only(qtbot, themed, demo_app, tasks) -> None:
    page = open_page(qtbot, demo_app, tasks)
    before = page.model.rowCount()
    page.activateWindow()
    qtbot.keyClick(page.view, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: isinstance(page.dialog, ResidentForm) and page.dialog.isVisible(), timeout=WAIT_MS)
    form: ResidentForm = page.dialog
    qtbot.waitUntil(lambda: QApplication.focusWidget() is form.name, timeout=WAIT_MS)
    commit_text(focused(), "欧阳明")
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    assert focused() is form.id_number
    number = new_id(date(1990, 4, 12), 273)  # odd sequence: male
    qtbot.keyClicks(focused(), number)
    assert form.birth_date.text() == "1990-04-12" and form.sex.currentText() == "男"
    assert not form.birth_date.isEnabled() and not form.sex.isEnabled() and form.id_message() == FROM_ID
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    assert focused() is form.ethnicity  # 性别 and 出生日期 are locked and skipped
    qtbot.keyClick(focused(), Qt.Key.Key_Tab)
    qtbot.keyClicks(focused(), "13912345678")
    qtbot.keyClick(focused(), Qt.Key.Key_Return)
    commit_text(focused(), "桃园村三组8号")
    qtbot.keyClick(focused(), Qt.Key.Key_Tab)
    assert focused() is form.village
    qtbot.keyClick(focused(), Qt.Key.Key_Down)
    qtbot.keyClick(focused(), Qt.Key.Key_Down)
    assert form.village.currentText() == "101 柳树村"
    qtbot.keyClick(focused(), Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not form.isVisible(), timeout=WAIT_MS)
    stored = sql(demo_app, "SELECT r.name, r.sex, r.birth_date, r.phone, r.address, v.code, r.registered_by "
                           "FROM resident r JOIN village v ON v.id = r.village_id WHERE id_number = ?", number)
    assert stored == [("欧阳明", "1", "1990-04-12", "13912345678", "桃园村三组8号", "101", "luru1")]
    qtbot.waitUntil(lambda: page.model.rowCount() == before + 1, timeout=WAIT_MS)


def test_a_bad_id_is_named_inline_and_nothing_is_saved(qtbot, themed, demo_app, tasks) -> None:
    page = open_page(qtbot, demo_app, tasks)
    form = page.new_resident()
    good = new_id(date(1985, 1, 2), 101)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    form.name.setText("李四")
    qtbot.keyClicks(form.id_number, bad)
    assert "校验位错误" in form.id_message()
    assert form.birth_date.isEnabled() and form.sex.isEnabled()
    screenshot(form, "resident-form-bad-id")
    count = sql(demo_app, "SELECT count(*) FROM resident")[0][0]
    form.village.setCurrentIndex(1)
    form.save()
    qtbot.waitUntil(lambda: form.errors.message("id_number") != "", timeout=WAIT_MS)
    assert "校验位错误" in form.errors.message("id_number") and form.id_message() == ""
    assert form.isVisible() and form.id_number.text() == bad and form.name.text() == "李四"
    settle(qtbot, page.ctx)
    assert sql(demo_app, "SELECT count(*) FROM resident")[0][0] == count
    form.id_number.setText(good[:10])
    assert form.id_message() == "" and form.birth_date.isEnabled()


def test_the_id_fills_birth_date_and_sex_and_the_form_looks_right(qtbot, themed, demo_app, tasks) -> None:
    page = open_page(qtbot, demo_app, tasks)
    form = page.new_resident()
    form.name.setText("王小红")
    form.id_number.setText(new_id(date(1955, 11, 30), 44))
    assert (form.birth_date.text(), form.sex.currentText()) == ("1955-11-30", "女")
    assert "65岁及以上老年人" in form.conditions.computed.text()
    form.conditions.rows[1][1].setChecked(True)  # 高血压
    form.conditions.rows[1][2].setText("2019.6.3")
    form.conditions.rows[1][2].editingFinished.emit()
    assert form.conditions.rows[1][2].text() == "2019-06-03"
    form.phone.setText("1381234")
    form.save()
    qtbot.waitUntil(lambda: form.errors.message("phone") != "", timeout=WAIT_MS)
    assert "11 位" in form.errors.message("phone") and "所属村" in form.errors.message("village_code")
    screenshot(form, "resident-form-errors")
    form.done(0)


def test_an_edit_made_meanwhile_is_reported_in_the_form(qtbot, themed, demo_app, tasks) -> None:
    page = open_page(qtbot, demo_app, tasks)
    page.view.selectRow(5)
    resident_id = page.selected_id()
    page.open_selected()
    qtbot.waitUntil(lambda: isinstance(page.dialog, ResidentForm), timeout=WAIT_MS)
    form = page.dialog
    other = make_context(demo_app, tasks, "jiating1").actor
    set_status(demo_app.db, other, resident_id, ResidentStatus.MOVED_OUT, on=now().date())  # after any visit
    form.address.setText("新地址 1 号")
    form.save()
    qtbot.waitUntil(lambda: not form.errors.general.isHidden(), timeout=WAIT_MS)
    assert "刚被他人修改过" in form.errors.general.text()
    assert form.isVisible() and form.address.text() == "新地址 1 号"
    assert sql(demo_app, "SELECT address FROM resident WHERE id = ?", resident_id)[0][0] != "新地址 1 号"
    form.done(0)


def test_a_duplicate_id_offers_the_existing_record(qtbot, themed, demo_app, tasks) -> None:
    page = open_page(qtbot, demo_app, tasks)
    existing_id, number, code = sql(demo_app, "SELECT r.id, r.id_number, v.code FROM resident r "
                                               "JOIN village v ON v.id = r.village_id "
                                               "WHERE id_number IS NOT NULL LIMIT 1")[0]
    form = page.new_resident()
    form.name.setText("重复人")
    form.id_number.setText(number)
    form.village.setCurrentIndex(form.village.findData(code))
    form.save()
    qtbot.waitUntil(lambda: form.duplicate_box is not None, timeout=WAIT_MS)
    assert "已建档" in form.errors.message("id_number")
    open_button = next(b for b in form.duplicate_box.buttons() if b.text() == "打开已有档案")
    open_button.click()
    qtbot.waitUntil(lambda: page.dialog is not form, timeout=WAIT_MS)
    assert page.dialog.detail.id == existing_id and not form.isVisible()
    page.dialog.done(0)


def test_escape_asks_before_dropping_typed_values(qtbot, themed, demo_app, tasks, monkeypatch) -> None:
    from desktop.ui import form_dialog as module

    asked: list[bool] = []
    monkeypatch.setattr(module, "confirm_discard", lambda _parent: asked.append(True) or False)
    page = open_page(qtbot, demo_app, tasks)
    form = page.new_resident()
    qtbot.keyClick(form, Qt.Key.Key_Escape)
    assert not form.isVisible() and asked == []
    form = page.new_resident()
    form.phone.setText("139")
    qtbot.keyClick(form, Qt.Key.Key_Escape)
    assert form.isVisible() and asked == [True]
    form.done(0)


# ----- status and households


def test_mark_deceased_takes_the_resident_off_the_list(qtbot, themed, demo_app, tasks) -> None:
    page = open_page(qtbot, demo_app, tasks)
    before = page.model.rowCount()
    page.view.selectRow(3)
    resident_id = page.selected_id()
    dialog = page.mark_status()
    assert isinstance(dialog, StatusDialog)
    dialog.status.setCurrentIndex(dialog.status.findText("死亡"))
    dialog.save()
    qtbot.waitUntil(lambda: dialog.errors.message("status_date") != "", timeout=WAIT_MS)
    assert dialog.errors.message("status_date") == "请填写死亡日期。"
    day = now().date() - timedelta(days=3)
    dialog.on.setText(day.strftime("%Y%m%d"))
    dialog.note.setText("病故")
    dialog.save()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT_MS)
    assert sql(demo_app, "SELECT status, status_date, status_note FROM resident WHERE id = ?", resident_id) == [
        ("deceased", day.isoformat(), "病故")]
    qtbot.waitUntil(lambda: page.model.rowCount() == before - 1, timeout=WAIT_MS)
    assert resident_id not in shown_ids(page)


def single_in_village(app: App, code: str, skip: int = 0) -> tuple[int, str]:
    """A resident of the village who lives in no household or in a household of one."""
    return sql(app, "SELECT r.id, r.name FROM resident r JOIN village v ON v.id = r.village_id WHERE v.code = ? "
                    "AND r.status = 'active' AND (r.household_id IS NULL OR r.household_id NOT IN "
                    "(SELECT household_id FROM resident WHERE household_id IS NOT NULL GROUP BY household_id "
                    "HAVING count(*) > 1)) ORDER BY r.id LIMIT 1 OFFSET ?", code, skip)[0]


def open_household_for(qtbot, page: ResidentsPage, resident_id: int):
    record_no = sql(page.ctx.app, "SELECT record_no FROM resident WHERE id = ?", resident_id)[0][0]
    search_for(qtbot, page, record_no)
    assert shown_ids(page) == [resident_id]
    page.view.selectRow(0)
    dialog = page.open_household()
    settle(qtbot, page.ctx)
    return dialog


def test_household_actions(qtbot, themed, demo_app, tasks) -> None:
    page = open_page(qtbot, demo_app, tasks)
    first_id, first_name = single_in_village(demo_app, "103")
    second_id, _ = single_in_village(demo_app, "103", skip=1)
    dialog = open_household_for(qtbot, page, first_id)
    dialog.start_new()
    qtbot.waitUntil(lambda: dialog.household is not None and dialog.household.head_id == first_id, timeout=WAIT_MS)
    settle(qtbot, page.ctx)
    dialog.done(0)

    dialog = open_household_for(qtbot, page, second_id)
    join = dialog.join()
    commit_text(join.query, first_name)
    qtbot.waitUntil(lambda: join.found.rowCount() > 0, timeout=WAIT_MS)
    settle(qtbot, page.ctx)
    rows = join.found.rows()
    join.table.selectRow(next(i for i, r in enumerate(rows) if r.id == first_id))
    join.save()
    qtbot.waitUntil(lambda: join.errors.message("relation_to_head") != "", timeout=WAIT_MS)
    join.relation.setCurrentIndex(join.relation.findText("配偶"))
    join.save()
    qtbot.waitUntil(lambda: not join.isVisible(), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: dialog.household is not None and len(dialog.household.members) == 2, timeout=WAIT_MS)
    settle(qtbot, page.ctx)
    assert [m.resident_id for m in dialog.household.members] == [first_id, second_id]
    assert [m.relation_label for m in dialog.household.members] == ["户主", "配偶"]
    screenshot(dialog, "household")

    dialog.view.selectRow(0)  # the head cannot leave while someone else lives there
    dialog.leave()
    qtbot.waitUntil(lambda: not dialog.message.isHidden(), timeout=WAIT_MS)
    assert "是户主" in dialog.message.text()
    dialog.view.selectRow(1)
    dialog.make_head()
    qtbot.waitUntil(lambda: dialog.household.head_id == second_id, timeout=WAIT_MS)
    settle(qtbot, page.ctx)
    assert [m.relation_label for m in dialog.household.members] == ["户主", "其他"]
    row = [m.resident_id for m in dialog.household.members].index(first_id)
    dialog.view.selectRow(row)
    dialog.leave()
    qtbot.waitUntil(lambda: len(dialog.household.members) == 1, timeout=WAIT_MS)
    assert sql(demo_app, "SELECT household_id, relation_to_head FROM resident WHERE id = ?", first_id) == [(None, None)]
    dialog.done(0)
