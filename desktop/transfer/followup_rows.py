"""One row of a historical follow-up sheet -> the resident's keys and a VisitInput for `add_visit`.

The sheet is read with the roster reader (title rows, merged headers, blank rows) using the
follow-up vocabulary below. Here the cells are read as Excel left them (IDs stored as numbers,
dates as text, serials or date cells, full-width digits, 1/门诊/门诊随访); the visit's own
rules (ranges, SBP above DBP, dates, classification) are left to `check_visit` via `add_visit`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Any

from desktop.rules.dates import DateError, parse_date
from desktop.rules.followup import Disease, VisitMethod
from desktop.rules.text import squeeze, to_half_width
from desktop.rules.visit_checks import VISIT_LABELS, VisitInput
from desktop.transfer.roster_rows import CellProblem, cell_text, date_value, number_text
from desktop.transfer.workbook import FIELD_SYNONYMS, SheetLayout, Vocabulary

VISIT_SYNONYMS: dict[str, tuple[str, ...]] = {
    "id_number": FIELD_SYNONYMS["id_number"],
    "record_no": FIELD_SYNONYMS["record_no"],
    "name": ("姓名", "患者姓名", "居民姓名", "名字"),
    "disease": ("疾病", "病种", "疾病类型", "疾病名称", "慢病类型", "管理病种", "随访类型", "管理类型"),
    "visit_date": ("随访日期", "本次随访日期", "随访时间"),
    "method": ("随访方式",),
    "symptoms": ("症状", "目前症状"),
    "bp": ("血压",),
    "sbp": ("收缩压", "血压收缩压", "高压"),
    "dbp": ("舒张压", "血压舒张压", "低压"),
    "heart_rate": ("心率",),
    "weight": ("体重",),
    "target_weight": ("目标体重",),
    "height": ("身高",),
    "fasting_glucose": ("空腹血糖", "空腹血糖值"),
    "hba1c": ("糖化血红蛋白",),
    "hba1c_date": ("糖化血红蛋白检查日期", "糖化检查日期"),
    "medication_adherence": ("服药依从性",),
    "adverse_reaction": ("药物不良反应", "不良反应"),
    "new_complication": ("新发并发症", "并发症"),
    "hypoglycemia": ("低血糖反应",),
    "classification": ("此次随访分类", "本次随访分类", "随访分类"),
    "override_reason": ("更改理由", "更改分类的理由", "分类更改理由"),
    "next_visit_date": ("下次随访日期",),
    "doctor_name": ("随访医生", "随访医生签名", "随访医师", "医生"),
    "diagnosed_on": ("确诊日期", "确诊时间"),
    "managed_from": ("纳入管理日期", "管理开始日期"),
    "measurement": ("测量方式", "血压测量方式", "测量来源"),
    "symptoms_other": ("其他症状", "症状其他"),
    "signs_other": ("体征其他", "其他体征"),
    "tests_other": ("辅助检查", "其他辅助检查", "辅助检查其他"),
    "foot_pulse": ("足背动脉搏动", "足背动脉"),
    "foot_pulse_side": ("足背动脉搏动侧别", "足背动脉侧别"),
    "adverse_reaction_note": ("药物不良反应说明", "不良反应说明"),
    "insulin": ("胰岛素种类", "胰岛素"),
    "insulin_dose": ("胰岛素用法和用量", "胰岛素用法用量", "胰岛素用量"),
    "medication_advice": ("用药调整意见",),
    "referral_reason": ("转诊原因",),
    "referral_to": ("转诊机构及科别", "转诊机构", "机构及科别"),
    "referral_result": ("转诊结果",),
    "referral_contact": ("转诊联系人",),
    "resident_signed": ("居民签名", "患者签名", "居民（患者）签名"),
    "void_reason": ("作废原因",),
}
VISIT_TITLES = {**VISIT_LABELS, "id_number": "身份证号", "record_no": "档案编号", "name": "姓名", "disease": "疾病",
                "bp": "血压", "adverse_reaction": "药物不良反应", "diagnosed_on": "确诊日期",
                "managed_from": "纳入管理日期", "void_reason": "作废原因"}
VISIT_FIELDS = Vocabulary(VISIT_SYNONYMS, VISIT_TITLES)
REQUIRED_COLUMNS = ("disease", "visit_date", "method")
TEXT_FIELDS = ("id_number", "record_no")

_METHODS = {"门诊": "1", "家庭": "2", "家访": "2", "入户": "2", "上门": "2", "电话": "3", "1": "1", "2": "2", "3": "3"}
_SEPARATORS = re.compile(r"[、,，;；/\s]+")
_YES = frozenset({"有", "是", "√", "✓", "1", "y", "yes"})
_NO = frozenset({"无", "否", "没有", "×", "0", "n", "no", "-", "/"})
_ADVICE_ROWS = re.compile(r"[；;\n]+")


def disease_of(value: object) -> Disease:
    """高血压 / 糖尿病 (2型糖尿病, Ⅱ型糖尿病 …) from a cell."""
    text = squeeze(cell_text(value)).lower()
    if "高血压" in text or text == Disease.HYPERTENSION.value:
        return Disease.HYPERTENSION
    if "糖尿病" in text or text == Disease.DIABETES.value:
        return Disease.DIABETES
    raise CellProblem(f"“{cell_text(value)}”不是可导入的病种，应填“高血压”或“糖尿病”。")


def method_of(value: object) -> VisitMethod:
    """门诊 / 家庭 / 电话 (or 1/2/3, 门诊随访, 家访 …) from a cell."""
    text = squeeze(cell_text(value)).removesuffix("随访").removesuffix("访视")
    code = _METHODS.get(text)
    if code is None:
        raise CellProblem(f"“{cell_text(value)}”应为：门诊、家庭、电话（或 1、2、3）。")
    return VisitMethod(code)


def yes_no(value: object) -> bool:
    text = squeeze(cell_text(value)).lower()
    if not text or text in _NO:
        return False
    if text in _YES:
        return True
    raise CellProblem(f"“{cell_text(value)}”应填“有”或“无”。")


@dataclass(frozen=True)
class VisitRow:
    """A sheet row read into the resident's keys and a visit, or the reasons it was refused."""

    row: int
    values: tuple[Any, ...]
    id_number: str = ""
    record_no: str = ""
    name: str = ""
    disease: Disease | None = None
    visit_date: date | None = None
    method: VisitMethod | None = None
    data: VisitInput | None = None
    diagnosed_on: date | None = None
    managed_from: date | None = None
    problems: tuple[str, ...] = field(default_factory=tuple)
    voided: bool = False  # a voided visit (作废原因 given, as in an export): not imported

    @property
    def key(self) -> tuple[Disease | None, date | None, VisitMethod | None]:
        return self.disease, self.visit_date, self.method


class VisitRowReader:
    """Turns raw rows of one follow-up sheet into VisitRows, naming each problem by its column."""

    def __init__(self, layout: SheetLayout) -> None:
        self.layout = layout
        self.columns = layout.mapped

    def title(self, field_name: str) -> str:
        return self.layout.header_of(field_name)

    def column_message(self, field_name: str, message: str) -> str:
        """`<column header>：<message>` without repeating the field's own label."""
        label = VISIT_TITLES.get(field_name, "")
        if label and message.startswith(f"{label}："):
            message = message[len(label) + 1:]
        return f"{self.title(field_name)}：{message}"

    def named(self, row: int, field_name: str, message: str) -> str:
        """`第 N 行，<column header>：<message>`."""
        return f"第 {row} 行，{self.column_message(field_name, message)}"

    def _raw(self, values: tuple[Any, ...], field_name: str) -> Any:
        column = self.columns.get(field_name)
        return values[column.index] if column is not None else None

    def read(self, row: int, values: tuple[Any, ...]) -> VisitRow:
        problems: dict[str, str] = {}
        raw = partial(self._raw, values)
        if cell_text(raw("void_reason")):
            return VisitRow(row, values, voided=True)

        def guarded(name: str, read, default=None):
            try:
                return read(raw(name))
            except (CellProblem, DateError) as problem:
                problems[name] = str(problem)
                return default

        id_number = guarded("id_number", lambda v: squeeze(number_text(v, "身份证号")).upper(), "")
        record_no = guarded("record_no", lambda v: squeeze(number_text(v, "档案编号")), "")
        if not id_number and not record_no and "id_number" not in problems and "record_no" not in problems:
            problems["id_number"] = "身份证号和档案编号都未填写，无法确定是哪位居民。"
        disease = guarded("disease", disease_of)
        day = guarded("visit_date", _required_date)
        method = guarded("method", method_of)
        sbp, dbp = guarded("bp", _split_bp, (None, None)) if "bp" in self.columns else (None, None)
        data = VisitInput(
            visit_date=day, method=method.value if method else "", sbp=_or(raw("sbp"), sbp), dbp=_or(raw("dbp"), dbp),
            weight=raw("weight"), target_weight=raw("target_weight"), height=raw("height"),
            heart_rate=raw("heart_rate"), fasting_glucose=raw("fasting_glucose"), hba1c=raw("hba1c"),
            hba1c_date=date_value(raw("hba1c_date")), symptoms=_symptoms(raw("symptoms")),
            medication_adherence=cell_text(raw("medication_adherence")),
            adverse_reaction=guarded("adverse_reaction", yes_no, False),
            new_complication=guarded("new_complication", yes_no, False),
            hypoglycemia=cell_text(raw("hypoglycemia")), classification=cell_text(raw("classification")),
            override_reason=cell_text(raw("override_reason")), next_visit_date=date_value(raw("next_visit_date")),
            doctor_name=cell_text(raw("doctor_name")), historical=True,
            **{name: cell_text(raw(name)) for name in PLAIN_TEXT_FIELDS},
            **_foot_pulse(cell_text(raw("foot_pulse")), cell_text(raw("foot_pulse_side"))),
            medication_advice=_advice(raw("medication_advice")), resident_signed=_signed(raw("resident_signed")),
        )
        diagnosed = guarded("diagnosed_on", _optional_date)
        managed = guarded("managed_from", _optional_date)
        if problems:
            reasons = "；".join(self.column_message(f, m) for f, m in problems.items())
            return VisitRow(row, values, problems=(f"第 {row} 行，{reasons}",))
        return VisitRow(row, values, id_number, record_no, squeeze(cell_text(raw("name"))), disease, day, method,
                        data, diagnosed, managed)


PLAIN_TEXT_FIELDS = ("measurement", "symptoms_other", "signs_other", "tests_other",
                     "adverse_reaction_note", "insulin", "insulin_dose", "referral_reason", "referral_to",
                     "referral_result", "referral_contact")


_PULSE_WITH_SIDE = re.compile(r"^(?P<pulse>[^（(]+)[（(](?P<side>[^）)]+)[）)]$")


def _foot_pulse(pulse: str, side: str) -> dict[str, str]:
    """足背动脉搏动 as the export and the paper write it, '减弱（左侧）', or in two columns."""
    if not side and (match := _PULSE_WITH_SIDE.match(pulse)):
        pulse, side = match["pulse"].strip(), match["side"].strip()
    return {"foot_pulse": pulse, "foot_pulse_side": side}


def _advice(value: object) -> tuple[tuple[str, str], ...]:
    """'二甲双胍 0.5g 每日3次；阿卡波糖 50mg' -> ((drug, dose), …): one drug per line or ；, the dose after a space."""
    rows = []
    for part in _ADVICE_ROWS.split(cell_text(value)):
        name, _, dose = part.strip().partition(" ")
        if name:
            rows.append((name, dose.strip()))
    return tuple(rows)


def _signed(value: object) -> bool:
    """居民签名: a name, 是 or √ in the cell means the resident signed the paper form."""
    text = squeeze(cell_text(value)).lower()
    return bool(text) and text not in _NO


def _required_date(value: object) -> date:
    if not cell_text(value):
        raise CellProblem("未填写。")
    return parse_date(date_value(value))


def _optional_date(value: object) -> date | None:
    return parse_date(date_value(value)) if cell_text(value) else None


def _split_bp(value: object) -> tuple[str | None, str | None]:
    """'152/94' (or 152／94) -> ('152', '94'); blank -> (None, None)."""
    text = squeeze(cell_text(value))
    if not text:
        return None, None
    parts = re.split(r"[/\\]", text)
    if len(parts) != 2:
        raise CellProblem(f"“{text}”应按“收缩压/舒张压”填写，例如 132/84。")
    return parts[0], parts[1]


def _or(value: object, fallback: object) -> object:
    return fallback if value is None or (isinstance(value, str) and not value.strip()) else value


def _symptoms(value: object) -> tuple[str, ...]:
    """'头痛头晕、心悸胸闷' or '2,6' -> each symptom as written (codes or labels; check_visit maps them)."""
    return tuple(part for part in _SEPARATORS.split(to_half_width(cell_text(value))) if part)
