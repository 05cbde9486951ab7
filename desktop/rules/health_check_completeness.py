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

from collections.abc import Mapping
from typing import Any

SELF_CARE = ("self_care_total", "生活自理能力评估")
# 一般体格检查: (columns that must all be present, Chinese name)
GENERAL_EXAMINATION: tuple[tuple[tuple[str, ...], str], ...] = (
    (("sbp", "dbp"), "血压"),
    (("heart_rate",), "脉率"),
    (("height", "weight"), "身高体重"),
    (("waist",), "腰围"),
)
EXAMINATION_PARTS: dict[str, str] = {
    "skin": "皮肤", "lymph_nodes": "淋巴结", "lungs": "肺部", "heart": "心脏", "abdomen": "腹部",
}
TEST_PARTS: dict[str, str] = {
    "blood_routine": "血常规", "urine_routine": "尿常规", "liver_function": "肝功能", "kidney_function": "肾功能",
    "fasting_glucose": "空腹血糖", "blood_lipids": "血脂", "ecg": "心电图", "ultrasound": "腹部B超",
}
GUIDANCE = ("guidance", "健康指导")


def _present(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    return value is not None and value != [] and value != {}


def missing_parts(values: Mapping[str, Any]) -> list[str]:
    """The Chinese names of the parts the 规范 requires that the check lacks, in the form's order ([] = complete)."""
    missing: list[str] = []
    if not _present(values.get(SELF_CARE[0])):
        missing.append(SELF_CARE[1])
    for columns, name in GENERAL_EXAMINATION:
        if not all(_present(values.get(column)) for column in columns):
            missing.append(f"体格检查：{name}")
    examination = values.get("examination") or {}
    missing += [f"查体：{name}" for key, name in EXAMINATION_PARTS.items() if not _present(examination.get(key))]
    results = values.get("results") or {}
    missing += [name for key, name in TEST_PARTS.items() if not _present(results.get(key))]
    if not _present(values.get(GUIDANCE[0])):
        missing.append(GUIDANCE[1])
    return missing


def is_complete(values: Mapping[str, Any]) -> bool:
    """Whether the check has every part the 规范 requires."""
    return not missing_parts(values)


def missing_text(missing: list[str]) -> str:
    """'缺：血常规、心电图' for a reason column, '' when nothing is missing."""
    return f"缺：{'、'.join(missing)}" if missing else ""


COMPLETENESS_COLUMNS = ("self_care_total", "sbp", "dbp", "heart_rate", "height", "weight", "waist",
                        "examination", "results", "guidance")
"""The health_check columns `missing_parts` reads (select these to build its mapping)."""
