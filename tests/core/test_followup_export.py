"""Exporting a year's visits and enrolments, and the indicators workbook: text record numbers, real dates,
percentages, scope, audit, cancel, a round trip through the import, and LibreOffice opening the files."""

from __future__ import annotations

import threading
from datetime import date, datetime
from pathlib import Path

import pytest
from core_support import actor_for, libreoffice_sheets, person
from openpyxl import load_workbook
from sqlalchemy import func, or_, select

from desktop.app import App
from desktop.errors import Cancelled, PermissionDenied
from desktop.jobs import no_progress
from desktop.models import AuditEntry, ChronicEnrolment, FollowupVisit, Resident, Village
from desktop.rules.followup import Disease
from desktop.rules.visit_checks import VisitInput
from desktop.services.chronic import EnrolmentInput, enrol
from desktop.services.followups import record_visit
from desktop.services.indicators import DEFINITIONS, indicator_report
from desktop.services.residents import create_resident
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


def _visits_of_every_kind(app: App) -> str:
    """A diabetes patient with a fully filled visit, a corrected one and a voided one in YEAR; the record number."""
    clerk, doctor = actor_for(app.db, "luru1"), actor_for(app.db, "gongwei1")
    resident_id = create_resident(app.db, clerk, person("司马秀英", "1956-03-12", sequence=31)).resident_id
    enrol(app.db, doctor, resident_id, EnrolmentInput(Disease.DIABETES, date(2019, 3, 1), date(2019, 4, 1)))
    lifestyle = {"cigarettes_per_day": "10", "cigarettes_per_day_target": "0", "exercise_times_per_week": "3",
                 "exercise_minutes": "30", "exercise_times_per_week_target": "5", "exercise_minutes_target": "40",
                 "staple_grams_per_day": "300", "staple_grams_per_day_target": "250", "mood": "1", "compliance": "2"}
    for month in (3, 6, 9):
        record_visit(app.db, doctor, resident_id, Disease.DIABETES, VisitInput(
            visit_date=date(YEAR, month, 2), method="1", sbp=132, dbp=80, weight=61.5, target_weight=58,
            fasting_glucose=7.0, symptoms=("多饮", "多尿"), foot_pulse="2", foot_pulse_side="左侧", hypoglycemia="偶尔",
            medication_adherence="1", doctor_name="刘晓梅", lifestyle=lifestyle,
            medications=(("二甲双胍片", "3", "0.5g"),), classification="2",  # 7.0 is not below 7.0
            referral_reason="血糖控制不满意", referral_to="县医院内分泌科"))
    with app.db.write() as session:
        march, june, september = session.scalars(select(FollowupVisit).where(
            FollowupVisit.resident_id == resident_id).order_by(FollowupVisit.visit_date)).all()
        march.foot_pulse_side, march.insulin, march.insulin_dose = "左侧", "门冬胰岛素", "每日1次 早餐前8单位"
        march.medication_advice = [{"name": "阿卡波糖片", "dose": "每日3次 每次50mg"}]
        march.referral_reason, march.referral_to, march.referral_result = "血糖控制不满意", "县医院内分泌科", "1"
        march.measurement, march.resident_signed = "1", True
        june.fasting_glucose, june.correction_reason, june.corrected_at = 6.1, "空腹血糖抄错", datetime(YEAR, 6, 5, 9)
        september.deleted, september.void_reason, september.voided_at = True, "重复录入", datetime(YEAR, 9, 3, 10)
        return session.get(Resident, resident_id).record_no


def test_the_export_carries_every_form_field_and_marks_corrections_and_voids(registry_app: App,
                                                                           tmp_path: Path) -> None:
    record_no = _visits_of_every_kind(registry_app)
    result = export(registry_app, "gongwei1", tmp_path / "all.xlsx")
    assert (result.visits, result.voided) == (3, 1) and "含已作废 1 次" in result.message()
    sheet = load_workbook(tmp_path / "all.xlsx")["随访记录"]
    titles = [cell.value for cell in sheet[1]]
    rows = [dict(zip(titles, (cell.value for cell in row), strict=True)) for row in sheet.iter_rows(min_row=2)]
    assert [row["档案编号"] for row in rows] == [record_no] * 3
    march, june, september = rows
    expected = {"测量方式": "医生测量", "症状": "多饮、多尿", "足背动脉搏动": "减弱（左侧）", "日吸烟量（支）现/目标": "10/0",
                "运动 现/目标": "3次/周 30分钟/次/5次/周 40分钟/次", "主食（克/天）现/目标": "300/250", "心理调整": "良好",
                "遵医行为": "一般", "低血糖反应": "偶尔", "药物不良反应": "无", "用药情况": "二甲双胍片 每日3次 每次0.5g",
                "胰岛素种类": "门冬胰岛素", "胰岛素用法和用量": "每日1次 早餐前8单位", "用药调整意见": "阿卡波糖片 每日3次 每次50mg",
                "转诊原因": "血糖控制不满意", "转诊机构及科别": "县医院内分泌科", "转诊结果": "到位", "居民签名": "已签",
                "记录状态": "有效", "目标体重": 58, "空腹血糖": 7}
    assert {title: march[title] for title in expected} == expected
    assert (june["记录状态"], june["更正原因"], june["空腹血糖"]) == ("已更正", "空腹血糖抄错", 6.1)
    assert june["更正时间"] == f"{YEAR}-06-05 09:00"
    assert (september["记录状态"], september["作废原因"]) == ("已作废", "重复录入")
    assert september["作废时间"] == f"{YEAR}-09-03 10:00" and march["作废原因"] is None
    sheets = libreoffice_sheets(tmp_path / "all.xlsx", tmp_path / "lo")
    shown = sheets["随访记录"]
    assert shown[0] == titles and len(shown) == 4
    by_title = [dict(zip(shown[0], row, strict=True)) for row in shown[1:]]
    assert [row["记录状态"] for row in by_title] == ["有效", "已更正", "已作废"]
    assert by_title[2]["作废原因"] == "重复录入" and by_title[1]["更正时间"].startswith(f"{YEAR}-06-05")
    assert by_title[0]["用药调整意见"] == "阿卡波糖片 每日3次 每次50mg"
    back = FollowupImport(registry_app.db, actor_for(registry_app.db, "luru1"), tmp_path / "all.xlsx",
                          ImportMode.ALL_OR_NOTHING)(abort=threading.Event(), progress=no_progress)
    assert (back.imported, back.unchanged, back.voided, back.rejected) == (0, 2, 1, ())
    assert "已作废未导入 1 行" in back.message()


def test_an_export_imports_into_an_emptied_year_with_every_row_through_the_checks(demo_app: App,
                                                                                   tmp_path: Path) -> None:
    """What the export writes (足背动脉 with its side, 转诊结果, 新发并发症 …) is what the import reads back."""
    from sqlalchemy import delete

    doctor = actor_for(demo_app.db, "cunyi001")
    result = export(demo_app, "cunyi001", tmp_path / "mine.xlsx", year=YEAR)
    compared = (FollowupVisit.resident_id, FollowupVisit.visit_date, FollowupVisit.method, FollowupVisit.foot_pulse,
                FollowupVisit.foot_pulse_side, FollowupVisit.referral_result, FollowupVisit.new_complication,
                FollowupVisit.classification, FollowupVisit.measurement)
    theirs = select(Resident.id).where(Resident.village_id.in_(doctor.village_ids))
    in_year = (FollowupVisit.resident_id.in_(theirs), FollowupVisit.visit_date.between(date(YEAR, 1, 1),
                                                                                       date(YEAR, 12, 31)))
    with demo_app.db.write() as session:
        rows = session.execute(select(*compared).where(FollowupVisit.deleted.is_(False), *in_year)).all()
        before = sorted(map(repr, rows))
        session.execute(delete(FollowupVisit).where(*in_year))
    assert any(row.foot_pulse_side for row in rows) and any(row.referral_result == "2" for row in rows)
    back = FollowupImport(demo_app.db, actor_for(demo_app.db, "luru1"), tmp_path / "mine.xlsx",
                          ImportMode.ALL_OR_NOTHING)(abort=threading.Event(), progress=no_progress)
    assert (back.imported, back.rejected) == (result.visits, ())
    with demo_app.db.read() as session:
        after = sorted(map(repr, session.execute(select(*compared).where(*in_year))))
    assert after == before
