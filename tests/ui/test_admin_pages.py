"""The administration pages against a real demo data directory and the real background helper."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from data_templates import open_database
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QPushButton

from desktop.app import App
from desktop.demo import DEMO_PASSWORD
from desktop.errors import AccountLocked, AuthenticationFailed
from desktop.services.auth import record_sign_out, sign_in
from desktop.services.permissions import Actor, Role
from desktop.services.settings import followup_rules
from desktop.ui import form_dialog
from desktop.ui import tasks as tasks_module
from desktop.ui.context import ChangeBus, UiContext
from desktop.ui.pages import audit as audit_page
from desktop.ui.pages import backup as backup_page
from desktop.ui.pages import branch as branch_page
from desktop.ui.pages.accounts import AccountDialog, AccountsPage
from desktop.ui.pages.audit import AuditPage
from desktop.ui.pages.backup import BackupPage
from desktop.ui.pages.base import Page
from desktop.ui.pages.branch import BranchPage
from desktop.ui.pages.registry import ADMIN_PAGES
from desktop.ui.tasks import TaskManager
from desktop.ui.theme import apply_theme

SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots" / "tmp"
GOOD_PASSWORD = "Kestrel#2026"
DEMO_ACCOUNTS = 1 + 9 + 13  # admin, branch staff, village doctors
WAIT_MS = 10_000


@pytest.fixture(scope="module")
def themed(qapp: QApplication) -> QApplication:
    """The app's look, so screenshots use the bundled CJK font."""
    apply_theme(qapp)
    return qapp


@pytest.fixture
def app(demo_app: App) -> App:
    """A private copy of the shared demo branch."""
    return demo_app


@pytest.fixture(autouse=True)
def no_error_boxes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[BaseException]]:
    """Record what would go to `show_error` (instead of a blocking box); none may appear."""
    shown: list[BaseException] = []
    for module in (form_dialog, audit_page, backup_page, branch_page, tasks_module):
        monkeypatch.setattr(module, "show_error", lambda _parent, error: shown.append(error))
    yield shown
    assert not shown, f"unexpected error boxes: {shown!r}"


@pytest.fixture
def make_ctx(themed: QApplication, app: App) -> Iterator:
    """Build a UiContext for a demo user; every task manager is shut down afterwards."""
    managers: list[TaskManager] = []

    def build(username: str = "admin") -> UiContext:
        actor = sign_in(app.db, username, DEMO_PASSWORD).actor
        managers.append(TaskManager(progress_delay_ms=60_000))
        return UiContext(app=app, tasks=managers[-1], actor=actor, branch=app.branch, bus=ChangeBus())

    yield build
    for manager in managers:
        manager.shutdown(wait=True)


def open_page(qtbot, ctx: UiContext, page_class: type[Page]) -> Page:
    """Build, wire to the bus, show and activate a page as the main window would."""
    page = page_class(ctx)
    qtbot.addWidget(page)
    ctx.bus.changed.connect(page.on_changes)
    page.resize(1100, 640)
    page.show()
    page.activated()
    return page


def settle(qtbot, ctx: UiContext) -> None:
    """Wait until every background task has delivered its result."""
    qtbot.waitUntil(lambda: not ctx.tasks.busy, timeout=WAIT_MS)


def screenshot(widget, name: str) -> Path:
    """Save what the widget looks like for a human to check."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    assert widget.grab().save(str(path))
    return path


def column_texts(model, column: int) -> list[str]:
    return [model.index(row, column).data() for row in range(model.rowCount())]


def select_user(page: AccountsPage, username: str) -> None:
    row = column_texts(page.model, 0).index(username)
    page.view.selectRow(row)


def status_of(page: AccountsPage, username: str) -> str:
    return page.model.index(column_texts(page.model, 0).index(username), 4).data()


def fill_account(dialog: AccountDialog, username: str, name: str, role: Role, password: str) -> None:
    dialog.username.setText(username)
    dialog.display_name.setText(name)
    dialog.role.setCurrentIndex(dialog.role.findData(role))
    dialog.password.setText(password)
    dialog.confirm.setText(password)


def test_registry_lists_the_four_pages_with_their_permissions() -> None:
    assert [spec.key for spec in ADMIN_PAGES] == ["branch", "accounts", "audit", "backup"]
    clerk = Actor(account_id=1, username="x", display_name="x", role=Role.CLERK)
    assert [spec.key for spec in ADMIN_PAGES if spec.allowed(clerk)] == ["branch", "backup"]


def test_accounts_page_lists_every_demo_account(qtbot, make_ctx) -> None:
    ctx = make_ctx()
    page = open_page(qtbot, ctx, AccountsPage)
    qtbot.waitUntil(lambda: page.model.rowCount() == DEMO_ACCOUNTS, timeout=WAIT_MS)
    names = column_texts(page.model, 0)
    assert {"admin", "yuanzhang", "luru1", "cunyi101"} <= set(names)
    assert page.count_label.text() == f"共 {DEMO_ACCOUNTS} 个账户"
    assert column_texts(page.model, 3)[names.index("cunyi001")] == "青山社区、柳树村"
    assert [page.model.headerData(c, Qt.Orientation.Horizontal) for c in range(6)] == [
        "用户名", "姓名", "角色", "负责村", "状态", "最近登录"]
    screenshot(page, "accounts")


def test_create_account_marks_bad_password_then_saves_and_refreshes(qtbot, make_ctx, app) -> None:
    ctx = make_ctx()
    page = open_page(qtbot, ctx, AccountsPage)
    qtbot.waitUntil(lambda: page.model.rowCount() == DEMO_ACCOUNTS, timeout=WAIT_MS)
    dialog = page.new_account()
    fill_account(dialog, "luru3", "钱小红", Role.CLERK, "short")
    screenshot(dialog, "account_dialog")
    dialog.save()
    qtbot.waitUntil(lambda: dialog.errors.message("initial_password") != "", timeout=WAIT_MS)
    assert "8" in dialog.errors.message("initial_password")
    assert dialog.isVisible() and dialog.username.text() == "luru3"
    screenshot(dialog, "account_dialog_error")
    settle(qtbot, ctx)
    assert page.model.rowCount() == DEMO_ACCOUNTS
    dialog.password.setText(GOOD_PASSWORD)
    dialog.confirm.setText(GOOD_PASSWORD + "x")
    dialog.save()
    assert dialog.errors.message("confirm_password") == "两次输入的密码不一致。"
    dialog.confirm.setText(GOOD_PASSWORD)
    dialog.save()
    qtbot.waitUntil(lambda: page.model.rowCount() == DEMO_ACCOUNTS + 1, timeout=WAIT_MS)
    assert not dialog.isVisible()
    assert "luru3" in column_texts(page.model, 0)
    assert status_of(page, "luru3") == "需改密"
    assert sign_in(app.db, "luru3", GOOD_PASSWORD).must_change_password


def test_sorting_and_the_context_menu_match_the_toolbar(qtbot, make_ctx) -> None:
    ctx = make_ctx()
    page = open_page(qtbot, ctx, AccountsPage)
    qtbot.waitUntil(lambda: page.model.rowCount() == DEMO_ACCOUNTS, timeout=WAIT_MS)
    select_user(page, "luru1")
    page.view.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    assert column_texts(page.model, 0)[0] == "yuanzhang"
    assert page.selected().username == "luru1"
    buttons = [b.text() for b in page.findChildren(QPushButton)]
    assert [a.text() for a in page.actions()] == ["新建账户", "编辑", "重置密码", "解锁"]
    assert set(buttons) >= {"新建账户", "编辑", "重置密码", "解锁"}


def test_escape_asks_only_when_something_was_typed(qtbot, make_ctx, monkeypatch) -> None:
    ctx = make_ctx()
    page = open_page(qtbot, ctx, AccountsPage)
    qtbot.waitUntil(lambda: page.model.rowCount() == DEMO_ACCOUNTS, timeout=WAIT_MS)
    asked: list[bool] = []
    monkeypatch.setattr(form_dialog, "confirm_discard", lambda _parent: asked.append(True) or False)
    dialog = page.new_account()
    dialog.reject()
    assert not dialog.isVisible() and not asked
    dialog = page.new_account()
    dialog.display_name.setText("未保存")
    dialog.reject()
    assert dialog.isVisible() and asked == [True]


def test_village_doctor_without_villages_is_marked(qtbot, make_ctx) -> None:
    ctx = make_ctx()
    page = open_page(qtbot, ctx, AccountsPage)
    qtbot.waitUntil(lambda: page.model.rowCount() == DEMO_ACCOUNTS, timeout=WAIT_MS)
    dialog = page.new_account()
    assert not dialog.villages.isEnabled()
    fill_account(dialog, "cunyi201", "冯春生", Role.VILLAGE_DOCTOR, GOOD_PASSWORD)
    assert dialog.villages.isEnabled() and dialog.villages.count() == 13
    dialog.save()
    qtbot.waitUntil(lambda: dialog.errors.message("village_ids") != "", timeout=WAIT_MS)
    assert dialog.errors.message("village_ids") == "乡村医生至少要负责一个村。"
    dialog.villages.item(2).setCheckState(Qt.CheckState.Checked)
    dialog.save()
    qtbot.waitUntil(lambda: "cunyi201" in column_texts(page.model, 0), timeout=WAIT_MS)
    assert status_of(page, "cunyi201") == "需改密"


def test_edit_account_changes_its_name(qtbot, make_ctx) -> None:
    ctx = make_ctx()
    page = open_page(qtbot, ctx, AccountsPage)
    qtbot.waitUntil(lambda: page.model.rowCount() == DEMO_ACCOUNTS, timeout=WAIT_MS)
    select_user(page, "luru2")
    dialog = page.edit_account()
    assert dialog.username.text() == "luru2" and dialog.password is None and not dialog.is_dirty()
    dialog.display_name.setText("马俊杰")
    dialog.save()
    qtbot.waitUntil(lambda: "马俊杰" in column_texts(page.model, 1), timeout=WAIT_MS)


def test_reset_password_and_unlock(qtbot, make_ctx, app) -> None:
    ctx = make_ctx()
    page = open_page(qtbot, ctx, AccountsPage)
    qtbot.waitUntil(lambda: page.model.rowCount() == DEMO_ACCOUNTS, timeout=WAIT_MS)
    for attempt in range(5):
        with pytest.raises(AccountLocked if attempt == 4 else AuthenticationFailed):
            sign_in(app.db, "luru1", "wrong-password")
    page.refresh()
    qtbot.waitUntil(lambda: status_of(page, "luru1").startswith("锁定至"), timeout=WAIT_MS)
    select_user(page, "luru1")
    assert page.unlock_action.isEnabled()
    page.unlock()
    qtbot.waitUntil(lambda: status_of(page, "luru1") == "启用", timeout=WAIT_MS)
    assert sign_in(app.db, "luru1", DEMO_PASSWORD).actor.username == "luru1"
    select_user(page, "luru1")
    dialog = page.reset_password()
    dialog.password.setText(GOOD_PASSWORD)
    dialog.confirm.setText(GOOD_PASSWORD)
    dialog.save()
    qtbot.waitUntil(lambda: status_of(page, "luru1") == "需改密", timeout=WAIT_MS)
    assert sign_in(app.db, "luru1", GOOD_PASSWORD).must_change_password


def test_audit_page_filters_and_verifies_the_chain(qtbot, make_ctx, app) -> None:
    ctx = make_ctx()
    page = open_page(qtbot, ctx, AuditPage)
    settle(qtbot, ctx)
    seqs = [int(text) for text in column_texts(page.model, 0)]
    assert seqs and seqs == sorted(seqs, reverse=True)
    assert page.count_label.text() == f"共 {len(seqs)} 条"
    assert page.actor_box.findText("赵磊") >= 0 and page.actor_box.findText("admin") < 0
    screenshot(page, "audit")
    page.action_box.setCurrentIndex(page.action_box.findText("登录"))
    page.query()
    settle(qtbot, ctx)
    assert page.model.rowCount() >= 1 and set(column_texts(page.model, 3)) == {"登录"}
    page.verify()
    qtbot.waitUntil(lambda: "完整" in page.chain_label.text(), timeout=WAIT_MS)
    assert page.chain_label.text().startswith(f"审计链完整，共 {max(seqs)} 条（与锚点文件第 {max(seqs)} 条")
    with open_database(app.paths.database) as raw:
        raw.execute("DROP TRIGGER audit_entry_no_update")
        raw.execute("UPDATE audit_entry SET summary = '篡改' WHERE seq = 3")
    page.verify()
    qtbot.waitUntil(lambda: page.chain_label.text().startswith("第 3 条"), timeout=WAIT_MS)
    assert "被修改" in page.chain_label.text()
    screenshot(page, "audit_broken")


def test_audit_model_fetches_more_in_pages(qtbot, make_ctx, monkeypatch, app) -> None:
    monkeypatch.setattr(audit_page, "PAGE_SIZE", 2)
    ctx = make_ctx()
    for _ in range(8):
        record_sign_out(app.db, ctx.actor)
    page = open_page(qtbot, ctx, AuditPage)
    qtbot.waitUntil(lambda: not page.model.canFetchMore() and not ctx.tasks.busy, timeout=WAIT_MS)
    seqs = [int(text) for text in column_texts(page.model, 0)]
    assert seqs == list(range(11, 0, -1))  # the view kept fetching pages of 2 until the log ran out
    assert page.count_label.text() == "共 11 条"


def test_branch_page_shows_villages_and_marks_a_bad_code(qtbot, make_ctx) -> None:
    ctx = make_ctx()
    page = open_page(qtbot, ctx, BranchPage)
    qtbot.waitUntil(lambda: page.village_model.rowCount() == 13, timeout=WAIT_MS)
    assert page.staff_model.rowCount() == 22 and page.village_count.text() == "共 13 个村"
    assert page.idle_minutes.value() == 10
    screenshot(page, "branch")
    dialog = page.add_village()
    dialog.code.setText("12")
    dialog.name.setText("新村")
    dialog.save()
    assert "3 位数字" in dialog.errors.message("code")
    screenshot(dialog, "village_dialog_error")
    dialog.code.setText("113")
    dialog.clinic.setText("新村卫生室")
    dialog.save()
    qtbot.waitUntil(lambda: page.village_model.rowCount() == 14, timeout=WAIT_MS)
    page.idle_minutes.setValue(25)
    page.save_idle_minutes()
    settle(qtbot, ctx)
    page.refresh()
    settle(qtbot, ctx)
    assert page.idle_minutes.value() == 25


def test_branch_page_hides_admin_buttons_from_the_director(qtbot, make_ctx) -> None:
    ctx = make_ctx("yuanzhang")
    page = open_page(qtbot, ctx, BranchPage)
    qtbot.waitUntil(lambda: page.village_model.rowCount() == 13, timeout=WAIT_MS)
    assert not page.add_action.isVisible() and not page.idle_box.isVisible()
    assert page.add_village() is None


def test_branch_page_changes_the_followup_rules_from_the_keyboard(qtbot, make_ctx) -> None:
    ctx = make_ctx()
    page = open_page(qtbot, ctx, BranchPage)
    qtbot.waitUntil(lambda: page.rules_button.isEnabled(), timeout=WAIT_MS)
    assert page.rules_text.text() == "全部按国家规范默认值。"
    dialog = page.edit_rules()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.edits["sbp_target"], timeout=WAIT_MS)
    qtbot.keyClick(dialog.edits["sbp_target"], Qt.Key.Key_Return)
    qtbot.keyClick(dialog.edits["dbp_target"], Qt.Key.Key_Return)
    qtbot.keyClick(dialog.edits["elderly_age"], Qt.Key.Key_Return)
    target = dialog.edits["elderly_sbp_target"]
    assert QApplication.focusWidget() is target
    qtbot.keyClick(target, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(target, "200")
    dialog.edits["prevalence_diabetes"].setText("百分之十")
    qtbot.keyClick(target, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert dialog.errors.message("prevalence_diabetes") == "2型糖尿病患病率“百分之十”不是数字。"
    assert dialog.edits["prevalence_hypertension"].text() == "27.5"  # a percentage, stored as 0.275
    dialog.edits["prevalence_diabetes"].setText("12")
    qtbot.keyClick(target, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert dialog.errors.message("elderly_sbp_target") == "老年患者收缩压控制目标 200 mmHg 应在 110–160 之间。"
    assert dialog.isVisible()
    screenshot(dialog, "followup_rules_dialog_error")
    target.setText("140")
    qtbot.keyClick(target, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: "老年患者收缩压控制目标：140 mmHg（默认 150）" in page.rules_text.text(), timeout=WAIT_MS)
    assert "2型糖尿病患病率：12 %（默认 11.2 %）" in page.rules_text.text()
    assert not dialog.isVisible()
    assert followup_rules(ctx.db).elderly_sbp_target == 140


def test_branch_page_changes_the_indicator_rules(qtbot, make_ctx) -> None:
    from desktop.rules.chronic_indicators import ControlBasis
    from desktop.services.settings import indicator_rules
    from desktop.ui.indicator_rules_dialog import IndicatorRulesDialog

    ctx = make_ctx()
    page = open_page(qtbot, ctx, BranchPage)
    assert page.indicator_rules_button.isVisible()
    page.indicator_rules_button.click()
    qtbot.waitUntil(lambda: isinstance(page.dialog, IndicatorRulesDialog) and page.dialog.isVisible(),
                    timeout=WAIT_MS)
    dialog = page.dialog
    assert dialog.diabetes_age.value() == 35 and dialog.prorate.isChecked()
    dialog.diabetes_age.setValue(30)
    dialog.basis.setCurrentIndex(dialog.basis.findData(ControlBasis.YEAR_TO_DATE.value))
    dialog.save()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT_MS)
    stored = indicator_rules(ctx.db)
    assert (stored.diabetes_minimum_age, stored.control_basis) == (30, ControlBasis.YEAR_TO_DATE.value)
    director = open_page(qtbot, make_ctx("yuanzhang"), BranchPage)
    assert not director.indicator_rules_button.isVisible()


def test_director_sees_the_followup_rules_but_cannot_change_them(qtbot, make_ctx) -> None:
    ctx = make_ctx("yuanzhang")
    page = open_page(qtbot, ctx, BranchPage)
    qtbot.waitUntil(lambda: page.rules_text.text() != "", timeout=WAIT_MS)
    assert not page.rules_button.isVisible() and page.edit_rules() is None


def test_backup_page_makes_a_backup_that_is_listed(qtbot, make_ctx) -> None:
    ctx = make_ctx()
    page = open_page(qtbot, ctx, BackupPage)
    settle(qtbot, ctx)
    before = page.model.rowCount()
    page.back_up()
    qtbot.waitUntil(lambda: page.model.rowCount() == before + 1, timeout=WAIT_MS)
    assert column_texts(page.model, 1)[0] == "手动"
    assert page.count_label.text() == f"共 {before + 1} 个备份"
    screenshot(page, "backup")

