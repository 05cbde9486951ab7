"""Checking a follow-up visit as entered: one function for the form, the command line and imports.

`check_visit` cleans loose values (text from a form or a spreadsheet) into typed ones, checks
each against the national form's codes and the sanity ranges, and works out the rules'
suggestion. Facts about the patient (birth, diagnosis, previous visit) are passed in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from desktop.errors import ValidationError
from desktop.rules.dates import DateError, age_on, parse_date
from desktop.rules.followup import (
    DEFAULT_RULES,
    SANITY_RANGES,
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
    on_target,
    range_problems,
    suggest,
)
from desktop.rules.numbers import parse_decimal
from township_wire.text import looks_like_formula, safe_text_problem

VISIT_LABELS = {
    "visit_date": "随访日期", "method": "随访方式", "symptoms": "症状", "sbp": "收缩压", "dbp": "舒张压",
    "weight": "体重", "target_weight": "目标体重", "height": "身高", "heart_rate": "心率",
    "fasting_glucose": "空腹血糖", "hba1c": "糖化血红蛋白", "hba1c_date": "糖化血红蛋白检查日期",
    "medication_adherence": "服药依从性", "classification": "此次随访分类", "override_reason": "更改分类的理由",
    "next_visit_date": "下次随访日期", "doctor_name": "随访医生", "hypoglycemia": "低血糖反应",
    "foot_pulse": "足背动脉搏动", "medications": "用药情况", "referral_reason": "转诊原因",
    "referral_to": "转诊机构及科别", "adverse_reaction_note": "药物不良反应说明", "measurement": "测量方式",
    "symptoms_other": "其他症状", "signs_other": "体征其他", "tests_other": "辅助检查", "foot_pulse_side": "足背动脉搏动侧别",
    "insulin": "胰岛素种类", "insulin_dose": "胰岛素用法和用量", "medication_advice": "用药调整意见",
    "referral_result": "转诊结果", "referral_contact": "转诊联系人", "resident_signed": "居民签名",
}
# Free-text parts of the form that the rules do not interpret: field -> longest length stored.
TEXT_LIMITS = {"referral_reason": 200, "referral_to": 100, "adverse_reaction_note": 200, "symptoms_other": 200,
               "signs_other": 200, "tests_other": 200, "insulin": 100, "insulin_dose": 100, "referral_contact": 50}
HYPERTENSION_SYMPTOMS = {
    "1": "无症状", "2": "头痛头晕", "3": "恶心呕吐", "4": "眼花耳鸣", "5": "呼吸困难", "6": "心悸胸闷",
    "7": "鼻衄出血不止", "8": "四肢发麻", "9": "下肢水肿",
}
DIABETES_SYMPTOMS = {
    "1": "无症状", "2": "多饮", "3": "多食", "4": "多尿", "5": "视力模糊", "6": "感染", "7": "手脚麻木",
    "8": "下肢浮肿", "9": "体重明显下降",
}
ADHERENCE = {"1": "规律", "2": "间断", "3": "不服药"}
HYPOGLYCEMIA = {"1": "无", "2": "偶尔", "3": "频繁"}
FOOT_PULSE = {"1": "触及正常", "2": "减弱", "3": "消失"}
FOOT_PULSE_SIDE = {"1": "双侧", "2": "左侧", "3": "右侧"}
REFERRAL_RESULT = {"1": "到位", "2": "不到位"}  # as the national form words it
MEASUREMENT = {m.value: m.label for m in Measurement}
# The readings a phone visit marked 未测 must leave empty.
READING_FIELDS = ("sbp", "dbp", "fasting_glucose")
NUMBER_FIELDS = ("sbp", "dbp", "weight", "target_weight", "height", "heart_rate", "fasting_glucose", "hba1c")
WHOLE_NUMBER_FIELDS = frozenset({"sbp", "dbp", "heart_rate"})


@dataclass(frozen=True)
class VisitInput:
    """A visit as typed or read from a file.

    `historical` marks a visit recorded in the past on paper (an import): a 此次随访分类 or a
    referral's reason and institution the paper left empty stay empty instead of being refused.
    """

    visit_date: object
    method: str
    sbp: object = None
    dbp: object = None
    weight: object = None
    target_weight: object = None
    height: object = None
    heart_rate: object = None
    fasting_glucose: object = None
    hba1c: object = None
    hba1c_date: object = None
    symptoms: tuple[str, ...] = ()
    danger_signs: tuple[str, ...] = ()
    medication_adherence: str = ""
    adverse_reaction: bool = False
    new_complication: bool = False
    hypoglycemia: str = ""
    foot_pulse: str = ""
    classification: str = ""
    override_reason: str = ""
    next_visit_date: object = None
    medications: tuple[tuple[str, str, str], ...] = ()
    doctor_name: str = ""
    doctor_id: int | None = None
    lifestyle: dict[str, object] = field(default_factory=dict)
    referral_reason: str = ""
    referral_to: str = ""
    adverse_reaction_note: str = ""
    measurement: str = ""
    symptoms_other: str = ""
    signs_other: str = ""
    tests_other: str = ""
    foot_pulse_side: str = ""
    insulin: str = ""
    insulin_dose: str = ""
    medication_advice: tuple[tuple[str, str], ...] = ()
    referral_result: str = ""
    referral_contact: str = ""
    resident_signed: bool = False
    historical: bool = False


@dataclass(frozen=True)
class PatientFacts:
    """What the rules need to know about the patient besides the visit itself."""

    birth_date: date
    diagnosed_on: date
    managed_from: date
    ended_on: date | None = None
    previous: Classification | None = None  # of the latest earlier visit with a reading
    previous_adverse_reaction: bool = False  # the latest earlier visit noted an adverse reaction


@dataclass(frozen=True)
class CleanVisit:
    visit_date: date
    method: VisitMethod
    numbers: dict[str, float | None]
    symptoms: tuple[str, ...]
    medication_adherence: str | None
    hypoglycemia: str | None
    foot_pulse: str | None
    hba1c_date: date | None
    classification: Classification | None
    override_reason: str | None
    suggestion: Suggestion
    next_step: NextStep
    next_visit_date: date
    medications: tuple[dict, ...]
    doctor_name: str
    lifestyle: dict[str, object]
    measurement: Measurement = Measurement.DOCTOR
    foot_pulse_side: str | None = None
    medication_advice: tuple[dict, ...] = ()
    referral_result: str | None = None
    resident_signed: bool = False
    referral_reason: str | None = None
    referral_to: str | None = None
    adverse_reaction_note: str | None = None
    symptoms_other: str | None = None
    signs_other: str | None = None
    tests_other: str | None = None
    insulin: str | None = None
    insulin_dose: str | None = None
    referral_contact: str | None = None

    @property
    def emergency(self) -> bool:
        return bool(self.suggestion.emergency)



class _Cleaner:
    def __init__(self, today: date) -> None:
        self.today = today
        self.errors: dict[str, str] = {}

    def date(self, name: str, value: object, *, required: bool = False) -> date | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.errors.setdefault(name, f"请填写{VISIT_LABELS[name]}。")
            return None
        try:
            return parse_date(value)
        except DateError as error:
            self.errors.setdefault(name, f"{VISIT_LABELS[name]}：{error}")
            return None

    def number(self, name: str, value: object) -> float | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        try:
            number = parse_decimal(value)
        except ValueError:
            self.errors.setdefault(name, f"{VISIT_LABELS[name]}“{value}”不是数字。")
            return None
        if name in WHOLE_NUMBER_FIELDS and number != int(number):
            self.errors.setdefault(name, f"{VISIT_LABELS[name]}应为整数。")
        return number

    def text(self, name: str, value: object) -> str | None:
        """Free text, trimmed; None when empty; an error naming the field when too long to store or unsafe."""
        if isinstance(value, str) and (problem := safe_text_problem(value, multiline=True)):
            self.errors.setdefault(name, f"{VISIT_LABELS[name]}{problem}")
        text = " ".join(str(value or "").split())
        if len(text) > TEXT_LIMITS[name]:
            self.errors.setdefault(name, f"{VISIT_LABELS[name]}最多 {TEXT_LIMITS[name]} 字（现 {len(text)} 字），请精简。")
        return text[:TEXT_LIMITS[name]] or None

    def code(self, name: str, value: str, codes: dict[str, str]) -> str | None:
        text = str(value or "").strip()
        if not text:
            return None
        if text in codes:
            return text
        by_label = {label: code for code, label in codes.items()}
        if text in by_label:
            return by_label[text]
        self.errors.setdefault(name, f"{VISIT_LABELS[name]}“{text}”应为：{'、'.join(codes.values())}。")
        return None


def _check_dates(check: _Cleaner, day: date | None, patient: PatientFacts) -> None:
    if day is None:
        return
    if day > check.today:
        check.errors.setdefault("visit_date", f"随访日期 {day:%Y-%m-%d} 晚于今天。")
    elif day < patient.birth_date:
        check.errors.setdefault("visit_date", f"随访日期 {day:%Y-%m-%d} 早于出生日期。")
    elif day < patient.diagnosed_on:
        check.errors.setdefault("visit_date", f"随访日期 {day:%Y-%m-%d} 早于确诊日期 {patient.diagnosed_on:%Y-%m-%d}。")
    elif day < patient.managed_from or (patient.ended_on is not None and day > patient.ended_on):
        check.errors.setdefault("visit_date", f"随访日期 {day:%Y-%m-%d} 不在该患者的管理期内。")


def _clean_medications(check: _Cleaner, rows: tuple[tuple[str, str, str], ...]) -> tuple[dict, ...]:
    cleaned = []
    for index, (name, times, dose) in enumerate(rows, start=1):
        if not str(name).strip():
            if str(times).strip() or str(dose).strip():
                check.errors.setdefault("medications", f"第 {index} 种药物未填药名。")
            continue
        cleaned.append({"name": str(name).strip()[:50], "times_per_day": str(times).strip()[:10],
                        "dose": str(dose).strip()[:20]})
    return tuple(cleaned)


def check_visit(
    disease: Disease, data: VisitInput, patient: PatientFacts, *, today: date, rules: FollowupRules = DEFAULT_RULES,
) -> CleanVisit:
    """Clean and check a visit; raise ValidationError naming each bad field."""
    check = _Cleaner(today)
    day = check.date("visit_date", data.visit_date, required=True)
    _check_dates(check, day, patient)
    method_code = check.code("method", data.method, {m.value: m.label for m in VisitMethod})
    if method_code is None:
        check.errors.setdefault("method", "请选择随访方式（门诊、家庭或电话）。")
    numbers = {name: check.number(name, getattr(data, name)) for name in NUMBER_FIELDS}
    for name, message in range_problems(numbers).items():
        check.errors.setdefault(name, message)
    measurement = _measurement(check, disease, numbers, method_code, data.measurement)
    symptom_codes = HYPERTENSION_SYMPTOMS if disease is Disease.HYPERTENSION else DIABETES_SYMPTOMS
    symptoms = tuple(code for s in data.symptoms if (code := check.code("symptoms", s, symptom_codes)))
    if "1" in symptoms and len(symptoms) > 1:
        check.errors.setdefault("symptoms", "已选“无症状”，不能同时选其他症状。")
    visit_day = day or today
    readings = _readings(numbers)
    age = age_on(patient.birth_date, visit_day)
    suggestion = suggest(disease, readings, visit_date=visit_day, age=age,
                         adverse_reaction=data.adverse_reaction, new_complication=data.new_complication,
                         previous=patient.previous, previous_adverse_reaction=patient.previous_adverse_reaction,
                         danger_signs=data.danger_signs, rules=rules)
    measured = on_target(disease, readings, age, rules) is not None
    classification, reason = _classification(check, data, suggestion, measured=measured)
    step, _ = next_step(classification or suggestion.classification, StepFacts(
        suggestion.emergency, data.adverse_reaction, data.new_complication, patient.previous,
        patient.previous_adverse_reaction))
    entered = check.date("next_visit_date", data.next_visit_date)
    next_day = _next_visit(entered, suggestion, next_visit_date(visit_day, step, rules))
    if day is not None and next_day <= day:
        check.errors.setdefault("next_visit_date", "下次随访日期应晚于本次随访日期。")
    doctor = str(data.doctor_name or "").strip()
    if not doctor:
        check.errors.setdefault("doctor_name", "请填写随访医生。")
    elif problem := safe_text_problem(doctor):
        check.errors.setdefault("doctor_name", f"随访医生{problem}")
    elif looks_like_formula(doctor):
        check.errors.setdefault("doctor_name", f"随访医生“{doctor}”不像人名（不能以 = + - @ 开头）。")
    texts = {name: check.text(name, getattr(data, name)) for name in TEXT_LIMITS}
    _require_referral(check, data, step, texts)
    pulse = check.code("foot_pulse", data.foot_pulse, FOOT_PULSE)
    clean = CleanVisit(
        visit_date=visit_day, method=VisitMethod(method_code or "1"), numbers=numbers, symptoms=symptoms,
        medication_adherence=check.code("medication_adherence", data.medication_adherence, ADHERENCE),
        hypoglycemia=check.code("hypoglycemia", data.hypoglycemia, HYPOGLYCEMIA),
        foot_pulse=pulse, foot_pulse_side=_foot_pulse_side(check, data, pulse),
        hba1c_date=check.date("hba1c_date", data.hba1c_date), classification=classification,
        override_reason=reason, suggestion=suggestion, next_step=step, next_visit_date=next_day,
        medications=_clean_medications(check, data.medications), doctor_name=doctor[:50],
        lifestyle=_clean_lifestyle(check, data.lifestyle), measurement=measurement,
        medication_advice=_clean_advice(check, data.medication_advice),
        referral_result=check.code("referral_result", data.referral_result, REFERRAL_RESULT),
        resident_signed=bool(data.resident_signed), **texts,
    )
    if texts["insulin_dose"] and not texts["insulin"]:
        check.errors.setdefault("insulin", "已填胰岛素用法和用量，请填写胰岛素种类。")
    if check.errors:
        raise ValidationError(check.errors)
    return clean


def _readings_wrong(check: _Cleaner) -> bool:
    """Whether a reading the rules decide by is in error: the doctor fixes it before the rules are asked."""
    return any(name in check.errors for name in (*READING_FIELDS, "heart_rate", "measurement"))


def _readings(numbers: dict[str, float | None]) -> Readings:
    return Readings(sbp=_int(numbers["sbp"]), dbp=_int(numbers["dbp"]), fasting_glucose=numbers["fasting_glucose"],
                    heart_rate=_int(numbers["heart_rate"]))


def _clean_advice(check: _Cleaner, rows: tuple[tuple[str, str], ...]) -> tuple[dict, ...]:
    """用药调整意见: (drug, dose) rows; a dose without a drug is named."""
    cleaned = []
    for index, (name, dose) in enumerate(rows, start=1):
        if not str(name).strip():
            if str(dose).strip():
                check.errors.setdefault("medication_advice", f"用药调整意见第 {index} 行未填药名。")
            continue
        cleaned.append({"name": str(name).strip()[:50], "dose": str(dose).strip()[:50]})
    return tuple(cleaned)


def _foot_pulse_side(check: _Cleaner, data: VisitInput, pulse: str | None) -> str | None:
    """双侧/左侧/右侧 belongs to a weakened or absent pulse (减弱/消失) and is asked for there."""
    side = check.code("foot_pulse_side", data.foot_pulse_side, FOOT_PULSE_SIDE)
    if side is not None and pulse not in ("2", "3"):
        check.errors.setdefault("foot_pulse_side", "足背动脉搏动减弱或消失时才填写侧别（双侧、左侧、右侧）。")
    elif side is None and pulse in ("2", "3") and not data.historical:
        check.errors.setdefault("foot_pulse_side", f"足背动脉搏动{FOOT_PULSE[pulse]}：请选择双侧、左侧或右侧。")
    return FOOT_PULSE_SIDE[side] if side else None  # stored as written on the paper form


def _require_referral(check: _Cleaner, data: VisitInput, step: NextStep, texts: dict[str, str | None]) -> None:
    """A visit that refers the patient names the reason and the institution and department."""
    if not step.is_referral or data.historical or _readings_wrong(check):
        return
    for name in ("referral_reason", "referral_to"):
        if not texts[name]:
            check.errors.setdefault(name, f"下一步为“{step.label}”：请填写{VISIT_LABELS[name]}。")


LIFESTYLE_CODES = {"salt": {"1": "轻", "2": "中", "3": "重"}, "mood": {"1": "良好", "2": "一般", "3": "差"},
                   "compliance": {"1": "良好", "2": "一般", "3": "差"}}
LIFESTYLE_AMOUNTS = ("cigarettes_per_day", "alcohol_liang_per_day", "exercise_times_per_week", "exercise_minutes",
                     "staple_grams_per_day")
LIFESTYLE_LABELS = {"salt": "摄盐情况", "mood": "心理调整", "compliance": "遵医行为",
                    **{item: SANITY_RANGES[item][0] for item in LIFESTYLE_AMOUNTS}}
VISIT_LABELS.update({key: label + suffix for item, label in LIFESTYLE_LABELS.items()
                     for key, suffix in ((item, ""), (f"{item}_target", "（目标）"))})


def _clean_lifestyle(check: _Cleaner, values: dict[str, object]) -> dict[str, object]:
    """Lifestyle guidance, now and target (`<item>` and `<item>_target`): amounts checked, codes mapped."""
    cleaned: dict[str, object] = {}
    for key, value in values.items():
        item = key.removesuffix("_target")
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if item in LIFESTYLE_AMOUNTS:
            label, unit, low, high = SANITY_RANGES[item]
            number = check.number(key, value)
            if number is not None and not low <= number <= high:
                check.errors.setdefault(key, f"{label} {number:g} {unit} 超出合理范围（{low:g}–{high:g}）。")
            cleaned[key] = number
        elif item in LIFESTYLE_CODES:
            cleaned[key] = check.code(key, str(value), LIFESTYLE_CODES[item])
        else:
            raise ValueError(f"unknown lifestyle item {key!r}")
    return cleaned


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)


def _measurement(check: _Cleaner, disease: Disease, numbers: dict, method: str | None, value: str) -> Measurement:
    """Face-to-face visits are measured by the doctor; a phone visit has the patient's own reading or 未测."""
    code = check.code("measurement", value, MEASUREMENT)
    if method in (VisitMethod.CLINIC.value, VisitMethod.HOME.value):
        if code not in (None, Measurement.DOCTOR.value):
            check.errors.setdefault("measurement", "门诊、家庭随访由医生测量，测量方式应为“医生测量”。")
        for name in ("sbp", "dbp"):
            if numbers[name] is None:
                check.errors.setdefault(name, f"面访须测量血压：请填写{SANITY_RANGES[name][0]}。")
        return Measurement.DOCTOR
    for first, second in (("sbp", "dbp"), ("dbp", "sbp")):
        if numbers[first] is not None and numbers[second] is None:
            check.errors.setdefault(second, f"已填{SANITY_RANGES[first][0]}，请同时填写{SANITY_RANGES[second][0]}。")
    given = [name for name in READING_FIELDS if numbers[name] is not None]
    if code is None:
        code = Measurement.SELF.value if given else Measurement.NOT_MEASURED.value
    if code == Measurement.DOCTOR.value:
        check.errors.setdefault("measurement", "电话随访不是医生测量：请选择“居民自测”（填写居民在家测得的数值）或“未测”。")
    elif code == Measurement.NOT_MEASURED.value and given:
        check.errors.setdefault("measurement", "已选“未测”，不应填写血压或血糖；如有居民自测的数值，请选择“居民自测”。")
    elif code == Measurement.SELF.value:
        needed = ("fasting_glucose",) if disease is Disease.DIABETES else ("sbp", "dbp")
        for name in needed:
            if numbers[name] is None:
                check.errors.setdefault(name, f"居民自测：请填写居民在家测得的{SANITY_RANGES[name][0]}，或选择“未测”。")
    return Measurement(code)


def _classification(check: _Cleaner, data: VisitInput, suggestion: Suggestion, *,
                    measured: bool) -> tuple[Classification | None, str | None]:
    """The doctor's classification; one other than the rules' suggestion needs a reason."""
    chosen = check.code("classification", data.classification, {c.value: c.label for c in Classification})
    suggested = suggestion.classification
    if _readings_wrong(check):
        return (Classification(chosen) if chosen else None), None
    if chosen is None:
        if not data.historical and "classification" not in check.errors:
            hint = f"规则建议“{suggested.label}”" if suggested else "本次没有测量值，规则无建议"
            check.errors["classification"] = f"请选择此次随访分类（{hint}）。"
        return None, None
    picked = Classification(chosen)
    if picked is Classification.CONTROLLED and not measured:
        check.errors.setdefault("classification", "本次没有测量值（血压或血糖），此次随访分类不能为“控制满意”。")
    if suggested is None or picked is suggested:
        return picked, None
    reason = str(data.override_reason or "").strip()
    if not reason:
        check.errors.setdefault(
            "override_reason", f"按规则本次应为“{suggested.label}”，改为“{picked.label}”须填写理由。")
    return picked, reason[:200] or None


def _next_visit(entered: date | None, suggestion: Suggestion, planned: date) -> date:
    """The doctor's date, else the date the chosen classification's next step plans.

    A date equal to the suggestion's was filled in from it, so a chosen classification re-plans it.
    """
    if entered is None or entered == suggestion.next_visit:
        return planned
    return entered
