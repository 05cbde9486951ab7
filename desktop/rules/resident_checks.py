"""Checking a resident as entered: one function for the form, the command line and imports.

Returns clean, typed values or raises ValidationError naming each bad field. Nothing here
touches the database: villages are passed in as a code -> id mapping.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date

from desktop.errors import ValidationError
from desktop.rules.dates import DateError, parse_date
from desktop.rules.idnumbers import IdNumberError, parse_id
from desktop.rules.phones import normalise_phone, phone_problem
from desktop.rules.profile import PROFILE_LABELS, Profile, ProfileInput, check_profile
from desktop.rules.population import (
    ETHNIC_GROUPS,
    INSURANCE_TYPES,
    RECORDED_CONDITIONS,
    RELATIONS,
    SEX_BY_LABEL,
    SEX_LABELS,
    KeyPopulation,
)
from desktop.rules.text import clean_name, name_problem, squeeze
from township_wire.text import looks_like_formula, safe_text_problem

FIELD_LABELS = {
    "name": "姓名", "sex": "性别", "birth_date": "出生日期", "id_number": "身份证号", "ethnicity": "民族",
    "phone": "联系电话", "address": "现住址", "village_code": "所属村", "relation_to_head": "与户主关系",
    "insurance_type": "医保类型", "registered_on": "建档日期", "record_no": "健康档案编号", "conditions": "重点人群",
    "consent_given_by": "知情同意人", "consent_on": "知情同意日期", "consent_notice_version": "告知书版本",
    **PROFILE_LABELS,
}

# Typed text checked for control and bidirectional characters before cleaning (field -> where it is)
_TEXT_FIELDS = ("name", "address", "ethnicity", "relation_to_head", "insurance_type", "consent_given_by",
                "consent_notice_version")
_PROFILE_TEXT_FIELDS = {"work_unit": "工作单位", "contact_name": "联系人姓名", "payment_other": "其他支付方式",
                        "drug_allergy_other": "其他过敏药物", "family_other": "家族史·其他疾病",
                        "genetic_disease": "遗传病史", "disability_other": "其他残疾"}
_PERSON_FIELDS = ("consent_given_by", "contact_name")  # names of people besides the resident's own


@dataclass(frozen=True)
class ResidentInput:
    """A resident as typed or read from a file: text and loose values, checked by `check_resident`."""

    name: str
    id_number: str = ""
    sex: str = ""
    birth_date: object = None
    ethnicity: str = ""
    phone: str = ""
    address: str = ""
    village_code: str = ""
    relation_to_head: str = ""
    insurance_type: str = ""
    registered_on: object = None
    record_no: str = ""
    conditions: tuple[tuple[KeyPopulation, object], ...] = ()
    responsible_doctor_id: int | None = None
    consent_given_by: str = ""
    consent_on: object = None
    consent_notice_version: str = ""
    profile: ProfileInput | None = None  # None: the 个人基本信息表 is left as stored


@dataclass(frozen=True)
class CleanResident:
    """A checked resident, ready to store."""

    name: str
    sex: str
    birth_date: date
    id_number: str | None
    ethnicity: str
    phone: str | None
    address: str
    village_id: int
    village_code: str
    relation_to_head: str | None
    insurance_type: str | None
    registered_on: date
    record_no: str | None
    conditions: tuple[tuple[KeyPopulation, date | None], ...] = field(default_factory=tuple)
    responsible_doctor_id: int | None = None
    consent_given_by: str | None = None
    consent_on: date | None = None
    consent_notice_version: str | None = None
    profile: Profile | None = None


def _date_or_none(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class _Checker:
    """Collects one message per field while cleaning values."""

    def __init__(self, today: date) -> None:
        self.today = today
        self.errors: dict[str, str] = {}

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    def date(self, name: str, value: object) -> date | None:
        if _date_or_none(value):
            return None
        try:
            parsed = parse_date(value)
        except DateError as error:
            self.fail(name, f"{FIELD_LABELS[name]}：{error}")
            return None
        if parsed > self.today:
            self.fail(name, f"{FIELD_LABELS[name]} {parsed:%Y-%m-%d} 晚于今天。")
        return parsed

    def choice(self, name: str, value: str, allowed: Mapping[str, str] | tuple[str, ...]) -> str | None:
        text = squeeze(value)
        if not text:
            return None
        if isinstance(allowed, Mapping):
            if text in allowed:
                return text
            by_label = {label: code for code, label in allowed.items()}
            if text in by_label:
                return by_label[text]
        elif text in allowed:
            return text
        options = "、".join(allowed.values() if isinstance(allowed, Mapping) else allowed[:8])
        self.fail(name, f"{FIELD_LABELS[name]}“{text}”不在可选范围内（{options}…）。")
        return None


def _sex_code(text: str) -> str:
    text = squeeze(text)
    return SEX_BY_LABEL.get(text, text)


def _check_identity(check: _Checker, data: ResidentInput) -> tuple[str | None, str, date | None]:
    """(ID number, sex, birth date), the ID's facts winning where given, mismatches named."""
    sex = _sex_code(data.sex)
    if sex and sex not in SEX_LABELS:
        check.fail("sex", f"性别“{data.sex}”应为 男、女、未知 或 未说明。")
    birth = check.date("birth_date", data.birth_date)
    if not squeeze(str(data.id_number or "")):
        if birth is None and "birth_date" not in check.errors:
            check.fail("birth_date", "没有身份证号时必须填写出生日期。")
        if not sex:
            check.fail("sex", "没有身份证号时必须填写性别。")
        return None, sex, birth
    try:
        facts = parse_id(data.id_number, today=check.today)
    except IdNumberError as error:
        check.fail("id_number", str(error))
        return None, sex, birth
    if birth is not None and birth != facts.birth_date:
        check.fail("birth_date", f"出生日期 {birth:%Y-%m-%d} 与身份证号中的 {facts.birth_date:%Y-%m-%d} 不一致。")
    if sex in ("1", "2") and sex != facts.sex:
        check.fail("sex", f"性别“{SEX_LABELS[sex]}”与身份证号（{SEX_LABELS[facts.sex]}）不一致。")
    return facts.number, facts.sex, facts.birth_date


def _check_conditions(check: _Checker, data: ResidentInput, birth: date | None):
    conditions = []
    for kind, since in data.conditions:
        if kind not in RECORDED_CONDITIONS:
            check.fail("conditions", f"“{kind.label}”按出生日期自动判断，不需要登记。")
            continue
        day = check.date("conditions", since)
        if day is not None and birth is not None and day < birth:
            check.fail("conditions", f"{kind.label}的确诊/登记日期 {day:%Y-%m-%d} 早于出生日期。")
        conditions.append((kind, day))
    return tuple(conditions)


def _check_consent(check: _Checker, data: ResidentInput) -> tuple[str | None, date | None, str | None]:
    """Consent to processing health information: who gave it, when, under which notice version."""
    given_by = squeeze(data.consent_given_by or "")[:50] or None
    day = check.date("consent_on", data.consent_on)
    version = squeeze(data.consent_notice_version or "")[:20] or None
    if given_by and day is None and "consent_on" not in check.errors:
        check.fail("consent_on", "已填写知情同意人，请填写同意日期。")
    if day is not None and not given_by:
        check.fail("consent_given_by", "已填写知情同意日期，请填写同意人（本人或监护人姓名）。")
    return given_by, day, version


def _typed_texts(data: ResidentInput) -> dict[str, tuple[str, str]]:
    """field -> (label, text as typed) of every free-text field, the profile's included."""
    texts = {name: (FIELD_LABELS[name], getattr(data, name)) for name in _TEXT_FIELDS}
    if data.profile is not None:
        texts |= {name: (label, getattr(data.profile, name)) for name, label in _PROFILE_TEXT_FIELDS.items()}
    return {name: (label, value) for name, (label, value) in texts.items() if isinstance(value, str) and value}


def _check_safe_texts(check: _Checker, data: ResidentInput) -> None:
    """Refuse control and bidirectional characters anywhere, and formula-like text where a person's name goes."""
    for name, (label, value) in _typed_texts(data).items():
        if problem := safe_text_problem(value):
            check.fail(name, f"{label}{problem}")
        elif name in _PERSON_FIELDS and looks_like_formula(squeeze(value)):
            check.fail(name, f"{label}“{value}”不像人名（不能以 = + - @ 开头）。")


def check_resident(data: ResidentInput, *, villages: Mapping[str, int], today: date) -> CleanResident:
    """Clean and check every field; raise ValidationError naming each field that is wrong."""
    check = _Checker(today)
    _check_safe_texts(check, data)
    name = clean_name(data.name)
    if not name:
        check.fail("name", "姓名不能为空。")
    elif len(name) > 30:
        check.fail("name", f"姓名“{name}”不像人名（过长）。")
    elif problem := name_problem(name):
        check.fail("name", problem)
    id_number, sex, birth = _check_identity(check, data)
    phone = normalise_phone(data.phone) if squeeze(str(data.phone or "")) else None
    if phone and (problem := phone_problem(phone)):
        check.fail("phone", problem)
    village_code = squeeze(str(data.village_code or "")).zfill(3) if squeeze(str(data.village_code or "")) else ""
    if not village_code:
        check.fail("village_code", "请选择所属村。")
    elif village_code not in villages:
        check.fail("village_code", f"所属村代码“{village_code}”在本分院不存在。")
    registered_on = check.date("registered_on", data.registered_on) or today
    if birth is not None and registered_on < birth:
        check.fail("registered_on", "建档日期早于出生日期。")
    record_no = squeeze(str(data.record_no or "")).removesuffix(".0") or None
    if record_no and not (len(record_no) == 17 and record_no.isdigit()):
        check.fail("record_no", f"健康档案编号应为 17 位数字，现为“{record_no}”。")
    clean = CleanResident(
        name=name, sex=sex or "0", birth_date=birth or today, id_number=id_number,
        ethnicity=check.choice("ethnicity", data.ethnicity, ETHNIC_GROUPS) or "汉族",
        phone=phone, address=squeeze(data.address or "")[:200] if data.address else "",
        village_id=villages.get(village_code, 0), village_code=village_code,
        relation_to_head=check.choice("relation_to_head", data.relation_to_head, RELATIONS),
        insurance_type=check.choice("insurance_type", data.insurance_type, INSURANCE_TYPES),
        registered_on=registered_on, record_no=record_no,
        conditions=_check_conditions(check, data, birth), responsible_doctor_id=data.responsible_doctor_id,
    )
    consent_by, consent_on, consent_version = _check_consent(check, data)
    profile = None
    if data.profile is not None:
        profile, problems = check_profile(data.profile, birth=birth, today=today)
        for name, message in problems.items():
            check.fail(name, message)
    if check.errors:
        raise ValidationError(check.errors)
    return replace(clean, consent_given_by=consent_by, consent_on=consent_on, consent_notice_version=consent_version,
                   profile=profile)
