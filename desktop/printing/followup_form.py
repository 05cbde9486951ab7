"""高血压 / 2型糖尿病患者随访服务记录表 in the national layout: A4 portrait, four visits per sheet.

The field rows run down the left (a narrow group column such as 体征 or 生活方式指导, then the
row's own label) and each sheet has four visit columns. A year's visits fill as many sheets as
needed, in date order; an empty column still shows the printed options, as the paper form does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

from desktop.printing.draw import BOX, MARGIN, PAD, Cell, box, code_box, form_header, write
from desktop.printing.sheet import THICK, THIN, Sheet
from desktop.rules.elderly import bmi
from desktop.rules.followup import Disease
from desktop.rules.visit_checks import DIABETES_SYMPTOMS, HYPERTENSION_SYMPTOMS

VISITS_PER_SHEET = 4
GROUP_W, LABEL_W = 10.0, 35.0
TABLE_TOP, TABLE_BOTTOM = 33.0, 280.0
TITLES = {Disease.HYPERTENSION: "高血压患者随访服务记录表", Disease.DIABETES: "2型糖尿病患者随访服务记录表"}
VALUE_SIZE = 8.5
LABEL_SIZE = 8.0


@dataclass(frozen=True)
class VisitRecord:
    """One stored visit as the form prints it (plain data, read from `FollowupVisit`)."""

    visit_date: date
    method: str
    doctor_name: str
    next_visit_date: date | None = None
    symptoms: tuple[str, ...] = ()
    symptoms_other: str | None = None
    sbp: int | None = None
    dbp: int | None = None
    weight: float | None = None
    target_weight: float | None = None
    height: float | None = None
    heart_rate: int | None = None
    foot_pulse: str | None = None
    foot_pulse_side: str | None = None
    signs_other: str | None = None
    lifestyle: dict = field(default_factory=dict)
    fasting_glucose: float | None = None
    hba1c: float | None = None
    hba1c_date: date | None = None
    tests_other: str | None = None
    medication_adherence: str | None = None
    adverse_reaction: bool = False
    adverse_reaction_note: str | None = None
    hypoglycemia: str | None = None
    classification: str | None = None
    medications: tuple[dict, ...] = ()
    insulin: str | None = None
    insulin_dose: str | None = None
    medication_advice: tuple[dict, ...] = ()
    referral_reason: str | None = None
    referral_to: str | None = None
    referral_contact: str | None = None
    referral_result: str | None = None
    measurement: str | None = None


@dataclass(frozen=True)
class PatientHeader:
    name: str
    record_no: str


Filler = Callable[[Sheet, Cell, VisitRecord | None], None]


@dataclass(frozen=True)
class Row:
    """One field row: `group` is the merged left cell shared by consecutive rows (None: no group)."""

    group: str | None
    label: str
    height: float
    fill: Filler
    label_size: float = LABEL_SIZE


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _one_decimal(value: float | None) -> str:
    """Glucose and HbA1c as the paper writes them: 7.0, 6.5."""
    return "" if value is None else f"{value:.1f}"


def _blood_pressure(visit: VisitRecord) -> str:
    """132/84, with （居民自测） for the patient's own reading, or 未测."""
    if visit.measurement == MEASUREMENT_NONE:
        return "未测"
    reading = f"{visit.sbp}/{visit.dbp}" if visit.sbp and visit.dbp else ""
    return f"{reading}（居民自测）" if reading and visit.measurement == MEASUREMENT_SELF else reading


def _glucose(visit: VisitRecord) -> str:
    if visit.fasting_glucose is None and visit.measurement == MEASUREMENT_NONE:
        return "未测"
    value = _one_decimal(visit.fasting_glucose)
    return f"{value}（居民自测）" if value and visit.measurement == MEASUREMENT_SELF else value


def _insulin_kind(visit: VisitRecord) -> str:
    """胰岛素种类; an older record kept kind and dose in one text, "种类；用法和用量"."""
    return (visit.insulin or "") if visit.insulin_dose else (visit.insulin or "").split("；")[0]


def _insulin_dose(visit: VisitRecord) -> str:
    return visit.insulin_dose or "；".join((visit.insulin or "").split("；")[1:])


def _day(value: date | None) -> str:
    return "" if value is None else f"{value.year}年{value.month}月{value.day}日"


def _text(get: Callable[[VisitRecord], object]) -> Filler:
    def fill(sheet: Sheet, cell: Cell, visit: VisitRecord | None) -> None:
        if visit is not None:
            value = get(visit)
            write(sheet, cell, value if isinstance(value, str) else _num(value), VALUE_SIZE)
    return fill


def _pair(now: Callable[[VisitRecord], object], target: Callable[[VisitRecord], object]) -> Filler:
    """A now / target row: the value now, a slash, the target."""
    def fill(sheet: Sheet, cell: Cell, visit: VisitRecord | None) -> None:
        left, right = cell.split_h(0.5, 0.5)
        write(sheet, cell, "/", VALUE_SIZE)
        if visit is not None:
            for part, get in ((left, now), (right, target)):
                value = get(visit)
                write(sheet, part, value if isinstance(value, str) else _num(value), VALUE_SIZE)
    return fill


def _coded(options: str, get: Callable[[VisitRecord], str | None]) -> Filler:
    def fill(sheet: Sheet, cell: Cell, visit: VisitRecord | None) -> None:
        code_box(sheet, cell, options, get(visit) if visit is not None else None)
    return fill


def _life(key: str) -> Callable[[VisitRecord], object]:
    return lambda visit: visit.lifestyle.get(key)


def _symptoms(sheet: Sheet, cell: Cell, visit: VisitRecord | None) -> None:
    """Eight boxes (two rows of four, codes written in) and 其他 below, as on the paper form."""
    codes = list(visit.symptoms) if visit is not None else []
    step = BOX + 2.2
    x0 = cell.x + (cell.w - (4 * step - 2.2)) / 2
    for index in range(8):
        row, column = divmod(index, 4)
        x, y = x0 + column * step, cell.y + 2.5 + row * (BOX + 2.5)
        box(sheet, x, y, codes[index] if index < len(codes) else "")
        if column < 3:
            write(sheet, Cell(x + BOX, y, 2.2, BOX), "/", 7, pad=0)
    other = f"其他：{visit.symptoms_other or ''}" if visit is not None else "其他："
    write(sheet, Cell(cell.x, cell.y + 2 * BOX + 6, cell.w, cell.h - 2 * BOX - 6), other, 7.5,
          align="left", valign="top")


def _exercise(sheet: Sheet, cell: Cell, visit: VisitRecord | None) -> None:
    """运动: times a week and minutes each time, now (first line) and target (second line)."""
    for part, suffix in zip(cell.split_v(2), ("", "_target"), strict=True):
        times = _num(visit.lifestyle.get(f"exercise_times_per_week{suffix}")) if visit else ""
        minutes = _num(visit.lifestyle.get(f"exercise_minutes{suffix}")) if visit else ""
        write(sheet, part, f"{times or '  '} 次/周  {minutes or '  '} 分钟/次", 7.5)


def _level(codes: dict[str, str], key: str) -> Callable[[VisitRecord], str]:
    return lambda visit: codes.get(str(visit.lifestyle.get(key) or ""), "")


def _bmi(weight: float | None, height: float | None) -> float | None:
    return bmi(weight, height) if weight and height else None


def _medicine(slot: int, *, rest: bool = False) -> Filler:
    """药物名称 for the slot (with `rest`, every drug from the slot on, joined)."""
    def fill(sheet: Sheet, cell: Cell, visit: VisitRecord | None) -> None:
        if visit is not None:
            drugs = visit.medications[slot:] if rest else visit.medications[slot:slot + 1]
            write(sheet, cell, "、".join(d.get("name", "") for d in drugs), VALUE_SIZE)
    return fill


def _dosage(slot: int) -> Filler:
    def fill(sheet: Sheet, cell: Cell, visit: VisitRecord | None) -> None:
        drug = visit.medications[slot] if visit is not None and slot < len(visit.medications) else None
        if drug is None:
            write(sheet, cell, "每日    次   每次      ", 7.5)
        else:
            write(sheet, cell, f"每日 {drug.get('times_per_day') or '  '} 次  每次 {drug.get('dose') or '  '}", 7.5)
    return fill


def _adverse(sheet: Sheet, cell: Cell, visit: VisitRecord | None) -> None:
    code = None if visit is None else ("2" if visit.adverse_reaction else "1")
    note = (visit.adverse_reaction_note or "") if visit is not None else ""
    code_box(sheet, cell, f"1无 2有 {note}".strip(), code)


def _foot_pulse(sheet: Sheet, cell: Cell, visit: VisitRecord | None) -> None:
    options = "1触及正常 2减弱（双侧/左侧/右侧） 3消失（双侧/左侧/右侧）"
    side = visit.foot_pulse_side if visit is not None and visit.foot_pulse in ("2", "3") else None
    code_box(sheet, cell, options + (f"\n侧别：{side}" if side else ""), visit.foot_pulse if visit else None, 6)


def _glucose_tests(sheet: Sheet, cell: Cell, visit: VisitRecord | None) -> None:
    """其他检查: 糖化血红蛋白 with its date, then any other tests."""
    if visit is None:
        write(sheet, cell, "糖化血红蛋白     %\n检查日期：  月  日", 7, align="left")
        return
    when = f"{visit.hba1c_date.month}月{visit.hba1c_date.day}日" if visit.hba1c_date else "  月  日"
    lines = [f"糖化血红蛋白 {_one_decimal(visit.hba1c) or '   '} %", f"检查日期：{when}"]
    if visit.tests_other:
        lines.append(visit.tests_other)
    write(sheet, cell, "\n".join(lines), 7, align="left")


def _advice(slot: int) -> Filler:
    """用药调整意见: the slot's drug and its dose on one line."""
    def fill(sheet: Sheet, cell: Cell, visit: VisitRecord | None) -> None:
        if visit is not None and slot < len(visit.medication_advice):
            drug = visit.medication_advice[slot]
            write(sheet, cell, f"{drug.get('name') or ''}　{drug.get('dose') or ''}".strip(), 7.5)
    return fill


def _blank(sheet: Sheet, cell: Cell, visit: VisitRecord | None) -> None:
    """Left empty on purpose: signed by hand on the paper."""


_SALT = {"1": "轻", "2": "中", "3": "重"}
MEASUREMENT_SELF, MEASUREMENT_NONE = "2", "3"
ADVICE_SLOTS = 3
_METHOD = "1门诊 2家庭 3电话"
_MOOD = "1良好 2一般 3差"
_ADHERENCE = "1规律 2间断 3不服药"
_CLASSIFICATION = "1控制满意 2控制不满意 3不良反应 4并发症"
_REFERRAL_RESULT = "1到位 2不到位"


def _symptom_label(codes: dict[str, str]) -> str:
    return "\n".join(f"{code} {label}" for code, label in codes.items())


def _head_rows() -> list[Row]:
    return [
        Row(None, "随访日期", 7, _text(lambda v: _day(v.visit_date))),
        Row(None, "随访方式", 7, _coded(_METHOD, lambda v: v.method)),
    ]


def _life_rows(disease: Disease) -> list[Row]:
    group = "生活方式指导"
    rows = [
        Row(group, "日吸烟量（支）", 7, _pair(_life("cigarettes_per_day"), _life("cigarettes_per_day_target"))),
        Row(group, "日饮酒量（两）", 7, _pair(_life("alcohol_liang_per_day"), _life("alcohol_liang_per_day_target"))),
        Row(group, "运动", 10, _exercise),
    ]
    if disease is Disease.HYPERTENSION:
        rows.append(Row(group, "摄盐情况（咸淡）\n轻/中/重", 8,
                        _pair(_level(_SALT, "salt"), _level(_SALT, "salt_target"))))
    else:
        rows.append(Row(group, "主食（克/天）", 7,
                        _pair(_life("staple_grams_per_day"), _life("staple_grams_per_day_target"))))
    rows += [
        Row(group, "心理调整", 7, _coded(_MOOD, lambda v: v.lifestyle.get("mood"))),
        Row(group, "遵医行为", 7, _coded(_MOOD, lambda v: v.lifestyle.get("compliance"))),
    ]
    return rows


def _tail_rows(disease: Disease) -> list[Row]:
    drugs = [row for slot in range(3) for row in (
        Row("用药情况", f"药物名称{slot + 1}", 7, _medicine(slot, rest=disease is Disease.DIABETES and slot == 2)),
        Row("用药情况", "用法用量", 7, _dosage(slot)))]
    if disease is Disease.HYPERTENSION:
        drugs += [Row("用药情况", "其他药物", 7, _medicine(3, rest=True)),
                  Row("用药情况", "用法用量", 7, _dosage(3))]
    else:
        drugs += [Row("用药情况", "胰岛素 种类", 7, _text(_insulin_kind)),
                  Row("用药情况", "胰岛素 用法和用量", 7, _text(_insulin_dose))]
    advice = [Row("用药调整意见", f"药物{slot + 1} 用法用量", 6, _advice(slot)) for slot in range(ADVICE_SLOTS)]
    return drugs + advice + [
        Row("转诊", "原因", 7, _text(lambda v: v.referral_reason or "")),
        Row("转诊", "机构及科别", 7, _text(lambda v: v.referral_to or "")),
        Row("转诊", "联系人及电话", 6, _text(lambda v: v.referral_contact or "")),
        Row("转诊", "结果", 6, _coded(_REFERRAL_RESULT, lambda v: v.referral_result)),
        Row(None, "下次随访日期", 7, _text(lambda v: _day(v.next_visit_date))),
        Row(None, "随访医生签名", 8, _blank),
        Row(None, "居民签名", 8, _blank),
    ]


def hypertension_rows() -> list[Row]:
    signs = "体征"
    return [
        *_head_rows(),
        Row("症状", _symptom_label(HYPERTENSION_SYMPTOMS), 27, _symptoms, 7),
        Row(signs, "血压（mmHg）", 7, _text(_blood_pressure)),
        Row(signs, "体重（kg）", 7, _pair(lambda v: v.weight, lambda v: v.target_weight)),
        Row(signs, "体质指数（BMI）\n（kg/m²）", 8,
            _pair(lambda v: _bmi(v.weight, v.height), lambda v: _bmi(v.target_weight, v.height))),
        Row(signs, "心率（次/分钟）", 7, _text(lambda v: v.heart_rate)),
        Row(signs, "其他", 7, _text(lambda v: v.signs_other or "")),
        *_life_rows(Disease.HYPERTENSION),
        Row(None, "辅助检查*", 8, _text(lambda v: v.tests_other or "")),
        Row(None, "服药依从性", 7, _coded(_ADHERENCE, lambda v: v.medication_adherence)),
        Row(None, "药物不良反应", 7, _adverse),
        Row(None, "此次随访分类", 9, _coded(_CLASSIFICATION, lambda v: v.classification)),
        *_tail_rows(Disease.HYPERTENSION),
    ]


def diabetes_rows() -> list[Row]:
    signs = "体征"
    return [
        *_head_rows(),
        Row("症状", _symptom_label(DIABETES_SYMPTOMS), 27, _symptoms, 7),
        Row(signs, "血压（mmHg）", 7, _text(_blood_pressure)),
        Row(signs, "体重（kg）", 7, _pair(lambda v: v.weight, lambda v: v.target_weight)),
        Row(signs, "体质指数（BMI）\n（kg/m²）", 8,
            _pair(lambda v: _bmi(v.weight, v.height), lambda v: _bmi(v.target_weight, v.height))),
        Row(signs, "足背动脉搏动", 11, _foot_pulse),
        Row(signs, "其他", 7, _text(lambda v: v.signs_other or "")),
        *_life_rows(Disease.DIABETES),
        Row("辅助检查", "空腹血糖值（mmol/L）", 8, _text(_glucose)),
        Row("辅助检查", "其他检查*", 10, _glucose_tests),
        Row(None, "服药依从性", 7, _coded(_ADHERENCE, lambda v: v.medication_adherence)),
        Row(None, "药物不良反应", 7, _adverse),
        Row(None, "低血糖反应", 7, _coded("1无 2偶尔 3频繁", lambda v: v.hypoglycemia)),
        Row(None, "此次随访分类", 9, _coded(_CLASSIFICATION, lambda v: v.classification)),
        *_tail_rows(Disease.DIABETES),
    ]


def followup_sheets(disease: Disease, patient: PatientHeader, visits: Sequence[VisitRecord],
                    year: int, *, voided: int = 0) -> list[Sheet]:
    """The year's visits in date order, four to a sheet (one blank sheet when there are none).

    `voided` visits of the year are not printed; the footer says how many there were.
    """
    ordered = sorted(visits, key=lambda v: v.visit_date)
    chunks = [ordered[i:i + VISITS_PER_SHEET] for i in range(0, len(ordered), VISITS_PER_SHEET)] or [[]]
    rows = hypertension_rows() if disease is Disease.HYPERTENSION else diabetes_rows()
    sheets = []
    for number, chunk in enumerate(chunks, start=1):
        sheet = Sheet()
        form_header(sheet, TITLES[disease], patient.name, patient.record_no)
        bottom = _table(sheet, rows, chunk)
        write(sheet, Cell(MARGIN, bottom + 2, sheet.width - 2 * MARGIN, 6),
              f"{year} 年度　第 {number} 页，共 {len(chunks)} 页" + (f"（另有已作废随访 {voided} 次，不打印）"
                                                               if voided else ""), 8)
        sheets.append(sheet)
    return sheets


def _table(sheet: Sheet, rows: list[Row], visits: Sequence[VisitRecord]) -> float:
    """The grid: group and label columns, then four visit columns, scaled to fit; returns its bottom."""
    scale = min(1.0, (TABLE_BOTTOM - TABLE_TOP) / sum(row.height for row in rows))
    left, right = MARGIN, sheet.width - MARGIN
    visit_x = left + GROUP_W + LABEL_W
    visit_w = (right - visit_x) / VISITS_PER_SHEET
    y, group_start = TABLE_TOP, TABLE_TOP
    for index, row in enumerate(rows):
        height = row.height * scale
        label_x = left + GROUP_W if row.group else left
        write(sheet, Cell(label_x, y, visit_x - label_x, height), row.label, row.label_size,
              align="left" if row.group == "症状" else "center")
        for column in range(VISITS_PER_SHEET):
            visit = visits[column] if column < len(visits) else None
            row.fill(sheet, Cell(visit_x + column * visit_w, y, visit_w, height), visit)
        y += height
        last_of_group = index + 1 == len(rows) or rows[index + 1].group != row.group or row.group is None
        sheet.line(label_x if not last_of_group else left, y, right, y, THIN)
        if row.group and last_of_group:
            write(sheet, Cell(left, group_start, GROUP_W, y - group_start), row.group, LABEL_SIZE, pad=PAD)
            sheet.line(left + GROUP_W, group_start, left + GROUP_W, y, THIN)
        if last_of_group:
            group_start = y
    for column in range(VISITS_PER_SHEET):
        sheet.line(visit_x + column * visit_w, TABLE_TOP, visit_x + column * visit_w, y, THIN)
    sheet.rect(left, TABLE_TOP, right - left, y - TABLE_TOP, THICK)
    return y
