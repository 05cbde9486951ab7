"""The path a person walks: first-run wizard, sign-in, forced password change, main window, lock."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWizard

from desktop.app import open_app
from desktop.demo import DEMO_PASSWORD
from desktop.services.accounts import AccountInput, create_account
from desktop.services.audit import Action, list_entries
from desktop.services.auth import sign_in
from desktop.services.permissions import Role
from desktop.ui.main_window import MainWindow
from desktop.ui.setup_wizard import SetupWizard
from desktop.ui.sign_in import ChangePasswordDialog, SignInDialog
from tests.ui.conftest import make_context, screenshot


def test_wrong_password_stays_on_dialog_with_one_message(qtbot, themed, demo_app, tasks):
    dialog = SignInDialog(lambda u, p: sign_in(demo_app.db, u, p), tasks, demo_app.branch, demo_hint="演示账户 admin")
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.username.setText("admin")
    dialog.password.setText("wrong-Pass1")
    dialog.submit()
    qtbot.waitUntil(lambda: not dialog.errors.general.isHidden())
    assert dialog.errors.general.text() == "用户名或密码错误，或账户已停用。"
    assert dialog.password.text() == ""
    dialog.username.setText("nobody")
    dialog.password.setText("wrong-Pass1")
    dialog.submit()
    qtbot.waitUntil(lambda: dialog.sign_in_button.isEnabled())
    assert dialog.errors.general.text() == "用户名或密码错误，或账户已停用。"
    screenshot(dialog, "sign-in-error")
    assert dialog.result() == 0


def test_right_password_accepts_with_actor(qtbot, themed, demo_app, tasks):
    dialog = SignInDialog(lambda u, p: sign_in(demo_app.db, u, p), tasks, demo_app.branch)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.username.setText("yuanzhang")
    dialog.password.setText(DEMO_PASSWORD)
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    assert dialog.result_sign_in.actor.role is Role.DIRECTOR


def test_locked_account_says_until_when(qtbot, themed, demo_app, tasks):
    dialog = SignInDialog(lambda u, p: sign_in(demo_app.db, u, p), tasks, demo_app.branch)
    qtbot.addWidget(dialog)
    for _ in range(5):
        dialog.username.setText("luru1")
        dialog.password.setText("Wrong#pass1")
        dialog.submit()
        qtbot.waitUntil(lambda: dialog.sign_in_button.isEnabled())
    assert "锁定" in dialog.errors.general.text() and "后再试" in dialog.errors.general.text()


def test_forced_password_change_marks_the_field(qtbot, themed, demo_app, tasks):
    admin = make_context(demo_app, tasks, "admin").actor
    create_account(demo_app.db, admin, AccountInput("newclerk", "新录入员", Role.CLERK), "Start#2026")
    result = sign_in(demo_app.db, "newclerk", "Start#2026")
    assert result.must_change_password
    dialog = ChangePasswordDialog(demo_app.db, tasks, result.actor, forced=True)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.old_password.setText("Start#2026")
    dialog.new_password.setText("short")
    dialog.confirm.setText("short")
    dialog.save()
    qtbot.waitUntil(lambda: dialog.errors.message("new_password") != "")
    assert "至少 8 位" in dialog.errors.message("new_password")
    screenshot(dialog, "change-password-error")
    dialog.new_password.setText("Better#2027")
    dialog.confirm.setText("Better#2027")
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        dialog.save()
    assert not sign_in(demo_app.db, "newclerk", "Better#2027").must_change_password


def test_setup_wizard_creates_branch_and_marks_bad_code(qtbot, themed, tmp_path, tasks):
    app = open_app(tmp_path / "fresh")
    wizard = SetupWizard(app.db, tasks, recovery_key_shown=app.recovery_key_shown)
    qtbot.addWidget(wizard)
    wizard.show()
    screenshot(wizard, "setup-wizard-choice")
    wizard.next()
    page = wizard.branch_page
    page.county_code.setText("34152")
    page.township_code.setText("１０６")
    page.name.setText("青山镇卫生院")
    page.head_hospital.setText("青山县人民医院")
    wizard.next()
    assert wizard.currentId() == SetupWizard.BRANCH
    assert "6 位数字" in page.errors.message("county_code")
    screenshot(wizard, "setup-wizard-branch-error")
    page.county_code.setText("341522")
    wizard.next()
    assert wizard.currentId() == SetupWizard.VILLAGES
    table = wizard.villages_page.table
    from PySide6.QtWidgets import QTableWidgetItem

    table.setItem(0, 1, QTableWidgetItem("柳树村"))
    table.setItem(0, 2, QTableWidgetItem("柳树村卫生室"))
    wizard.next()
    admin = wizard.admin_page
    admin.display_name.setText("赵磊")
    admin.password.setText("Qingshan#2026")  # the township's pinyin
    admin.confirm.setText("Qingshan#2026")
    wizard.next()  # the recovery key's page follows: setup runs when leaving this page
    assert wizard.currentId() == SetupWizard.ADMIN
    assert wizard.branch is None and "拼音" in admin.errors.message("admin_password")
    assert "Qingshan" not in admin.errors.message("admin_password")
    screenshot(wizard, "setup-wizard-admin-weak")
    admin.password.setText("Kestrel#2026")
    admin.confirm.setText("Kestrel#2026")
    screenshot(wizard, "setup-wizard-admin")
    recovery = app.pending_recovery_key
    wizard.next()
    assert wizard.branch is not None and wizard.branch.record_prefix == "341522106"
    assert app.is_set_up()
    assert wizard.currentId() == SetupWizard.RECOVERY_KEY
    assert wizard.recovery_page.key.text() == recovery
    finish = wizard.button(QWizard.WizardButton.FinishButton)
    assert not finish.isEnabled()  # not before the admin says the key is written down
    wizard.recovery_page.written_down.setChecked(True)
    screenshot(wizard, "setup-wizard-recovery-key")
    finish.click()
    assert app.pending_recovery_key is None  # shown once, then no longer kept on this PC
    app.close()


def test_main_window_navigation_follows_role(qtbot, themed, demo_app, tasks):
    admin_window = MainWindow(make_context(demo_app, tasks, "admin"))
    qtbot.addWidget(admin_window)
    admin_titles = [admin_window.navigation.item(i).text() for i in range(admin_window.navigation.count())]
    clerk_window = MainWindow(make_context(demo_app, tasks, "luru1"))
    qtbot.addWidget(clerk_window)
    clerk_titles = [clerk_window.navigation.item(i).text() for i in range(clerk_window.navigation.count())]
    assert "账户管理" in admin_titles and "审计日志" in admin_titles
    assert "账户管理" not in clerk_titles and "审计日志" not in clerk_titles
    admin_window.resize(1366, 768)
    admin_window.show()
    qtbot.waitUntil(lambda: admin_window.pages["home"].grid.count() > 0)
    assert "青山镇卫生院" in admin_window.branch_label.text()
    QApplication.processEvents()
    screenshot(admin_window, "main-window-home")
    qtbot.keyClick(admin_window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert admin_window.navigation.currentRow() == 1


def test_village_doctor_home_shows_only_own_villages(qtbot, themed, demo_app, tasks):
    window = MainWindow(make_context(demo_app, tasks, "cunyi001"))
    qtbot.addWidget(window)
    window.show()
    home = window.pages["home"]
    qtbot.waitUntil(lambda: home.grid.count() > 0)
    texts = [home.grid.itemAt(i).widget().text() for i in range(home.grid.count())]
    assert "2 个" in texts and any("柳树村" in t for t in texts) and not any("白果村" in t for t in texts)


def test_idle_lock_needs_the_same_password(qtbot, themed, demo_app, tasks):
    ctx = make_context(demo_app, tasks, "jiating1")
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    window.idle.set_timeout(50)
    qtbot.waitUntil(lambda: window.locked, timeout=3000)
    screen = window.lock_screen
    assert window.centralWidget().currentWidget() is screen and screen.isVisible()
    screenshot(window, "idle-lock")
    screen.password.setText("Wrong#pass1")
    screen.unlock()
    qtbot.waitUntil(lambda: screen.message.text() != "")
    assert screen.message.text() == "用户名或密码错误，或账户已停用。"
    assert screen.isVisible() and window.locked
    screen.password.setText(DEMO_PASSWORD)
    with qtbot.waitSignal(screen.unlocked, timeout=5000):
        screen.unlock()
    assert not window.locked and not window.idle.paused
    qtbot.waitUntil(lambda: tasks.pending_count == 0)
    actions = [row.action for row in list_entries(demo_app.db, make_context(demo_app, tasks, "admin").actor)]
    assert Action.SCREEN_LOCK.value in actions
    window.idle.set_timeout(600_000)
    QApplication.processEvents()
