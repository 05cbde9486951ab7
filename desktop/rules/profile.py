"""The 个人基本信息表 of 《国家基本公共卫生服务规范（第三版）》: its code lists and the checks of what is entered.

Pure: no database, no Qt. `check_profile` cleans a loose `ProfileInput` (codes or Chinese labels,
sequences or 、-joined text, as typed on the form or read from a roster cell) into a `Profile`
and names every bad field in Chinese. `Profile.columns()` gives the stored column values and
`profile_from_columns` reads them back.

Stored shapes: single choices as the form's code; multiple choices as a list of codes where
"1" (无) stands alone; 既往史 as {kind: [{"code", "name", "date"}]} where a missing kind is
"not asked" and an empty list is 无; 家族史 as {member: [codes], "other": text}; 遗传病史 as
None (not asked), "无" or the disease's name; 生活环境 as {item: code}.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from desktop.rules.dates import DateError, parse_date
from desktop.rules.phones import normalise_phone, phone_problem
from desktop.rules.text import squeeze

CodeTable = dict[str, str]

RESIDENCE_TYPES: CodeTable = {"1": "户籍", "2": "非户籍"}
BLOOD_TYPES: CodeTable = {"1": "A型", "2": "B型", "3": "O型", "4": "AB型", "5": "不详"}
RH_TYPES: CodeTable = {"1": "阴性", "2": "阳性", "3": "不详"}
EDUCATION: CodeTable = {
    "1": "研究生", "2": "大学本科", "3": "大学专科和专科学校", "4": "中等专业学校", "5": "技工学校", "6": "高中",
    "7": "初中", "8": "小学", "9": "文盲或半文盲", "10": "不详",
}
OCCUPATIONS: CodeTable = {  # GB/T 6565 groups as the form lists them
    "0": "国家机关、党群组织、企业、事业单位负责人", "1": "专业技术人员", "2": "办事人员和有关人员",
    "3": "商业、服务业人员", "4": "农、林、牧、渔、水利业生产人员", "5": "生产、运输设备操作人员及有关人员",
    "6": "军人", "7": "不便分类的其他从业人员", "8": "无职业",
}
MARITAL_STATUSES: CodeTable = {"1": "未婚", "2": "已婚", "3": "丧偶", "4": "离婚", "5": "未说明的婚姻状况"}
PAYMENT_METHODS: CodeTable = {
    "1": "城镇职工基本医疗保险", "2": "城镇居民基本医疗保险", "3": "新型农村合作医疗", "4": "贫困救助",
    "5": "商业医疗保险", "6": "全公费", "7": "全自费", "8": "其他",
}
DRUG_ALLERGIES: CodeTable = {"1": "无", "2": "青霉素", "3": "磺胺", "4": "链霉素", "5": "其他"}
EXPOSURES: CodeTable = {"1": "无", "2": "化学品", "3": "毒物", "4": "射线"}
PAST_DISEASES: CodeTable = {
    "1": "无", "2": "高血压", "3": "糖尿病", "4": "冠心病", "5": "慢性阻塞性肺疾病", "6": "恶性肿瘤", "7": "脑卒中",
    "8": "严重精神障碍", "9": "结核病", "10": "肝炎", "11": "其他法定传染病", "12": "职业病", "13": "其他",
}
NAMED_DISEASES = frozenset({"6", "11", "12", "13"})  # the form asks which one
FAMILY_DISEASES: CodeTable = {
    "1": "无", "2": "高血压", "3": "糖尿病", "4": "冠心病", "5": "慢性阻塞性肺疾病", "6": "恶性肿瘤", "7": "脑卒中",
    "8": "严重精神障碍", "9": "结核病", "10": "肝炎", "11": "先天畸形", "12": "其他",
}
DISABILITIES: CodeTable = {
    "1": "无残疾", "2": "视力残疾", "3": "听力残疾", "4": "言语残疾", "5": "肢体残疾", "6": "智力残疾",
    "7": "精神残疾", "8": "其他残疾",
}
LIVING_ENVIRONMENT: dict[str, tuple[str, CodeTable]] = {
    "kitchen_exhaust": ("厨房排风设施", {"1": "无", "2": "油烟机", "3": "换气扇", "4": "烟囱"}),
    "fuel": ("燃料类型", {"1": "液化气", "2": "煤", "3": "天然气", "4": "沼气", "5": "柴火", "6": "其他"}),
    "water": ("饮水", {"1": "自来水", "2": "经净化过滤的水", "3": "井水", "4": "河湖水", "5": "塘水", "6": "其他"}),
    "toilet": ("厕所", {"1": "卫生厕所", "2": "一格或二格粪池式", "3": "马桶", "4": "露天粪坑", "5": "简易棚厕"}),
    "livestock": ("禽畜栏", {"1": "无", "2": "单设", "3": "室内", "4": "室外"}),
}
FAMILY_MEMBERS = {"father": "父亲", "mother": "母亲", "siblings": "兄弟姐妹", "children": "子女"}
HISTORY_KINDS = {"diseases": "疾病", "operations": "手术", "traumas": "外伤", "transfusions": "输血"}
NONE_CODE = "1"
NONE_WORDS = frozenset({"无", "没有", "否", "1"})
# single-choice field -> (label, code table)
SINGLE_CHOICES: dict[str, tuple[str, CodeTable]] = {
    "residence_type": ("常住类型", RESIDENCE_TYPES), "blood_type": ("血型", BLOOD_TYPES), "rh": ("RH", RH_TYPES),
    "education": ("文化程度", EDUCATION), "occupation": ("职业", OCCUPATIONS),
    "marital_status": ("婚姻状况", MARITAL_STATUSES),
}
# multiple-choice field -> (label, code table, the field holding the text of 其他 or None, the code of 其他)
MULTI_CHOICES: dict[str, tuple[str, CodeTable, str | None, str | None]] = {
    "payment_methods": ("医疗费用支付方式", PAYMENT_METHODS, "payment_other", "8"),
    "drug_allergies": ("药物过敏史", DRUG_ALLERGIES, "drug_allergy_other", "5"),
    "exposures": ("暴露史", EXPOSURES, None, None),
    "disabilities": ("残疾情况", DISABILITIES, "disability_other", "8"),
}
TEXT_FIELDS = {"work_unit": ("工作单位", 100), "contact_name": ("联系人姓名", 50)}
PROFILE_LABELS: dict[str, str] = {
    **{name: label for name, (label, _) in SINGLE_CHOICES.items()},
    **{name: label for name, (label, *_) in MULTI_CHOICES.items()},
    **{name: label for name, (label, _) in TEXT_FIELDS.items()},
    "contact_phone": "联系人电话", "payment_other": "其他支付方式", "drug_allergy_other": "其他过敏药物",
    "disability_other": "其他残疾", "genetic_disease": "遗传病史", "family_history.other": "家族史·其他疾病",
    **{f"past_history.{kind}": f"既往史·{label}" for kind, label in HISTORY_KINDS.items()},
    **{f"family_history.{member}": f"家族史·{label}" for member, label in FAMILY_MEMBERS.items()},
    **{f"living_environment.{item}": label for item, (label, _) in LIVING_ENVIRONMENT.items()},
}
_SPLIT = re.compile(r"[、,，;；/\n]+")
_HISTORY_SPLIT = re.compile(r"[、,，;；\n]+")  # not at “/”: dates such as 2015/3/1 hold it
_ENTRY = re.compile(r"^(?P<what>.+?)\s*[（(]\s*(?P<day>[^()（）]*)\s*[)）]$")
_YEAR_MONTH = re.compile(r"(\d{4})\s*[-./年]\s*(\d{1,2})\s*月?", re.ASCII)
_DETAIL = re.compile(r"[：:]")


@dataclass(frozen=True)
class HistoryEntry:
    """One line of 既往史: a disease (code, and its name where the form asks), an operation, a trauma or a transfusion."""

    name: str
    day: date | None = None
    code: str | None = None

    def label(self) -> str:
        """How the entry reads on screen and in exports: 恶性肿瘤：肺癌（2019-05-01）."""
        what = self.name
        if self.code is not None:
            base = PAST_DISEASES.get(self.code, self.code)
            what = f"{base}：{self.name}" if self.name else base
        return f"{what}（{self.day:%Y-%m-%d}）" if self.day else what


@dataclass(frozen=True)
class Profile:
    """A checked 个人基本信息表 (the parts beyond name, sex, birth, ID, 民族, phone and address)."""

    residence_type: str | None = None
    work_unit: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    blood_type: str | None = None
    rh: str | None = None
    education: str | None = None
    occupation: str | None = None
    marital_status: str | None = None
    payment_methods: tuple[str, ...] = ()
    payment_other: str | None = None
    drug_allergies: tuple[str, ...] = ()
    drug_allergy_other: str | None = None
    exposures: tuple[str, ...] = ()
    past_history: Mapping[str, tuple[HistoryEntry, ...]] = field(default_factory=dict)
    family_history: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    family_other: str | None = None
    genetic_disease: str | None = None
    disabilities: tuple[str, ...] = ()
    disability_other: str | None = None
    living_environment: Mapping[str, str] = field(default_factory=dict)

    def columns(self) -> dict[str, Any]:
        """The resident table's column values (JSON columns as plain lists and dicts)."""
        family: dict[str, Any] = {member: list(codes) for member, codes in self.family_history.items()}
        if self.family_other:
            family["other"] = self.family_other
        return {
            "residence_type": self.residence_type, "work_unit": self.work_unit, "contact_name": self.contact_name,
            "contact_phone": self.contact_phone, "blood_type": self.blood_type, "rh_negative": self.rh,
            "education": self.education, "occupation": self.occupation, "marital_status": self.marital_status,
            "payment_methods": list(self.payment_methods), "payment_other": self.payment_other,
            "drug_allergies": list(self.drug_allergies), "drug_allergy_other": self.drug_allergy_other,
            "exposures": list(self.exposures),
            "past_history": {kind: [_entry_json(e) for e in entries] for kind, entries in self.past_history.items()},
            "family_history": family, "genetic_disease": self.genetic_disease,
            "disabilities": list(self.disabilities), "disability_other": self.disability_other,
            "living_environment": dict(self.living_environment),
        }


PROFILE_COLUMNS = tuple(Profile().columns())


def _entry_json(entry: HistoryEntry) -> dict[str, Any]:
    values: dict[str, Any] = {"name": entry.name, "date": entry.day.isoformat() if entry.day else None}
    if entry.code is not None:
        values["code"] = entry.code
    return values


def _entry_from_json(values: Mapping[str, Any], *, disease: bool) -> HistoryEntry:
    day = values.get("date")
    return HistoryEntry(name=values.get("name") or "", day=date.fromisoformat(day) if day else None,
                        code=(values.get("code") or "13") if disease else None)


def profile_from_columns(values: Mapping[str, Any]) -> Profile:
    """A Profile from stored column values (a row mapping, or `{c: getattr(resident, c)}`)."""
    past = values.get("past_history") or {}
    family = dict(values.get("family_history") or {})
    other = family.pop("other", None)
    return Profile(
        residence_type=values.get("residence_type"), work_unit=values.get("work_unit"),
        contact_name=values.get("contact_name"), contact_phone=values.get("contact_phone"),
        blood_type=values.get("blood_type"), rh=values.get("rh_negative"), education=values.get("education"),
        occupation=values.get("occupation"), marital_status=values.get("marital_status"),
        payment_methods=tuple(values.get("payment_methods") or ()), payment_other=values.get("payment_other"),
        drug_allergies=tuple(values.get("drug_allergies") or ()),
        drug_allergy_other=values.get("drug_allergy_other"), exposures=tuple(values.get("exposures") or ()),
        past_history={kind: tuple(_entry_from_json(e, disease=kind == "diseases") for e in entries)
                      for kind, entries in past.items() if kind in HISTORY_KINDS},
        family_history={m: tuple(codes) for m, codes in family.items() if m in FAMILY_MEMBERS},
        family_other=other, genetic_disease=values.get("genetic_disease"),
        disabilities=tuple(values.get("disabilities") or ()), disability_other=values.get("disability_other"),
        living_environment=dict(values.get("living_environment") or {}),
    )


def profile_of(resident: object) -> Profile:
    """The Profile stored on a resident object."""
    return profile_from_columns({column: getattr(resident, column) for column in PROFILE_COLUMNS})


@dataclass(frozen=True)
class HistoryRow:
    """One typed 既往史 line: `what` is the disease (code or label) or the operation/trauma/transfusion name."""

    what: str
    day: object = None
    detail: str = ""  # the disease's own name where the form asks (恶性肿瘤、职业病 …)


@dataclass(frozen=True)
class ProfileInput:
    """The profile as typed or read from a file: codes or labels, sequences or 、-joined text."""

    residence_type: object = ""
    work_unit: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    blood_type: object = ""
    rh: object = ""
    education: object = ""
    occupation: object = ""
    marital_status: object = ""
    payment_methods: object = ()
    payment_other: str = ""
    drug_allergies: object = ()
    drug_allergy_other: str = ""
    exposures: object = ()
    past_history: Mapping[str, object] = field(default_factory=dict)  # kind -> text, rows, or None (not asked)
    family_history: Mapping[str, object] = field(default_factory=dict)  # member -> codes/labels or text
    family_other: str = ""
    genetic_disease: str = ""
    disabilities: object = ()
    disability_other: str = ""
    living_environment: Mapping[str, object] = field(default_factory=dict)


# ----- reading codes and labels


def _text(value: object) -> str:
    return "" if value is None else squeeze(str(value)).removesuffix(".0")


def code_for(value: object, table: CodeTable) -> str | None:
    """The code of `value` given as a code or a label (None when it is neither)."""
    text = _text(value)
    if text in table:
        return text
    for code, label in table.items():
        if text in (label, label.removesuffix("型"), label.removesuffix("残疾")) or text == squeeze(label):
            return code
    return None


def labels(codes: Iterable[str], table: CodeTable, other: str | None = None, other_code: str | None = None) -> str:
    """Codes as 、-joined labels, the text of 其他 after a colon: 青霉素、其他：头孢."""
    parts = []
    for code in codes:
        label = table.get(code, code)
        parts.append(f"{label}：{other}" if other and code == other_code else label)
    return "、".join(parts)


def split_choices(value: object) -> list[str]:
    """A multiple choice as its parts: a sequence as is, text split at 、 , ; /."""
    if value is None:
        return []
    if isinstance(value, str | int | float):
        return [part for part in (squeeze(p) for p in _SPLIT.split(str(value))) if part]
    return [_text(part) for part in value if _text(part)]  # type: ignore[attr-defined]


def history_day(value: object) -> date | None:
    """A 既往史 date: a full date, or a year and month (the form asks for 年月) as that month's first day."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str) and (match := _YEAR_MONTH.fullmatch(squeeze(value))):
        year, month = int(match.group(1)), int(match.group(2))
        if not 1 <= month <= 12:
            raise DateError(f"月份 {month} 不存在。")
        return date(year, month, 1)
    return parse_date(value)


def history_rows(value: object) -> list[HistoryRow] | None:
    """Typed 既往史 as rows: None when not asked, [] for 无; text like “高血压（2015-03）、恶性肿瘤：肺癌（2019-05-01）”."""
    if value is None:
        return None
    if isinstance(value, str):
        text = squeeze(value)
        if not text:
            return None
        if text in NONE_WORDS:
            return []
        rows = []
        for part in _HISTORY_SPLIT.split(text):
            if not part:
                continue
            match = _ENTRY.match(part)
            what, day = (match.group("what"), match.group("day")) if match else (part, None)
            what, _, detail = _DETAIL.sub("：", what).partition("：")
            rows.append(HistoryRow(what, day, detail))
        return rows
    return list(value)  # type: ignore[call-overload]


# ----- checking


class _ProfileChecker:
    """Collects one Chinese message per field while cleaning the profile."""

    def __init__(self, *, birth: date | None, today: date) -> None:
        self.birth, self.today = birth, today
        self.errors: dict[str, str] = {}

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, f"{PROFILE_LABELS[name]}：{message}")

    def single(self, name: str, value: object, table: CodeTable) -> str | None:
        if not _text(value):
            return None
        code = code_for(value, table)
        if code is None:
            self.fail(name, f"“{_text(value)}”不在可选范围内（{_options(table)}）。")
        return code

    def multi(self, name: str, value: object, table: CodeTable,
              other_code: str | None = None) -> tuple[tuple[str, ...], str | None]:
        """(codes in form order, the text given after 其他：); 无 (where the list has it) stands alone."""
        none_code = _none_code(table)
        codes, other = [], None
        for part in split_choices(value):
            head, _, detail = _DETAIL.sub("：", part).partition("：")
            code = code_for(head, table)
            if code is None:
                self.fail(name, f"“{part}”不在可选范围内（{_options(table)}）。")
                continue
            if detail and code == other_code:
                other = detail
            if code not in codes:
                codes.append(code)
        if none_code in codes and len(codes) > 1:
            self.fail(name, f"“{table[none_code]}”不能与其他选项同时选择。")
        return tuple(sorted(codes, key=int)), other

    def day(self, name: str, value: object, what: str) -> date | None:
        try:
            day = history_day(value)
        except DateError as error:
            self.fail(name, f"{what}的日期：{error}")
            return None
        if day is None:
            return None
        if day > self.today:
            self.fail(name, f"{what}的日期 {day:%Y-%m-%d} 晚于今天。")
        elif self.birth is not None and (day.year, day.month) < (self.birth.year, self.birth.month):
            self.fail(name, f"{what}的日期 {day:%Y-%m-%d} 早于出生日期。")
        return day

    def history(self, kind: str, value: object) -> tuple[HistoryEntry, ...] | None:
        name = f"past_history.{kind}"
        rows = history_rows(value)
        if rows is None:
            return None
        entries = [entry for row in rows if (entry := self._entry(name, kind, row)) is not None]
        if rows and not entries:
            return None  # only blank lines
        codes = [entry.code for entry in entries]
        if NONE_CODE in codes:
            if len(entries) > 1:
                self.fail(name, "“无”不能与其他疾病同时填写。")
            return ()
        return tuple(entries)

    def _entry(self, name: str, kind: str, row: HistoryRow) -> HistoryEntry | None:
        what, detail = squeeze(row.what or ""), squeeze(row.detail or "")
        if not what and not _text(row.day):
            return None
        if kind != "diseases":
            if what in NONE_WORDS and not _text(row.day):
                return HistoryEntry("", None, NONE_CODE)
            if not what:
                self.fail(name, f"填写了日期，请填写{HISTORY_KINDS[kind]}的{'原因' if kind == 'transfusions' else '名称'}。")
                return None
            return HistoryEntry(what[:50], self.day(name, row.day, what))
        code = code_for(what, PAST_DISEASES)
        if code is None:
            code, detail = "13", detail or what
        if code == NONE_CODE:
            return HistoryEntry("", None, NONE_CODE)
        label = PAST_DISEASES[code]
        return HistoryEntry(detail[:50] if code in NAMED_DISEASES else "", self.day(name, row.day, label), code)


def _none_code(table: CodeTable) -> str | None:
    """The code of 无 in a list that has it."""
    return NONE_CODE if table.get(NONE_CODE, "").startswith("无") else None


def _options(table: CodeTable) -> str:
    return " ".join(f"{code} {label}" for code, label in table.items())


def _limited(value: object, size: int) -> str | None:
    return squeeze(str(value or ""))[:size] or None


def check_profile(data: ProfileInput, *, birth: date | None, today: date) -> tuple[Profile, dict[str, str]]:
    """The cleaned profile and field -> Chinese message for each bad field (empty when all is well)."""
    check = _ProfileChecker(birth=birth, today=today)
    singles = {name: check.single(name, getattr(data, name), table) for name, (_, table) in SINGLE_CHOICES.items()}
    multis: dict[str, Any] = {}
    for name, (_, table, other_field, other_code) in MULTI_CHOICES.items():
        codes, other = check.multi(name, getattr(data, name), table, other_code)
        if other_field is not None:
            typed = _limited(getattr(data, other_field), 100) or (other[:100] if other else None)
            if typed and other_code not in codes:
                codes = tuple(sorted((*codes, other_code), key=int))
                if _none_code(table) in codes:
                    check.fail(name, f"选了“{table[NONE_CODE]}”，又填写了{PROFILE_LABELS[other_field]}。")
            multis[other_field] = typed
        multis[name] = codes
    contact_phone = normalise_phone(data.contact_phone) if _text(data.contact_phone) else None
    if contact_phone and (problem := phone_problem(contact_phone)):
        check.fail("contact_phone", problem)
    past = {kind: entries for kind in HISTORY_KINDS
            if (entries := check.history(kind, data.past_history.get(kind))) is not None}
    family = _family(check, data.family_history)
    living = {item: code for item, (_, table) in LIVING_ENVIRONMENT.items()
              if (code := check.single(f"living_environment.{item}", data.living_environment.get(item), table))}
    profile = Profile(
        **singles, **multis, work_unit=_limited(data.work_unit, 100), contact_name=_limited(data.contact_name, 50),
        contact_phone=contact_phone, past_history=past, family_history=family,
        family_other=_limited(data.family_other, 100), genetic_disease=_genetic(check, data.genetic_disease),
        living_environment=living,
    )
    return profile, check.errors


def _family(check: _ProfileChecker, typed: Mapping[str, object]) -> dict[str, tuple[str, ...]]:
    family = {}
    for member in FAMILY_MEMBERS:
        codes, _ = check.multi(f"family_history.{member}", typed.get(member), FAMILY_DISEASES)
        if codes:
            family[member] = codes
    return family


def _genetic(check: _ProfileChecker, value: object) -> str | None:
    """None when not asked, 无, or the disease's name (“有：血友病” and “血友病” alike)."""
    text = _DETAIL.sub("：", squeeze(str(value or "")))
    if not text:
        return None
    if text in NONE_WORDS:
        return "无"
    head, _, name = text.partition("：")
    if head in ("有", "2"):
        if not name:
            check.fail("genetic_disease", "选了“有”，请填写遗传病名称。")
            return None
        return name[:100]
    return text[:100]


def history_text(entries: Sequence[HistoryEntry] | None) -> str:
    """A 既往史 kind as one line: blank when not asked, 无, or the entries 、-joined."""
    if entries is None:
        return ""
    return "、".join(entry.label() for entry in entries) if entries else "无"
