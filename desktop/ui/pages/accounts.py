"""账户管理: the admin lists accounts, creates and edits them, resets passwords and unlocks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QLineEdit, QListWidget, QListWidgetItem, QWidget

from desktop.changes import Changes
from desktop.clock import now
from desktop.services import accounts as account_service
from desktop.services.accounts import AccountInfo, AccountInput
from desktop.services.branch import VillageInfo, list_villages
from desktop.services.permissions import Role
from desktop.ui.context import UiContext
from desktop.ui.form_dialog import FormDialog, Work, combine_errors, hint_label, password_edit
from desktop.ui.pages.base import Page
from desktop.ui.tables import (
    Column,
    RowTableModel,
    fit_columns,
    make_table,
    notify,
    page_action,
    selected_row,
)
from desktop.ui.theme import ERROR, MUTED_TEXT

PASSWORD_HINT = "至少 8 位，含大写字母、小写字母、数字、符号中的三类，不含用户名，不用常见密码、键盘连续按键或分院、村、本人姓名的拼音"
MISMATCH = "两次输入的密码不一致。"


@dataclass(frozen=True)
class AccountsData:
    """What the page loads in one background call."""

    accounts: list[AccountInfo]
    villages: list[VillageInfo]


def account_status(account: AccountInfo, at: datetime | None = None) -> str:
    """启用 / 停用 / 锁定至 HH:MM / 需改密, as the table shows it."""
    if not account.active:
        return "停用"
    if account.is_locked(at) and account.locked_until is not None:
        return f"锁定至 {account.locked_until:%H:%M}"
    return "需改密" if account.must_change_password else "启用"


def _status_colour(account: AccountInfo) -> str | None:
    status = account_status(account)
    return ERROR if status.startswith("锁定") else MUTED_TEXT if status == "停用" else None


def _last_sign_in(account: AccountInfo) -> str:
    return f"{account.last_sign_in_at:%Y-%m-%d %H:%M}" if account.last_sign_in_at else "从未登录"


COLUMNS = (
    Column("用户名", lambda a: a.username),
    Column("姓名", lambda a: a.display_name),
    Column("角色", lambda a: a.role.label),
    Column("负责村", lambda a: "、".join(a.village_names)),
    Column("状态", account_status, colour=_status_colour),
    Column("最近登录", _last_sign_in, key=lambda a: a.last_sign_in_at),
)


def load_accounts(ctx: UiContext) -> AccountsData:
    """Accounts and the villages they may cover (runs on the database thread)."""
    return AccountsData(account_service.list_accounts(ctx.db, ctx.actor), list_villages(ctx.db))


class AccountsPage(Page):
    """The admin's list of accounts."""

    title = "账户管理"

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.villages: list[VillageInfo] = []
        self.dialog: FormDialog | None = None
        self.new_action = page_action(self, "新建账户", self.new_account, shortcut="Ctrl+N")
        self.edit_action = page_action(self, "编辑", self.edit_account)
        self.reset_action = page_action(self, "重置密码", self.reset_password)
        self.unlock_action = page_action(self, "解锁", self.unlock)
        self.model = RowTableModel(COLUMNS, self)
        actions = [self.new_action, self.edit_action, self.reset_action, self.unlock_action]
        self.view = make_table(self.model, actions=actions, on_open=self.edit_account)
        self.view.selectionModel().selectionChanged.connect(self._update_actions)
        self.count_label = QLabel("共 0 个账户")
        self.body.addWidget(self.view, 1)
        self.body.addWidget(self.count_label)
        self._loaded = False
        self._update_actions()

    def activated(self) -> None:
        """Load on first view; later refreshes come through `on_changes`."""
        if not self._loaded:
            self.refresh()

    def on_changes(self, changes: Changes) -> None:
        if changes.accounts or changes.branch:
            self.refresh()

    def refresh(self) -> None:
        """Reload accounts and villages in the background."""
        self.ctx.tasks.run_db(lambda: load_accounts(self.ctx), on_success=self._show, parent=self)

    def selected(self) -> AccountInfo | None:
        """The account selected in the table."""
        return selected_row(self.view)

    def new_account(self) -> AccountDialog:
        """Open the dialog for a new account."""
        return self._open(AccountDialog(self.ctx, self.villages, parent=self))

    def edit_account(self) -> AccountDialog | None:
        """Open the selected account for editing."""
        account = self.selected()
        if account is None:
            return None
        return self._open(AccountDialog(self.ctx, self.villages, account=account, parent=self))

    def reset_password(self) -> ResetPasswordDialog | None:
        """Ask for a new initial password for the selected account."""
        account = self.selected()
        if account is None:
            return None
        return self._open(ResetPasswordDialog(self.ctx, account, parent=self))

    def unlock(self) -> None:
        """Lift the selected account's lockout."""
        account = self.selected()
        if account is None:
            return
        ctx = self.ctx
        ctx.tasks.run_db(lambda: account_service.unlock_account(ctx.db, ctx.actor, account.id),
                         on_success=lambda changes: self._done(changes, f"已解锁账户 {account.username}。"),
                         parent=self)

    def _open(self, dialog: FormDialog) -> FormDialog:
        self.dialog = dialog
        dialog.accepted.connect(lambda: notify(self, f"{dialog.windowTitle()}：已保存。"))
        dialog.open()
        return dialog

    def _done(self, changes: Changes, message: str) -> None:
        self.ctx.bus.publish(changes)
        notify(self, message)

    def _show(self, data: AccountsData) -> None:
        selected = self.selected()
        self.villages = data.villages
        self.model.set_rows(data.accounts)
        if not self._loaded:
            fit_columns(self.view)
        self._loaded = True
        self.count_label.setText(f"共 {len(data.accounts)} 个账户")
        if selected is not None:
            self._select(selected.id)
        self._update_actions()

    def _select(self, account_id: int) -> None:
        for row, account in enumerate(self.model.rows()):
            if account.id == account_id:
                self.view.selectRow(row)

    def _update_actions(self) -> None:
        account = self.selected()
        for action in (self.edit_action, self.reset_action):
            action.setEnabled(account is not None)
        self.unlock_action.setEnabled(account is not None and account.is_locked(now()))


class AccountDialog(FormDialog):
    """Create or edit one account; a new account gets an initial password."""

    def __init__(self, ctx: UiContext, villages: list[VillageInfo], *, account: AccountInfo | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(ctx, "编辑账户" if account else "新建账户", parent)
        self.account = account
        self.username = self.add_field("用户名", "username", QLineEdit())
        self.display_name = self.add_field("姓名", "display_name", QLineEdit())
        self.role = self.add_field("角色", "role", QComboBox())
        for role in Role:
            self.role.addItem(role.label, role)
        self.villages = self.add_field("负责村", "village_ids", self._village_list(villages))
        self.active = self.add_field("启用", "active", QCheckBox("允许该账户登录"))
        self.password: QLineEdit | None = None
        self.confirm: QLineEdit | None = None
        if account is None:
            self.password = self.add_field("初始密码", "initial_password", password_edit())
            self.confirm = self.add_field("确认密码", "confirm_password", password_edit())
            self.form.addRow("", hint_label(PASSWORD_HINT + "；首次登录时须修改。"))
        self._fill(account)
        self.role.currentIndexChanged.connect(self._role_changed)
        self._role_changed()
        self.finish()

    def _village_list(self, villages: list[VillageInfo]) -> QListWidget:
        widget = QListWidget()
        widget.setMaximumHeight(150)
        for village in villages:
            item = QListWidgetItem(f"{village.code} {village.name}")
            item.setData(Qt.ItemDataRole.UserRole, village.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            widget.addItem(item)
        return widget

    def _fill(self, account: AccountInfo | None) -> None:
        self.active.setChecked(account.active if account else True)
        if account is None:
            self.role.setCurrentIndex(self.role.findData(Role.FAMILY_DOCTOR))
            return
        self.username.setText(account.username)
        self.display_name.setText(account.display_name)
        self.role.setCurrentIndex(self.role.findData(account.role))
        self.set_village_ids(account.village_ids)

    def set_village_ids(self, village_ids: tuple[int, ...]) -> None:
        """Tick exactly these villages."""
        for row in range(self.villages.count()):
            item = self.villages.item(row)
            ticked = item.data(Qt.ItemDataRole.UserRole) in village_ids
            item.setCheckState(Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked)

    def village_ids(self) -> tuple[int, ...]:
        """The ticked villages (only a village doctor covers villages)."""
        if self.chosen_role() is not Role.VILLAGE_DOCTOR:
            return ()
        items = (self.villages.item(row) for row in range(self.villages.count()))
        ticked = (item for item in items if item.checkState() == Qt.CheckState.Checked)
        return tuple(item.data(Qt.ItemDataRole.UserRole) for item in ticked)

    def chosen_role(self) -> Role:
        """The role picked in the combo (Qt hands the StrEnum back as plain text)."""
        return Role(self.role.currentData())

    def _role_changed(self) -> None:
        self.villages.setEnabled(self.chosen_role() is Role.VILLAGE_DOCTOR)

    def data(self) -> AccountInput:
        """The account as entered."""
        return AccountInput(username=self.username.text().strip(), display_name=self.display_name.text(),
                            role=self.chosen_role(), village_ids=self.village_ids(),
                            active=self.active.isChecked())

    def submit(self) -> Work:
        """Create or update through the accounts service."""
        ctx, data = self.ctx, self.data()
        if self.account is not None:
            account_id = self.account.id
            return lambda: account_service.update_account(ctx.db, ctx.actor, account_id, data)
        assert self.password is not None and self.confirm is not None
        password = self.password.text()
        combine_errors({"confirm_password": MISMATCH} if password != self.confirm.text() else {})
        return lambda: account_service.create_account(ctx.db, ctx.actor, data, password)


class ResetPasswordDialog(FormDialog):
    """Give an account a new initial password (to be changed at its next sign-in)."""

    def __init__(self, ctx: UiContext, account: AccountInfo, parent: QWidget | None = None) -> None:
        super().__init__(ctx, "重置密码", parent)
        self.account = account
        self.form.addRow("账户", QLabel(f"{account.username}（{account.display_name}）"))
        self.password = self.add_field("新初始密码", "initial_password", password_edit())
        self.confirm = self.add_field("确认密码", "confirm_password", password_edit())
        self.form.addRow("", hint_label(PASSWORD_HINT + "；该账户下次登录时须修改，锁定同时解除。"))
        self.finish()

    def submit(self) -> Work:
        """Reset through the accounts service."""
        ctx, account_id, password = self.ctx, self.account.id, self.password.text()
        combine_errors({"confirm_password": MISMATCH} if password != self.confirm.text() else {})
        return lambda: account_service.reset_password(ctx.db, ctx.actor, account_id, password)
