"""慢病管理 for one resident: enrolments, the visit history per disease, health checks.

Opened from the residents page (慢病/随访), the home page and the indicators' drill-down.
Every list reloads when a write anywhere touches follow-ups or residents.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.changes import Changes
from desktop.clock import now
from desktop.errors import ValidationError
from desktop.rules.dates import DateError, parse_date
from desktop.rules.followup import DEFAULT_RULES, Classification, Disease, FollowupRules, VisitMethod
from desktop.services.branch import StaffInfo, list_staff
from desktop.services.chronic import END_REASONS, EnrolmentInput, end_enrolment, enrol
from desktop.services.chronic_query import CheckRow, ChronicRecord, EnrolmentRow, VisitRow, chronic_record
from desktop.services.permissions import Permission
from desktop.services.settings import followup_rules
from desktop.ui.context import UiContext
from desktop.ui.form_dialog import FormDialog, Work
from desktop.ui.forms import combo, date_edit
from desktop.ui.record_view import CHECK, VISIT, RecordActions
from desktop.ui.tables import Column, RowTableModel, make_table, selected_row
from desktop.ui.theme import ERROR, MUTED_TEXT

DISEASES = (Disease.HYPERTENSION, Disease.DIABETES)


def _day(value: date | None) -> str:
    return f"{value:%Y-%m-%d}" if value else ""


def _bp(sbp: int | None, dbp: int | None) -> str:
    return f"{sbp}/{dbp}" if sbp is not None and dbp is not None else ""


ENROLMENT_COLUMNS = (
    Column("病种", lambda e: e.disease.label),
    Column("确诊日期", lambda e: _day(e.diagnosed_on)),
    Column("纳入管理日期", lambda e: _day(e.managed_from)),
    Column("责任医生", lambda e: e.doctor_name),
    Column("状态", lambda e: "在管" if e.is_open else f"{_day(e.ended_on)} 终止：{e.end_reason or ''}",
           colour=lambda e: None if e.is_open else MUTED_TEXT),
)
def _classified(chosen: Classification | None, suggested: Classification | None) -> str:
    """The doctor's classification, marked （改） where it differs from the rules' suggestion."""
    if chosen is None:
        return "未分类"
    return chosen.label + ("（改）" if suggested is not None and chosen != suggested else "")


VISIT_COLUMNS = (
    Column("随访日期", lambda v: _day(v.visit_date), key=lambda v: v.visit_date),
    Column("方式", lambda v: VisitMethod(v.method).label),
    Column("血压 mmHg", lambda v: _bp(v.sbp, v.dbp)),
    Column("空腹血糖", lambda v: f"{v.fasting_glucose:g}" if v.fasting_glucose is not None else ""),
    Column("此次随访分类", lambda v: _classified(v.classification, v.suggested)),
    Column("下次随访", lambda v: _day(v.next_visit_date), key=lambda v: v.next_visit_date),
    Column("随访医生", lambda v: v.doctor_name),
    Column("紧急转诊", lambda v: "；".join(v.emergency_reasons), colour=lambda v: ERROR if v.emergency_reasons else None),
)
def _completeness(check: CheckRow) -> str:
    """完整, or 不完整 with what is missing, for a 65+ check; nothing for a younger resident's."""
    if check.missing is None:
        return ""
    return f"不完整（缺：{'、'.join(check.missing)}）" if check.missing else "完整"


def _completeness_tip(check: CheckRow) -> str:
    if check.missing is None:
        return "未满 65 岁，不按老年人健康管理规范核对体检内容"
    if not check.missing:
        return "符合老年人健康管理规范要求的体检内容"
    return f"老年人健康管理规范要求而本次体检缺少：{'、'.join(check.missing)}（更正补录后计为完整）"


CHECK_COLUMNS = (
    Column("体检日期", lambda c: _day(c.check_date), key=lambda c: c.check_date),
    Column("血压 mmHg", lambda c: _bp(c.sbp, c.dbp)),
    Column("BMI", lambda c: f"{c.bmi:.1f}" if c.bmi is not None else ""),
    Column("自理能力评分", lambda c: "" if c.self_care_total is None else f"{c.self_care_total} 分"),
    Column("健康评价", lambda c: {None: "未评价", True: "有异常", False: "体检无异常"}[c.evaluation_abnormal]),
    Column("责任医生", lambda c: c.doctor_name),
    Column("规范内容", lambda c: _completeness(c), tooltip=lambda c: _completeness_tip(c),
           colour=lambda c: ERROR if c.complete is False else None),  # last: the missing parts get the width
)


def _state(row) -> str:
    return "已作废" if row.voided else ("已更正" if row.correction_reason else "")


def _state_tip(row) -> str:
    if row.voided:
        return f"已作废：{row.void_reason}"
    return f"已更正：{row.correction_reason}" if row.correction_reason else ""


def marked(columns: Sequence[Column]) -> tuple[Column, ...]:
    """A 状态 column (已作废 / 已更正) first; a voided row greyed with its reason as every cell's tooltip."""
    def colour(column: Column):
        return lambda row: MUTED_TEXT if row.voided else (column.colour(row) if column.colour else None)

    def tooltip(column: Column):
        return lambda row: _state_tip(row) if row.voided else (column.tooltip or column.text)(row)

    state = Column("状态", _state, tooltip=_state_tip, colour=lambda row: MUTED_TEXT if row.voided else None)
    return (state, *(replace(column, colour=colour(column), tooltip=tooltip(column)) for column in columns))


def open_on_enter(view: QWidget, slot) -> None:
    """Enter on a list opens the selected row (before the dialog's default button takes the key)."""
    for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
        shortcut = QShortcut(QKeySequence(key), view)
        shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
        shortcut.activated.connect(slot)


def print_functions():
    """The preview of registered forms (`show_form_preview`) once printing is available, else None."""
    try:
        from desktop.ui.print_preview import show_form_preview
    except ImportError:
        return None
    return show_form_preview


def _parse(field: str, label: str, text: str) -> date:
    try:
        return parse_date(text)
    except DateError as error:
        raise ValidationError.single(field, f"{label}：{error}") from None


class EnrolDialog(FormDialog):
    """纳入管理: disease, diagnosis date, start of management, responsible doctor."""

    def __init__(self, ctx: UiContext, record: ChronicRecord, staff: list[StaffInfo],
                 parent: QWidget | None = None) -> None:
        super().__init__(ctx, f"纳入慢病管理 — {record.card.name}", parent)
        self.record = record
        open_ones = [d for d in DISEASES if record.open_enrolment(d) is None]
        self.disease = self.add_field("病种", "disease", combo([(d.label, d.value) for d in open_ones]))
        self.diagnosed_on = self.add_field("确诊日期", "diagnosed_on", date_edit())
        self.managed_from = self.add_field("纳入管理日期", "managed_from", date_edit(now().date()))
        doctors = [("未指定", None), *((f"{s.name}（{s.post}）", s.id) for s in staff)]
        self.doctor = self.add_field("责任医生", "responsible_doctor_id", combo(doctors, ctx.actor.staff_id))
        self.finish()

    def submit(self) -> Work:
        if self.disease.currentData() is None:
            raise ValidationError.single("disease", "该居民高血压、2型糖尿病均已在管理中。")
        errors: dict[str, str] = {}
        days = {}
        for field, label, edit in (("diagnosed_on", "确诊日期", self.diagnosed_on),
                                   ("managed_from", "纳入管理日期", self.managed_from)):
            try:
                days[field] = _parse(field, label, edit.text())
            except ValidationError as error:
                errors |= error.errors
        if errors:
            raise ValidationError(errors)
        data = EnrolmentInput(Disease(self.disease.currentData()), days["diagnosed_on"], days["managed_from"],
                              self.doctor.currentData())
        ctx, resident_id = self.ctx, self.record.card.resident_id
        return lambda: enrol(ctx.db, ctx.actor, resident_id, data)


class EndDialog(FormDialog):
    """终止管理 with the date and one of END_REASONS."""

    def __init__(self, ctx: UiContext, enrolment: EnrolmentRow, parent: QWidget | None = None) -> None:
        super().__init__(ctx, f"终止{enrolment.disease.label}管理", parent)
        self.enrolment = enrolment
        self.form.addRow("管理", QLabel(f"{enrolment.disease.label}，{_day(enrolment.managed_from)} 起"))
        self.ended_on = self.add_field("终止日期", "ended_on", date_edit(now().date()))
        self.reason = self.add_field("终止原因", "end_reason", combo([("请选择", ""), *((r, r) for r in END_REASONS)]))
        self.finish()

    def submit(self) -> Work:
        day = _parse("ended_on", "终止日期", self.ended_on.text())
        ctx, enrolment_id, reason = self.ctx, self.enrolment.id, self.reason.currentData()
        return lambda: end_enrolment(ctx.db, ctx.actor, enrolment_id, on=day, reason=reason)


def _group(title: str, table, buttons: list[QWidget], extra: list[QWidget] = ()) -> QGroupBox:
    box = QGroupBox(title)
    layout = QVBoxLayout(box)
    bar = QHBoxLayout()
    for widget in [*extra, *buttons]:
        bar.addWidget(widget)
    bar.addStretch(1)
    layout.addLayout(bar)
    layout.addWidget(table)
    return box


class ChronicPanel(QDialog):
    """One resident's chronic management; opens the enrolment, visit and health-check forms."""

    def __init__(self, ctx: UiContext, resident_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.resident_id = ctx, resident_id
        self.record: ChronicRecord | None = None
        self.staff: list[StaffInfo] = []
        self.rules = DEFAULT_RULES
        self.dialog: QDialog | None = None
        self.setWindowTitle("慢病管理")
        self.resize(1100, 700)
        self.can_edit = ctx.actor.can(Permission.EDIT_FOLLOWUPS)
        layout = QVBoxLayout(self)
        self.header = QLabel("正在加载…")
        self.header.setStyleSheet("font-size: 12pt; font-weight: bold;")
        layout.addWidget(self.header)
        layout.addWidget(self._enrolment_box())
        layout.addWidget(self._visit_box(), 2)
        layout.addWidget(self._check_box(), 1)
        close = QPushButton("关闭")
        close.clicked.connect(self.reject)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(close)
        layout.addLayout(row)
        ctx.bus.changed.connect(self.on_changes)
        self.visit_actions = RecordActions(ctx, self, VISIT, title=self._visit_title,
                                           correction_form=self._visit_correction, shown=self._shown)
        self.check_actions = RecordActions(ctx, self, CHECK, title=self._check_title,
                                           correction_form=self._check_correction, shown=self._shown)
        self.reload()

    def _button(self, text: str, slot, *, edit: bool = True) -> QPushButton:
        button = QPushButton(text)
        button.clicked.connect(slot)
        button.setVisible(self.can_edit or not edit)
        return button

    def _enrolment_box(self) -> QGroupBox:
        self.enrolments = RowTableModel(ENROLMENT_COLUMNS, self)
        self.enrolment_view = make_table(self.enrolments)
        self.enrolment_view.setMaximumHeight(90)
        self.enrol_button = self._button("纳入管理…", self.enrol)
        self.end_button = self._button("终止管理…", self.end_selected)
        return _group("管理情况", self.enrolment_view, [self.enrol_button, self.end_button])

    def _row_actions(self, view_slot, correct_slot, void_slot, history_slot) -> list[QAction]:
        """查看… 更正… 作废… 修改记录 for the selected row (the editing ones only for those who may edit)."""
        actions = []
        for text, slot, edit in (("查看…", view_slot, False), ("更正…", correct_slot, True),
                                 ("作废…", void_slot, True), ("修改记录", history_slot, False)):
            action = QAction(text, self)
            action.triggered.connect(lambda _checked=False, slot=slot: slot())
            action.setVisible(self.can_edit or not edit)
            actions.append(action)
        return actions

    def _visit_box(self) -> QGroupBox:
        self.visits = RowTableModel(marked(VISIT_COLUMNS), self)
        self.visit_menu = self._row_actions(self.view_visit, self.correct_visit, self.void_visit, self.visit_history)
        self.visit_view = make_table(self.visits, actions=self.visit_menu, on_open=self.view_visit)
        open_on_enter(self.visit_view, self.view_visit)
        self.disease = combo([(d.label, d.value) for d in DISEASES])
        self.disease.currentIndexChanged.connect(lambda _i: self._show_visits())
        self.new_visit_button = self._button("新增随访…", self.new_visit)
        self.view_visit_button = self._button("查看…", self.view_visit, edit=False)
        self.print_button = self._button("打印…", self.print_visits, edit=False)
        self.print_button.setVisible(print_functions() is not None)
        self.visit_count = QLabel()
        self.visit_count.setStyleSheet(f"color: {MUTED_TEXT};")
        return _group("随访记录", self.visit_view, [self.new_visit_button, self.view_visit_button, self.print_button,
                                                   self.visit_count],
                      [QLabel("病种"), self.disease])

    def _check_box(self) -> QGroupBox:
        self.checks = RowTableModel(marked(CHECK_COLUMNS), self)
        self.check_menu = self._row_actions(self.view_check, self.correct_check, self.void_check, self.check_history)
        self.check_view = make_table(self.checks, actions=self.check_menu, on_open=self.view_check)
        open_on_enter(self.check_view, self.view_check)
        self.new_check_button = self._button("新增体检…", self.new_check)
        self.view_check_button = self._button("查看…", self.view_check, edit=False)
        self.print_check_button = self._button("打印自理能力评估表…", self.print_self_care, edit=False)
        self.print_check_button.setVisible(print_functions() is not None)
        self.check_hint = QLabel()
        self.check_hint.setStyleSheet(f"color: {MUTED_TEXT};")
        return _group("健康体检", self.check_view, [self.new_check_button, self.view_check_button,
                                                   self.print_check_button, self.check_hint])

    # ----- loading

    def reload(self) -> None:
        ctx, resident_id = self.ctx, self.resident_id
        ctx.tasks.run_db(lambda: (chronic_record(ctx.db, ctx.actor, resident_id), list_staff(ctx.db),
                                  followup_rules(ctx.db)),
                         on_success=self._loaded, parent=self)

    def on_changes(self, changes: Changes) -> None:
        if changes.followups or changes.residents or changes.sync:
            self.reload()

    def _loaded(self, result: tuple[ChronicRecord, list[StaffInfo], FollowupRules]) -> None:
        self.record, self.staff, self.rules = result
        card = self.record.card
        sex = {"1": "男", "2": "女"}.get(card.sex, "")
        self.header.setText(f"{card.name}　{sex}　{card.age(now().date())}岁　{card.record_no}　{card.village_name}")
        self.setWindowTitle(f"慢病管理 — {card.name}")
        self.enrolments.set_rows(self.record.enrolments)
        open_diseases = [e.disease for e in self.record.enrolments if e.is_open]
        if open_diseases and self.disease.currentData() not in [d.value for d in open_diseases]:
            self.disease.setCurrentIndex(self.disease.findData(open_diseases[0].value))
        self._show_visits()
        self.checks.set_rows(self.record.checks)
        self.print_check_button.setEnabled(any(c.self_care_total is not None for c in self.record.live_checks()))
        self.enrol_button.setEnabled(len(open_diseases) < len(DISEASES))
        self.end_button.setEnabled(bool(open_diseases))

    def shown_disease(self) -> Disease:
        return Disease(self.disease.currentData())

    def _show_visits(self) -> None:
        if self.record is None:
            return
        visits = self.record.visits_for(self.shown_disease(), include_voided=True)
        self.visits.set_rows(visits)
        voided = sum(1 for v in visits if v.voided)
        self.visit_count.setText(f"共 {len(visits) - voided} 次" + (f"（另有 {voided} 次已作废）" if voided else ""))
        self.new_visit_button.setEnabled(self.record.open_enrolment(self.shown_disease()) is not None)

    def is_loaded(self) -> bool:
        return self.record is not None

    # ----- actions

    def _open(self, dialog: QDialog) -> QDialog:
        self.dialog = dialog
        dialog.open()
        return dialog

    def enrol(self):
        if self.record is not None:
            return self._open(EnrolDialog(self.ctx, self.record, self.staff, parent=self))
        return None

    def end_selected(self):
        chosen: EnrolmentRow | None = selected_row(self.enrolment_view)
        if chosen is None and self.record is not None:
            chosen = next((e for e in self.record.enrolments if e.is_open), None)
        if chosen is None or not chosen.is_open:
            return None
        return self._open(EndDialog(self.ctx, chosen, parent=self))

    def new_visit(self):
        from desktop.ui.followup_form import FollowupForm

        if self.record is not None:
            return self._open(FollowupForm(self.ctx, self.record, self.shown_disease(), parent=self, rules=self.rules))
        return None

    def new_check(self):
        from desktop.ui.health_check_form import HealthCheckForm

        if self.record is not None:
            return self._open(HealthCheckForm(self.ctx, self.record, parent=self))
        return None

    # ----- a saved visit or check: 查看, 更正, 作废, 修改记录

    def _shown(self, dialog: QDialog) -> None:
        self.dialog = dialog

    def _visit_title(self, stored) -> str:
        name = self.record.card.name if self.record else ""
        return f"{name} {stored.disease.label}随访 {stored.data.visit_date:%Y-%m-%d}"

    def _check_title(self, stored) -> str:
        name = self.record.card.name if self.record else ""
        return f"{name} 健康体检 {stored.data.check_date:%Y-%m-%d}"

    def _visit_correction(self, stored) -> QDialog:
        from desktop.ui.correction_forms import CorrectVisitForm

        return CorrectVisitForm(self.ctx, self.record, stored, parent=self, rules=self.rules)

    def _check_correction(self, stored) -> QDialog:
        from desktop.ui.correction_forms import CorrectCheckForm

        return CorrectCheckForm(self.ctx, self.record, stored, parent=self)

    def _on_selected(self, view, act, *, edits: bool = False) -> None:
        """Act on the selected row; a voided row only opens read-only (it can no longer be edited)."""
        row = selected_row(view)
        if row is None or self.record is None:
            return
        actions = self.visit_actions if view is self.visit_view else self.check_actions
        (actions.view if edits and row.voided else act)(row.id)

    def view_visit(self) -> None:
        self._on_selected(self.visit_view, self.visit_actions.view)

    def correct_visit(self) -> None:
        self._on_selected(self.visit_view, self.visit_actions.correct, edits=True)

    def void_visit(self) -> None:
        self._on_selected(self.visit_view, self.visit_actions.void, edits=True)

    def visit_history(self) -> None:
        self._on_selected(self.visit_view, self.visit_actions.history)

    def view_check(self) -> None:
        self._on_selected(self.check_view, self.check_actions.view)

    def correct_check(self) -> None:
        self._on_selected(self.check_view, self.check_actions.correct, edits=True)

    def void_check(self) -> None:
        self._on_selected(self.check_view, self.check_actions.void, edits=True)

    def check_history(self) -> None:
        self._on_selected(self.check_view, self.check_actions.history)

    def print_visits(self) -> None:
        """Preview the national follow-up sheets for the selected visit's year (the latest by default)."""
        show_form_preview = print_functions()
        if show_form_preview is None or self.record is None:
            return
        visit: VisitRow | None = selected_row(self.visit_view) or next(
            (v for v in self.visits.rows() if not v.voided), None)
        year = visit.visit_date.year if visit else now().year
        ctx, record_no, disease = self.ctx, self.record.card.record_no, self.shown_disease()
        title = f"{disease.label}患者随访服务记录表 — {self.record.card.name} {year}年"
        show_form_preview(ctx, self, "followup", record_no, options={"disease": disease, "year": year}, title=title)


    def print_self_care(self) -> None:
        """Preview the 65+ self-care assessment of the selected check (the latest assessed one by default)."""
        show_form_preview = print_functions()
        if show_form_preview is None or self.record is None:
            return
        chosen: CheckRow | None = selected_row(self.check_view)
        check = chosen if chosen and chosen.self_care_total is not None else next(
            (c for c in self.record.live_checks() if c.self_care_total is not None), None)
        if check is None:
            self.check_hint.setText("没有做过生活自理能力评估的体检。")
            return
        title = f"老年人生活自理能力评估表 — {self.record.card.name} {check.check_date:%Y-%m-%d}"
        show_form_preview(self.ctx, self, "self-care", self.record.card.record_no, options={"date": check.check_date},
                          title=title)


def open_chronic_panel(ctx: UiContext, parent: QWidget, resident_id: int) -> ChronicPanel:
    """Open the panel for a resident (it loads itself on the database thread)."""
    panel = ChronicPanel(ctx, resident_id, parent=parent)
    panel.open()
    return panel

