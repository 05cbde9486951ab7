"""Exporting the lists people work from: the due list (工作台) and an indicator's people, with how to reach them.

Each row carries the person's sex, age, village, address, phone (masked per role, as on screen)
and responsible doctor beside what the list is about. The workbook is written under a temporary
name, renamed into place and audited. The due list is also a registered export (`export due`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from uuid import uuid4

from desktop.changes import Changes
from desktop.clock import now
from desktop.db import Database
from desktop.jobs import ProgressFn, raise_if_aborted
from desktop.rules.dates import age_on, parse_date
from desktop.rules.population import SEX_LABELS
from desktop.services import audit
from desktop.services.access_audit import refusals_audited
from desktop.services.audit import Action
from desktop.services.audit_labels import register_entity_label
from desktop.services.contacts import Contact, lookup_contacts
from desktop.services.due import DueItem, DueScope, due_list
from desktop.services.indicator_base import PersonVerdict
from desktop.services.permissions import Actor, Permission, require
from desktop.transfer.export_job import VILLAGE_OPTION, ExportOption, ExportSpec
from desktop.transfer.resident_export import village_filter
from desktop.transfer.xlsx_stream import SheetWriter

DUE_SHEET = "待办名单"
DUE_COLUMNS = (("事项", 14), ("档案编号", 20), ("姓名", 10), ("性别", 6), ("年龄", 6), ("所属村", 12), ("住址", 30),
               ("联系电话", 14), ("责任医生", 10), ("病种", 10), ("应完成日期", 12), ("逾期天数", 8), ("末次随访", 12))
PEOPLE_COLUMNS = (("档案编号", 20), ("姓名", 10), ("性别", 6), ("年龄", 6), ("所属村", 12), ("住址", 30),
                  ("联系电话", 14), ("责任医生", 10), ("{verdict}", 10), ("未计入原因", 50))
WORK_LIST = register_entity_label("work_list", "工作名单")
TEXT_TITLES = ("档案编号", "联系电话")  # record numbers and phones stay text (no 1.38E+10)


def sex_text(sex: str) -> str:
    """男/女 as printed (the stored code otherwise)."""
    return SEX_LABELS.get(sex, sex)


def _due_row(item: DueItem, on: date) -> tuple:
    age = age_on(item.birth_date, on) if item.birth_date else ""
    return (item.kind.label, item.record_no, item.name, sex_text(item.sex), age, item.village_name, item.address,
            item.phone, item.doctor_name, item.disease.label if item.disease else "", item.due_on,
            item.days_overdue(on) or "", item.last_visit or "")


def people_rows(verdicts: Sequence[PersonVerdict], contacts: Mapping[int, Contact], village_names: Mapping[int, str],
                *, on: date) -> list[tuple]:
    """One row per person of an indicator's list: who, how to reach them, counted or not and why."""
    rows = []
    for v in verdicts:
        c = contacts.get(v.resident_id)
        rows.append((v.record_no, v.name, sex_text(c.sex) if c else "", age_on(c.birth_date, on) if c else "",
                     village_names.get(v.village_id, ""), c.address if c else v.address, c.phone if c else v.phone,
                     c.doctor_name if c else "", "是" if v.counts else "否", v.reason or ""))
    return rows


@dataclass(frozen=True)
class ListExportResult:
    path: Path
    what: str
    rows: int
    changes: Changes = field(default_factory=lambda: Changes(audit=True))

    def message(self) -> str:
        return f"已导出{self.what}（{self.rows} 人）：{self.path}"


def write_list(path: Path, *, sheet: str, columns: Sequence[tuple[str, int]], rows: Sequence[Sequence[object]]) -> None:
    """One sheet: the header, then the rows."""
    text_columns = [index for index, (title, _) in enumerate(columns) if title in TEXT_TITLES]
    writer = SheetWriter(path, sheet=sheet, widths=[w for _, w in columns], rows=len(rows), text_columns=text_columns)
    try:
        writer.write_header([title for title, _ in columns])
        for row in rows:
            writer.write_row(row)
    except BaseException:
        writer.discard()
        raise
    writer.close()


def write_audited(db: Database, actor: Actor, target: Path, *, what: str, columns: Sequence[tuple[str, int]],
                  rows: Sequence[Sequence[object]]) -> ListExportResult:
    """Write the list through a temporary file, audit the export, rename it into place."""
    with refusals_audited(db, actor, f"导出{what}《{target.name}》"):
        require(actor, Permission.EXPORT_FOLLOWUPS)
    temporary = target.with_name(f".{target.stem}.{uuid4().hex[:8]}.part.xlsx")
    try:
        write_list(temporary, sheet=what[:31], columns=columns, rows=rows)
        with db.write() as session:
            audit.record(session, actor, Action.EXPORT, entity_type=WORK_LIST, entity_id=target.name,
                         summary=f"导出{what}《{target.name}》{len(rows)} 人")
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return ListExportResult(target, what, len(rows))


@dataclass
class DueListExport:
    """The due list as a workbook: `DueListExport(db, actor, path, on=..., scope=..., kind=None)(abort=, progress=)`."""

    db: Database
    actor: Actor
    path: Path
    on: date
    scope: DueScope = DueScope.BRANCH
    village_id: int | None = None
    kind: str | None = None  # one kind of due item (DueKind.value), or all

    def __call__(self, *, abort: threading.Event, progress: ProgressFn) -> ListExportResult:
        progress(0.0, "正在整理待办名单……")
        due = due_list(self.db, self.actor, on=self.on, scope=self.scope, village_id=self.village_id, audited=False)
        raise_if_aborted(abort)
        items = [item for item in due.items if self.kind in (None, item.kind.value)]
        result = write_audited(self.db, self.actor, Path(self.path), what=DUE_SHEET, columns=DUE_COLUMNS,
                               rows=[_due_row(item, due.on) for item in items])
        progress(1.0, "导出完成")
        return result


@dataclass
class PeopleListExport:
    """An indicator's people (already computed) as a workbook, with their contacts looked up for the viewer."""

    db: Database
    actor: Actor
    path: Path
    title: str
    verdict_label: str
    verdicts: Sequence[PersonVerdict]
    village_names: Mapping[int, str]

    def __call__(self, *, abort: threading.Event, progress: ProgressFn) -> ListExportResult:
        progress(0.0, "正在整理名单……")
        contacts = lookup_contacts(self.db, self.actor, (v.resident_id for v in self.verdicts))
        raise_if_aborted(abort)
        rows = people_rows(self.verdicts, contacts, self.village_names, on=now().date())
        columns = tuple((title.format(verdict=self.verdict_label), width) for title, width in PEOPLE_COLUMNS)
        result = write_audited(self.db, self.actor, Path(self.path), what=f"{self.title}名单", columns=columns,
                               rows=rows)
        progress(1.0, "导出完成")
        return result


def _due_export_job(db: Database, actor: Actor, out: Path, options: Mapping[str, Any]) -> DueListExport:
    code = options.get("village")
    village_id = village_filter(db, actor, code).village_id if code else None
    on = options.get("on") or now().date()
    scope = DueScope.MY_VILLAGES if actor.is_village_bound else DueScope.BRANCH
    return DueListExport(db, actor, out, on=on, scope=scope, village_id=village_id)


DUE_EXPORT = ExportSpec(kind="due", label="待办名单（应随访、应体检的人和联系方式）", permission=Permission.EXPORT_FOLLOWUPS,
                        job=_due_export_job,
                        options=(VILLAGE_OPTION, ExportOption("on", "以哪天为准，例如 2025-06-30（默认今天）",
                                                              type=parse_date, metavar="YYYY-MM-DD")))
