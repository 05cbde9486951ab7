"""健康体检表 (main parts) with the 65+ self-care assessment: BMI and the score computed as typed.

For a resident 65+ on the check date the form says, as fields are filled, which parts the 规范
still lacks (desktop/rules/health_check_completeness.py); an incomplete check may be saved and
is counted as incomplete until a correction fills it in.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QComboBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from desktop.changes import Changes
from desktop.clock import now
from desktop.errors import ValidationError
from desktop.rules.dates import DateError, parse_date
from desktop.rules.elderly import SELF_CARE_ITEMS, Dependence, bmi, self_care_score
from desktop.rules.health_check_completeness import EXAMINATION_PARTS, missing_parts
from desktop.rules.population import ELDERLY_AGE
from desktop.services.chronic_query import ChronicRecord, chronic_record
from desktop.services.health_checks import GUIDANCE, HealthCheckInput, record_health_check
from desktop.ui.chronic_widgets import (
    NOTE_STYLE,
    CheckGrid,
    SectionedForm,
    connect_all,
    number_edit,
    pair,
    typed_number,
)
from desktop.ui.context import UiContext
from desktop.ui.form_dialog import Work, hint_label
from desktop.ui.forms import combo, date_edit

LIFESTYLE = (
    ("exercise", "锻炼频率", ("每天", "每周一次以上", "偶尔", "不锻炼")),
    ("diet", "饮食习惯", ("荤素均衡", "荤食为主", "素食为主", "嗜盐", "嗜油", "嗜糖")),
    ("smoking", "吸烟情况", ("从不吸烟", "已戒烟", "吸烟")),
    ("drinking", "饮酒频率", ("从不", "偶尔", "经常", "每天")),
)
RESULTS = (
    ("blood_routine", "血常规"), ("urine_routine", "尿常规"), ("liver_function", "肝功能"),
    ("kidney_function", "肾功能"), ("fasting_glucose", "空腹血糖"), ("blood_lipids", "血脂"),
    ("ecg", "心电图"), ("ultrasound", "腹部B超"),
)
NUMBERS = {"sbp": "收缩压", "dbp": "舒张压", "heart_rate": "心率", "height": "身高", "weight": "体重", "waist": "腰围"}
UNITS = {"sbp": "mmHg", "dbp": "mmHg", "heart_rate": "次/分", "height": "cm", "weight": "kg", "waist": "cm"}
WHOLE = ("sbp", "dbp", "heart_rate")
NORMAL = "未见异常"
STORED_NORMAL = {"1": NORMAL}  # 查体 recorded as the national form's code 1 (未见异常)
COMPLETE_STYLE = NOTE_STYLE
LACKING_STYLE = "background: #fff6e0; border: 1px solid #e0b84c; padding: 6px;"


def _finding_row(edit: QLineEdit, button: QPushButton) -> QWidget:
    """A 查体 finding as wide as the column allows, its 未见异常 button beside it; focus goes to the text."""
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(edit, 1)
    row.addWidget(button)
    box.setFocusProxy(edit)
    return box


class HealthCheckForm(SectionedForm):
    """A new yearly health check for one resident."""

    def __init__(self, ctx: UiContext, record: ChronicRecord, parent: QWidget | None = None) -> None:
        card = record.card
        super().__init__(ctx, f"健康体检表 — {card.name}", 3, parent)
        self.record, self.today = record, now().date()
        self.setMinimumWidth(1180)
        self.resize(1240, 600)
        self.numbers: dict[str, QLineEdit] = {}
        self._general()
        self._examination()
        self._self_care()
        self._lifestyle()
        self._results()
        self.end_columns()
        sex = {"1": "男", "2": "女"}.get(card.sex, "")
        self.header.setText(f"档案编号 {card.record_no} · {card.name} {sex} {card.age(self.today)}岁 · "
                            f"{card.village_name}")
        connect_all([self.numbers["height"], self.numbers["weight"]], self.update_bmi)
        connect_all([*self.care.values(), self.check_date], self.update_score)
        self.completeness = QLabel()
        self.completeness.setWordWrap(True)
        self.layout().insertWidget(2, self.completeness)
        connect_all([self.check_date, *self.numbers.values(), *self.care.values(), *self.examination.values(),
                     *self.results.values(), self.guidance], self.update_completeness)
        self.update_bmi()
        self.update_score()
        self.update_completeness()
        self.chain_tabs()
        self.finish()

    def _general(self) -> None:
        form = self.section(0, "一般状况")
        self.check_date = self.add_to(form, "体检日期", "check_date", date_edit(self.today))
        for name, unit in UNITS.items():
            self.numbers[name] = self.add_to(form, f"{NUMBERS[name]}（{unit}）", name, number_edit(unit))
        self.bmi_label = hint_label("")
        form.addRow("体质指数", self.bmi_label)
        self.doctor = self.add_to(form, "责任医生", "doctor_name", QLineEdit(self.ctx.actor.display_name))

    def _examination(self) -> None:
        form = self.section(0, "查体")
        self.examination: dict[str, QLineEdit] = {}
        self.normal_buttons: dict[str, QPushButton] = {}
        for key, label in EXAMINATION_PARTS.items():
            edit = QLineEdit()
            edit.setPlaceholderText("异常时写明所见")
            edit.setMaxLength(100)
            button = QPushButton(NORMAL)
            button.setToolTip(f"{label}：{NORMAL}")
            button.setAutoDefault(False)
            button.clicked.connect(lambda _checked=False, e=edit: e.setText(NORMAL))
            self.examination[key], self.normal_buttons[key] = edit, button
            self.add_to(form, label, f"examination_{key}", _finding_row(edit, button), [edit, button])

    def _self_care(self) -> None:
        form = self.section(1, "老年人生活自理能力评估")
        self.care_hint = hint_label("")
        form.addRow(self.care_hint)
        self.care: dict[str, QComboBox] = {}
        box = QWidget()
        inner = QFormLayout(box)
        inner.setContentsMargins(0, 0, 0, 0)
        for item, (label, scores) in SELF_CARE_ITEMS.items():
            choices = [("未评估", None), *((f"{level.label}（{scores[level]} 分）", level.value) for level in Dependence)]
            self.care[item] = combo(choices)
            inner.addRow(label, self.care[item])
        self.add_to(form, "", "self_care", box, list(self.care.values()))
        box.setFocusProxy(self.care["eating"])
        self.score_label = QLabel()
        self.score_label.setStyleSheet("font-weight: bold;")
        form.addRow("总分", self.score_label)

    def _lifestyle(self) -> None:
        form = self.section(1, "生活方式")
        self.lifestyle: dict[str, QComboBox] = {}
        for key, label, choices in LIFESTYLE:
            self.lifestyle[key] = self.add_to(form, label, key, combo([("未填", ""), *((c, c) for c in choices)], ""))

    def _results(self) -> None:
        form = self.section(2, "辅助检查（主要结果）")
        self.results: dict[str, QLineEdit] = {}
        for key, label in RESULTS:
            self.results[key] = self.add_to(form, label, f"result_{key}", QLineEdit())
        evaluation = self.section(2, "健康评价与指导")
        self.abnormal = combo([("请选择", None), ("体检无异常", False), ("有异常", True)], None)
        self.note = QLineEdit()
        self.note.setPlaceholderText("异常情况")
        self.add_to(evaluation, "健康评价", "evaluation", pair(self.abnormal, self.note), [self.abnormal, self.note])
        self.guidance = CheckGrid(list(GUIDANCE.items()), columns=2)
        self.add_to(evaluation, "健康指导", "guidance", self.guidance, self.guidance.widgets())

    # ----- derived values

    def update_bmi(self) -> None:
        height, weight = typed_number(self.numbers["height"].text()), typed_number(self.numbers["weight"].text())
        if height and weight and 80 <= height <= 230 and 20 <= weight <= 250:
            self.bmi_label.setText(f"{bmi(weight, height):.1f} kg/m²（按身高、体重计算）")
        else:
            self.bmi_label.setText("填写身高、体重后自动计算")

    def answers(self) -> dict[str, Dependence]:
        return {item: Dependence(c.currentData()) for item, c in self.care.items() if c.currentData() is not None}

    def elderly(self) -> bool:
        try:
            day = parse_date(self.check_date.text())
        except DateError:
            day = self.today
        return self.record.card.age(day) >= ELDERLY_AGE

    def update_score(self) -> None:
        answers = self.answers()
        required = "65 岁及以上居民必填，" if self.elderly() else ""
        self.care_hint.setText(f"{required}按每项的依赖程度计分，总分自动计算。")
        if len(answers) == len(SELF_CARE_ITEMS):
            self.score_label.setText(self_care_score(answers).label)
        else:
            self.score_label.setText(f"已评 {len(answers)}/{len(SELF_CARE_ITEMS)} 项")

    def score_text(self) -> str:
        return self.score_label.text()

    def missing(self) -> list[str]:
        """What the 规范 still lacks in the form as filled (the parts `missing_parts` names)."""
        answers = self.answers()
        numbers = {name: typed_number(edit.text()) for name, edit in self.numbers.items()}
        total = self_care_score(answers).total if len(answers) == len(SELF_CARE_ITEMS) else None
        return missing_parts({
            **numbers, "self_care_total": total, "guidance": list(self.guidance.values()),
            "examination": {key: edit.text() for key, edit in self.examination.items()},
            "results": {key: edit.text() for key, edit in self.results.items()},
        })

    def update_completeness(self) -> None:
        """Say what a 65+ check still lacks for 规范健康管理, or that it is complete."""
        if not self.elderly():
            self.completeness.hide()
            return
        missing = self.missing()
        if missing:
            self.completeness.setText(f"老年人健康管理规范要求的内容尚缺：{'、'.join(missing)}。可以先保存，"
                                      "记为不完整体检；补齐后以“更正”补录即计为规范健康管理。")
        else:
            self.completeness.setText("内容完整：符合老年人健康管理规范要求的体检内容。")
        self.completeness.setStyleSheet(LACKING_STYLE if missing else COMPLETE_STYLE)
        self.completeness.show()

    # ----- saving

    def _numbers(self) -> dict[str, float | int | None]:
        values: dict[str, float | int | None] = {}
        errors: dict[str, str] = {}
        for name, edit in self.numbers.items():
            text = edit.text().strip()
            value = typed_number(text)
            if text and value is None:
                errors[name] = f"{NUMBERS[name]}“{text}”不是数字。"
            elif value is not None and name in WHOLE and value != int(value):
                errors[name] = f"{NUMBERS[name]}应为整数。"
            values[name] = int(value) if value is not None and name in WHOLE else value
        if errors:
            raise ValidationError(errors)
        return values

    def data(self) -> HealthCheckInput:
        return HealthCheckInput(
            check_date=self.check_date.text(), doctor_name=self.doctor.text(), **self._numbers(),
            self_care=self.answers(),
            lifestyle={key: c.currentData() for key, c in self.lifestyle.items() if c.currentData()},
            results={key: e.text().strip() for key, e in self.results.items() if e.text().strip()},
            examination={key: e.text().strip() for key, e in self.examination.items() if e.text().strip()},
            evaluation_abnormal=self.abnormal.currentData(), evaluation_note=self.note.text(),
            guidance=self.guidance.values(), doctor_id=self.ctx.actor.staff_id,
        )

    def submit(self) -> Work:
        ctx, resident_id, data = self.ctx, self.record.card.resident_id, self.data()

        def work() -> Changes:
            return record_health_check(ctx.db, ctx.actor, resident_id, data)

        return work


def open_health_check_form(ctx: UiContext, parent: QWidget, resident_id: int,
                           shown: Callable[[HealthCheckForm], None] | None = None) -> None:
    """Load the resident's record on the database thread, then open a new health-check form."""

    def show(record: ChronicRecord) -> None:
        form = HealthCheckForm(ctx, record, parent=parent)
        if shown is not None:
            shown(form)
        form.open()

    ctx.tasks.run_db(lambda: chronic_record(ctx.db, ctx.actor, resident_id), on_success=show, parent=parent)
