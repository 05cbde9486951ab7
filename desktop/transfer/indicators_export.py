"""Exporting a period's (year, quarter or month) indicators to Excel: the figures with their definitions, and each figure's people.

Sheet 指标汇总 lists every indicator per village and in total (numerator, denominator, the value
formatted as a percentage, the definition, and the rule the period was counted by). One sheet per indicator with people lists everyone
in its denominator, whether they count, and why not — the same verdicts the figures are built
from, so the counts on each sheet equal the figures. Written under a temporary name, audited.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from uuid import uuid4

from desktop.changes import Changes
from desktop.db import Database
from desktop.jobs import ProgressFn, raise_if_aborted
from desktop.services import audit
from desktop.services.audit import Action
from desktop.services.indicator_base import Period, source_of
from desktop.services.indicators import DEFINITIONS, Figure, IndicatorReport, indicator_report
from desktop.services.permissions import Actor
from desktop.transfer.xlsx_stream import SheetWriter

TOTAL = "合计"
SUMMARY_COLUMNS = (("统计期", 9), ("指标", 26), ("范围", 12), ("分子", 8), ("分母", 10), ("值", 9), ("定义", 80),
                   ("统计口径", 100))
PEOPLE_COLUMNS = (("档案编号", 20), ("姓名", 10), ("所属村", 12), ("{verdict}", 10), ("未计入原因", 50))


def verdict_title(code: str) -> str:
    """The drill-down sheet's yes/no column as the indicator names it (是否达标 for control rates, else 是否计入)."""
    return DEFINITIONS[code].verdict_label


def summary_rows(report: IndicatorReport) -> list[tuple]:
    """One row per indicator and village, then its total; in the registry's order, each with its counting rule."""
    rows = []
    for code, definition in DEFINITIONS.items():
        rule = report.rules.get(source_of(code).key, "")
        figures = [f for f in report.figures if f.code == code]
        villages = sorted((f for f in figures if f.village_id is not None),
                          key=lambda f: report.village_names.get(f.village_id, ""))
        for figure in (*villages, *(f for f in figures if f.village_id is None)):
            rows.append((report.period.name, definition.name, _scope_name(report, figure), figure.numerator,
                         figure.denominator, figure.value, definition.definition, rule))
    return rows


def people_rows(report: IndicatorReport, code: str) -> list[tuple]:
    """Everyone in the indicator's denominator: record number, name, village, counted, reason."""
    verdicts = sorted(report.people.get(code, ()), key=lambda v: (report.village_names.get(v.village_id, ""),
                                                                   v.record_no))
    return [(v.record_no, v.name, report.village_names.get(v.village_id, ""), "是" if v.counts else "否",
             v.reason or "") for v in verdicts]


def _scope_name(report: IndicatorReport, figure: Figure) -> str:
    return TOTAL if figure.village_id is None else report.village_names.get(figure.village_id, "")


@dataclass(frozen=True)
class IndicatorsExportResult:
    path: Path
    year: int
    indicators: int
    people: int
    changes: Changes = field(default_factory=lambda: Changes(audit=True))
    period_label: str = ""

    def message(self) -> str:
        label = self.period_label or f"{self.year} 年"
        return f"已导出 {label}管理指标 {self.indicators} 项（明细 {self.people} 行）：{self.path}"


@dataclass
class IndicatorsExport:
    """The export job: `IndicatorsExport(db, actor, path, year=2025, village_id=None, period=None)(abort=..., progress=...)`.

    `period` (a Period or its text, 2025-Q1 or 2025-03) counts a quarter or month instead of the year.
    """

    db: Database
    actor: Actor
    path: Path
    year: int
    village_id: int | None = None
    period: Period | str | None = None

    def __call__(self, *, abort: threading.Event, progress: ProgressFn) -> IndicatorsExportResult:
        progress(0.0, "正在计算管理指标……")
        asked = self.period if self.period is not None else self.year
        report = indicator_report(self.db, self.actor, asked, village_id=self.village_id)
        label = report.period.label
        raise_if_aborted(abort)
        target = Path(self.path)
        temporary = target.with_name(f".{target.stem}.{uuid4().hex[:8]}.part.xlsx")
        try:
            people = write_indicators_workbook(temporary, report, abort, progress)
            with self.db.write() as session:
                audit.record(session, self.actor, Action.EXPORT, entity_type="indicators", entity_id=target.name,
                             summary=f"导出 {label}管理指标《{target.name}》（明细 {people} 人次）")
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)
        progress(1.0, "导出完成")
        return IndicatorsExportResult(target, report.period.year, len(DEFINITIONS), people, period_label=label)


def write_indicators_workbook(path: Path, report: IndicatorReport, abort: threading.Event,
                              progress: ProgressFn) -> int:
    """The summary sheet and one sheet of people per indicator; returns how many people rows."""
    rows = summary_rows(report)
    writer = SheetWriter(path, sheet="指标汇总", widths=[w for _, w in SUMMARY_COLUMNS], rows=len(rows),
                         percent_columns=(5,))
    people = 0
    try:
        writer.write_header([title for title, _ in SUMMARY_COLUMNS])
        for row in rows:
            writer.write_row(row)
        coded = [code for code, definition in DEFINITIONS.items() if definition.has_people]
        for done, code in enumerate(coded, start=1):
            raise_if_aborted(abort)
            listed = people_rows(report, code)
            writer.add_sheet(DEFINITIONS[code].name, widths=[w for _, w in PEOPLE_COLUMNS], rows=len(listed),
                             text_columns=(0,))
            writer.write_header([title.format(verdict=verdict_title(code)) for title, _ in PEOPLE_COLUMNS])
            for row in listed:
                writer.write_row(row)
            people += len(listed)
            progress(0.2 + 0.75 * done / len(coded), f"已写入 {DEFINITIONS[code].name}")
    except BaseException:
        writer.discard()
        raise
    writer.close()
    return people
