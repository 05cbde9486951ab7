"""Exporting a year's health checks (健康体检) to Excel: one row per check, with its completeness.

Sheet 健康体检 lists each check in the year: who, the main values, the self-care score, the 查体
and each 辅助检查 result, the evaluation and guidance, and for a resident 65+ on the check date
whether the check has every part the 规范 requires (是否完整) and what it lacks (缺项). A
corrected check carries its correction's reason; a voided one is listed too, marked with its
reason. Village doctors export only their villages; a village may be chosen. The file is
written under a temporary name and renamed when complete; the export is audited.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import uuid4

from sqlalchemy import func, or_, select

from desktop.changes import Changes
from desktop.clock import now
from desktop.db import Database
from desktop.jobs import ProgressFn, raise_if_aborted
from desktop.models import HealthCheck, Resident, Village
from desktop.rules.dates import age_on
from desktop.rules.health_check_completeness import COMPLETENESS_COLUMNS, EXAMINATION_PARTS, TEST_PARTS, missing_parts
from desktop.rules.population import ELDERLY_AGE, SEX_LABELS
from desktop.services import audit
from desktop.services.access_audit import refusals_audited
from desktop.services.audit import Action
from desktop.services.health_checks import GUIDANCE
from desktop.services.indicators import Period
from desktop.services.permissions import Actor, Permission, require, village_scope
from desktop.transfer.export_job import VILLAGE_OPTION, YEAR_OPTION, ExportSpec
from desktop.transfer.resident_export import village_filter
from desktop.transfer.xlsx_stream import SheetWriter

CHUNK = 2000
SHEET = "健康体检"
COLUMNS = (
    ("档案编号", 20), ("姓名", 10), ("性别", 6), ("出生日期", 12), ("所属村", 12), ("体检日期", 12),
    ("收缩压", 8), ("舒张压", 8), ("心率", 8), ("身高", 8), ("体重", 8), ("腰围", 8), ("体质指数", 9),
    ("自理评分", 9), *((f"查体：{name}", 16) for name in EXAMINATION_PARTS.values()),
    *((name, 14) for name in TEST_PARTS.values()), ("健康评价", 10), ("异常说明", 24), ("健康指导", 24),
    ("责任医生", 10), ("是否完整", 9), ("缺项", 36), ("更正原因", 20), ("作废", 20),
)
TEXT_COLUMNS = (0,)
_SELECT = (HealthCheck, Resident.record_no, Resident.name, Resident.sex, Resident.birth_date, Village.name)
EVALUATION = {None: "未评价", True: "有异常", False: "体检无异常"}


@dataclass(frozen=True)
class CheckExportResult:
    path: Path
    year: int
    checks: int
    incomplete: int  # of the 65+ checks listed and not voided, those lacking a part the 规范 requires
    voided: int = 0
    changes: Changes = field(default_factory=lambda: Changes(audit=True))

    def message(self) -> str:
        voided = f"（含已作废 {self.voided} 次）" if self.voided else ""
        return (f"已导出 {self.year} 年健康体检 {self.checks} 次{voided}，其中老年人体检内容不完整 {self.incomplete} 次："
                f"{self.path}")


def _text(value: Any) -> Any:
    return value if value is None or isinstance(value, str | int | float) else str(value)


def check_cells(check: HealthCheck, birth_date) -> tuple[Any, ...]:
    """The check's cells after the resident's: values, 查体, 辅助检查, evaluation, completeness, marks."""
    elderly = age_on(birth_date, check.check_date) >= ELDERLY_AGE
    missing = missing_parts({column: getattr(check, column) for column in COMPLETENESS_COLUMNS}) if elderly else None
    complete = "" if missing is None else ("否" if missing else "是")
    guidance = "、".join(GUIDANCE.get(code, code) for code in check.guidance or ())
    voided = f"已作废：{check.void_reason}" if check.void_reason else ""
    return (check.check_date, check.sbp, check.dbp, check.heart_rate, check.height, check.weight, check.waist,
            check.bmi, check.self_care_total,
            *(_text((check.examination or {}).get(key)) for key in EXAMINATION_PARTS),
            *(_text((check.results or {}).get(key)) for key in TEST_PARTS),
            EVALUATION[check.evaluation_abnormal], check.evaluation_note, guidance, check.doctor_name, complete,
            "、".join(missing or ()), check.correction_reason, voided)


def _row(row: Any) -> tuple[Any, ...]:
    check, record_no, name, sex, birth, village = row
    return (record_no, name, SEX_LABELS.get(sex, sex), birth, village, *check_cells(check, birth))


@dataclass
class CheckExport:
    """The export job: `CheckExport(db, actor, path, year=2025, village_id=None)(abort=..., progress=...)`."""

    db: Database
    actor: Actor
    path: Path
    year: int
    village_id: int | None = None

    def _query(self, period: Period):
        scope = [Resident.deleted.is_(False), village_scope(self.actor, Resident.village_id)]
        if self.village_id is not None:
            scope.append(Resident.village_id == self.village_id)
        return (select(*_SELECT).join(Resident, Resident.id == HealthCheck.resident_id)
                .join(Village, Village.id == Resident.village_id)
                .where(or_(HealthCheck.deleted.is_(False), HealthCheck.voided_at.is_not(None)),
                       HealthCheck.check_date >= period.start, HealthCheck.check_date <= period.end, *scope))

    def __call__(self, *, abort: threading.Event, progress: ProgressFn) -> CheckExportResult:
        with refusals_audited(self.db, self.actor, f"导出体检记录《{Path(self.path).name}》"):
            require(self.actor, Permission.EXPORT_FOLLOWUPS)
        period = Period.for_year(self.year, now().date())
        target = Path(self.path)
        temporary = target.with_name(f".{target.stem}.{uuid4().hex[:8]}.part.xlsx")
        progress(0.0, "正在查找体检记录……")
        try:
            checks, voided, incomplete = self._write(temporary, period, abort, progress)
            raise_if_aborted(abort)
            with self.db.write() as session:
                audit.record(session, self.actor, Action.EXPORT, entity_type="health_check", entity_id=target.name,
                             summary=f"导出 {self.year} 年健康体检《{target.name}》：体检 {checks} 次"
                                     f"{f'（含已作废 {voided} 次）' if voided else ''}")
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)
        progress(1.0, "导出完成")
        return CheckExportResult(target, self.year, checks, incomplete, voided=voided)

    def _write(self, path: Path, period: Period, abort: threading.Event,
               progress: ProgressFn) -> tuple[int, int, int]:
        query = self._query(period).order_by(Village.code, Resident.record_no, HealthCheck.check_date, HealthCheck.id)
        incomplete = voided = 0
        with self.db.read() as session:
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            writer = SheetWriter(path, sheet=SHEET, widths=[w for _, w in COLUMNS], rows=total,
                                 text_columns=TEXT_COLUMNS, shared_strings=True)
            try:
                writer.write_header([title for title, _ in COLUMNS])
                for count, row in enumerate(session.execute(query.execution_options(yield_per=CHUNK)), start=1):
                    cells = _row(row)
                    writer.write_row(cells)
                    voided += row[0].void_reason is not None
                    incomplete += row[0].void_reason is None and cells[-4] == "否"
                    if count % CHUNK == 0:
                        raise_if_aborted(abort)
                        progress(0.95 * count / total, f"已写入体检 {count} / {total}")
            except BaseException:
                writer.discard()
                raise
            writer.close()
        return total, voided, incomplete


def _export_job(db: Database, actor: Actor, out: Path, options: Mapping[str, Any]) -> CheckExport:
    code = options.get("village")
    village_id = village_filter(db, actor, code).village_id if code else None
    return CheckExport(db, actor, out, year=options["year"], village_id=village_id)


CHECK_EXPORT = ExportSpec(kind="checks", label="健康体检（含老年人体检是否完整、缺项）",
                          permission=Permission.EXPORT_FOLLOWUPS, job=_export_job,
                          options=(YEAR_OPTION, VILLAGE_OPTION))
