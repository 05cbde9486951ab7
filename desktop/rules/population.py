"""Code lists of the resident record: sex, status, key populations, relations, insurance, ethnicity."""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum

from desktop.rules.dates import age_on

SEX_LABELS = {"1": "男", "2": "女", "0": "未知", "9": "未说明"}  # GB/T 2261.1
SEX_BY_LABEL = {label: code for code, label in SEX_LABELS.items()}


class ResidentStatus(StrEnum):
    """Whether the record is on the register."""

    ACTIVE = "active"
    MOVED_OUT = "moved_out"
    DECEASED = "deceased"

    @property
    def label(self) -> str:
        return {"active": "在册", "moved_out": "迁出", "deceased": "死亡"}[self.value]


class KeyPopulation(StrEnum):
    """重点人群. The first two are computed from the birth date; the rest are recorded."""

    ELDERLY = "elderly"
    CHILD = "child"
    PREGNANT = "pregnant"
    HYPERTENSION = "hypertension"
    DIABETES = "diabetes"
    SEVERE_MENTAL_ILLNESS = "severe_mental_illness"
    TUBERCULOSIS = "tuberculosis"
    DISABLED = "disabled"
    POVERTY_RELIEF = "poverty_relief"

    @property
    def label(self) -> str:
        return KEY_POPULATION_LABELS[self]

    @property
    def is_age_based(self) -> bool:
        return self in (KeyPopulation.ELDERLY, KeyPopulation.CHILD)


KEY_POPULATION_LABELS = {
    KeyPopulation.ELDERLY: "65岁及以上老年人",
    KeyPopulation.CHILD: "0-6岁儿童",
    KeyPopulation.PREGNANT: "孕产妇",
    KeyPopulation.HYPERTENSION: "高血压患者",
    KeyPopulation.DIABETES: "2型糖尿病患者",
    KeyPopulation.SEVERE_MENTAL_ILLNESS: "严重精神障碍患者",
    KeyPopulation.TUBERCULOSIS: "肺结核患者",
    KeyPopulation.DISABLED: "残疾人",
    KeyPopulation.POVERTY_RELIEF: "脱贫/低保/特困人口",
}
RECORDED_CONDITIONS = tuple(k for k in KeyPopulation if not k.is_age_based)
CHRONIC_DIAGNOSES = (KeyPopulation.HYPERTENSION, KeyPopulation.DIABETES,
                     KeyPopulation.SEVERE_MENTAL_ILLNESS, KeyPopulation.TUBERCULOSIS)

ELDERLY_AGE = 65
CHILD_MAX_AGE = 6


def age_groups(birth: date, on: date) -> list[KeyPopulation]:
    """The age-based key populations a person belongs to on a given day."""
    age = age_on(birth, on)
    groups = []
    if age >= ELDERLY_AGE:
        groups.append(KeyPopulation.ELDERLY)
    if 0 <= age <= CHILD_MAX_AGE:
        groups.append(KeyPopulation.CHILD)
    return groups


def birth_range_for_age_group(group: KeyPopulation, on: date) -> tuple[date | None, date | None]:
    """(born after or on, born on or before) for an age group on a day, for indexed queries."""
    if group is KeyPopulation.ELDERLY:
        return None, years_before(on, ELDERLY_AGE)
    if group is KeyPopulation.CHILD:
        return years_before(on, CHILD_MAX_AGE + 1) + timedelta(days=1), on
    raise ValueError(group)


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


# 与户主关系, after GB/T 4761 (家庭关系代码), the groups used on the household register
RELATIONS = {
    "02": "户主", "10": "配偶", "20": "子", "30": "女", "40": "孙子女",
    "50": "父母", "60": "祖父母", "70": "兄弟姐妹", "80": "儿媳/女婿", "99": "其他",
}
HEAD_OF_HOUSEHOLD = "02"

INSURANCE_TYPES = (
    "城镇职工基本医疗保险", "城乡居民基本医疗保险", "贫困救助", "商业医疗保险", "全公费", "全自费", "其他",
)

ETHNIC_GROUPS = (
    "汉族", "蒙古族", "回族", "藏族", "维吾尔族", "苗族", "彝族", "壮族", "布依族", "朝鲜族", "满族", "侗族",
    "瑶族", "白族", "土家族", "哈尼族", "哈萨克族", "傣族", "黎族", "傈僳族", "佤族", "畲族", "高山族", "拉祜族",
    "水族", "东乡族", "纳西族", "景颇族", "柯尔克孜族", "土族", "达斡尔族", "仫佬族", "羌族", "布朗族", "撒拉族",
    "毛南族", "仡佬族", "锡伯族", "阿昌族", "普米族", "塔吉克族", "怒族", "乌孜别克族", "俄罗斯族", "鄂温克族",
    "德昂族", "保安族", "裕固族", "京族", "塔塔尔族", "独龙族", "鄂伦春族", "赫哲族", "门巴族", "珞巴族", "基诺族",
)
