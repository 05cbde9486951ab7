"""分院与村: the branch card, its villages and clinics, its staff, the idle-lock setting and the follow-up rules."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.changes import Changes
from desktop.errors import ValidationError
from desktop.rules.followup import Disease, FollowupRules
from desktop.services import branch as branch_service
from desktop.services import settings as settings_service
from desktop.services.branch import StaffInfo, VillageInfo, VillageInput
from desktop.services.permissions import Permission
from desktop.ui.context import UiContext
from desktop.ui.errors import show_error
from desktop.ui.followup_rules_dialog import FollowupRulesDialog, rules_summary
from desktop.ui.form_dialog import FormDialog, Work, combine_errors, hint_label
from desktop.ui.forms import FieldErrors
from desktop.ui.indicator_rules_dialog import IndicatorRulesDialog
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

VILLAGE_COLUMNS = (
    Column("代码", lambda v: v.code),
    Column("村名", lambda v: v.name),
    Column("村卫生室", lambda v: "、".join(v.clinic_names)),
)
STAFF_COLUMNS = (
    Column("姓名", lambda s: s.name),
    Column("岗位", lambda s: s.post),
    Column("职称", lambda s: s.title),
    Column("派驻类别", lambda s: s.deployment),
    Column("所在卫生室", lambda s: s.clinic_name or "本院"),
)


@dataclass(frozen=True)
class BranchData:
    """What the page loads in one background call."""

    villages: list[VillageInfo]
    staff: list[StaffInfo]
    idle_minutes: int
    rules: FollowupRules
    prevalence: dict[Disease, float]


def load_branch_data(ctx: UiContext) -> BranchData:
    """Villages, staff, the idle-lock minutes and the follow-up rules (runs on the database thread)."""
    minutes = int(settings_service.get_setting(ctx.db, settings_service.IDLE_LOCK_MINUTES))
    return BranchData(branch_service.list_villages(ctx.db), branch_service.list_staff(ctx.db), minutes,
                      settings_service.followup_rules(ctx.db), settings_service.prevalence(ctx.db))


def _selectable(text: str) -> QLabel:
    label = QLabel(text)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class BranchPage(Page):
    """Everyone may look; the admin adds and renames villages and sets the idle lock."""

    title = "分院与村"

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.can_manage = ctx.actor.can(Permission.MANAGE_BRANCH)
        self.dialog: VillageDialog | FollowupRulesDialog | None = None
        self.data: BranchData | None = None
        self.add_action = page_action(self, "新增村", self.add_village, shortcut="Ctrl+N")
        self.rename_action = page_action(self, "改名", self.rename_village)
        for action in (self.add_action, self.rename_action):
            action.setVisible(self.can_manage)
        top = QHBoxLayout()
        top.addWidget(self._branch_card(), 3)
        self.idle_box = self._idle_box()
        self.idle_box.setVisible(self.can_manage)
        top.addWidget(self.idle_box, 2)
        top.addWidget(self._rules_box(), 2)
        self.body.addLayout(top)
        tables = QHBoxLayout()
        tables.addWidget(self._villages_box(), 2)
        tables.addWidget(self._staff_box(), 3)
        self.body.addLayout(tables, 1)
        self._loaded = False
        self._update_actions()

    def _branch_card(self) -> QGroupBox:
        branch = self.ctx.branch
        box = QGroupBox("分院信息")
        form = QFormLayout(box)
        for label, value in (
            ("分院名称", branch.name + ("（演示数据）" if branch.is_demo else "")),
            ("县区代码", branch.county_code),
            ("乡镇代码", branch.township_code),
            ("档案编号前缀", branch.record_prefix),
            ("总院", branch.head_hospital_name),
            ("站点编号", branch.site_id),
        ):
            form.addRow(label, _selectable(value))
        return box

    def _idle_box(self) -> QGroupBox:
        box = QGroupBox("空闲锁屏")
        layout = QVBoxLayout(box)
        form = QFormLayout()
        self.idle_errors = FieldErrors()
        self.idle_minutes = QSpinBox()
        self.idle_minutes.setRange(1, 120)
        self.idle_minutes.setSuffix(" 分钟")
        self.idle_save = QPushButton("保存")
        self.idle_save.clicked.connect(self.save_idle_minutes)
        row = QWidget()
        row_layout = QHBoxLayout(row)
        row_layout.setContentsMargins(0, 0, 0, 0)
        row_layout.addWidget(self.idle_minutes)
        row_layout.addWidget(self.idle_save)
        row_layout.addStretch(1)
        self.idle_errors.add_row(form, "无操作", settings_service.IDLE_LOCK_MINUTES, row)
        layout.addLayout(form)
        layout.addWidget(hint_label("窗口无人操作超过该时间后自动锁定，须重新输入密码（1–120 分钟）。"))
        layout.addStretch(1)
        return box

    def _rules_box(self) -> QGroupBox:
        box = QGroupBox("随访规则与患病率")
        layout = QVBoxLayout(box)
        self.rules_text = _selectable("")
        self.rules_text.setWordWrap(True)
        self.rules_button = QPushButton("修改随访规则…")
        self.rules_button.setVisible(self.can_manage)
        self.rules_button.setEnabled(False)
        self.rules_button.clicked.connect(self.edit_rules)
        layout.addWidget(self.rules_text)
        layout.addWidget(hint_label("控制目标、紧急转诊阈值、随访间隔和患病率可按本省（县）要求调整。"))
        layout.addWidget(self.rules_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.indicator_rules_button = QPushButton("修改指标统计规则…")
        self.indicator_rules_button.setVisible(self.can_manage)
        self.indicator_rules_button.clicked.connect(self.edit_indicator_rules)
        layout.addWidget(self.indicator_rules_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(1)
        return box

    def _villages_box(self) -> QGroupBox:
        box = QGroupBox("村（居）委会")
        layout = QVBoxLayout(box)
        self.village_model = RowTableModel(VILLAGE_COLUMNS, self)
        actions = [self.add_action, self.rename_action]
        self.village_view = make_table(self.village_model, actions=actions,
                                       on_open=self.rename_village if self.can_manage else None)
        self.village_view.selectionModel().selectionChanged.connect(self._update_actions)
        self.village_count = QLabel("共 0 个村")
        layout.addWidget(self.village_view, 1)
        layout.addWidget(self.village_count)
        return box

    def _staff_box(self) -> QGroupBox:
        box = QGroupBox("在岗人员")
        layout = QVBoxLayout(box)
        self.staff_model = RowTableModel(STAFF_COLUMNS, self)
        self.staff_view = make_table(self.staff_model)
        self.staff_count = QLabel("共 0 人")
        layout.addWidget(self.staff_view, 1)
        layout.addWidget(self.staff_count)
        return box

    def activated(self) -> None:
        """Load on first view; later refreshes come through `on_changes`."""
        if not self._loaded:
            self.refresh()

    def on_changes(self, changes: Changes) -> None:
        if changes.branch or changes.settings or changes.sync:
            self.refresh()

    def refresh(self) -> None:
        """Reload villages, staff and the idle-lock setting in the background."""
        self.ctx.tasks.run_db(lambda: load_branch_data(self.ctx), on_success=self._show, parent=self)

    def _show(self, data: BranchData) -> None:
        self.village_model.set_rows(data.villages)
        self.staff_model.set_rows(data.staff)
        self.idle_minutes.setValue(data.idle_minutes)
        self.data = data
        self.rules_text.setText(rules_summary(data.rules, data.prevalence))
        self.rules_button.setEnabled(True)
        if not self._loaded:
            fit_columns(self.village_view)
            fit_columns(self.staff_view)
        self._loaded = True
        self.village_count.setText(f"共 {len(data.villages)} 个村")
        self.staff_count.setText(f"共 {len(data.staff)} 人")
        self._update_actions()

    def _update_actions(self) -> None:
        self.rename_action.setEnabled(self.selected_village() is not None)

    def selected_village(self) -> VillageInfo | None:
        """The village selected in the table."""
        return selected_row(self.village_view)

    def add_village(self) -> VillageDialog | None:
        """Open the dialog for a new village (admin only)."""
        return self._open(VillageDialog(self.ctx, parent=self)) if self.can_manage else None

    def rename_village(self) -> VillageDialog | None:
        """Open the selected village to correct its name (admin only)."""
        village = self.selected_village()
        if village is None or not self.can_manage:
            return None
        return self._open(VillageDialog(self.ctx, village=village, parent=self))

    def edit_rules(self) -> FollowupRulesDialog | None:
        """Open the follow-up rules and prevalence (admin only, once the page has loaded)."""
        if self.data is None or not self.can_manage:
            return None
        return self._open(FollowupRulesDialog(self.ctx, self.data.rules, self.data.prevalence, parent=self))

    def edit_indicator_rules(self) -> None:
        """Load the indicator counting rules, then open them (admin only)."""
        if self.can_manage:
            self.ctx.tasks.run_db(lambda: settings_service.indicator_rules(self.ctx.db), parent=self,
                                  on_success=lambda rules: self._open(IndicatorRulesDialog(self.ctx, rules, parent=self)))

    def _open(self, dialog: VillageDialog | FollowupRulesDialog) -> VillageDialog | FollowupRulesDialog:
        self.dialog = dialog
        dialog.accepted.connect(lambda: notify(self, f"{dialog.windowTitle()}：已保存。"))
        dialog.open()
        return dialog

    def save_idle_minutes(self) -> None:
        """Store the idle-lock minutes through the settings service."""
        ctx, minutes = self.ctx, self.idle_minutes.value()
        self.idle_errors.clear()
        ctx.tasks.run_db(lambda: settings_service.set_idle_lock_minutes(ctx.db, ctx.actor, minutes),
                         on_success=self._idle_saved, on_failure=self._idle_failed, parent=self)

    def _idle_saved(self, changes: Changes) -> None:
        self.ctx.bus.publish(changes)
        notify(self, "空闲锁屏时间已保存。")

    def _idle_failed(self, error: BaseException) -> None:
        if isinstance(error, ValidationError):
            self.idle_errors.show_validation(error)
        else:
            show_error(self, error)


class VillageDialog(FormDialog):
    """Add a village with its clinic, or correct a village's name (its code never changes)."""

    def __init__(
        self, ctx: UiContext, *, village: VillageInfo | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(ctx, "村改名" if village else "新增村", parent)
        self.village = village
        self.code = self.add_field("村代码", "code", QLineEdit())
        self.code.setPlaceholderText("3 位数字，如 113")
        self.code.setMaxLength(3)
        self.name = self.add_field("村名", "name", QLineEdit())
        self.clinic = self.add_field("村卫生室", "clinic_name", QLineEdit())
        if village is None:
            self.form.addRow("", hint_label("居委会 001–099，村委会 101–199，其他 901–999；代码写入档案编号，保存后不能修改。"))
            self.clinic.setPlaceholderText("如：柳树村卫生室")
        else:
            self.code.setText(village.code)
            self.name.setText(village.name)
            self.clinic.setText("、".join(village.clinic_names))
            self.code.setEnabled(False)
            self.clinic.setEnabled(False)
        self.finish()

    def submit(self) -> Work:
        """Add or rename through the branch service."""
        ctx = self.ctx
        if self.village is not None:
            village_id, name = self.village.id, self.name.text()
            combine_errors({} if name.strip() else {"name": "请填写村名。"})
            return lambda: branch_service.rename_village(ctx.db, ctx.actor, village_id, name)
        data = VillageInput(self.code.text(), self.name.text(), self.clinic.text())
        combine_errors(branch_service.validate_village(data))
        return lambda: branch_service.add_village(ctx.db, ctx.actor, data)
