"""Exporting a year's visits and enrolments, and the indicators workbook: text record numbers, real dates,
percentages, scope, audit, cancel, a round trip through the import, and LibreOffice opening the files."""

from __future__ import annotations

import threading
from datetime import date, datetime
from pathlib import Path

import pytest
from core_support import actor_for, libreoffice_sheets
from openpyxl import load_workbook
from sqlalchemy import func, or_, select

from desktop.app import App
from desktop.errors import Cancelled, PermissionDenied
from desktop.jobs import no_progress
from desktop.models import AuditEntry, ChronicEnrolment, FollowupVisit, Resident, Village
from desktop.services.indicators import DEFINITIONS, indicator_report
from desktop.transfer.followup_export import ENROLMENT_COLUMNS, VISIT_COLUMNS, FollowupExport
from desktop.transfer.followup_import import FollowupImport
from desktop.transfer.indicators_export import IndicatorsExport
from desktop.transfer.resident_import import ImportMode

YEAR = 2025


def export(app: App, username: str, path: Path, *, year: int = YEAR, village_id: int | None = None, **kw):
    job = FollowupExport(app.db, actor_for(app.db, username), path, year=year, village_id=village_id)
    return job(abort=kw.get("abort", threading.Event()), progress=kw.get("progress", no_progress))


def stored_counts(app: App, village_ids: set[int] | None = None) -> tuple[int, int]:
    """(visits in YEAR, enrolments open at some time in YEAR) of residents in these villages (all when None)."""
    start, end = date(YEAR, 1, 1), date(YEAR, 12, 31)
    with app.db.read() as session:
        scope = [Resident.village_id.in_(village_ids)] if village_ids else []
        visits = session.scalar(select(func.count()).select_from(FollowupVisit).join(Resident).where(
            FollowupVisit.visit_date.between(start, end), FollowupVisit.deleted.is_(False), *scope))
        enrolments = session.scalar(select(func.count()).select_from(ChronicEnrolment).join(Resident).where(
            ChronicEnrolment.managed_from <= end, ChronicEnrolment.deleted.is_(False),
            or_(ChronicEnrolment.ended_on.is_(None), ChronicEnrolment.ended_on >= start), *scope))
    return visits, enrolments


def test_a_years_export_has_every_visit_with_text_record_numbers_and_real_dates(demo_app: App, tmp_path: Path) -> None:
    result = export(demo_app, "gongwei1", tmp_path / "visits.xlsx")
    assert (result.visits, result.enrolments) == stored_counts(demo_app) and result.visits > 500
    book = load_workbook(tmp_path / "visits.xlsx")
    assert book.sheetnames == ["随访记录", "管理对象"]
    sheet = book["随访记录"]
    assert [c.value for c in sheet[1]] == [title for title, _ in VISIT_COLUMNS]
    assert sheet.max_row == result.visits + 1
    record, birth, day = sheet["A2"], sheet["D2"], sheet["G2"]
    assert (record.data_type, record.number_format, len(record.value)) == ("s", "@", 17)
    assert isinstance(birth.value, datetime) and birth.is_date and isinstance(day.value, datetime)
    assert date(YEAR, 1, 1) <= day.value.date() <= date(YEAR, 12, 31)
    row = [c.value for c in sheet[2]]
    with demo_app.db.read() as session:
        visit = session.execute(select(FollowupVisit.sbp, FollowupVisit.next_visit_date, Resident.name)
                                .join(Resident).where(Resident.record_no == row[0],
                                                      FollowupVisit.visit_date == day.value.date())).first()
    assert (row[8], row[19].date(), row[1]) == tuple(visit)
    assert {c.value for c in sheet["F"][1:]} <= {"高血压", "2型糖尿病"}
    assert {c.value for c in sheet["H"][1:]} <= {"门诊", "家庭", "电话"}
    enrolments = book["管理对象"]
    assert [c.value for c in enrolments[1]] == [title for title, _ in ENROLMENT_COLUMNS]
    assert enrolments.max_row == result.enrolments + 1 and enrolments["G2"].is_date
    with demo_app.db.read() as session:
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
        assert (entry.action, entry.actor) == ("export", "gongwei1") and f"随访 {result.visits} 次" in entry.summary


def test_a_village_doctor_exports_only_their_villages(demo_app: App, tmp_path: Path) -> None:
    doctor = actor_for(demo_app.db, "cunyi001")
    result = export(demo_app, "cunyi001", tmp_path / "mine.xlsx")
    assert (result.visits, result.enrolments) == stored_counts(demo_app, set(doctor.village_ids))
    with demo_app.db.read() as session:
        names = set(session.scalars(select(Village.name).where(Village.id.in_(doctor.village_ids))))
        liushu = session.scalar(select(Village.id).where(Village.code == "101"))
    sheet = load_workbook(tmp_path / "mine.xlsx", read_only=True)["随访记录"]
    assert {row[4] for row in sheet.iter_rows(min_row=2, values_only=True)} <= names
    one = export(demo_app, "cunyi001", tmp_path / "one.xlsx", village_id=liushu)
    assert (one.visits, one.enrolments) == stored_counts(demo_app, {liushu})


def test_roles_without_the_export_right_are_refused_and_leave_no_file(demo_app: App, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(PermissionDenied):
        export(demo_app, "kaohe1", out / "no.xlsx")
    assert list(out.iterdir()) == []


def test_cancel_leaves_no_file(demo_app: App, tmp_path: Path) -> None:
    abort = threading.Event()
    abort.set()
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(Cancelled):
        export(demo_app, "gongwei1", out / "cancelled.xlsx", abort=abort)
    assert list(out.iterdir()) == []


def test_the_export_imports_back_as_already_there(demo_app: App, tmp_path: Path) -> None:
    result = export(demo_app, "cunyi001", tmp_path / "mine.xlsx", year=YEAR)
    job = FollowupImport(demo_app.db, actor_for(demo_app.db, "luru1"), tmp_path / "mine.xlsx", ImportMode.ALL_OR_NOTHING)
    back = job(abort=threading.Event(), progress=no_progress)
    assert (back.imported, back.unchanged, back.rejected) == (0, result.visits, ())


def test_the_indicators_workbook_lists_figures_and_people_whose_counts_equal_them(
    demo_app: App, tmp_path: Path
) -> None:
    actor = actor_for(demo_app.db, "kaohe1")
    result = IndicatorsExport(demo_app.db, actor, tmp_path / "ind.xlsx", year=YEAR)(
        abort=threading.Event(), progress=no_progress)
    report = indicator_report(demo_app.db, actor, YEAR)
    book = load_workbook(tmp_path / "ind.xlsx")
    with_people = [code for code, d in DEFINITIONS.items() if d.has_people]
    assert book.sheetnames == ["指标汇总", *(DEFINITIONS[code].name for code in with_people)]
    summary = list(book["指标汇总"].iter_rows(min_row=2, values_only=True))
    assert len(summary) == len(report.figures)
    for code, definition in DEFINITIONS.items():
        total = next(row for row in summary if row[1] == definition.name and row[2] == "合计")
        figure = report.branch(code)
        assert total[3:7] == (figure.numerator, figure.denominator, pytest.approx(figure.value), definition.definition)
    assert book["指标汇总"]["F2"].number_format == "0.00%"
    people = 0
    for code in with_people:
        rows = list(book[DEFINITIONS[code].name].iter_rows(values_only=True))
        figure = report.branch(code)
        assert rows[0][3] == ("是否达标" if code.endswith("_control") else "是否计入")
        assert (sum(r[3] == "是" for r in rows[1:]), len(rows) - 1) == (figure.numerator, figure.denominator)
        assert all(r[4] for r in rows[1:] if r[3] == "否") and not any(r[4] for r in rows[1:] if r[3] == "是")
        people += len(rows) - 1
    assert result.people == people
    assert "本年无随访" in {r[4] for r in book[DEFINITIONS["ht_control"].name].iter_rows(values_only=True)}


def test_libreoffice_opens_both_workbooks(demo_app: App, tmp_path: Path) -> None:
    result = export(demo_app, "cunyi001", tmp_path / "visits.xlsx")
    sheets = libreoffice_sheets(tmp_path / "visits.xlsx", tmp_path / "a")
    visits, enrolments = sheets["随访记录"], sheets["管理对象"]
    assert visits[0] == [title for title, _ in VISIT_COLUMNS] and len(visits) == result.visits + 1
    assert all(len(r[0]) == 17 and r[0].isdigit() for r in visits[1:])  # record numbers not rounded
    assert all(r[6].startswith(f"{YEAR}-") for r in visits[1:])  # visit dates shown as dates
    assert len(enrolments) == result.enrolments + 1
    IndicatorsExport(demo_app.db, actor_for(demo_app.db, "yuanzhang"), tmp_path / "ind.xlsx", year=YEAR)(
        abort=threading.Event(), progress=no_progress)
    summary = libreoffice_sheets(tmp_path / "ind.xlsx", tmp_path / "b")["指标汇总"]
    assert summary[0][:6] == ["统计期", "指标", "范围", "分子", "分母", "值"]
    assert all(r[5].endswith("%") for r in summary[1:] if r[5])
