"""The 个人基本信息表 in the resident form: one tab per section, each short enough for a 1366×768 screen.

Field names follow `check_profile`'s, so its messages land under the right field; a section
holding an error is marked in red and brought forward. Multiple choices are rows of ticks
(无 clears the others and the others clear 无); 既往史 is a 未填/无/有 choice over rows of
(disease or name, date) as on the paper form.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QLabel,
    QLineEdit,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.rules.profile import (
    BLOOD_TYPES,
    DISABILITIES,
    DRUG_ALLERGIES,
    EDUCATION,
    EXPOSURES,
    FAMILY_DISEASES,
    FAMILY_MEMBERS,
    HISTORY_KINDS,
    LIVING_ENVIRONMENT,
    MARITAL_STATUSES,
    NAMED_DISEASES,
    NONE_CODE,
    OCCUPATIONS,
    PAST_DISEASES,
    PAYMENT_METHODS,
    RESIDENCE_TYPES,
    RH_TYPES,
    CodeTable,
    HistoryEntry,
    HistoryRow,
    Profile,
    ProfileInput,
)
from desktop.ui.form_dialog import hint_label
from desktop.ui.forms import FieldErrors, combo
from desktop.ui.theme import ERROR

NOT_FILLED = "未填"
HISTORY_STATES = [(NOT_FILLED, ""), ("无", "无"), ("有", "有")]
HISTORY_ROWS = {"diseases": 6, "operations": 2, "traumas": 2, "transfusions": 2}
MONTH_HINT = "，如 2015-03"
SECTION_TITLES = ("联系与常住", "医保与过敏", "既往史", "家族史与遗传", "残疾与生活环境")
SECTION_HINT = "Ctrl+Tab 切换到下一部分，Ctrl+S 保存。"


def code_combo(table: CodeTable, current: str | None) -> QComboBox:
    """A drop-down of “code label” options with 未填 first."""
    return combo([(NOT_FILLED, ""), *((f"{code} {label}", code) for code, label in table.items())], current or "")


def day_text(day: date | None) -> str:
    """A 既往史 date as shown: the month alone when it is the month's first day (the form asks 年月)."""
    if day is None:
        return ""
    return f"{day:%Y-%m}" if day.day == 1 else f"{day:%Y-%m-%d}"


class ChoiceChecks(QWidget):
    """A multiple choice as ticks in a grid; 无 (code 1 where the list has it) stands alone."""

    def __init__(self, table: CodeTable, chosen: Sequence[str] = (), *, columns: int = 4) -> None:
        super().__init__()
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(2)
        self.ticks: dict[str, QCheckBox] = {}
        for index, (code, label) in enumerate(table.items()):
            tick = QCheckBox(label)
            tick.setChecked(code in chosen)
            tick.toggled.connect(lambda on, code=code: self._toggled(code, on))
            grid.addWidget(tick, index // columns, index % columns)
            self.ticks[code] = tick
        self.none_code = NONE_CODE if table.get(NONE_CODE, "").startswith("无") else None
        self.setFocusProxy(next(iter(self.ticks.values())))

    def _toggled(self, code: str, on: bool) -> None:
        if not on or self.none_code is None:
            return
        for other, tick in self.ticks.items():
            if (code == self.none_code) != (other == self.none_code):
                tick.setChecked(False)

    def codes(self) -> tuple[str, ...]:
        return tuple(code for code, tick in self.ticks.items() if tick.isChecked())

    def widgets(self) -> list[QWidget]:
        return list(self.ticks.values())


class HistoryBox(QWidget):
    """One kind of 既往史: 未填/无/有, then rows of (disease and its name, or a name) with a date."""

    def __init__(self, kind: str, entries: tuple[HistoryEntry, ...] | None) -> None:
        super().__init__()
        self.kind = kind
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setVerticalSpacing(2)
        state = "" if entries is None else ("有" if entries else "无")
        self.state = combo(HISTORY_STATES, state)
        self.state.setMaximumWidth(90)
        layout.addWidget(self.state, 0, 0)
        self.rows: list[tuple[QComboBox | None, QLineEdit, QLineEdit]] = []
        shown = list(entries or ())
        for index in range(max(HISTORY_ROWS[kind], len(shown))):
            self.rows.append(self._row(layout, index, shown[index] if index < len(shown) else None))
        self.state.currentIndexChanged.connect(self._state_changed)
        self._state_changed()
        self.setFocusProxy(self.state)

    def _row(self, layout: QGridLayout, index: int, entry: HistoryEntry | None):
        disease = None
        column = 1
        if self.kind == "diseases":
            options = {code: label for code, label in PAST_DISEASES.items() if code != NONE_CODE}
            disease = combo([("请选择", ""), *((f"{c} {label}", c) for c, label in options.items())],
                            entry.code if entry else "")
            layout.addWidget(disease, index, column)
            column += 1
        what = "疾病名称（恶性肿瘤、职业病、其他等）" if disease else (
            "原因" if self.kind == "transfusions" else f"{HISTORY_KINDS[self.kind]}名称")
        name = QLineEdit(entry.name if entry else "")
        name.setPlaceholderText(what)
        day = QLineEdit(day_text(entry.day) if entry else "")
        day.setPlaceholderText(("确诊年月" if disease else "年月") + MONTH_HINT)
        day.setMaximumWidth(150)
        layout.addWidget(name, index, column)
        layout.addWidget(day, index, column + 1)
        if disease is not None:
            disease.currentIndexChanged.connect(lambda _i, d=disease, n=name: self._named(d, n))
            self._named(disease, name)
        return disease, name, day

    @staticmethod
    def _named(disease: QComboBox, name: QLineEdit) -> None:
        name.setEnabled(disease.isEnabled() and disease.currentData() in NAMED_DISEASES)

    def _state_changed(self) -> None:
        on = self.state.currentData() == "有"
        for disease, name, day in self.rows:
            for widget in (disease, name, day):
                if widget is not None:
                    widget.setEnabled(on)
            if disease is not None:
                self._named(disease, name)

    def value(self) -> object:
        """None (not asked), 无, or the rows as typed."""
        state = self.state.currentData()
        if not state:
            return None
        if state == "无":
            return "无"
        rows = []
        for disease, name, day in self.rows:
            what = disease.currentData() if disease is not None else name.text()
            detail = name.text() if disease is not None and name.isEnabled() else ""
            rows.append(HistoryRow(what or "", day.text(), detail))
        return rows

    def widgets(self) -> list[QWidget]:
        return [self.state, *(w for row in self.rows for w in row if w is not None)]


class ProfileSections:
    """The profile's tabs in `tabs`; `fields` lists every input in keyboard order."""

    def __init__(self, tabs: QTabWidget, errors: FieldErrors, profile: Profile) -> None:
        self.tabs, self.errors, self.profile = tabs, errors, profile
        self.fields: list[QWidget] = []
        self.tab_of: dict[str, int] = {}
        for title, build in zip(SECTION_TITLES, (self._contact, self._payment, self._history, self._family,
                                                 self._living), strict=True):
            page = QWidget()
            layout = QVBoxLayout(page)
            form = QFormLayout()
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            layout.addLayout(form)
            layout.addStretch(1)
            layout.addWidget(hint_label(SECTION_HINT))
            index = tabs.addTab(page, f"&{tabs.count() + 1} {title}")
            self._index = index
            build(form)

    def _add(self, form: QFormLayout, label: str, name: str, widget: QWidget, leaves: Sequence[QWidget] = ()) -> None:
        self.errors.add_row(form, label, name, widget)
        self.fields.extend(leaves or [widget])
        self.tab_of[name] = self._index

    def _line(self, form: QFormLayout, label: str, name: str, value: str | None) -> QLineEdit:
        edit = QLineEdit(value or "")
        self._add(form, label, name, edit)
        return edit

    def _combo(self, form: QFormLayout, label: str, name: str, table: CodeTable, value: str | None) -> QComboBox:
        widget = code_combo(table, value)
        self._add(form, label, name, widget)
        return widget

    def _checks(self, form: QFormLayout, label: str, name: str, table: CodeTable, chosen: Sequence[str],
                columns: int = 4) -> ChoiceChecks:
        checks = ChoiceChecks(table, chosen, columns=columns)
        self._add(form, label, name, checks, checks.widgets())
        return checks

    # ----- the sections

    def _contact(self, form: QFormLayout) -> None:
        p = self.profile
        self.residence = self._combo(form, "常住类型", "residence_type", RESIDENCE_TYPES, p.residence_type)
        self.work_unit = self._line(form, "工作单位", "work_unit", p.work_unit)
        self.contact_name = self._line(form, "联系人姓名", "contact_name", p.contact_name)
        self.contact_phone = self._line(form, "联系人电话", "contact_phone", p.contact_phone)
        self.blood = self._combo(form, "血型", "blood_type", BLOOD_TYPES, p.blood_type)
        self.rh = self._combo(form, "RH", "rh", RH_TYPES, p.rh)
        self.education = self._combo(form, "文化程度", "education", EDUCATION, p.education)
        self.occupation = self._combo(form, "职业", "occupation", OCCUPATIONS, p.occupation)
        self.marital = self._combo(form, "婚姻状况", "marital_status", MARITAL_STATUSES, p.marital_status)

    def _payment(self, form: QFormLayout) -> None:
        p = self.profile
        self.payments = self._checks(form, "医疗费用支付方式", "payment_methods", PAYMENT_METHODS, p.payment_methods, 3)
        self.payment_other = self._line(form, "其他支付方式", "payment_other", p.payment_other)
        self.allergies = self._checks(form, "药物过敏史", "drug_allergies", DRUG_ALLERGIES, p.drug_allergies, 5)
        self.allergy_other = self._line(form, "其他过敏药物", "drug_allergy_other", p.drug_allergy_other)
        self.exposures = self._checks(form, "暴露史", "exposures", EXPOSURES, p.exposures, 4)

    def _history(self, form: QFormLayout) -> None:
        self.history: dict[str, HistoryBox] = {}
        for kind, label in HISTORY_KINDS.items():
            box = HistoryBox(kind, self.profile.past_history.get(kind))
            self._add(form, label, f"past_history.{kind}", box, box.widgets())
            self.history[kind] = box

    def _family(self, form: QFormLayout) -> None:
        p = self.profile
        self.family = {member: self._checks(form, label, f"family_history.{member}", FAMILY_DISEASES,
                                            p.family_history.get(member, ()), 6)
                       for member, label in FAMILY_MEMBERS.items()}
        self.family_other = self._line(form, "其他疾病", "family_history.other", p.family_other)
        self.genetic = self._line(form, "遗传病史", "genetic_disease", p.genetic_disease)
        self.genetic.setPlaceholderText("无，或遗传病名称")

    def _living(self, form: QFormLayout) -> None:
        p = self.profile
        self.disabilities = self._checks(form, "残疾情况", "disabilities", DISABILITIES, p.disabilities, 4)
        self.disability_other = self._line(form, "其他残疾", "disability_other", p.disability_other)
        form.addRow(QLabel("生活环境"))
        self.living = {item: self._combo(form, label, f"living_environment.{item}", table,
                                         p.living_environment.get(item))
                       for item, (label, table) in LIVING_ENVIRONMENT.items()}

    # ----- reading and marking

    def value(self) -> ProfileInput:
        """The profile as entered."""
        return ProfileInput(
            residence_type=self.residence.currentData() or "", work_unit=self.work_unit.text(),
            contact_name=self.contact_name.text(), contact_phone=self.contact_phone.text(),
            blood_type=self.blood.currentData() or "", rh=self.rh.currentData() or "",
            education=self.education.currentData() or "", occupation=self.occupation.currentData() or "",
            marital_status=self.marital.currentData() or "", payment_methods=self.payments.codes(),
            payment_other=self.payment_other.text(), drug_allergies=self.allergies.codes(),
            drug_allergy_other=self.allergy_other.text(), exposures=self.exposures.codes(),
            past_history={kind: box.value() for kind, box in self.history.items()},
            family_history={member: checks.codes() for member, checks in self.family.items()},
            family_other=self.family_other.text(), genetic_disease=self.genetic.text(),
            disabilities=self.disabilities.codes(), disability_other=self.disability_other.text(),
            living_environment={item: widget.currentData() or "" for item, widget in self.living.items()},
        )

    def mark(self, errors: dict[str, str], *, first_tab: int = 0) -> int | None:
        """Colour the titles of the sections holding errors; the first such section's index."""
        bar = self.tabs.tabBar()
        marked = sorted({self.tab_of[name] for name in errors if name in self.tab_of})
        for index in range(first_tab + 1, self.tabs.count()):
            bar.setTabTextColor(index, QColor(ERROR) if index in marked else QColor())
        return marked[0] if marked else None

