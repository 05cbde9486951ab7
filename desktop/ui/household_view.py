"""户: a resident's household with its members (head first) and the household actions.

新建户 makes the resident the head of a new household; 加入户 finds a household by searching
one of its members; 移出户 and 设为户主 act on the member selected in the table.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.changes import Changes
from desktop.db import Database
from desktop.errors import UserFacingError, ValidationError
from desktop.rules.population import HEAD_OF_HOUSEHOLD, RELATIONS, SEX_LABELS, ResidentStatus
from desktop.services.households import (
    HouseholdView,
    Member,
    household_of,
    join_household,
    leave_household,
    set_head,
    start_household,
)
from desktop.services.permissions import Actor, Permission
from desktop.services.resident_query import ResidentRow, search
from desktop.ui.context import UiContext
from desktop.ui.errors import show_error
from desktop.ui.form_dialog import Work, hint_label
from desktop.ui.forms import combo
from desktop.ui.resident_form import ResidentDialog
from desktop.ui.tables import Column, RowTableModel, fit_columns, make_table, selected_row

SEARCH_DELAY_MS = 200
NOT_IN_HOUSEHOLD = "该居民尚未入户。可“新建户”（本人为户主），或“加入户”加入已有的户。"

MEMBER_COLUMNS = (
    Column("姓名", lambda m: m.name),
    Column("与户主关系", lambda m: m.relation_label),
    Column("性别", lambda m: SEX_LABELS.get(m.sex, m.sex)),
    Column("出生日期", lambda m: f"{m.birth_date:%Y-%m-%d}", key=lambda m: m.birth_date),
    Column("身份证号", lambda m: m.id_number),
    Column("状态", lambda m: ResidentStatus(m.status).label),
    Column("档案编号", lambda m: m.record_no),
)

FOUND_COLUMNS = (
    Column("姓名", lambda r: r.name),
    Column("性别", lambda r: SEX_LABELS.get(r.sex, r.sex)),
    Column("出生日期", lambda r: f"{r.birth_date:%Y-%m-%d}"),
    Column("所属村", lambda r: r.village_name),
    Column("身份证号", lambda r: r.id_number),
    Column("现住址", lambda r: r.address),
)


def join_household_of(db: Database, actor: Actor, *, resident_id: int, member_id: int, relation: str) -> Changes:
    """Put the resident into the household that `member_id` belongs to (database thread)."""
    household = household_of(db, actor, member_id)
    if household is None:
        raise ValidationError.single("household", "所选居民尚未入户，不能加入。请选该户的其他成员，或先为其新建户。")
    return join_household(db, actor, resident_id=resident_id, household_id=household.id, relation=relation)


class HouseholdDialog(QDialog):
    """The household of one resident, with the actions that change it."""

    def __init__(self, ctx: UiContext, resident: ResidentRow, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.resident = ctx, resident
        self.household: HouseholdView | None = None
        self.join_dialog: JoinHouseholdDialog | None = None
        self.setWindowTitle(f"户 — {resident.name}")
        self.resize(820, 420)
        layout = QVBoxLayout(self)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.model = RowTableModel(MEMBER_COLUMNS, self)
        self.view = make_table(self.model, sortable=False)
        self.view.selectionModel().selectionChanged.connect(self._update_buttons)
        layout.addWidget(self.view, 1)
        self.message = QLabel()
        self.message.setObjectName("fieldError")
        self.message.setWordWrap(True)
        self.message.hide()
        layout.addWidget(self.message)
        layout.addLayout(self._buttons())
        self.refresh()

    def _buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.start_button = self._button(row, "新建户", self.start_new)
        self.join_button = self._button(row, "加入户…", self.join)
        self.leave_button = self._button(row, "移出户", self.leave)
        self.head_button = self._button(row, "设为户主", self.make_head)
        row.addStretch(1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.button(QDialogButtonBox.StandardButton.Close).setText("关闭")
        close.rejected.connect(self.reject)
        row.addWidget(close)
        editable = self.ctx.actor.can(Permission.EDIT_RESIDENTS)
        for button in (self.start_button, self.join_button, self.leave_button, self.head_button):
            button.setVisible(editable)
        return row

    def _button(self, row: QHBoxLayout, text: str, slot: Callable[[], None]) -> QPushButton:
        button = QPushButton(text)
        button.setAutoDefault(False)
        button.clicked.connect(slot)
        row.addWidget(button)
        return button

    def refresh(self) -> None:
        """Load the household (database thread)."""
        ctx, resident_id = self.ctx, self.resident.id
        ctx.tasks.run_db(lambda: household_of(ctx.db, ctx.actor, resident_id), on_success=self._show,
                         on_failure=self._failed, parent=self)

    def _show(self, household: HouseholdView | None) -> None:
        chosen = self.selected()
        self.household = household
        self.model.set_rows(household.members if household else ())
        if household is None:
            self.summary.setText(NOT_IN_HOUSEHOLD)
        else:
            head = next((m.name for m in household.members if m.resident_id == household.head_id), "（未设户主）")
            self.summary.setText(f"{household.village_name} · {household.address or '地址未填'} · 户主：{head} · "
                                 f"共 {len(household.members)} 人")
            fit_columns(self.view)
        wanted = chosen.resident_id if chosen else self.resident.id
        for row, member in enumerate(self.model.rows()):
            if member.resident_id == wanted:
                self.view.selectRow(row)
        self._update_buttons()

    def selected(self) -> Member | None:
        return selected_row(self.view)

    def _update_buttons(self) -> None:
        member, household = self.selected(), self.household
        self.leave_button.setEnabled(member is not None)
        self.head_button.setEnabled(member is not None and household is not None
                                    and member.resident_id != household.head_id)

    def _run(self, work: Callable[[], Changes], done: str) -> None:
        self.message.hide()
        self.ctx.tasks.run_db(work, on_success=lambda changes: self._changed(changes, done),
                              on_failure=self._failed, parent=self)

    def _changed(self, changes: Changes, done: str) -> None:
        self.ctx.bus.publish(changes)
        self.summary.setText(done)
        self.refresh()

    def _failed(self, error: BaseException) -> None:
        if isinstance(error, UserFacingError):
            self.message.setText(error.message)
            self.message.show()
        else:
            show_error(self, error)

    def start_new(self) -> None:
        """The resident becomes the head of a new household (leaving any other)."""
        ctx, resident_id = self.ctx, self.resident.id
        self._run(lambda: start_household(ctx.db, ctx.actor, resident_id), "已新建户。")

    def join(self) -> JoinHouseholdDialog:
        """Find a household by one of its members and join it."""
        dialog = JoinHouseholdDialog(self.ctx, self.resident, parent=self)
        dialog.accepted.connect(self.refresh)
        self.join_dialog = dialog
        dialog.open()
        return dialog

    def leave(self) -> None:
        """Take the selected member out of the household."""
        member = self.selected()
        if member is not None:
            ctx = self.ctx
            self._run(lambda: leave_household(ctx.db, ctx.actor, member.resident_id), f"{member.name}已移出该户。")

    def make_head(self) -> None:
        """Make the selected member the head of the household."""
        member, household = self.selected(), self.household
        if member is not None and household is not None:
            ctx = self.ctx
            self._run(lambda: set_head(ctx.db, ctx.actor, household_id=household.id, resident_id=member.resident_id),
                      f"户主已改为{member.name}。")


class JoinHouseholdDialog(ResidentDialog):
    """加入户: search a member of the household, choose the relation to its head."""

    def __init__(self, ctx: UiContext, resident: ResidentRow, parent: QWidget | None = None) -> None:
        super().__init__(ctx, f"加入户 — {resident.name}", parent)
        self.resident = resident
        self.setMinimumWidth(720)
        self.query = self.add_field("查找户内成员", "query", QLineEdit())
        self.query.setPlaceholderText("姓名 / 拼音首字母 / 身份证号后4位")
        self.found = RowTableModel(FOUND_COLUMNS, self)
        self.table = self.add_field("选择成员", "household", make_table(self.found, sortable=False))
        self.table.setMinimumHeight(200)
        relations = [("请选择", ""), *((label, code) for code, label in RELATIONS.items() if code != HEAD_OF_HOUSEHOLD)]
        self.relation = self.add_field("与户主关系", "relation_to_head", combo(relations))
        self.form.addRow("", hint_label("同一户的成员应属于同一个村；原来所在的户将自动退出。"))
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(SEARCH_DELAY_MS)
        self.timer.timeout.connect(self.look_up)
        self.query.textChanged.connect(lambda _text: self.timer.start())
        self.finish()

    def look_up(self) -> None:
        """Search residents (database thread), leaving the resident being moved out of the list."""
        ctx, text, own = self.ctx, self.query.text(), self.resident.id
        self.ctx.tasks.run_db(lambda: [r for r in search(ctx.db, ctx.actor, text, limit=30) if r.id != own],
                              on_success=self._found, parent=self)

    def _found(self, rows: list[ResidentRow]) -> None:
        self.found.set_rows(rows)
        if rows:
            self.table.selectRow(0)
            fit_columns(self.table)

    def submit(self) -> Work:
        """Join the chosen member's household with the chosen relation."""
        member: ResidentRow | None = selected_row(self.table)
        relation = self.relation.currentData() or ""
        errors = {}
        if member is None:
            errors["household"] = "请先查找并选中该户的一位成员。"
        if not relation:
            errors["relation_to_head"] = "请选择与户主的关系。"
        if errors or member is None:
            raise ValidationError(errors)
        ctx, resident_id, member_id = self.ctx, self.resident.id, member.id
        return lambda: join_household_of(ctx.db, ctx.actor, resident_id=resident_id, member_id=member_id,
                                         relation=relation)

