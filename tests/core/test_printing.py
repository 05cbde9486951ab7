"""Printed forms checked with poppler, a reader nobody here wrote: fonts embedded, text readable, pages rendered."""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
from datetime import date, datetime
from pathlib import Path

import pytest
from core_support import actor_for, person
from sqlalchemy import func, select

from desktop.app import App
from desktop.errors import PermissionDenied, UserFacingError, ValidationError
from desktop.models import Account, AuditEntry, FollowupVisit, HealthCheck, Resident
from desktop.printing.catalogue import print_form, registered_forms
from desktop.printing.draw import MARGIN, TEAR_LABEL, Cell, stub_layout, write
from desktop.printing.pdf import render_pdf
from desktop.printing.self_care_form import _columns
from desktop.printing.service import followup_sheets_pdf, self_care_pdf
from desktop.printing.sheet import Line, PrintedPdf, Sheet
from desktop.rules.elderly import SELF_CARE_ITEMS, Dependence
from desktop.rules.followup import Disease
from desktop.rules.visit_checks import VisitInput
from desktop.services.chronic import EnrolmentInput, enrol
from desktop.services.followups import record_visit
from desktop.services.health_checks import HealthCheckInput, record_health_check
from desktop.services.residents import create_resident

REQUIRE_TOOLS = os.environ.get("TOWNSHIP_DESK_REQUIRE_TOOLS") == "1"
YEAR = 2025
DATE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")


def tool(name: str) -> str:
    """The poppler program, or skip (fail where the tools are required)."""
    path = shutil.which(name)
    if path is None:
        if REQUIRE_TOOLS:
            pytest.fail(f"{name} (poppler-utils) is required here but is not installed")
        pytest.skip(f"{name} (poppler-utils) is not installed")
    return path


def run(*args: object) -> str:
    completed = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=60, check=False)
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def saved(pdf: bytes, folder: Path, name: str) -> Path:
    path = folder / name
    path.write_bytes(pdf)
    return path


def page_texts(path: Path) -> list[str]:
    """pdftotext -layout, one string per page."""
    pages = run(tool("pdftotext"), "-layout", path, "-").split("\f")
    return [page for page in pages if page.strip()]


def row_values(page: str, label: str, pattern: re.Pattern[str]) -> list[str]:
    """What the row starting with `label` shows across the visit columns."""
    lines = [line.strip() for line in page.splitlines() if line.strip().startswith(label)]
    assert len(lines) == 1, (label, lines)
    return pattern.findall(lines[0].removeprefix(label))


def busiest(app: App, disease: Disease) -> tuple[str, str, list[tuple[date, int | None, int | None]]]:
    """(record number, name, [(date, SBP, DBP)] in YEAR) of the demo patient with the most visits that year."""
    in_year = FollowupVisit.visit_date.between(date(YEAR, 1, 1), date(YEAR, 12, 31))
    with app.db.read() as session:
        resident_id = session.scalar(
            select(FollowupVisit.resident_id).where(in_year, FollowupVisit.disease == disease.value)
            .group_by(FollowupVisit.resident_id).order_by(func.count().desc(), FollowupVisit.resident_id).limit(1))
        resident = session.get(Resident, resident_id)
        visits = session.execute(select(FollowupVisit.visit_date, FollowupVisit.sbp, FollowupVisit.dbp).where(
            in_year, FollowupVisit.resident_id == resident_id, FollowupVisit.disease == disease.value)
            .order_by(FollowupVisit.visit_date)).all()
        return resident.record_no, resident.name, [tuple(v) for v in visits]


@pytest.mark.parametrize("disease", [Disease.HYPERTENSION, Disease.DIABETES])
def test_followup_pdf_reads_back_four_visits_a_page_in_date_order(demo_app: App, tmp_path: Path,
                                                                  disease: Disease) -> None:
    record_no, name, visits = busiest(demo_app, disease)
    assert len(visits) > 4
    pdf = followup_sheets_pdf(demo_app.db, actor_for(demo_app.db, "gongwei1"), record_no, disease, YEAR)
    path = saved(pdf, tmp_path, "followup.pdf")
    pages = page_texts(path)
    assert len(pages) == pdf.page_count == math.ceil(len(visits) / 4)
    title = "高血压患者随访服务记录表" if disease is Disease.HYPERTENSION else "2型糖尿病患者随访服务记录表"
    printed_dates, printed_bp = [], []
    for number, page in enumerate(pages):
        compact = re.sub(r"\s+", "", page)
        assert title in compact and f"姓名：{name}" in compact and f"编号{record_no[-8:]}" in compact
        dates = [date(*map(int, found)) for found in row_values(page, "随访日期", DATE)]
        assert dates == [day for day, _, _ in visits[number * 4:number * 4 + 4]]
        printed_dates += dates
        printed_bp += row_values(page, "血压（mmHg）", re.compile(r"\d+/\d+"))
        assert f"第{number + 1}页，共{len(pages)}页" in compact
    assert printed_dates == sorted(printed_dates)
    assert printed_bp == [f"{sbp}/{dbp}" for _, sbp, dbp in visits if sbp is not None]


def test_followup_pdf_embeds_the_cjk_font_and_renders(demo_app: App, tmp_path: Path) -> None:
    record_no, _, _ = busiest(demo_app, Disease.HYPERTENSION)
    pdf = followup_sheets_pdf(demo_app.db, actor_for(demo_app.db, "gongwei1"), record_no, "hypertension", YEAR)
    path = saved(pdf, tmp_path, "followup.pdf")
    fonts = run(tool("pdffonts"), path).splitlines()[2:]
    assert fonts and all("WenQuanYiMicroHei" in line and " yes yes yes " in line for line in fonts), fonts
    run(tool("pdftoppm"), "-r", "50", "-gray", path, tmp_path / "page")
    pictures = sorted(tmp_path.glob("page-*.pgm"))
    assert len(pictures) == pdf.page_count
    width, height, pixels = read_pgm(pictures[0])
    assert abs(width - 413) <= 1 and abs(height - 585) <= 1  # A4 (210 x 297 mm) at 50 dpi
    dark = sum(1 for value in pixels if value < 128)
    assert 0.02 < dark / len(pixels) < 0.5  # a ruled, written form: neither blank nor black


def read_pgm(path: Path) -> tuple[int, int, bytes]:
    """A binary PGM (P5) picture: width, height and the grey values."""
    data = path.read_bytes()
    magic, width, height, top, rest = data.split(maxsplit=4)
    assert magic == b"P5" and top == b"255"
    return int(width), int(height), rest[: int(width) * int(height)]


def _filled_patient(app: App) -> tuple[str, int]:
    """A hypertension patient with six fully filled visits in YEAR; (record number, resident id)."""
    clerk, doctor = actor_for(app.db, "luru1"), actor_for(app.db, "gongwei1")
    resident_id = create_resident(app.db, clerk, person("欧阳秀兰", "1950-06-15", sequence=22)).resident_id
    enrol(app.db, doctor, resident_id, EnrolmentInput(Disease.HYPERTENSION, date(2019, 3, 1), date(2019, 4, 1)))
    lifestyle = {"cigarettes_per_day": "10", "cigarettes_per_day_target": "0", "alcohol_liang_per_day": "2",
                 "alcohol_liang_per_day_target": "1", "exercise_times_per_week": "3", "exercise_minutes": "30",
                 "exercise_times_per_week_target": "5", "exercise_minutes_target": "40", "salt": "重",
                 "salt_target": "轻", "mood": "1", "compliance": "2"}
    for month, sbp in ((11, 136), (2, 128), (8, 142), (5, 132), (9, 138), (12, 130)):
        record_visit(app.db, doctor, resident_id, Disease.HYPERTENSION, VisitInput(
            visit_date=date(YEAR, month, 10), method="1", sbp=sbp, dbp=82, weight=70, target_weight=65, height=160,
            heart_rate=72, symptoms=("2", "4"), medication_adherence="1", doctor_name="刘晓梅", lifestyle=lifestyle,
            classification="1",
            medications=(("硝苯地平缓释片", "2", "10mg"), ("氢氯噻嗪片", "1", "12.5mg"))))
    with app.db.read() as session:
        return session.get(Resident, resident_id).record_no, resident_id


def test_a_filled_visit_prints_every_part_of_the_form(registry_app: App, tmp_path: Path) -> None:
    record_no, _ = _filled_patient(registry_app)
    pdf = followup_sheets_pdf(registry_app.db, actor_for(registry_app.db, "gongwei1"), record_no,
                              Disease.HYPERTENSION, YEAR)
    pages = page_texts(saved(pdf, tmp_path, "filled.pdf"))
    assert len(pages) == 2
    assert [d[1] for d in row_values(pages[0], "随访日期", DATE)] == ["2", "5", "8", "9"]
    assert [d[1] for d in row_values(pages[1], "随访日期", DATE)] == ["11", "12"]
    assert row_values(pages[1], "下次随访日期", DATE) == [("2026", "2", "10"), ("2026", "3", "10")]
    compact = re.sub(r"\s+", "", pages[0])
    for expected in ("128/82", "70/65", "27.3/25.4", "10/0", "2/1", "3次/周30分钟/次", "5次/周40分钟/次", "重/轻",
                     "硝苯地平缓释片", "每日2次每次10mg", "氢氯噻嗪片", "每日1次每次12.5mg"):
        assert expected in compact, expected
    assert "刘晓梅" not in compact  # the doctor signs by hand: the name is not printed on the signature line
    assert "随访医生签名" in compact and "居民签名" in compact
    assert row_values(pages[0], "心率（次/分钟）", re.compile(r"\d+")) == ["72"] * 4


def test_a_diabetes_visit_prints_glucose_hba1c_hypoglycaemia_foot_pulse_and_insulin(registry_app: App,
                                                                                       tmp_path: Path) -> None:
    db, doctor = registry_app.db, actor_for(registry_app.db, "gongwei1")
    resident_id = create_resident(db, actor_for(db, "luru1"), person("单秀英", "1958-02-20", sequence=24)).resident_id
    enrol(db, doctor, resident_id, EnrolmentInput(Disease.DIABETES, date(2020, 5, 1), date(2020, 5, 10)))
    record_visit(db, doctor, resident_id, Disease.DIABETES, VisitInput(
        visit_date=date(YEAR, 3, 2), method="2", sbp=132, dbp=80, weight=61.5, target_weight=58, fasting_glucose=6.2,
        hba1c=6.8, hba1c_date=date(YEAR, 2, 26), hypoglycemia="偶尔", foot_pulse="2", foot_pulse_side="左侧",
        symptoms=("多饮", "多尿"), medication_adherence="2", doctor_name="刘晓梅", classification="1", lifestyle={"staple_grams_per_day": "300",
                                                                 "staple_grams_per_day_target": "250"},
        medications=(("二甲双胍片", "3", "0.5g"),)))
    with db.write() as session:
        visit = session.scalars(select(FollowupVisit).where(FollowupVisit.resident_id == resident_id)).one()
        visit.insulin = "门冬胰岛素；每日 1 次 早餐前 8 单位"
        record_no = session.get(Resident, resident_id).record_no
    pdf = followup_sheets_pdf(db, doctor, record_no, Disease.DIABETES, YEAR)
    (page,) = page_texts(saved(pdf, tmp_path, "diabetes.pdf"))
    compact = re.sub(r"\s+", "", page)
    for expected in ("2型糖尿病患者随访服务记录表", "姓名：单秀英", "糖化血红蛋白6.8%", "检查日期：2月26日", "侧别：左侧",
                     "300/250", "二甲双胍片", "每日3次每次0.5g", "门冬胰岛素", "每日1次早餐前8单位"):
        assert expected in compact, expected
    assert row_values(page, "空腹血糖值", re.compile(r"\d+\.\d")) == ["6.2"]
    assert row_values(page, "低血糖反应", re.compile(r"3频繁\s+(\d)(?=\s|$)")) == ["2"]
    assert row_values(page, "随访方式", re.compile(r"3电话\s+(\d)(?=\s|$)")) == ["2"]
    assert row_values(page, "服药依从性", re.compile(r"3不服药\s+(\d)(?=\s|$)")) == ["2"]


def test_the_national_form_s_newer_fields_print_and_glucose_keeps_one_decimal(registry_app: App,
                                                                             tmp_path: Path) -> None:
    db, doctor = registry_app.db, actor_for(registry_app.db, "gongwei1")
    resident_id = create_resident(db, actor_for(db, "luru1"), person("上官秀英", "1957-04-20", sequence=26)).resident_id
    enrol(db, doctor, resident_id, EnrolmentInput(Disease.DIABETES, date(2020, 5, 1), date(2020, 5, 10)))
    for month, glucose, classification in ((3, 7.0, "2"), (6, 6.5, "1"), (9, 8.2, "2")):
        record_visit(db, doctor, resident_id, Disease.DIABETES, VisitInput(
            visit_date=date(YEAR, month, 2), method="1", sbp=132, dbp=80, fasting_glucose=glucose, hba1c=7,
            hba1c_date=date(YEAR, month, 1), medication_adherence="1", doctor_name="刘晓梅",
            classification=classification))
    with db.write() as session:
        march, june, september = session.scalars(select(FollowupVisit).where(
            FollowupVisit.resident_id == resident_id).order_by(FollowupVisit.visit_date)).all()
        march.insulin, march.insulin_dose = "门冬胰岛素", "每日 1 次 早餐前 8 单位"
        march.medication_advice = [{"name": "阿卡波糖片", "dose": "每日3次 每次50mg"}]
        march.referral_reason, march.referral_to = "血糖控制不满意", "县医院内分泌科"
        march.referral_contact, march.referral_result = "王医生 13800001234", "1"
        june.method, june.measurement, june.sbp, june.dbp = "3", "2", 126, 78  # the patient's own reading
        june.fasting_glucose = 5.9
        june.correction_reason = "空腹血糖抄错"
        september.deleted, september.voided_at, september.void_reason = True, datetime(YEAR, 9, 3), "重复录入"
        record_no = session.get(Resident, resident_id).record_no
    pdf = print_form(db, doctor, "followup", record_no, disease="diabetes", year=YEAR)
    with db.read() as session:
        summary = session.scalars(select(AuditEntry.summary).order_by(AuditEntry.seq.desc()).limit(1)).one()
    assert "2 次随访，已作废 1 次不打印" in summary
    (page,) = page_texts(saved(pdf, tmp_path, "newer.pdf"))
    assert row_values(page, "空腹血糖值", re.compile(r"\d+\.\d")) == ["7.0", "5.9"]  # the corrected value
    compact = re.sub(r"\s+", "", page)
    for expected in ("糖化血红蛋白7.0%", "126/78（居民自测）", "门冬胰岛素", "每日1次早餐前8单位", "阿卡波糖片每日3次每次50mg",
                     "血糖控制不满意", "县医院内分泌科", "王医生13800001234", "1到位2不到位", "另有已作废随访1次，不打印"):
        assert expected in compact, expected
    assert "刘晓梅" not in compact and "8.2" not in compact


def test_a_voided_visit_is_refused_for_printing(registry_app: App) -> None:
    from desktop.printing.followup_print import visit_record

    voided = FollowupVisit(visit_date=date(YEAR, 9, 2), method="1", doctor_name="刘晓梅", deleted=True,
                           voided_at=datetime(YEAR, 9, 3), void_reason="重复录入")
    with pytest.raises(UserFacingError, match=f"{YEAR}-09-02 的随访已作废（重复录入），不能打印"):
        visit_record(voided)


def test_a_year_without_visits_prints_one_blank_form(registry_app: App, tmp_path: Path) -> None:
    record_no, _ = _filled_patient(registry_app)
    pdf = followup_sheets_pdf(registry_app.db, actor_for(registry_app.db, "gongwei1"), record_no, "hypertension", 2023)
    pages = page_texts(saved(pdf, tmp_path, "blank.pdf"))
    assert len(pages) == 1 and DATE.search(pages[0]) is None
    assert "1门诊 2家庭 3电话" in pages[0]


def test_printing_is_audited_and_scoped_like_viewing(registry_app: App) -> None:
    record_no, _ = _filled_patient(registry_app)  # village 101
    db = registry_app.db
    followup_sheets_pdf(db, actor_for(db, "cunyi001"), record_no, Disease.HYPERTENSION, YEAR)
    with db.read() as session:
        seq, action, actor, summary = session.execute(
            select(AuditEntry.seq, AuditEntry.action, AuditEntry.actor, AuditEntry.summary)
            .order_by(AuditEntry.seq.desc()).limit(1)).one()
    assert (action, actor) == ("print", "cunyi001")
    assert "欧阳秀兰" in summary and "2025 年" in summary and "2 页" in summary
    with pytest.raises(PermissionDenied):
        followup_sheets_pdf(db, actor_for(db, "cunyi102"), record_no, Disease.HYPERTENSION, YEAR)
    with pytest.raises(PermissionDenied):
        followup_sheets_pdf(db, actor_for(db, "admin"), record_no, Disease.HYPERTENSION, YEAR)
    with db.read() as session:  # no print, but each refusal is audited with who and what
        refusals = session.execute(select(AuditEntry.action, AuditEntry.actor, AuditEntry.summary)
                                   .where(AuditEntry.seq > seq).order_by(AuditEntry.seq)).all()
    assert [(action, actor) for action, actor, _ in refusals] == [("refused", "cunyi102"), ("refused", "admin")]
    assert all(record_no in summary and "被拒绝" in summary for _, _, summary in refusals)


def test_bad_requests_are_named(registry_app: App) -> None:
    record_no, _ = _filled_patient(registry_app)
    db, doctor = registry_app.db, actor_for(registry_app.db, "gongwei1")
    with pytest.raises(UserFacingError, match="未纳入2型糖尿病管理"):
        followup_sheets_pdf(db, doctor, record_no, Disease.DIABETES, YEAR)
    with pytest.raises(ValidationError) as caught:
        followup_sheets_pdf(db, doctor, "12345", Disease.HYPERTENSION, YEAR)
    assert "17 位数字" in caught.value.errors["record_no"]
    with pytest.raises(UserFacingError, match="没有档案编号为"):
        followup_sheets_pdf(db, doctor, "9" * 17, Disease.HYPERTENSION, YEAR)
    with pytest.raises(ValidationError) as caught:
        followup_sheets_pdf(db, doctor, record_no, Disease.HYPERTENSION, 25)
    assert "年度" in caught.value.errors["year"]
    dashed = f"{record_no[:9]} {record_no[9:12]}-{record_no[12:]}"
    assert followup_sheets_pdf(db, doctor, dashed, Disease.HYPERTENSION, YEAR).page_count == 2


def test_self_care_sheet_ticks_each_level_and_reads_back(registry_app: App, tmp_path: Path) -> None:
    _, resident_id = _filled_patient(registry_app)
    answers = {"eating": Dependence.INDEPENDENT, "grooming": Dependence.MILD, "dressing": Dependence.MODERATE,
               "toileting": Dependence.MILD, "activity": Dependence.UNABLE}  # 0 + 1 + 3 + 1 + 10 = 15
    db = registry_app.db
    record_health_check(db, actor_for(db, "gongwei1"), resident_id, HealthCheckInput(
        check_date=date(YEAR, 4, 2), doctor_name="刘晓梅", sbp=130, dbp=80, self_care=answers,
        evaluation_abnormal=False))
    with db.read() as session:
        check_id = session.scalar(select(HealthCheck.id).where(HealthCheck.resident_id == resident_id))
    pdf = self_care_pdf(db, actor_for(db, "cunyi001"), check_id)
    path = saved(pdf, tmp_path, "self-care.pdf")
    compact = re.sub(r"\s+", "", run(tool("pdftotext"), path, "-"))
    for expected in ("老年人生活自理能力评估表", "姓名：欧阳秀兰", "总评分", "15分", "评估日期：2025年4月2日",
                     "评估医生签名：刘晓梅", "（5）活动：站立、室内行走", "独立完成所有活动"):
        assert expected in compact, expected
    assert " yes yes yes " in run(tool("pdffonts"), path)
    assert ticked_columns(pdf) == [0, 1, 2, 1, 3, 2]  # five items, then the result: 中度依赖 (9-18)


def ticked_columns(pdf: PrintedPdf) -> list[int]:
    """For each drawn tick, top to bottom, which level column (0-3) it sits in."""
    (sheet,) = pdf.sheets
    edges = _columns(sheet)
    ticks = sorted({(op.y1, op.x1) for op in sheet.ops if isinstance(op, Line) and op.width == 0.35
                    and op.y2 > op.y1})
    return [next(i for i in range(4) if edges[1 + i] <= x < edges[2 + i]) for _, x in ticks]


def test_self_care_needs_an_assessment_and_scope(demo_app: App) -> None:
    db = demo_app.db
    with db.read() as session:
        young = session.scalar(select(HealthCheck.id).where(HealthCheck.self_care_total.is_(None)).limit(1))
        elderly, village = session.execute(
            select(HealthCheck.id, Resident.village_id).join(Resident, Resident.id == HealthCheck.resident_id)
            .where(HealthCheck.self_care_total.is_not(None)).limit(1)).one()
    with pytest.raises(UserFacingError, match="没有生活自理能力评估"):
        self_care_pdf(db, actor_for(db, "gongwei1"), young)
    assert self_care_pdf(db, actor_for(db, "gongwei1"), elderly).page_count == 1
    with db.read() as session:
        doctors = session.scalars(select(Account.username).where(Account.username.like("cunyi%"))).all()
    outsider = next(name for name in doctors if village not in actor_for(db, name).village_ids)
    with pytest.raises(PermissionDenied):
        self_care_pdf(db, actor_for(db, outsider), elderly)
    assert set(SELF_CARE_ITEMS) == {"eating", "grooming", "dressing", "toileting", "activity"}


def test_every_registered_form_prints_from_the_demo_with_the_font_embedded(demo_app: App, tmp_path: Path) -> None:
    forms = registered_forms()
    assert {"followup", "self-care"} <= {form.key for form in forms}
    doctor = actor_for(demo_app.db, "gongwei1")
    with demo_app.db.read() as session:
        before = session.scalar(select(func.count()).where(AuditEntry.action == "print"))
    for form in forms:
        assert form.label and form.key_help and form.example is not None, form.key
        with demo_app.db.read() as session:
            example = form.example(session)
        assert example is not None, form.key
        key, options = example
        pdf = print_form(demo_app.db, doctor, form.key, key, **options)
        path = saved(pdf, tmp_path, f"{form.key}.pdf")
        fonts = run(tool("pdffonts"), path).splitlines()[2:]
        assert fonts and all("WenQuanYiMicroHei" in line and " yes yes yes " in line for line in fonts), form.key
        assert len(page_texts(path)) == pdf.page_count >= 1
    with demo_app.db.read() as session:
        entries = session.execute(select(AuditEntry.entity_type, AuditEntry.summary)
                                  .where(AuditEntry.action == "print").order_by(AuditEntry.seq)).all()
    assert len(entries) == before + len(forms) and all(summary.startswith("打印") for _, summary in entries)


def test_the_self_care_form_is_found_by_record_number_and_day(registry_app: App) -> None:
    record_no, resident_id = _filled_patient(registry_app)
    db, doctor = registry_app.db, actor_for(registry_app.db, "gongwei1")
    with pytest.raises(UserFacingError, match="都没有生活自理能力评估"):
        print_form(db, doctor, "self-care", record_no)
    answers = dict.fromkeys(SELF_CARE_ITEMS, Dependence.INDEPENDENT)
    for month in (3, 9):
        record_health_check(db, doctor, resident_id, HealthCheckInput(
            check_date=date(YEAR, month, 2), doctor_name="刘晓梅", sbp=130, dbp=80, self_care=answers,
            evaluation_abnormal=False))
    latest = print_form(db, doctor, "self-care", record_no)
    assert any("2025年9月2日" in text for text in latest.sheets[0].texts())
    march = print_form(db, doctor, "self-care", record_no, date="2025-03-02")
    assert any("2025年3月2日" in text for text in march.sheets[0].texts())
    with pytest.raises(UserFacingError, match="没有 2025-05-02 的体检记录"):
        print_form(db, doctor, "self-care", record_no, date=date(YEAR, 5, 2))
    with pytest.raises(ValidationError) as caught:
        print_form(db, doctor, "self-care", record_no, date="五月")
    assert "体检日期" in caught.value.errors["date"]
    with pytest.raises(UserFacingError, match="没有名为“referral”的表单"):
        print_form(db, doctor, "referral", record_no)


def test_a_stub_and_tear_line_page_reads_back_both_parts_and_renders(tmp_path: Path) -> None:
    sheet = Sheet()
    stub, main = stub_layout(sheet, stub_height=80)
    assert stub.bottom < MARGIN + 80 < main.y and main.bottom <= sheet.height - MARGIN
    write(sheet, Cell(stub.x, stub.y, stub.w, 10), "转出存根", 14)
    write(sheet, Cell(stub.x, stub.y + 14, stub.w, 8), "患者姓名：欧阳秀兰　转入单位：青山县人民医院", 10, align="left")
    write(sheet, Cell(main.x, main.y, main.w, 10), "双向转诊（转出）单", 14)
    write(sheet, Cell(main.x, main.y + 14, main.w, 8), "现有患者欧阳秀兰因病情需要，需转入贵单位，请予以接诊。", 10,
          align="left")
    dashed = [op for op in sheet.ops if isinstance(op, Line) and op.dash]
    assert len(dashed) == 2 and {op.y1 for op in dashed} == {MARGIN + 80}
    pdf = render_pdf([sheet], "双向转诊单")
    path = saved(pdf, tmp_path, "slip.pdf")
    (page,) = page_texts(path)
    compact = [re.sub(r"\s+", "", line) for line in page.splitlines() if line.strip()]
    order = [next(i for i, line in enumerate(compact) if text in line)
             for text in ("转出存根", "转入单位：青山县人民医院", TEAR_LABEL, "双向转诊（转出）单", "请予以接诊")]
    assert order == sorted(order)
    assert " yes yes yes " in run(tool("pdffonts"), path)
    run(tool("pdftoppm"), "-r", "100", "-gray", path, tmp_path / "slip")
    width, height, pixels = read_pgm(tmp_path / "slip-1.pgm")
    row = round((MARGIN + 80) / 25.4 * 100)
    line = min((pixels[(row + d) * width:(row + d + 1) * width] for d in (-1, 0, 1)), key=lambda r: sum(r))
    left = round(MARGIN / 25.4 * 100) + 2
    dark = [value < 160 for value in line[left:width // 3]]
    runs = sum(1 for a, b in zip(dark, dark[1:], strict=False) if a and not b)
    assert runs >= 10  # dashes, not one solid stroke and not nothing
