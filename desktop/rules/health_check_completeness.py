"""What a 65+ yearly health check must contain to count as 规范健康管理, and what a given check lacks.

The 规范 (老年人健康管理服务规范) asks of the yearly check: the self-care assessment (生活自理能力
评估), the physical examination (一般体格检查 and 查体), the 辅助检查 (blood and urine routine,
liver and kidney function, fasting glucose, lipids, ECG, abdominal B超) and 健康指导. A check
missing any of them is kept as recorded but counted as incomplete, naming what is missing.

`missing_parts(values)` reads a mapping keyed by the health_check columns:

- `self_care_total` (int or None): the self-care score; present when not None.
- `sbp`, `dbp`, `heart_rate`, `height`, `weight`, `waist`: the 一般体格检查 measures (columns).
- `examination` (dict, the JSON column): the 查体 findings, keys `EXAMINATION_PARTS` — `skin` 皮肤,
  `lymph_nodes` 淋巴结, `lungs` 肺, `heart` 心脏, `abdomen` 腹部 — each any non-empty value
  (e.g. "1" 未见异常 or a finding's text).
- `results` (dict, the JSON column): the 辅助检查, keys `TEST_PARTS` — `blood_routine`,
  `urine_routine`, `liver_function`, `kidney_function`, `fasting_glucose`, `blood_lipids`, `ecg`,
  `ultrasound` (腹部B超) — each a non-empty value (the result's text or number).
- `guidance` (list, the JSON column): 健康指导 codes; present when the list is not empty.

Missing keys in the mapping count as missing parts; values are "present" when not None, "" , [] or {}.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Part:
    """One required part: present when every (column, JSON key or None for the column itself) has a value."""

    name: str
    fields: tuple[tuple[str, str | None], ...]


EXAMINATION_PARTS: dict[str, str] = {
    "skin": "皮肤", "lymph_nodes": "淋巴结", "lungs": "肺部", "heart": "心脏", "abdomen": "腹部",
}
TEST_PARTS: dict[str, str] = {
    "blood_routine": "血常规", "urine_routine": "尿常规", "liver_function": "肝功能", "kidney_function": "肾功能",
    "fasting_glucose": "空腹血糖", "blood_lipids": "血脂", "ecg": "心电图", "ultrasound": "腹部B超",
}
REQUIRED_PARTS: tuple[Part, ...] = (
    Part("生活自理能力评估", (("self_care_total", None),)),
    Part("体格检查：血压", (("sbp", None), ("dbp", None))),
    Part("体格检查：脉率", (("heart_rate", None),)),
    Part("体格检查：身高体重", (("height", None), ("weight", None))),
    Part("体格检查：腰围", (("waist", None),)),
    *(Part(f"查体：{name}", (("examination", key),)) for key, name in EXAMINATION_PARTS.items()),
    *(Part(name, (("results", key),)) for key, name in TEST_PARTS.items()),
    Part("健康指导", (("guidance", None),)),
)
"""Every part the 规范 requires, in the form's order."""
COMPLETENESS_COLUMNS = tuple(dict.fromkeys(column for part in REQUIRED_PARTS for column, _key in part.fields))
"""The health_check columns `missing_parts` reads (select these to build its mapping)."""


def present(value: Any) -> bool:
    """A recorded value: not None, not blank text, not an empty list or dict."""
    if isinstance(value, str):
        return bool(value.strip())
    return value is not None and value != [] and value != {}


def _value(values: Mapping[str, Any], column: str, key: str | None) -> Any:
    value = values.get(column)
    if key is None:
        return value
    return value.get(key) if isinstance(value, Mapping) else None


def missing_parts(values: Mapping[str, Any]) -> list[str]:
    """The Chinese names of the parts the 规范 requires that the check lacks, in the form's order ([] = complete)."""
    return [part.name for part in REQUIRED_PARTS
            if not all(present(_value(values, column, key)) for column, key in part.fields)]


def is_complete(values: Mapping[str, Any]) -> bool:
    """Whether the check has every part the 规范 requires."""
    return not missing_parts(values)


def missing_text(missing: Sequence[str]) -> str:
    """'缺：血常规、心电图' for a reason column, '' when nothing is missing."""
    return f"缺：{'、'.join(missing)}" if missing else ""
