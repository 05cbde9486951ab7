"""The sign-in dialog and the forced / voluntary password change."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from desktop import APP_TITLE
from desktop.branch_info import BranchInfo
from desktop.errors import UserFacingError, ValidationError
from desktop.services.permissions import Actor
from desktop.ui.errors import show_error
from desktop.ui.forms import FieldErrors, install_form_keys
from desktop.ui.tasks import TaskManager

if TYPE_CHECKING:  # the ORM is imported only once the database opens, after this dialog shows
    from desktop.db import Database
    from desktop.services.auth import SignIn

Authenticate = Callable[[str, str], "SignIn"]

POLICY_HINT = ("至少 8 位，含大写字母、小写字母、数字、符号中的三类，且不含用户名；\n"
               "不能是常见密码、键盘连续按键，或分院、村、本人姓名的拼音。")


def _password_edit() -> QLineEdit:
    edit = QLineEdit()
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    return edit


class SignInDialog(QDialog):
    """Asks for user name and password; `result_sign_in` holds the outcome once accepted.

    `authenticate(username, password)` runs on the database thread and raises on failure.
    """

    def __init__(self, authenticate: Authenticate, tasks: TaskManager, branch: BranchInfo,
                 *, demo_hint: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.authenticate, self.tasks = authenticate, tasks
        self.result_sign_in: SignIn | None = None
        self.setWindowTitle(f"{APP_TITLE} — 登录")
        self.setMinimumWidth(420)
        layout = QVBoxLayout(self)
        title = QLabel(branch.name)
        title.setObjectName("pageTitle")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(title)
        subtitle = QLabel(f"{APP_TITLE} · {branch.head_hospital_name}医共体")
        subtitle.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(subtitle)
        form = QFormLayout()
        self.username = QLineEdit()
        self.username.setPlaceholderText("用户名")
        self.password = _password_edit()
        self.errors = FieldErrors()
        self.errors.add_row(form, "用户名", "username", self.username)
        self.errors.add_row(form, "密码", "password", self.password)
        layout.addLayout(form)
        layout.addWidget(self.errors.general)
        self.demo_hint = QLabel()
        self.demo_hint.setObjectName("demoHint")
        self.demo_hint.setWordWrap(True)
        self.demo_hint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.demo_hint)
        self.set_demo_hint(demo_hint)
        self.buttons = QDialogButtonBox()
        self.sign_in_button = self.buttons.addButton("登录", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton("退出", QDialogButtonBox.ButtonRole.RejectRole)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.password.returnPressed.connect(self.submit)
        self.username.returnPressed.connect(self.password.setFocus)
        self.username.setFocus()

    def set_demo_hint(self, text: str) -> None:
        """Show the demo accounts (a demo branch only)."""
        self.demo_hint.setText(text)
        self.demo_hint.setVisible(bool(text))

    def submit(self) -> None:
        """Check the credentials in the background; stay open with a message on failure."""
        username, password = self.username.text().strip(), self.password.text()
        if not username:
            self.errors.show({"username": "请输入用户名。"})
            return
        self.errors.clear()
        self.sign_in_button.setEnabled(False)
        self.tasks.run_db(lambda: self.authenticate(username, password),
                          on_success=self._signed_in, on_failure=self._failed, parent=self)

    def _signed_in(self, result: SignIn) -> None:
        self.sign_in_button.setEnabled(True)
        self.result_sign_in = result
        self.accept()

    def _failed(self, error: BaseException) -> None:
        self.sign_in_button.setEnabled(True)
        if not isinstance(error, UserFacingError):
            show_error(self, error)
            return
        self.password.clear()
        self.errors.general.setText(error.message)
        self.errors.general.show()
        self.password.setFocus()


class ChangePasswordDialog(QDialog):
    """Change one's own password; `forced` after an initial password (cannot be skipped)."""

    def __init__(self, db: Database, tasks: TaskManager, actor: Actor,
                 *, forced: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db, self.tasks, self.actor = db, tasks, actor
        self.setWindowTitle("修改密码")
        self.setMinimumWidth(440)
        layout = QVBoxLayout(self)
        if forced:
            notice = QLabel("您正在使用初始密码，请先设置自己的新密码。")
            notice.setWordWrap(True)
            layout.addWidget(notice)
        form = QFormLayout()
        self.old_password, self.new_password, self.confirm = _password_edit(), _password_edit(), _password_edit()
        self.errors = FieldErrors()
        self.errors.add_row(form, "原密码", "old_password", self.old_password)
        self.errors.add_row(form, "新密码", "new_password", self.new_password)
        self.errors.add_row(form, "确认新密码", "confirm", self.confirm)
        layout.addLayout(form)
        hint = QLabel(POLICY_HINT)
        hint.setWordWrap(True)
        layout.addWidget(hint)
        layout.addWidget(self.errors.general)
        buttons = QDialogButtonBox()
        self.save_button = buttons.addButton("保存", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton("退出登录" if forced else "取消", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        install_form_keys(self, save=self.save, fields=[self.old_password, self.new_password])
        self.confirm.returnPressed.connect(self.save)

    def save(self) -> None:
        """Validate the confirmation locally; the policy is checked by the service."""
        old, new = self.old_password.text(), self.new_password.text()
        if new != self.confirm.text():
            self.errors.show({"confirm": "两次输入的新密码不一致。"})
            return
        self.errors.clear()
        self.save_button.setEnabled(False)
        from desktop.services.auth import change_password

        self.tasks.run_db(lambda: change_password(self.db, self.actor, old, new),
                          on_success=lambda _: self.accept(), on_failure=self._failed, parent=self)

    def _failed(self, error: BaseException) -> None:
        self.save_button.setEnabled(True)
        if isinstance(error, ValidationError):
            self.errors.show_validation(error)
        else:
            show_error(self, error)
