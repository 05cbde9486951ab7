"""更正: the visit and health-check forms reopened on a saved record, its stored values filled in.

The form is the one a new record uses (same fields, same live suggestion, same checks), with
a required 更正原因 above the fields; saving stores a new version of the same record.
"""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import date
from typing import Any

from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QGroupBox, QLineEdit, QWidget

from desktop.rules.followup import DEFAULT_RULES, FollowupRules
from desktop.rules.visit_checks import VisitInput
from desktop.services.check_corrections import StoredCheck, correct_health_check
from desktop.services.chronic_query import ChronicRecord
from desktop.services.followups import SavedVisit
from desktop.services.health_checks import HealthCheckInput
from desktop.services.visit_corrections import StoredVisit, correct_visit
from desktop.ui.chronic_widgets import CheckGrid, SectionedForm
from desktop.ui.context import UiContext
from desktop.ui.followup_form import MEDICATION_ROWS, FollowupForm
from desktop.ui.form_dialog import Work
from desktop.ui.health_check_form import STORED_NORMAL, HealthCheckForm

REASON_HINT = "必填：为什么更正（例如：收缩压录入少打一位）"
# Visit input fields whose widget on the form has another name.
VISIT_WIDGETS = {"height": "height_edit", "fasting_glucose": "glucose", "danger_signs": "danger",
                 "medication_adherence": "adherence", "adverse_reaction": "adverse",
                 "adverse_reaction_note": "adverse_note", "new_complication": "complication",
                 "next_visit_date": "next_visit", "doctor_name": "doctor", "foot_pulse_side": "foot_side",
                 "resident_signed": "signed"}
FILLED_APART = frozenset({"lifestyle", "medications", "medication_advice", "doctor_id", "classification"})


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return f"{value:%Y-%m-%d}"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def set_widget(widget: Any, value: Any) -> None:
    """Show a stored value in a form widget of any of the kinds the forms use."""
    if isinstance(widget, CheckGrid):
        widget.set_values(tuple(value or ()))
    elif isinstance(widget, QCheckBox):
        widget.setChecked(bool(value))
    elif isinstance(widget, QComboBox):
        index = widget.findData(value)
        if index < 0 and value in (None, ""):
            index = max(widget.findData(""), widget.findData(None))
        if index >= 0:
            widget.setCurrentIndex(index)
    elif isinstance(widget, QLineEdit):
        widget.setText(_text(value))


def _reason_box(form: SectionedForm) -> QLineEdit:
    """The required 更正原因, above the form's fields and first in the keyboard path."""
    box = QGroupBox("更正")
    layout = QFormLayout(box)
    edit = QLineEdit()
    edit.setPlaceholderText(REASON_HINT)
    edit.setMaxLength(200)
    form.errors.add_row(layout, "更正原因", "correction_reason", edit)
    form.names.insert(0, "correction_reason")
    form._fields.insert(0, edit)
    form.layout().insertWidget(1, box)
    return edit


class CorrectVisitForm(FollowupForm):
    """The visit form on a saved visit: stored values filled in, a reason required, saved as a new version."""

    def __init__(self, ctx: UiContext, record: ChronicRecord, stored: StoredVisit, parent: QWidget | None = None,
                 rules: FollowupRules = DEFAULT_RULES) -> None:
        others = replace(record, visits=tuple(v for v in record.visits if v.id != stored.visit_id))
        super().__init__(ctx, others, stored.disease, parent=parent, rules=rules)
        self.stored = stored
        self.setWindowTitle(f"更正{stored.disease.label}随访记录 — {record.card.name}")
        self.save_button.setText("保存更正")
        self.reason = _reason_box(self)
        self.fill(stored.data)
        self.chain_tabs()
        self.finish()

    def fill(self, data: VisitInput) -> None:
        """Show the stored visit: every field, the medicines, lifestyle, and the doctor's classification."""
        for spec in fields(VisitInput):
            widget = getattr(self, VISIT_WIDGETS.get(spec.name, spec.name), None)
            if spec.name not in FILLED_APART and widget is not None:
                set_widget(widget, getattr(data, spec.name))
        for key, widget in self.lifestyle.items():
            set_widget(widget, data.lifestyle.get(key))
        self.medications.set_rows([medicine[:3] for medicine in data.medications[:MEDICATION_ROWS]])
        self.advice.set_rows([row[:2] for row in data.medication_advice])
        set_widget(self.classification, data.classification or "")
        self.update_suggestion()
        set_widget(self.override_reason, data.override_reason)
        set_widget(self.next_visit, data.next_visit_date)

    def submit(self) -> Work:
        ctx, stored, data, reason = self.ctx, self.stored, self.data(), self.reason.text()
        data = replace(data, doctor_id=stored.data.doctor_id)

        def work() -> tuple[SavedVisit, object]:
            saved = correct_visit(ctx.db, ctx.actor, stored.visit_id, data, reason=reason,
                                  expected_version=stored.version)
            return saved, saved.changes

        return work


class CorrectCheckForm(HealthCheckForm):
    """The health-check form on a saved check: stored values filled in, a reason required."""

    def __init__(self, ctx: UiContext, record: ChronicRecord, stored: StoredCheck,
                 parent: QWidget | None = None) -> None:
        super().__init__(ctx, record, parent=parent)
        self.stored = stored
        self.setWindowTitle(f"更正健康体检表 — {record.card.name}")
        self.save_button.setText("保存更正")
        self.reason = _reason_box(self)
        self.fill(stored.data)
        self.chain_tabs()
        self.finish()

    def fill(self, data: HealthCheckInput) -> None:
        """Show the stored check in the form's fields."""
        set_widget(self.check_date, data.check_date)
        set_widget(self.doctor, data.doctor_name)
        for name, edit in self.numbers.items():
            set_widget(edit, getattr(data, name, None))
        for item, box in self.care.items():
            level = data.self_care.get(item)
            set_widget(box, None if level is None else int(level))
        for key, box in self.lifestyle.items():
            set_widget(box, data.lifestyle.get(key, ""))
        for key, edit in self.results.items():
            set_widget(edit, data.results.get(key, ""))
        for key, edit in self.examination.items():
            value = data.examination.get(key, "")
            set_widget(edit, STORED_NORMAL.get(value, value) if isinstance(value, str) else value)
        set_widget(self.abnormal, data.evaluation_abnormal)
        set_widget(self.note, data.evaluation_note)
        set_widget(self.guidance, data.guidance)
        self.update_bmi()
        self.update_score()
        self.update_completeness()

    def submit(self) -> Work:
        ctx, stored, reason, data = self.ctx, self.stored, self.reason.text(), self.data()
        # Parts of the stored 查体 and 辅助检查 the form has no field for stay as they were.
        kept = {name: {key: value for key, value in getattr(stored.data, name).items() if key not in shown}
                for name, shown in (("examination", self.examination), ("results", self.results))}
        data = replace(data, doctor_id=stored.data.doctor_id, examination={**kept["examination"], **data.examination},
                       results={**kept["results"], **data.results})
        return lambda: correct_health_check(ctx.db, ctx.actor, stored.check_id, data, reason=reason,
                                            expected_version=stored.version)
