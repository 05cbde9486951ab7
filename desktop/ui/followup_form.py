"""高血压 / 2型糖尿病患者随访服务记录表: the doctor's classification with the rules' suggestion beside it.

The classification starts empty: the doctor chooses it, and the rules' suggestion (none before
a reading exists) is shown beside the choice and follows every keystroke, compared with the
patient's latest earlier visit that had a reading. A choice other than the suggestion needs a
reason. The next step follows the chosen classification; when it refers the patient the
referral's reason and institution are asked for. Emergency thresholds or danger signs raise a
red 需紧急转诊 prompt. A phone visit records the patient's own reading or is marked 未测.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date

from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QLineEdit, QWidget

from desktop.clock import now
from desktop.rules.dates import DateError, parse_date
from desktop.rules.elderly import bmi
from desktop.rules.followup import (
    DEFAULT_RULES,
    DIABETES_DANGER_SIGNS,
    HYPERTENSION_DANGER_SIGNS,
    Classification,
    Disease,
    FollowupRules,
    Measurement,
    NextStep,
    Readings,
    StepFacts,
    Suggestion,
    VisitMethod,
    next_step,
    next_visit_date,
    suggest,
)
from desktop.rules.visit_checks import (
    ADHERENCE,
    DIABETES_SYMPTOMS,
    FOOT_PULSE,
    FOOT_PULSE_SIDE,
    HYPERTENSION_SYMPTOMS,
    HYPOGLYCEMIA,
    LIFESTYLE_CODES,
    REFERRAL_RESULT,
    VisitInput,
)
from desktop.services.chronic_query import ChronicRecord, chronic_record
from desktop.services.followups import SavedVisit, record_visit
from desktop.services.settings import followup_rules
from desktop.services.visit_history import PastVisit, VisitHistory, visit_history
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
from desktop.ui.followup_fields import RowsTable, code_combo
from desktop.ui.form_dialog import Work
from desktop.ui.forms import combo, date_edit
from desktop.ui.theme import MUTED_TEXT

MEDICATION_ROWS = 4
ADVICE_ROWS = 2
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
READING_EDITS = ("sbp", "dbp", "glucose")  # emptied and locked when a phone visit is marked 未测


def _typed_date(text: str) -> date | None:
    try:
        return parse_date(text) if text.strip() else None
    except DateError:
        return None


def history_from_record(record: ChronicRecord, disease: Disease) -> VisitHistory:
    """The history as far as the panel's record tells it (no heights or adverse reactions)."""
    visits = tuple(PastVisit(v.visit_date, v.classification or v.suggested,
                             v.fasting_glucose is not None if disease is Disease.DIABETES
                             else v.sbp is not None and v.dbp is not None, False)
                   for v in record.visits_for(disease))
    return VisitHistory(visits)


class FollowupForm(SectionedForm):
    """A new follow-up visit for one managed patient and disease."""

    def __init__(self, ctx: UiContext, record: ChronicRecord, disease: Disease, parent: QWidget | None = None,
                 rules: FollowupRules = DEFAULT_RULES, history: VisitHistory | None = None) -> None:
        card = record.card
        super().__init__(ctx, f"{disease.label}患者随访服务记录表 — {card.name}", 3, parent)
        self.record, self.disease, self.today, self.rules = record, disease, now().date(), rules
        self.history = history if history is not None else history_from_record(record, disease)
        self.is_diabetes = disease is Disease.DIABETES
        self.suggestion: Suggestion | None = None
        self.step = NextStep.RECHECK_IN_TWO_WEEKS
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
        connect_all([self.visit_date, self.sbp, self.dbp, self.glucose, self.heart_rate, self.adverse,
                     self.complication, self.danger, self.method, self.measurement, self.classification],
                    self.update_suggestion)
        connect_all([self.visit_date, self.weight, self.target_weight, self.height_edit], self.update_bmi)
        self.method.currentIndexChanged.connect(self._method_changed)
        self.measurement.currentIndexChanged.connect(self._measurement_changed)
        self._method_changed()
        self.update_suggestion()
        self.update_bmi()
        self.chain_tabs()
        self.finish()

    # ----- the form's sections, in the paper form's order

    def _visit_fields(self) -> None:
        form = self.section(0, "随访与症状、体征")
        self.visit_date = self.add_to(form, "随访日期", "visit_date", date_edit(self.today))
        self.method = self.add_to(form, "随访方式", "method",
                                  combo([(m.label, m.value) for m in VisitMethod], VisitMethod.CLINIC.value))
        self.measurement = self.add_to(form, "测量方式", "measurement",
                                       combo([(m.label, m.value) for m in Measurement], Measurement.DOCTOR.value))
        self.measurement.setToolTip("电话随访：居民在家自测的数值选“居民自测”，没有测量选“未测”")
        symptoms = DIABETES_SYMPTOMS if self.is_diabetes else HYPERTENSION_SYMPTOMS
        self.symptoms = CheckGrid(list(symptoms.items()), columns=3, only="1")
        self.add_to(form, "症状", "symptoms", self.symptoms, self.symptoms.widgets())
        self.symptoms_other = self.add_to(form, "其他症状", "symptoms_other", QLineEdit())
        self.sbp = self.add_to(form, "收缩压", "sbp", number_edit("mmHg"))
        self.dbp = self.add_to(form, "舒张压", "dbp", number_edit("mmHg"))
        self.weight, self.target_weight = number_edit("kg", 70), number_edit("kg", 70)
        self.add_to(form, "体重 / 目标", "weight", pair(self.weight, self.target_weight, "目标"),
                    [self.weight, self.target_weight])
        self.aliases["target_weight"] = "weight"
        self.height_edit = self.add_to(form, "身高", "height", number_edit("cm"))
        self.bmi_label = QLabel()
        self.bmi_label.setStyleSheet(f"color: {MUTED_TEXT};")
        form.addRow("BMI / 目标", self.bmi_label)
        self.heart_rate = self.add_to(form, "心率", "heart_rate", number_edit("次/分"))
        self.foot_pulse = code_combo(FOOT_PULSE, "未查", width=110)
        self.foot_side = code_combo(FOOT_PULSE_SIDE, "侧别", width=80)
        if self.is_diabetes:
            self.add_to(form, "足背动脉搏动", "foot_pulse", pair(self.foot_pulse, self.foot_side),
                        [self.foot_pulse, self.foot_side])
            self.aliases["foot_pulse_side"] = "foot_pulse"
        self.signs_other = self.add_to(form, "体征其他", "signs_other", QLineEdit())

    def _lifestyle_fields(self) -> None:
        form = self.section(1, "生活方式指导（现在 / 目标）")
        self.lifestyle: dict[str, QWidget] = {}
        for item, label, unit, diseases in AMOUNTS:
            if self.disease in diseases:
                self._lifestyle_pair(form, item, f"{label}（{unit}）", number_edit(unit, 70), number_edit(unit, 70))
        if not self.is_diabetes:
            salt = LIFESTYLE_CODES["salt"]
            self._lifestyle_pair(form, "salt", "摄盐情况", code_combo(salt), code_combo(salt))
        for item, label in (("mood", "心理调整"), ("compliance", "遵医行为")):
            self.lifestyle[item] = self.add_to(form, label, item, code_combo(LIFESTYLE_CODES[item]))
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
        self.tests_other = self.add_to(tests, "其他检查", "tests_other", QLineEdit())
        self.tests_other.setPlaceholderText("检查项目及结果")

    def _lifestyle_pair(self, form, item: str, label: str, now_widget: QWidget, target: QWidget) -> None:
        self.add_to(form, label, item, pair(now_widget, target, "→"), [now_widget, target])
        self.lifestyle[item], self.lifestyle[f"{item}_target"] = now_widget, target
        self.aliases[f"{item}_target"] = item

    def _treatment_fields(self) -> None:
        form = self.section(1, "服药与反应")
        self.adherence = self.add_to(form, "服药依从性", "medication_adherence", code_combo(ADHERENCE))
        self.adverse = QCheckBox("有")
        self.adverse_note = QLineEdit()
        self.adverse_note.setPlaceholderText("药物及反应")
        self.add_to(form, "药物不良反应", "adverse_reaction", pair(self.adverse, self.adverse_note),
                    [self.adverse, self.adverse_note])
        self.aliases["adverse_reaction_note"] = "adverse_reaction"
        self.hypoglycemia = code_combo(HYPOGLYCEMIA)
        if self.is_diabetes:
            self.add_to(form, "低血糖反应", "hypoglycemia", self.hypoglycemia)
        self.complication = self.add_to(form, "新发并发症", "new_complication", QCheckBox("有新发并发症"))
        self.medications = RowsTable(["药物名称", "每日次数", "每次剂量"], MEDICATION_ROWS, (64, 80))
        self.add_to(form, "用药情况", "medications", self.medications)
        self.insulin, self.insulin_dose = QLineEdit(), QLineEdit()
        self.insulin.setPlaceholderText("种类")
        self.insulin_dose.setPlaceholderText("用法和用量")
        if self.is_diabetes:
            self.add_to(form, "胰岛素", "insulin", pair(self.insulin, self.insulin_dose),
                        [self.insulin, self.insulin_dose])
            self.aliases["insulin_dose"] = "insulin"
        self.advice = RowsTable(["药物名称", "用法用量"], ADVICE_ROWS, (120,))
        self.add_to(form, "用药调整意见", "medication_advice", self.advice)

    def _conclusion_fields(self) -> None:
        form = self.section(2, "危急情况与此次随访分类")
        signs = DIABETES_DANGER_SIGNS if self.is_diabetes else HYPERTENSION_DANGER_SIGNS
        self.danger = CheckGrid([(sign, sign) for sign in signs], columns=1)
        self.add_to(form, "危急情况", "danger_signs", self.danger, self.danger.widgets())
        self.classification = combo([("请选择", ""), *((c.label, c.value) for c in Classification)], "")
        self.classification.setMaximumWidth(130)
        self.suggested_label = QLabel()
        self.add_to(form, "此次随访分类", "classification", pair(self.classification, self.suggested_label),
                    [self.classification])
        self.override_reason = self.add_to(form, "更改理由", "override_reason", QLineEdit())
        self.next_visit = self.add_to(form, "下次随访日期", "next_visit_date", date_edit())
        referral = self.section(2, "转诊")
        self.referral_reason = self.add_to(referral, "转诊原因", "referral_reason", QLineEdit())
        self.referral_to = self.add_to(referral, "机构及科别", "referral_to", QLineEdit())
        self.referral_contact = self.add_to(referral, "联系人", "referral_contact", QLineEdit())
        self.referral_result = self.add_to(referral, "转诊结果", "referral_result", code_combo(REFERRAL_RESULT))
        sign = self.section(2, "签名")
        self.doctor = self.add_to(sign, "随访医生", "doctor_name", QLineEdit(self.ctx.actor.display_name))
        self.signed = self.add_to(sign, "居民签名", "resident_signed", QCheckBox("居民已在纸质表上签字"))

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
        self.medications.set_rows([list(medicine) for medicine in last.medications])
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

    # ----- how the readings were taken

    def _method_changed(self) -> None:
        """Face to face the doctor measures; by phone the patient's own reading (居民自测) or 未测."""
        face_to_face = VisitMethod(self.method.currentData()).is_face_to_face
        wanted = self.measurement.currentData()
        if face_to_face:
            wanted = Measurement.DOCTOR.value
        elif wanted == Measurement.DOCTOR.value:
            wanted = Measurement.SELF.value
        self.measurement.setCurrentIndex(self.measurement.findData(wanted))
        self.measurement.setEnabled(not face_to_face)
        self._measurement_changed()

    def _measurement_changed(self) -> None:
        """未测 empties and locks the readings: nothing measured decides the classification."""
        unmeasured = self.measurement.currentData() == Measurement.NOT_MEASURED.value
        for name in READING_EDITS:
            edit = getattr(self, name)
            if unmeasured:
                edit.clear()
            edit.setEnabled(not unmeasured)

    # ----- the live suggestion

    def readings(self) -> Readings:
        return Readings(sbp=whole(typed_number(self.sbp.text())), dbp=whole(typed_number(self.dbp.text())),
                        fasting_glucose=typed_number(self.glucose.text()),
                        heart_rate=whole(typed_number(self.heart_rate.text())))

    def visit_day(self) -> date:
        return _typed_date(self.visit_date.text()) or self.today

    def update_suggestion(self) -> None:
        """Recompute the rules' suggestion from what is typed and show it beside the doctor's choice."""
        day = self.visit_day()
        previous = self.history.previous_with_reading(day)
        last = self.history.previous(day)
        facts = StepFacts((), self.adverse.isChecked(), self.complication.isChecked(),
                          previous.classification if previous else None, bool(last and last.adverse_reaction))
        self.suggestion = suggest(
            self.disease, self.readings(), visit_date=day, age=self.record.card.age(day),
            adverse_reaction=facts.adverse_reaction, new_complication=facts.new_complication,
            previous=facts.previous, previous_adverse_reaction=facts.previous_adverse_reaction,
            danger_signs=self.danger.values(), rules=self.rules)
        chosen, suggested = self.chosen(), self.suggestion.classification
        self.step, _ = next_step(chosen or suggested, replace(facts, emergency=self.suggestion.emergency))
        overridden = chosen is not None and suggested is not None and chosen is not suggested
        self.override_reason.setEnabled(overridden)
        self.override_reason.setPlaceholderText("改变规则建议的分类时必填" if overridden else "按规则建议分类时不需填写")
        self.suggested_label.setText(f"规则建议：{suggested.label}" if suggested else "规则建议：无（本次无测量值）")
        self._plan_next_visit(day)
        self._show_referral()
        self._show_suggestion(previous, chosen)
        self._show_emergency()

    def chosen(self) -> Classification | None:
        """The doctor's classification; None until one is chosen."""
        code = self.classification.currentData()
        return Classification(code) if code else None

    def _plan_next_visit(self, day: date) -> None:
        """Fill the next visit date from the step unless the doctor typed another one."""
        planned = f"{next_visit_date(day, self.step, self.rules):%Y-%m-%d}"
        if self.next_visit.text().strip() in ("", self._next_auto):
            self.next_visit.setText(planned)
        self._next_auto = planned

    def _show_referral(self) -> None:
        """The referral's fields are asked for when the next step refers the patient."""
        referring = self.step.is_referral
        for edit in (self.referral_reason, self.referral_to, self.referral_contact, self.referral_result):
            edit.setEnabled(referring)
        reason = self.suggestion.referral_reason if self.suggestion else None
        self.referral_reason.setPlaceholderText(f"必填，例如：{reason}" if referring and reason else
                                                "必填" if referring else "下一步为转诊时填写")
        self.referral_to.setPlaceholderText("必填，如 县人民医院心内科" if referring else "")

    def _show_suggestion(self, previous: PastVisit | None, chosen: Classification | None) -> None:
        s = self.suggestion
        before = (f"上次有测量值的随访 {previous.visit_date:%Y-%m-%d} {previous.classification.label}"
                  if previous and previous.classification else "无上次有测量值的随访")
        suggested = f"<b>{s.classification.label}</b>" if s.classification else "<b>无</b>（本次没有测量值）"
        text = (f"规则建议：此次随访分类 {suggested} · 下一步 <b>{self.step.label}</b> · "
                f"下次随访 <b>{self.next_visit.text()}</b>（{before}）")
        if chosen is None:
            text += "<br>请医生选择此次随访分类。"
        elif s.classification is not None and chosen is not s.classification:
            text += f"<br>医生改为“{chosen.label}”：请在“更改理由”中写明理由。"
        self.suggestion_label.setText(text)

    def _show_emergency(self) -> None:
        reasons = self.suggestion.emergency
        self.emergency_label.setVisible(bool(reasons))
        if reasons:
            self.emergency_label.setText(f"需紧急转诊：{'；'.join(reasons)}。<br>{EMERGENCY_NOTE}")

    def update_bmi(self) -> None:
        """BMI now / target from the weights and this visit's height, else the latest known one."""
        height = typed_number(self.height_edit.text())
        source = ""
        if not height:
            height = self.history.height_on(self.visit_day())
            source = f"（按最近记录的身高 {height:g} cm）" if height else ""
        values = [typed_number(edit.text()) for edit in (self.weight, self.target_weight)]
        shown = [f"{bmi(w, height):.1f}" if w and height and w > 0 and height > 0 else "—" for w in values]
        self.bmi_label.setText(f"{shown[0]} / {shown[1]} kg/m²{source}" if height else "填写体重和身高后计算")

    def suggestion_text(self) -> str:
        return self.suggestion_label.text()

    def emergency_text(self) -> str:
        return self.emergency_label.text() if self.emergency_label.isVisible() else ""

    # ----- saving

    def medication_rows(self) -> tuple[tuple[str, str, str], ...]:
        return self.medications.filled_rows()  # type: ignore[return-value]

    def is_dirty(self) -> bool:
        return super().is_dirty() or self.medication_rows() != self._initial_medications or bool(
            self.advice.filled_rows())

    def finish(self) -> None:
        self._initial_medications = self.medication_rows()
        super().finish()

    def data(self) -> VisitInput:
        """The visit as typed (the service checks and names every field)."""
        lifestyle = {key: (w.currentData() if isinstance(w, QComboBox) else w.text())
                     for key, w in self.lifestyle.items()}
        diabetes = self.is_diabetes
        return VisitInput(
            visit_date=self.visit_date.text(), method=self.method.currentData(), sbp=self.sbp.text(),
            dbp=self.dbp.text(), weight=self.weight.text(), target_weight=self.target_weight.text(),
            height=self.height_edit.text(), heart_rate=self.heart_rate.text(), fasting_glucose=self.glucose.text(),
            hba1c=self.hba1c.text() if diabetes else None, hba1c_date=self.hba1c_date.text() if diabetes else None,
            symptoms=self.symptoms.values(), danger_signs=self.danger.values(),
            medication_adherence=self.adherence.currentData(), adverse_reaction=self.adverse.isChecked(),
            new_complication=self.complication.isChecked(),
            hypoglycemia=self.hypoglycemia.currentData() if diabetes else "",
            foot_pulse=self.foot_pulse.currentData() if diabetes else "",
            foot_pulse_side=self.foot_side.currentData() if diabetes else "",
            classification=self.classification.currentData(), override_reason=self.override_reason.text(),
            next_visit_date=self.next_visit.text(), medications=self.medication_rows(),
            doctor_name=self.doctor.text(), doctor_id=self.ctx.actor.staff_id, lifestyle=lifestyle,
            adverse_reaction_note=self.adverse_note.text(), measurement=self.measurement.currentData(),
            symptoms_other=self.symptoms_other.text(), signs_other=self.signs_other.text(),
            tests_other=self.tests_other.text(), insulin=self.insulin.text() if diabetes else "",
            insulin_dose=self.insulin_dose.text() if diabetes else "",
            medication_advice=self.advice.filled_rows(),  # type: ignore[arg-type]
            resident_signed=self.signed.isChecked(), **self._referral(),
        )

    def _referral(self) -> dict[str, str]:
        """The referral's fields, sent only when the next step refers the patient."""
        if not self.step.is_referral:
            return {}
        return {"referral_reason": self.referral_reason.text(), "referral_to": self.referral_to.text(),
                "referral_contact": self.referral_contact.text(), "referral_result": self.referral_result.currentData()}

    def submit(self) -> Work:
        ctx, resident_id, disease, data = self.ctx, self.record.card.resident_id, self.disease, self.data()

        def work() -> tuple[SavedVisit, object]:
            saved = record_visit(ctx.db, ctx.actor, resident_id, disease, data)
            return saved, saved.changes

        return work


def open_followup_form(ctx: UiContext, parent: QWidget, resident_id: int, disease: Disease,
                       shown: Callable[[FollowupForm], None] | None = None) -> None:
    """Load the patient's record and the branch's follow-up rules on the database thread, then open the form."""

    def show(loaded: tuple[ChronicRecord, FollowupRules, VisitHistory]) -> None:
        record, rules, history = loaded
        form = FollowupForm(ctx, record, disease, parent=parent, rules=rules, history=history)
        if shown is not None:
            shown(form)
        form.open()

    def load() -> tuple[ChronicRecord, FollowupRules, VisitHistory]:
        return (chronic_record(ctx.db, ctx.actor, resident_id), followup_rules(ctx.db),
                visit_history(ctx.db, ctx.actor, resident_id, disease))

    ctx.tasks.run_db(load, on_success=show, parent=parent)
