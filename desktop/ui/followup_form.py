"""高血压 / 2型糖尿病患者随访服务记录表: the visit form with the rules' suggestion as values are typed.

The suggested classification, next step and next visit date follow every keystroke (the rules
compare with the patient's previous visit); the doctor may pick another classification with a
reason. Emergency thresholds or danger signs raise a red 需紧急转诊 prompt; the visit stores the
reasons so the referral can be drawn up from it once referrals exist.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHeaderView,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from desktop.clock import now
from desktop.rules.dates import DateError, parse_date
from desktop.rules.followup import (
    DEFAULT_RULES,
    DIABETES_DANGER_SIGNS,
    HYPERTENSION_DANGER_SIGNS,
    Classification,
    Disease,
    FollowupRules,
    NextStep,
    Readings,
    Suggestion,
    VisitMethod,
    next_visit_date,
    suggest,
)
from desktop.rules.visit_checks import (
    ADHERENCE,
    DIABETES_SYMPTOMS,
    FOOT_PULSE,
    HYPERTENSION_SYMPTOMS,
    HYPOGLYCEMIA,
    LIFESTYLE_CODES,
    VisitInput,
)
from desktop.services.chronic_query import ChronicRecord, chronic_record
from desktop.services.followups import SavedVisit, record_visit
from desktop.services.settings import followup_rules
from desktop.ui.chronic_widgets import (
    EMERGENCY_STYLE,
    NOTE_STYLE,
    CheckGrid,
    SectionedForm,
    banner,
    connect_all,
    number_edit,
    pair,
    typed_number,
    whole,
)
from desktop.ui.context import UiContext
from desktop.ui.form_dialog import Work
from desktop.ui.forms import combo, date_edit

MEDICATION_ROWS = 4
# (item, label, unit, diseases): the amounts of 生活方式指导, now and target.
AMOUNTS = (
    ("cigarettes_per_day", "日吸烟量", "支/天", (Disease.HYPERTENSION, Disease.DIABETES)),
    ("alcohol_liang_per_day", "日饮酒量", "两/天", (Disease.HYPERTENSION, Disease.DIABETES)),
    ("exercise_times_per_week", "运动", "次/周", (Disease.HYPERTENSION, Disease.DIABETES)),
    ("exercise_minutes", "每次运动", "分钟/次", (Disease.HYPERTENSION, Disease.DIABETES)),
    ("staple_grams_per_day", "主食", "克/天", (Disease.DIABETES,)),
)
EMERGENCY_NOTE = ("本次随访的紧急转诊需要会随随访一起保存；转诊功能启用后，可从这次随访开具转诊单。"
                  "请先按规范处理并立即转诊。")


def _code_combo(codes: dict[str, str], empty: str = "未填") -> QComboBox:
    widget = combo([(empty, ""), *((label, code) for code, label in codes.items())], "")
    widget.setMaximumWidth(150)
    return widget


def _typed_date(text: str) -> date | None:
    try:
        return parse_date(text) if text.strip() else None
    except DateError:
        return None


class FollowupForm(SectionedForm):
    """A new follow-up visit for one managed patient and disease."""

    def __init__(self, ctx: UiContext, record: ChronicRecord, disease: Disease, parent: QWidget | None = None,
                 rules: FollowupRules = DEFAULT_RULES) -> None:
        card = record.card
        super().__init__(ctx, f"{disease.label}患者随访服务记录表 — {card.name}", 3, parent)
        self.record, self.disease, self.today, self.rules = record, disease, now().date(), rules
        self.is_diabetes = disease is Disease.DIABETES
        self.suggestion: Suggestion | None = None
        self._next_auto = ""
        self.setMinimumWidth(1240)
        self.resize(1300, 700)
        self._visit_fields()
        self._lifestyle_fields()
        self._treatment_fields()
        self._conclusion_fields()
        self.end_columns()
        self._build_prompts()
        self._fill_from_last_visit()
        self._show_header()
        connect_all([self.visit_date, self.sbp, self.dbp, self.glucose, self.adverse, self.complication,
                     self.danger, self.method], self.update_suggestion)
        self.classification.activated.connect(self._classification_picked)
        self.update_suggestion()
        self.chain_tabs()
        self.finish()

    # ----- the form's sections, in the paper form's order

    def _visit_fields(self) -> None:
        form = self.section(0, "随访与症状、体征")
        self.visit_date = self.add_to(form, "随访日期", "visit_date", date_edit(self.today))
        self.method = self.add_to(form, "随访方式", "method",
                                  combo([(m.label, m.value) for m in VisitMethod], VisitMethod.CLINIC.value))
        symptoms = DIABETES_SYMPTOMS if self.is_diabetes else HYPERTENSION_SYMPTOMS
        self.symptoms = CheckGrid(list(symptoms.items()), columns=3, only="1")
        self.add_to(form, "症状", "symptoms", self.symptoms, self.symptoms.widgets())
        self.sbp = self.add_to(form, "收缩压", "sbp", number_edit("mmHg"))
        self.dbp = self.add_to(form, "舒张压", "dbp", number_edit("mmHg"))
        self.weight, self.target_weight = number_edit("kg", 70), number_edit("kg", 70)
        self.add_to(form, "体重 / 目标", "weight", pair(self.weight, self.target_weight, "目标"),
                    [self.weight, self.target_weight])
        self.aliases["target_weight"] = "weight"
        self.height_edit = self.add_to(form, "身高", "height", number_edit("cm"))
        self.heart_rate = self.add_to(form, "心率", "heart_rate", number_edit("次/分"))
        self.foot_pulse = _code_combo(FOOT_PULSE, "未查")
        if self.is_diabetes:
            self.add_to(form, "足背动脉搏动", "foot_pulse", self.foot_pulse)

    def _lifestyle_fields(self) -> None:
        form = self.section(1, "生活方式指导（现在 / 目标）")
        self.lifestyle: dict[str, QWidget] = {}
        for item, label, unit, diseases in AMOUNTS:
            if self.disease in diseases:
                self._lifestyle_pair(form, item, f"{label}（{unit}）", number_edit(unit, 70), number_edit(unit, 70))
        if not self.is_diabetes:
            salt = LIFESTYLE_CODES["salt"]
            self._lifestyle_pair(form, "salt", "摄盐情况", _code_combo(salt), _code_combo(salt))
        for item, label in (("mood", "心理调整"), ("compliance", "遵医行为")):
            self.lifestyle[item] = self.add_to(form, label, item, _code_combo(LIFESTYLE_CODES[item]))
        tests = self.section(0, "辅助检查")
        self.glucose = number_edit("mmol/L")
        self.hba1c = number_edit("%")
        self.hba1c_date = date_edit()
        if self.is_diabetes:
            self.add_to(tests, "空腹血糖", "fasting_glucose", self.glucose)
            self.add_to(tests, "糖化血红蛋白", "hba1c", self.hba1c)
            self.add_to(tests, "检查日期", "hba1c_date", self.hba1c_date)
        else:
            self.add_to(tests, "空腹血糖（如测）", "fasting_glucose", self.glucose)

    def _lifestyle_pair(self, form, item: str, label: str, now_widget: QWidget, target: QWidget) -> None:
        self.add_to(form, label, item, pair(now_widget, target, "→"), [now_widget, target])
        self.lifestyle[item], self.lifestyle[f"{item}_target"] = now_widget, target
        self.aliases[f"{item}_target"] = item

    def _treatment_fields(self) -> None:
        form = self.section(1, "服药与反应")
        self.adherence = self.add_to(form, "服药依从性", "medication_adherence", _code_combo(ADHERENCE))
        self.adverse = QCheckBox("有")
        self.adverse_note = QLineEdit()
        self.adverse_note.setPlaceholderText("药物及反应")
        self.add_to(form, "药物不良反应", "adverse_reaction", pair(self.adverse, self.adverse_note),
                    [self.adverse, self.adverse_note])
        self.aliases["adverse_reaction_note"] = "adverse_reaction"
        self.hypoglycemia = _code_combo(HYPOGLYCEMIA)
        if self.is_diabetes:
            self.add_to(form, "低血糖反应", "hypoglycemia", self.hypoglycemia)
        self.complication = self.add_to(form, "新发并发症", "new_complication", QCheckBox("有新发并发症"))
        self.medications = self._medication_table()
        self.add_to(form, "用药情况", "medications", self.medications)

    def _medication_table(self) -> QTableWidget:
        table = QTableWidget(MEDICATION_ROWS, 3)
        table.setHorizontalHeaderLabels(["药物名称", "每日次数", "每次剂量"])
        table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 8)
        header = table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        table.setColumnWidth(1, 64)
        table.setColumnWidth(2, 80)
        table.setTabKeyNavigation(False)
        table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        table.setEditTriggers(QAbstractItemView.EditTrigger.AllEditTriggers)
        height = header.height() + MEDICATION_ROWS * table.verticalHeader().defaultSectionSize() + 6
        table.setFixedHeight(height)
        return table

    def _conclusion_fields(self) -> None:
        form = self.section(2, "危急情况与此次随访分类")
        signs = DIABETES_DANGER_SIGNS if self.is_diabetes else HYPERTENSION_DANGER_SIGNS
        self.danger = CheckGrid([(sign, sign) for sign in signs], columns=1)
        self.add_to(form, "危急情况", "danger_signs", self.danger, self.danger.widgets())
        self.classification = self.add_to(
            form, "此次随访分类", "classification", combo([(c.label, c.value) for c in Classification]))
        self.override_reason = self.add_to(form, "更改理由", "override_reason", QLineEdit())
        self.referral_reason = self.add_to(form, "转诊原因", "referral_reason", QLineEdit())
        self.referral_to = self.add_to(form, "转诊机构及科别", "referral_to", QLineEdit())
        self.next_visit = self.add_to(form, "下次随访日期", "next_visit_date", date_edit())
        self.doctor = self.add_to(form, "随访医生", "doctor_name", QLineEdit(self.ctx.actor.display_name))
        self._chosen_by_hand = False

    def _build_prompts(self) -> None:
        layout = self.layout()
        self.suggestion_label = banner(NOTE_STYLE)
        self.suggestion_label.show()
        self.emergency_label = banner(EMERGENCY_STYLE)
        layout.insertWidget(2, self.suggestion_label)
        layout.insertWidget(3, self.emergency_label)

    def _fill_from_last_visit(self) -> None:
        """Medicines and target weight carry over from the last visit; the doctor edits what changed."""
        last = next(iter(self.record.visits_for(self.disease)), None)
        if last is None:
            return
        for row, medicine in enumerate(last.medications[:MEDICATION_ROWS]):
            for column, text in enumerate(medicine):
                self.medications.setItem(row, column, QTableWidgetItem(text))
        if last.target_weight is not None:
            self.target_weight.setText(f"{last.target_weight:g}")

    def _show_header(self) -> None:
        card, enrolment = self.record.card, self.record.open_enrolment(self.disease)
        sex = {"1": "男", "2": "女"}.get(card.sex, "")
        parts = [f"档案编号 {card.record_no}", f"{card.name} {sex} {card.age(self.today)}岁", card.village_name]
        if enrolment is None:
            parts.append(f"未纳入{self.disease.label}管理")
        else:
            parts.append(f"确诊 {enrolment.diagnosed_on:%Y-%m-%d}，纳入管理 {enrolment.managed_from:%Y-%m-%d}")
        self.header.setText(" · ".join(parts))

    # ----- the live suggestion

    def readings(self) -> Readings:
        return Readings(sbp=whole(typed_number(self.sbp.text())), dbp=whole(typed_number(self.dbp.text())),
                        fasting_glucose=typed_number(self.glucose.text()),
                        heart_rate=whole(typed_number(self.heart_rate.text())))

    def update_suggestion(self) -> None:
        """Recompute the rules' suggestion from what is typed and show it beside the doctor's choice."""
        day = _typed_date(self.visit_date.text()) or self.today
        previous = self.record.previous_visit(self.disease, day)
        self.suggestion = suggest(
            self.disease, self.readings(), visit_date=day, age=self.record.card.age(day),
            adverse_reaction=self.adverse.isChecked(), new_complication=self.complication.isChecked(),
            previous=previous.classification if previous else None, danger_signs=self.danger.values(),
            rules=self.rules)
        if not self._chosen_by_hand:
            self.classification.blockSignals(True)
            self.classification.setCurrentIndex(self.classification.findData(self.suggestion.classification.value))
            self.classification.blockSignals(False)
        overridden = self.chosen() is not self.suggestion.classification
        self.override_reason.setEnabled(overridden)
        self.override_reason.setPlaceholderText("改变规则建议的分类时必填" if overridden else "按规则建议分类时不需填写")
        self._plan_next_visit(day, overridden)
        self._show_suggestion(previous.visit_date if previous else None,
                              previous.classification if previous else None, overridden)
        self._show_emergency()

    def _classification_picked(self, _index: int) -> None:
        """A classification picked by hand stays until it agrees with the rules again."""
        self._chosen_by_hand = self.suggestion is None or self.chosen() is not self.suggestion.classification
        self.update_suggestion()

    def chosen(self) -> Classification:
        return Classification(self.classification.currentData())

    def _plan_next_visit(self, day: date, overridden: bool) -> None:
        """Fill the next visit date from the rules unless the doctor typed another one."""
        step = self.suggestion.next_step
        if overridden and step in (NextStep.ROUTINE, NextStep.RECHECK_IN_TWO_WEEKS):
            step = NextStep.ROUTINE if self.chosen() is Classification.CONTROLLED else NextStep.RECHECK_IN_TWO_WEEKS
        planned = f"{next_visit_date(day, step, self.rules):%Y-%m-%d}"
        if self.next_visit.text().strip() in ("", self._next_auto):
            self.next_visit.setText(planned)
        self._next_auto = planned

    def _show_suggestion(self, previous_day: date | None, previous: Classification | None, overridden: bool) -> None:
        s = self.suggestion
        before = f"上次随访 {previous_day:%Y-%m-%d} {previous.label}" if previous else "无上次随访"
        text = (f"规则建议：此次随访分类 <b>{s.classification.label}</b> · 下一步 <b>{s.next_step.label}</b> · "
                f"下次随访 <b>{s.next_visit:%Y-%m-%d}</b>（{before}）")
        if overridden:
            text += f"<br>医生改为“{self.chosen().label}”：请在“更改理由”中写明理由。"
        self.suggestion_label.setText(text)

    def _show_emergency(self) -> None:
        reasons = self.suggestion.emergency
        self.emergency_label.setVisible(bool(reasons))
        if reasons:
            self.emergency_label.setText(f"需紧急转诊：{'；'.join(reasons)}。<br>{EMERGENCY_NOTE}")

    def suggestion_text(self) -> str:
        return self.suggestion_label.text()

    def emergency_text(self) -> str:
        return self.emergency_label.text() if self.emergency_label.isVisible() else ""

    # ----- saving

    def medication_rows(self) -> tuple[tuple[str, str, str], ...]:
        rows = []
        for row in range(MEDICATION_ROWS):
            cells = tuple((self.medications.item(row, c).text() if self.medications.item(row, c) else "").strip()
                          for c in range(3))
            if any(cells):
                rows.append(cells)
        return tuple(rows)

    def is_dirty(self) -> bool:
        return super().is_dirty() or self.medication_rows() != self._initial_medications

    def finish(self) -> None:
        self._initial_medications = self.medication_rows()
        super().finish()

    def data(self) -> VisitInput:
        """The visit as typed (the service checks and names every field)."""
        lifestyle = {key: (w.currentData() if isinstance(w, QComboBox) else w.text())
                     for key, w in self.lifestyle.items()}
        return VisitInput(
            visit_date=self.visit_date.text(), method=self.method.currentData(), sbp=self.sbp.text(),
            dbp=self.dbp.text(), weight=self.weight.text(), target_weight=self.target_weight.text(),
            height=self.height_edit.text(), heart_rate=self.heart_rate.text(), fasting_glucose=self.glucose.text(),
            hba1c=self.hba1c.text() if self.is_diabetes else None,
            hba1c_date=self.hba1c_date.text() if self.is_diabetes else None,
            symptoms=self.symptoms.values(), danger_signs=self.danger.values(),
            medication_adherence=self.adherence.currentData(), adverse_reaction=self.adverse.isChecked(),
            new_complication=self.complication.isChecked(),
            hypoglycemia=self.hypoglycemia.currentData() if self.is_diabetes else "",
            foot_pulse=self.foot_pulse.currentData() if self.is_diabetes else "",
            classification=self.classification.currentData(), override_reason=self.override_reason.text(),
            next_visit_date=self.next_visit.text(), medications=self.medication_rows(),
            doctor_name=self.doctor.text(), doctor_id=self.ctx.actor.staff_id, lifestyle=lifestyle,
            referral_reason=self.referral_reason.text(), referral_to=self.referral_to.text(),
            adverse_reaction_note=self.adverse_note.text(),
        )

    def submit(self) -> Work:
        ctx, resident_id, disease, data = self.ctx, self.record.card.resident_id, self.disease, self.data()

        def work() -> tuple[SavedVisit, object]:
            saved = record_visit(ctx.db, ctx.actor, resident_id, disease, data)
            return saved, saved.changes

        return work


def open_followup_form(ctx: UiContext, parent: QWidget, resident_id: int, disease: Disease,
                       shown: Callable[[FollowupForm], None] | None = None) -> None:
    """Load the patient's record and the branch's follow-up rules on the database thread, then open the form."""

    def show(loaded: tuple[ChronicRecord, FollowupRules]) -> None:
        record, rules = loaded
        form = FollowupForm(ctx, record, disease, parent=parent, rules=rules)
        if shown is not None:
            shown(form)
        form.open()

    def load() -> tuple[ChronicRecord, FollowupRules]:
        return chronic_record(ctx.db, ctx.actor, resident_id), followup_rules(ctx.db)

    ctx.tasks.run_db(load, on_success=show, parent=parent)
