"""The 个人基本信息表's columns in roster imports and exports: headers, cells to input, profiles to cells.

A roster field is named as `check_profile` names its errors (blood_type, past_history.diseases,
living_environment.fuel …), so a refused cell is reported under its own column. Cells take
codes or Chinese labels; multiple choices 、-joined, with 其他 written as “其他：头孢”; 既往史
as “高血压（2015-03）、恶性肿瘤：胃癌（2019-05-20）”. Exports write the same labels back.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from desktop.rules.profile import (
    BLOOD_TYPES,
    DISABILITIES,
    DRUG_ALLERGIES,
    EDUCATION,
    EXPOSURES,
    FAMILY_DISEASES,
    FAMILY_MEMBERS,
    LIVING_ENVIRONMENT,
    MARITAL_STATUSES,
    OCCUPATIONS,
    PAYMENT_METHODS,
    RESIDENCE_TYPES,
    RH_TYPES,
    Profile,
    ProfileInput,
    history_text,
    labels,
)

# roster field -> (column title, header synonyms, column width)
PROFILE_COLUMNS: dict[str, tuple[str, tuple[str, ...], int]] = {
    "residence_type": ("常住类型", ("户籍类型", "是否户籍"), 8),
    "work_unit": ("工作单位", ("单位",), 16),
    "contact_name": ("联系人姓名", ("联系人",), 10),
    "contact_phone": ("联系人电话", ("联系人手机",), 14),
    "blood_type": ("血型", ("ABO血型",), 6),
    "rh": ("RH", ("RH血型", "RH阴性", "Rh"), 6),
    "education": ("文化程度", ("学历", "受教育程度"), 12),
    "occupation": ("职业", ("职业类别",), 14),
    "marital_status": ("婚姻状况", ("婚姻",), 8),
    "payment_methods": ("医疗费用支付方式", ("支付方式", "费用支付方式"), 22),
    "drug_allergies": ("药物过敏史", ("过敏史", "药物过敏"), 14),
    "exposures": ("暴露史", (), 10),
    "past_history.diseases": ("既往疾病", ("既往史疾病", "既往史", "疾病史"), 28),
    "past_history.operations": ("既往手术", ("手术史", "既往史手术"), 20),
    "past_history.traumas": ("既往外伤", ("外伤史", "既往史外伤"), 16),
    "past_history.transfusions": ("既往输血", ("输血史", "既往史输血"), 16),
    **{f"family_history.{member}": (f"家族史{label}", (f"家族史-{label}", f"家族史·{label}", f"{label}疾病史"), 14)
       for member, label in FAMILY_MEMBERS.items()},
    "family_history.other": ("家族史其他疾病", ("家族史-其他", "家族史其他"), 14),
    "genetic_disease": ("遗传病史", ("遗传病",), 12),
    "disabilities": ("残疾情况", ("残疾类别", "残疾类型"), 14),
    **{f"living_environment.{item}": (label, (), 12) for item, (label, _) in LIVING_ENVIRONMENT.items()},
}
PROFILE_SYNONYMS = {field: (title, *words) for field, (title, words, _) in PROFILE_COLUMNS.items()}
PROFILE_TITLES = {field: title for field, (title, _, _) in PROFILE_COLUMNS.items()}
_SINGLES = {"residence_type": RESIDENCE_TYPES, "blood_type": BLOOD_TYPES, "rh": RH_TYPES, "education": EDUCATION,
            "occupation": OCCUPATIONS, "marital_status": MARITAL_STATUSES}
_MULTIS = {"payment_methods": (PAYMENT_METHODS, "payment_other", "8"),
           "drug_allergies": (DRUG_ALLERGIES, "drug_allergy_other", "5"),
           "exposures": (EXPOSURES, None, None), "disabilities": (DISABILITIES, "disability_other", "8")}
# roster field -> the stored columns it sets on an existing record
_STORED = {"rh": ("rh_negative",), "payment_methods": ("payment_methods", "payment_other"),
           "drug_allergies": ("drug_allergies", "drug_allergy_other"),
           "disabilities": ("disabilities", "disability_other")}
STORED_PROFILE_COLUMNS = tuple(Profile().columns())


def profile_input(texts: Mapping[str, str], fields: Collection[str]) -> ProfileInput:
    """The profile cells of one row (field -> non-blank cell text) as input for `check_profile`."""
    plain: dict[str, Any] = {}
    past: dict[str, Any] = {}
    family: dict[str, Any] = {}
    living: dict[str, Any] = {}
    for field in fields:
        value = texts.get(field)
        group, _, part = field.partition(".")
        if group == "past_history":
            past[part] = value
        elif field == "family_history.other":
            plain["family_other"] = value or ""
        elif group == "family_history":
            family[part] = value or ""
        elif group == "living_environment":
            living[part] = value or ""
        else:
            plain[field] = value or ""
    return ProfileInput(**plain, past_history=past, family_history=family, living_environment=living)


def profile_changes(profile: Profile, provided: Collection[str], stored: Mapping[str, Any]) -> dict[str, Any]:
    """column -> new value for the profile cells this row filled (blank cells leave the record as it is)."""
    wanted = profile.columns()
    changes: dict[str, Any] = {}
    for field in provided:
        group, _, part = field.partition(".")
        if group in ("past_history", "family_history", "living_environment"):
            merged = dict(changes.get(group, stored.get(group) or {}))
            key = "other" if field == "family_history.other" else part
            if key in wanted[group]:
                merged[key] = wanted[group][key]
            else:
                merged.pop(key, None)
            changes[group] = merged
        elif field in PROFILE_COLUMNS:
            for column in _STORED.get(field, (field,)):
                changes[column] = wanted[column]
    return {column: value for column, value in changes.items() if stored.get(column) != value}


def profile_cells(profile: Profile, *, phone: str | None = None) -> tuple[Any, ...]:
    """The export's profile cells, in PROFILE_COLUMNS order, as Chinese labels (`phone`: the contact's, masked)."""
    cells: list[Any] = []
    for field in PROFILE_COLUMNS:
        group, _, part = field.partition(".")
        if field in _SINGLES:
            code = getattr(profile, field)
            cells.append(_SINGLES[field].get(code, code) if code else None)
        elif field in _MULTIS:
            table, other_field, other_code = _MULTIS[field]
            other = getattr(profile, other_field) if other_field else None
            cells.append(labels(getattr(profile, field), table, other, other_code) or None)
        elif group == "past_history":
            cells.append(history_text(profile.past_history.get(part)) or None)
        elif field == "family_history.other":
            cells.append(profile.family_other)
        elif group == "family_history":
            cells.append(labels(profile.family_history.get(part, ()), FAMILY_DISEASES) or None)
        elif group == "living_environment":
            code = profile.living_environment.get(part)
            cells.append(LIVING_ENVIRONMENT[part][1].get(code, code) if code else None)
        elif field == "contact_phone":
            cells.append(phone if phone is not None else profile.contact_phone)
        else:
            cells.append(getattr(profile, field))
    return tuple(cells)

