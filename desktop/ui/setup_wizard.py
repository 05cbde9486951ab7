"""First-run setup: a new branch (codes, names, villages, the first admin) or a demo branch."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TypeVar

from PySide6.QtGui import QFont, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from desktop import APP_TITLE
from desktop.db import Database
from desktop.demo import DemoResult, build_demo
from desktop.errors import UserFacingError, ValidationError
from desktop.rules.codes import county_code_problem, normalise_code, township_code_problem
from desktop.services.branch import BranchInfo, BranchSetup, VillageInput, setup_branch, validate_village
from desktop.ui.errors import show_error
from desktop.ui.forms import FieldErrors
from desktop.ui.recovery import print_recovery_key
from desktop.ui.sign_in import POLICY_HINT
from desktop.ui.tasks import TaskManager

T = TypeVar("T")
SETUP_LABEL = "正在创建分院……"
DEMO_LABEL = "正在创建演示分院……"
WAIT_BUTTONS = (QWizard.WizardButton.BackButton, QWizard.WizardButton.NextButton,
                QWizard.WizardButton.FinishButton, QWizard.WizardButton.CancelButton)


class ChoicePage(QWizardPage):
    """New branch, or a demo to try the app."""

    def __init__(self) -> None:
        super().__init__()
        self.setTitle(f"欢迎使用{APP_TITLE}")
        self.setSubTitle("这台电脑上还没有分院数据。请选择：")
        layout = QVBoxLayout(self)
        self.new_branch = QRadioButton("设置本分院（正式使用）")
        self.demo = QRadioButton("创建演示分院（试用，数据均为虚构）")
        self.new_branch.setChecked(True)
        layout.addWidget(self.new_branch)
        layout.addWidget(self.demo)
        layout.addStretch(1)

    def nextId(self) -> int:  # noqa: N802 - Qt override
        return -1 if self.demo.isChecked() else SetupWizard.BRANCH


class BranchPage(QWizardPage):
    """Codes and names of the branch."""

    def __init__(self) -> None:
        super().__init__()
        self.setTitle("分院信息")
        self.setSubTitle("县（区）代码和乡镇代码构成健康档案编号的前 9 位，设置后不能修改。")
        form = QFormLayout(self)
        self.errors = FieldErrors()
        self.county_code, self.township_code = QLineEdit(), QLineEdit()
        self.county_code.setPlaceholderText("6 位，如 341522")
        self.township_code.setPlaceholderText("3 位，如 106")
        self.name, self.head_hospital = QLineEdit(), QLineEdit()
        self.name.setPlaceholderText("如 青山镇卫生院")
        self.head_hospital.setPlaceholderText("如 青山县人民医院")
        for label, field, widget in (
            ("县（区）代码", "county_code", self.county_code),
            ("乡镇代码", "township_code", self.township_code),
            ("分院名称", "name", self.name),
            ("总院名称", "head_hospital_name", self.head_hospital),
        ):
            self.errors.add_row(form, label, field, widget)
        form.addRow(self.errors.general)

    def validatePage(self) -> bool:  # noqa: N802 - Qt override
        errors = {}
        for field, problem in (
            ("county_code", county_code_problem(normalise_code(self.county_code.text()))),
            ("township_code", township_code_problem(normalise_code(self.township_code.text()))),
            ("name", None if self.name.text().strip() else "请填写分院（乡镇卫生院）名称。"),
            ("head_hospital_name", None if self.head_hospital.text().strip() else "请填写总院（牵头医院）名称。"),
        ):
            if problem:
                errors[field] = problem
        self.errors.show(errors)
        return not errors


class VillagesPage(QWizardPage):
    """The villages (村/居委会) with their codes and clinics; more can be added later."""

    COLUMNS = ("代码", "村（居）名称", "村卫生室名称")

    def __init__(self) -> None:
        super().__init__()
        self.setTitle("村（居）委会与村卫生室")
        self.setSubTitle("代码：居委会 001–099，村委会 101–199，其他 901–999。以后也可在“分院与村”中增加。")
        layout = QVBoxLayout(self)
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        layout.addWidget(self.table)
        buttons = QHBoxLayout()
        add, remove = QPushButton("添加一行"), QPushButton("删除所选行")
        add.clicked.connect(self.add_row)
        remove.clicked.connect(lambda: self.table.removeRow(self.table.currentRow()))
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.error = QLabel()
        self.error.setObjectName("fieldError")
        layout.addWidget(self.error)
        self.add_row()

    def add_row(self) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        self.table.setItem(row, 0, QTableWidgetItem(f"{101 + row:03d}"))
        self.table.setCurrentCell(row, 1)

    def villages(self) -> tuple[VillageInput, ...]:
        """Rows with any text, as inputs."""
        found = []
        for row in range(self.table.rowCount()):
            cells = [self.table.item(row, c).text().strip() if self.table.item(row, c) else "" for c in range(3)]
            if cells[1] or cells[2]:
                found.append(VillageInput(*cells))
        return tuple(found)

    def validatePage(self) -> bool:  # noqa: N802 - Qt override
        for row, village in enumerate(self.villages(), start=1):
            problems = validate_village(village)
            if problems:
                self.error.setText(f"第 {row} 行：" + "；".join(problems.values()))
                return False
        self.error.clear()
        return True


class AdminPage(QWizardPage):
    """The first administrator account."""

    def __init__(self) -> None:
        super().__init__()
        self.setTitle("系统管理员")
        self.setSubTitle("管理员负责建立其他人员的账户。首次登录时须修改这里设置的初始密码。")
        form = QFormLayout(self)
        self.errors = FieldErrors()
        self.username, self.display_name = QLineEdit("admin"), QLineEdit()
        self.password, self.confirm = QLineEdit(), QLineEdit()
        for edit in (self.password, self.confirm):
            edit.setEchoMode(QLineEdit.EchoMode.Password)
        for label, field, widget in (
            ("用户名", "admin_username", self.username),
            ("姓名", "admin_display_name", self.display_name),
            ("初始密码", "admin_password", self.password),
            ("确认密码", "confirm", self.confirm),
        ):
            self.errors.add_row(form, label, field, widget)
        form.addRow(QLabel(POLICY_HINT))
        form.addRow(self.errors.general)

    def validatePage(self) -> bool:  # noqa: N802 - Qt override
        if self.password.text() != self.confirm.text():
            self.errors.show({"confirm": "两次输入的密码不一致。"})
            return False
        wizard: SetupWizard = self.wizard()  # type: ignore[assignment]
        return wizard.finish_setup()

    def nextId(self) -> int:  # noqa: N802 - Qt override
        wizard: SetupWizard = self.wizard()  # type: ignore[assignment]
        return SetupWizard.RECOVERY_KEY if wizard.db.secrets.pending_recovery_key else -1


class RecoveryKeyPage(QWizardPage):
    """The recovery key, shown once: copy or write it down, and say so before finishing."""

    def __init__(self) -> None:
        super().__init__()
        self.setTitle("恢复密钥（请抄写或打印并妥善保管）")
        self.setSubTitle("数据库和备份已加密。本机密钥文件丢失、重装系统或换电脑时，只有用恢复密钥才能打开备份。"
                         "恢复密钥只显示这一次，不要存放在本电脑上。")
        layout = QVBoxLayout(self)
        self.key = QLineEdit()
        self.key.setReadOnly(True)
        font = QFont(self.key.font())
        font.setPointSize(font.pointSize() + 2)
        font.setStyleHint(QFont.StyleHint.Monospace)
        self.key.setFont(font)
        copy = QPushButton("复制恢复密钥")
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.key.text()))
        self.print_button = QPushButton("打印…")
        self.print_button.clicked.connect(self.print_key)
        layout.addWidget(self.key)
        row = QHBoxLayout()
        row.addWidget(copy)
        row.addWidget(self.print_button)
        row.addStretch(1)
        layout.addLayout(row)
        hint = QLabel("请把这 8 组数字抄写在纸上（或打印），交院长或管理员锁柜保管。"
                      "本机密钥文件丢失时，打开程序会提示选择备份并输入恢复密钥；换电脑时请系统管理员用恢复密钥恢复备份。")
        hint.setWordWrap(True)
        layout.addWidget(hint)
        self.written_down = QCheckBox("我已抄写（或打印）并妥善保管恢复密钥")
        self.written_down.toggled.connect(self.completeChanged)
        layout.addWidget(self.written_down)
        layout.addStretch(1)

    def initializePage(self) -> None:  # noqa: N802 - Qt override
        wizard: SetupWizard = self.wizard()  # type: ignore[assignment]
        self.key.setText(wizard.db.secrets.pending_recovery_key or "")
        self.key.setCursorPosition(0)

    def print_key(self) -> None:
        wizard: SetupWizard = self.wizard()  # type: ignore[assignment]
        print_recovery_key(self, self.key.text(), wizard.branch.name if wizard.branch else "")

    def isComplete(self) -> bool:  # noqa: N802 - Qt override
        return self.written_down.isChecked()


class SetupWizard(QWizard):
    """Creates the branch. `branch` (and for a demo `demo`) are set once it succeeded."""

    CHOICE, BRANCH, VILLAGES, ADMIN, RECOVERY_KEY = range(5)

    def __init__(self, db: Database, tasks: TaskManager, parent: QWidget | None = None,
                 recovery_key_shown: Callable[[], None] | None = None) -> None:
        super().__init__(parent)
        self.db, self.tasks = db, tasks
        self.recovery_key_shown = recovery_key_shown
        self.branch: BranchInfo | None = None
        self.demo: DemoResult | None = None
        self.setWindowTitle(f"{APP_TITLE} — 初始设置")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setMinimumSize(640, 460)
        self.choice, self.branch_page = ChoicePage(), BranchPage()
        self.villages_page, self.admin_page = VillagesPage(), AdminPage()
        self.recovery_page = RecoveryKeyPage()
        self.admin_page.setCommitPage(True)  # the branch exists once this page is left: no way back
        pages = (self.choice, self.branch_page, self.villages_page, self.admin_page, self.recovery_page)
        for page_id, page in enumerate(pages):
            self.setPage(page_id, page)
        for button, text in ((QWizard.WizardButton.NextButton, "下一步 >"), (QWizard.WizardButton.BackButton, "< 上一步"),
                             (QWizard.WizardButton.CommitButton, "下一步 >"),
                             (QWizard.WizardButton.FinishButton, "完成"), (QWizard.WizardButton.CancelButton, "取消")):
            self.setButtonText(button, text)

    def setup_input(self) -> BranchSetup:
        page, admin = self.branch_page, self.admin_page
        return BranchSetup(
            county_code=page.county_code.text(), township_code=page.township_code.text(),
            name=page.name.text(), head_hospital_name=page.head_hospital.text(),
            admin_username=admin.username.text(), admin_display_name=admin.display_name.text(),
            admin_password=admin.password.text(), villages=self.villages_page.villages(),
        )

    def finish_setup(self) -> bool:
        """Create the branch on the database thread (the wizard waits, still painting); mark fields on an error."""
        setup = self.setup_input()
        try:
            self.branch = self._wait(lambda: self.tasks.run_db_and_wait(
                lambda: setup_branch(self.db, setup), label=SETUP_LABEL, parent=self))
        except ValidationError as error:
            self._show_errors(error)
            return False
        except UserFacingError as error:
            show_error(self, error)
            return False
        return True

    def _show_errors(self, error: ValidationError) -> None:
        branch_fields = {"county_code", "township_code", "name", "head_hospital_name"}
        if branch_fields & error.errors.keys():
            self.admin_page.errors.show({"general": "分院信息有误，请返回修改：" + "；".join(
                m for f, m in error.errors.items() if f in branch_fields)})
        else:
            self.admin_page.errors.show(error.errors)

    def accept(self) -> None:
        if self.choice.demo.isChecked():
            try:
                self.demo = self._wait(lambda: self.tasks.run_job_and_wait(
                    partial(build_demo, self.db), label=DEMO_LABEL, parent=self))
            except UserFacingError as error:
                show_error(self, error)
                return
        if self.currentId() == self.RECOVERY_KEY and self.recovery_key_shown is not None:
            self.tasks.run_db_and_wait(self.recovery_key_shown, label=None, parent=self)
        super().accept()

    def _wait(self, work: Callable[[], T]) -> T:
        """Run a waiting step with the wizard's buttons off, so a second click cannot start it twice."""
        buttons = [self.button(which) for which in WAIT_BUTTONS]
        enabled = [button.isEnabled() for button in buttons]
        for button in buttons:
            button.setEnabled(False)
        try:
            return work()
        finally:
            for button, was in zip(buttons, enabled, strict=True):
                button.setEnabled(was)
