"""The 65+ yearly check's self-care assessment (老年人生活自理能力评估表) and BMI."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from desktop.errors import ValidationError


class Dependence(IntEnum):
    """The four columns of the assessment table."""

    INDEPENDENT = 0
    MILD = 1
    MODERATE = 2
    UNABLE = 3

    @property
    def label(self) -> str:
        return ("可自理", "轻度依赖", "中度依赖", "不能自理")[self.value]


# item -> (label, score per Dependence column), from the national specification's table.
SELF_CARE_ITEMS: dict[str, tuple[str, tuple[int, int, int, int]]] = {
    "eating": ("进餐", (0, 0, 3, 5)),
    "grooming": ("梳洗", (0, 1, 3, 7)),
    "dressing": ("穿衣", (0, 0, 3, 5)),
    "toileting": ("如厕", (0, 1, 5, 10)),
    "activity": ("活动", (0, 1, 5, 10)),
}


@dataclass(frozen=True)
class SelfCareResult:
    total: int
    level: Dependence

    @property
    def label(self) -> str:
        return f"{self.total} 分（{self.level.label}）"


def self_care_level(total: int) -> Dependence:
    """0-3 可自理, 4-8 轻度依赖, 9-18 中度依赖, 19 and above 不能自理."""
    if total <= 3:
        return Dependence.INDEPENDENT
    if total <= 8:
        return Dependence.MILD
    if total <= 18:
        return Dependence.MODERATE
    return Dependence.UNABLE


def self_care_score(answers: dict[str, Dependence]) -> SelfCareResult:
    """The total over all five items; every item must be answered."""
    missing = [SELF_CARE_ITEMS[item][0] for item in SELF_CARE_ITEMS if item not in answers]
    if missing:
        raise ValidationError.single("self_care", f"生活自理能力评估未填完：{'、'.join(missing)}。")
    total = sum(SELF_CARE_ITEMS[item][1][answers[item]] for item in SELF_CARE_ITEMS)
    return SelfCareResult(total, self_care_level(total))


def bmi(weight_kg: float, height_cm: float) -> float:
    """Body-mass index rounded to one decimal."""
    metres = height_cm / 100
    return round(weight_kg / (metres * metres), 1)
