"""The resident form (create, edit, view) and the status dialog (迁出 / 死亡 / 在册).

Fields follow `check_resident`'s names so its messages land under the right field. A valid
ID number fills and locks 出生日期 and 性别; an invalid one is named as it is typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QTabWidget,
    QWidget,
)

from desktop.clock import now
from desktop.errors import UserFacingError, ValidationError
from desktop.rules.dates import DateError, parse_date
from desktop.rules.idnumbers import IdNumberError, normalise_id, parse_id
from desktop.rules.population import (
    ETHNIC_GROUPS,
    INSURANCE_TYPES,
    RECORDED_CONDITIONS,
    RELATIONS,
    SEX_LABELS,
    KeyPopulation,
    ResidentStatus,
    age_groups,
)
from desktop.rules.profile import Profile
from desktop.rules.resident_checks import ResidentInput
from desktop.services.branch import StaffInfo, VillageInfo, list_staff, list_villages
from desktop.services.life_events import StatusEffects, status_effects
from desktop.services.permissions import Permission, in_village_scope
from desktop.services.resident_query import ResidentDetail, ResidentRow
from desktop.services.record_moves import MoveRequest, request_move
from desktop.services.residents import (
    DuplicateElsewhere,
    DuplicateResident,
    Saved,
    create_resident,
    set_status,
    update_resident,
)
from desktop.ui.context import UiContext
from desktop.ui.form_dialog import FormDialog, Work, hint_label
from desktop.ui.forms import EnterMovesOn, combo, date_edit
from desktop.ui.profile_sections import ProfileSections
from desktop.ui.theme import ERROR, MUTED_TEXT

FROM_ID = "出生日期、性别已按身份证号填写。"
OPEN_EXISTING = "打开已有档案"
ASK_MOVE = "申请迁入本村"


@dataclass(frozen=True)
class Lookups:
    """Villages the actor may pick and the staff who can be 责任医生."""

    villages: list[VillageInfo]
    staff: list[StaffInfo]


def load_lookups(ctx: UiContext) -> Lookups:
    """The lookups for the resident form (run on the database worker)."""
    villages = list_villages(ctx.db)
    villages = [v for v in villages if in_village_scope(ctx.actor, v.id)]
    return Lookups(villages, list_staff(ctx.db))


def _typed_date(text: str) -> date | None:
    try:
        return parse_date(text) if text.strip() else None
    except DateError:
        return None


def _as_pair(saved: Saved) -> tuple[Saved, Any]:
    return saved, saved.changes


class ResidentDialog(FormDialog):
    """A form dialog whose non-field refusals (someone else's edit, scope) show inside the form."""

    def _failed(self, error: BaseException) -> None:
        if isinstance(error, UserFacingError) and not isinstance(error, ValidationError):
            self._set_saving(False)
            self.show_errors({"_": error.message})
            return
        super()._failed(error)

    def add_to(self, form: QFormLayout, label: str, name: str, widget: QWidget) -> QWidget:
        """A labelled field in one of several columns, with its inline error."""
        self.errors.add_row(form, label, name, widget)
        self._fields.append(widget)
        return widget


class ConditionsBox(QWidget):
    """重点人群: a tick and a date per recorded kind; the age-based groups as computed text."""

    def __init__(self, recorded: tuple[tuple[str, date | None], ...] = ()) -> None:
        super().__init__()
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setVerticalSpacing(2)
        known = dict(recorded)
        self.rows: list[tuple[KeyPopulation, QCheckBox, QLineEdit]] = []
        for line, kind in enumerate(RECORDED_CONDITIONS):
            tick = QCheckBox(kind.label)
            tick.setChecked(kind.value in known)
            since = date_edit(known.get(kind.value), "确诊/登记日期")
            since.setEnabled(tick.isChecked())
            tick.toggled.connect(since.setEnabled)
            grid.addWidget(tick, line, 0)
            grid.addWidget(since, line, 1)
            self.rows.append((kind, tick, since))
        self.computed = hint_label("")
        grid.addWidget(self.computed, len(self.rows), 0, 1, 2)

    def widgets(self) -> list[QWidget]:
        return [widget for _, tick, since in self.rows for widget in (tick, since)]

    def value(self) -> tuple[tuple[KeyPopulation, str], ...]:
        return tuple((kind, since.text()) for kind, tick, since in self.rows if tick.isChecked())

    def show_age_groups(self, birth: date | None, today: date) -> None:
        groups = age_groups(birth, today) if birth else []
        text = "、".join(group.label for group in groups)
        self.computed.setText(f"按出生日期计算：{text}（不需登记）" if text else "65岁及以上、0-6岁按出生日期自动计算。")


class ResidentForm(ResidentDialog):
    """Create or edit one resident; read-only for roles that may not edit (masked where required)."""

    open_resident = Signal(int)

    def __init__(self, ctx: UiContext, lookups: Lookups, *, detail: ResidentDetail | None = None,
                 parent: QWidget | None = None) -> None:
        editable = ctx.actor.can(Permission.EDIT_RESIDENTS) and not (detail and detail.masked)
        title = "新建居民档案" if detail is None else f"{'修改' if editable else '查看'}居民档案"
        super().__init__(ctx, title, parent)
        self.detail, self.editable, self.today = detail, editable, now().date()
        self.duplicate_box: QMessageBox | None = None
        self.move_request: MoveRequest | None = None
        self.move_box: QMessageBox | None = None
        self.setMinimumWidth(900)
        self._columns()
        self._identity_fields(detail)
        self._record_fields(detail, lookups.villages, lookups.staff)
        self.sections = ProfileSections(self.tabs, self.errors, detail.profile if detail else Profile())
        self._fields.extend(self.sections.fields)
        self.id_number.textChanged.connect(self._id_typed)
        self.id_number.editingFinished.connect(self._id_finished)
        self.birth_date.textChanged.connect(lambda _text: self._age_groups())
        self._id_typed(self.id_number.text())
        self._age_groups()
        self._tab_order()
        if not editable:
            self._read_only()
        self.finish()

    def _columns(self) -> None:
        layout = self.layout()
        layout.removeItem(self.form)
        if self.detail is not None:
            d = self.detail
            summary = (f"档案编号 {d.record_no} · 建档人 {d.registered_by_name or d.registered_by} · "
                       f"{ResidentStatus(d.status).label}")
            if d.status_date:
                summary += f" {d.status_date:%Y-%m-%d}"
            layout.insertWidget(0, hint_label(summary))
        basic = QWidget()
        columns = QHBoxLayout(basic)
        self.right = QFormLayout()
        self.right.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        columns.addLayout(self.form, 1)
        columns.addSpacing(16)
        columns.addLayout(self.right, 1)
        self.tabs = QTabWidget()
        self.tabs.addTab(basic, "&1 基本信息")
        layout.insertWidget(1 if self.detail is not None else 0, self.tabs)

    def _identity_fields(self, d: ResidentDetail | None) -> None:
        left = self.form
        self.name = self.add_to(left, "姓名", "name", QLineEdit(d.name if d else ""))
        self.id_number = self.add_to(left, "身份证号", "id_number", QLineEdit(d.id_number if d else ""))
        self.id_number.setPlaceholderText("18 位，末位可为 X")
        self.id_hint = hint_label("")
        left.addRow("", self.id_hint)
        sexes = [("请选择", ""), *((label, code) for code, label in SEX_LABELS.items())]
        self.sex = self.add_to(left, "性别", "sex", combo(sexes, d.sex if d else ""))
        self.birth_date = self.add_to(left, "出生日期", "birth_date", date_edit(d.birth_date if d else None))
        self.ethnicity = self.add_to(left, "民族", "ethnicity",
                                     combo([(e, e) for e in ETHNIC_GROUPS], d.ethnicity if d else "汉族"))
        self.phone = self.add_to(left, "联系电话", "phone", QLineEdit(d.phone if d else ""))
        self.address = self.add_to(left, "现住址", "address", QLineEdit(d.address if d else ""))

    def _record_fields(self, d: ResidentDetail | None, villages: list[VillageInfo], staff: list[StaffInfo]) -> None:
        left, right = self.form, self.right
        choices = [("请选择", ""), *((f"{v.code} {v.name}", v.code) for v in villages)]
        if d is not None and all(code != d.village_code for _, code in choices):
            choices.append((d.village_code, d.village_code))
        default_village = d.village_code if d else (villages[0].code if len(villages) == 1 else "")
        self.village = self.add_to(left, "所属村", "village_code", combo(choices, default_village))
        relations = [("未填", ""), *((label, code) for code, label in RELATIONS.items())]
        self.relation = self.add_to(left, "与户主关系", "relation_to_head",
                                    combo(relations, d.relation_to_head or "" if d else ""))
        insurance = [("未填", ""), *((name, name) for name in INSURANCE_TYPES)]
        self.insurance = self.add_to(right, "医保类型", "insurance_type",
                                     combo(insurance, d.insurance_type or "" if d else ""))
        self.registered_on = self.add_to(right, "建档日期", "registered_on",
                                         date_edit(d.registered_on if d else self.today))
        doctors = [("未指定", None), *((f"{s.name}（{s.post}）", s.id) for s in staff)]
        self.doctor = self.add_to(right, "责任医生", "responsible_doctor_id",
                                  combo(doctors, d.responsible_doctor_id if d else None))
        self.conditions = ConditionsBox(d.conditions if d else ())
        self.add_to(right, "重点人群", "conditions", self.conditions)
        self._fields.remove(self.conditions)
        self._fields.extend(self.conditions.widgets())
        self.consent_by = self.add_to(right, "知情同意人", "consent_given_by",
                                      QLineEdit(d.consent_given_by or "" if d else ""))
        self.consent_by.setPlaceholderText("本人或监护人姓名")
        self.consent_on = self.add_to(right, "同意日期", "consent_on", date_edit(d.consent_on if d else None))
        self.consent_version = self.add_to(right, "告知书版本", "consent_notice_version",
                                           QLineEdit(d.consent_notice_version or "" if d else ""))

    def _tab_order(self) -> None:
        chain = [*self._fields, self.save_button]
        for first, second in pairwise(chain):
            QWidget.setTabOrder(first, second)
        mover = EnterMovesOn(self)
        for widget in self.conditions.widgets():
            if isinstance(widget, QLineEdit):
                widget.installEventFilter(mover)

    def _read_only(self) -> None:
        for widget in self._fields:
            widget.setEnabled(False)
        self.save_button.hide()
        for button in self.buttons.buttons():
            if self.buttons.buttonRole(button) == QDialogButtonBox.ButtonRole.RejectRole:
                button.setText("关闭")

    # ----- derived values

    def _lock_identity(self, locked: bool) -> None:
        self.sex.setEnabled(not locked and self.editable)
        self.birth_date.setEnabled(not locked and self.editable)

    def _id_hint(self, text: str, *, error: bool = False) -> None:
        self.id_hint.setText(text)
        self.id_hint.setStyleSheet(f"color: {ERROR if error else MUTED_TEXT};")
        self.id_hint.setVisible(bool(text))

    def _id_typed(self, text: str) -> None:
        """Fill and lock sex and birth date from a complete 18-character number."""
        number = normalise_id(text)
        if self.detail is not None and self.detail.masked:
            return
        if len(number) == 18:
            self._check_id(number)
        else:
            self._lock_identity(False)
            self._id_hint(f"身份证号应为 18 位，现为 {len(number)} 位。" if len(number) > 18 else "",
                          error=True)

    def _id_finished(self) -> None:
        number = normalise_id(self.id_number.text())
        if number and len(number) != 18 and not (self.detail and self.detail.masked):
            self._check_id(number)

    def _check_id(self, number: str) -> None:
        try:
            facts = parse_id(number, today=self.today)
        except IdNumberError as error:
            self._lock_identity(False)
            self._id_hint(str(error), error=True)
            return
        self.sex.setCurrentIndex(self.sex.findData(facts.sex))
        self.birth_date.setText(f"{facts.birth_date:%Y-%m-%d}")
        self._lock_identity(True)
        self._id_hint(FROM_ID)

    def _age_groups(self) -> None:
        self.conditions.show_age_groups(_typed_date(self.birth_date.text()), self.today)

    def id_message(self) -> str:
        """What the line under the ID number says (derived facts or why the number is wrong)."""
        return self.id_hint.text() if self.id_hint.isVisible() else ""

    # ----- saving

    def data(self) -> ResidentInput:
        """The resident as entered."""
        return ResidentInput(
            name=self.name.text(), id_number=self.id_number.text(), sex=self.sex.currentData() or "",
            birth_date=self.birth_date.text(), ethnicity=self.ethnicity.currentData() or "",
            phone=self.phone.text(), address=self.address.text(), village_code=self.village.currentData() or "",
            relation_to_head=self.relation.currentData() or "", insurance_type=self.insurance.currentData() or "",
            registered_on=self.registered_on.text(), conditions=self.conditions.value(),
            responsible_doctor_id=self.doctor.currentData(), consent_given_by=self.consent_by.text(),
            consent_on=self.consent_on.text(), consent_notice_version=self.consent_version.text(),
            profile=self.sections.value(),
        )

    def submit(self) -> Work:
        """Create or update through the residents service."""
        ctx, data, detail = self.ctx, self.data(), self.detail
        if detail is None:
            return lambda: _as_pair(create_resident(ctx.db, ctx.actor, data))
        return lambda: _as_pair(update_resident(ctx.db, ctx.actor, detail.id, data, expected_version=detail.version))

    def show_errors(self, errors: dict[str, str]) -> None:
        if "id_number" in errors:
            self._id_hint("")
        self.sections.mark(errors)
        self.tabs.setCurrentIndex(self._first_tab(errors))
        super().show_errors(errors)

    def _first_tab(self, errors: dict[str, str]) -> int:
        """The section holding the first field named in `errors` (the basic one when none is)."""
        for name in errors:
            if name in self.sections.tab_of:
                return self.sections.tab_of[name]
            try:
                self.errors.widget(name)
            except KeyError:
                continue
            return 0
        return self.tabs.currentIndex()

    def _failed(self, error: BaseException) -> None:
        super()._failed(error)
        if isinstance(error, DuplicateResident):
            self._offer_existing(error)
        elif isinstance(error, DuplicateElsewhere):
            self._offer_move(error)

    def _offer_move(self, error: DuplicateElsewhere) -> None:
        """The record is in a village the actor does not serve: offer to ask the branch to move it here."""
        box = QMessageBox(QMessageBox.Icon.Information, "已在其他村建档", error.errors["id_number"],
                          QMessageBox.StandardButton.NoButton, self)
        ask_button = box.addButton(ASK_MOVE, QMessageBox.ButtonRole.AcceptRole)
        box.addButton("返回修改", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(ask_button)
        code = self.village.currentData() or ""
        box.buttonClicked.connect(lambda button: self._move_chosen(button is ask_button, error.id_number, code))
        self.duplicate_box = box
        box.open()

    def _move_chosen(self, ask: bool, id_number: str, village_code: str) -> None:
        self.duplicate_box = None
        if not ask:
            return
        ctx = self.ctx

        def work() -> MoveRequest:
            village_id = next(v.id for v in list_villages(ctx.db) if v.code == village_code)
            return request_move(ctx.db, ctx.actor, id_number=id_number, to_village_id=village_id,
                                reason="建档时发现已在其他村建档")

        ctx.tasks.run_db(work, on_success=self._move_requested, on_failure=self._failed, parent=self)

    def _move_requested(self, request: MoveRequest) -> None:
        """Say what happens next and close the form: the record arrives in the village once approved."""
        self.move_request = request
        box = QMessageBox(QMessageBox.Icon.Information, "已提交申请",
                          f"已申请把身份证号 {request.id_number_masked} 的档案迁入{request.to_village}，待卫生院审批。"
                          "审批同意后，该档案会出现在本村名单中。", QMessageBox.StandardButton.Ok,
                          self.parentWidget())
        self.move_box = box
        box.open()
        self.done(0)

    def _offer_existing(self, error: DuplicateResident) -> None:
        """Point to the record that already holds this ID number."""
        box = QMessageBox(QMessageBox.Icon.Information, "已有档案", error.errors["id_number"],
                          QMessageBox.StandardButton.NoButton, self)
        open_button = box.addButton(OPEN_EXISTING, QMessageBox.ButtonRole.AcceptRole)
        box.addButton("返回修改", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(open_button)
        box.buttonClicked.connect(lambda button: self._existing_chosen(button is open_button, error.existing_id))
        self.duplicate_box = box
        box.open()

    def _existing_chosen(self, open_it: bool, existing_id: int) -> None:
        self.duplicate_box = None
        if open_it:
            self.open_resident.emit(existing_id)
            self.done(0)


class StatusDialog(ResidentDialog):
    """标记迁出 / 死亡 with the date and a note, or back to 在册; says beforehand what it does to management."""

    def __init__(self, ctx: UiContext, row: ResidentRow, parent: QWidget | None = None) -> None:
        super().__init__(ctx, "标记迁出/死亡", parent)
        self.row = row
        self.effects: StatusEffects | None = None
        current = ResidentStatus(row.status)
        self.form.addRow("居民", QLabel(f"{row.name}（{row.record_no}），当前：{current.label}"))
        choices = [(s.label, s.value) for s in (ResidentStatus.MOVED_OUT, ResidentStatus.DECEASED,
                                                ResidentStatus.ACTIVE)]
        default = ResidentStatus.MOVED_OUT if current is ResidentStatus.ACTIVE else ResidentStatus.ACTIVE
        self.status = self.add_field("标记为", "status", combo(choices, default.value))
        self.on = self.add_field("日期", "status_date", date_edit())
        self.note = self.add_field("说明", "status_note", QLineEdit())
        self.effect = hint_label("")
        self.form.addRow("", self.effect)
        self.status.currentIndexChanged.connect(self._status_changed)
        self._status_changed()
        self.finish()
        ctx.tasks.run_db(lambda: status_effects(ctx.db, ctx.actor, row.id), on_success=self._effects_loaded,
                         on_failure=lambda _error: None, parent=self)

    def chosen(self) -> ResidentStatus:
        return ResidentStatus(self.status.currentData())

    def _status_changed(self) -> None:
        chosen = self.chosen()
        self.on.setEnabled(chosen is not ResidentStatus.ACTIVE)
        self.note.setPlaceholderText("恢复在册的原因（必填），如：误登记为死亡" if chosen is ResidentStatus.ACTIVE
                                     else "如：迁往某县某镇；死亡原因")
        self._show_effect()

    def _effects_loaded(self, effects: StatusEffects) -> None:
        self.effects = effects
        self._show_effect()

    def _show_effect(self) -> None:
        """将同时结束高血压、2型糖尿病管理 (or what going back on the register reopens)."""
        text = self.effects.text(self.chosen()) if self.effects is not None else ""
        if text and self.chosen() is not ResidentStatus.ACTIVE:
            text += f"（终止原因：{self.chosen().label}），此后日期的随访和体检将不能登记"
        self.effect.setText(text + "。" if text else "")
        self.effect.setVisible(bool(text))

    def submit(self) -> Work:
        """Set the status through the residents service."""
        ctx, row, status, note = self.ctx, self.row, self.chosen(), self.note.text()
        on = None
        if status is not ResidentStatus.ACTIVE and self.on.text().strip():
            try:
                on = parse_date(self.on.text())
            except DateError as error:
                raise ValidationError({"status_date": f"日期：{error}"}) from None
        return lambda: _as_pair(set_status(ctx.db, ctx.actor, row.id, status, on=on, note=note,
                                           expected_version=row.version))
