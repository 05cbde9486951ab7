"""Importing historical follow-up visits: ugly sheets, every bad row by row and column, re-import, modes, template."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from core_support import actor_for
from openpyxl import Workbook, load_workbook
from roster_support import full_width
from sqlalchemy import func, select
from visit_sheet_support import COLUMN, FIRST_DATA_ROW, add_patients, visit, write_visits

from desktop.app import App
from desktop.clock import now
from desktop.errors import Cancelled, PermissionDenied, UserFacingError
from desktop.jobs import no_progress
from desktop.models import AuditEntry, ChronicEnrolment, FollowupVisit, ResidentCondition
from desktop.transfer.followup_import import READ_SHARE, FollowupImport
from desktop.transfer.followup_template import COLUMNS as TEMPLATE_COLUMNS
from desktop.transfer.followup_template import followup_template
from desktop.transfer.resident_import import ImportMode, write_error_workbook


@pytest.fixture
def patients(registry_app: App) -> dict[str, tuple[int, str, str]]:
    return add_patients(registry_app)


@pytest.fixture
def clerk(registry_app: App):
    return actor_for(registry_app.db, "luru1")


def run(app: App, actor, path: Path, mode: ImportMode = ImportMode.VALID_ONLY, *, dry_run: bool = False,
        abort: threading.Event | None = None, progress=no_progress):
    return FollowupImport(app.db, actor, path, mode, dry_run=dry_run)(abort=abort or threading.Event(),
                                                                      progress=progress)


def visits(app: App) -> list[tuple]:
    """(resident id, disease, date, method, sbp, dbp, glucose, classification, suggested, next step, next date)."""
    with app.db.read() as session:
        return [tuple(row) for row in session.execute(
            select(FollowupVisit.resident_id, FollowupVisit.disease, FollowupVisit.visit_date, FollowupVisit.method,
                   FollowupVisit.sbp, FollowupVisit.dbp, FollowupVisit.fasting_glucose, FollowupVisit.classification,
                   FollowupVisit.suggested_classification, FollowupVisit.next_step, FollowupVisit.next_visit_date)
            .order_by(FollowupVisit.resident_id, FollowupVisit.visit_date, FollowupVisit.method))]


def table_counts(app: App) -> tuple[int, ...]:
    with app.db.read() as session:
        return tuple(session.scalar(select(func.count()).select_from(model)) or 0
                     for model in (FollowupVisit, ChronicEnrolment, ResidentCondition, AuditEntry))


def good_rows(patients) -> list[tuple]:
    """Eight acceptable rows in many shapes, one patient's rows out of date order."""
    _, wang_id, wang_no = patients["王建国"]
    _, li_id, li_no = patients["李秀兰"]
    return [
        visit(1, "'" + wang_id, "高血压", "2025.3.2", "门诊随访", 132, 84, name="王建国"),
        visit(2, full_width(wang_id), "高血压患者", datetime(2025, 6, 3), "家访", "１３６", "８６"),
        visit(3, None, "高血压", 20250105, "3", None, None, record_no=wang_no),  # a phone visit, no BP
        visit(4, wang_id.lower(), "高血压", 45901, "1", 128, 80),  # an Excel serial: 2025-09-01
        visit(5, li_id, "2型糖尿病", "2025年2月10日", "门诊", 130, 80, glucose=6.5, name="李秀兰"),
        visit(6, li_id, "糖尿病", "2025-05-12 00:00:00", "家庭", 126, 78, glucose="7.8"),
        visit(7, None, "糖尿病", "2025/8/20", "门诊", 124, 76, glucose=8.1, record_no=" '" + li_no),
        visit(8, li_id, "糖尿病", "2025-11-03", "电话", None, None, record_no=li_no),
    ]


def test_an_ugly_sheet_imports_every_shape_of_good_row(registry_app: App, patients, clerk, tmp_path: Path) -> None:
    path = write_visits(tmp_path / "v.xlsx", good_rows(patients), blank_after=(1, 4))
    result = run(registry_app, clerk, path)
    assert result.rejected == ()
    assert (result.imported, result.unchanged, result.enrolled, result.written) == (8, 0, 0, True)
    assert result.summary_line() == "imported 8, updated 0, rejected 0"
    wang, li = patients["王建国"][0], patients["李秀兰"][0]
    stored = visits(registry_app)
    assert [(r[0], r[2], r[3], r[4], r[5]) for r in stored if r[0] == wang] == [
        (wang, date(2025, 1, 5), "3", None, None), (wang, date(2025, 3, 2), "1", 132, 84),
        (wang, date(2025, 6, 3), "2", 136, 86), (wang, date(2025, 9, 1), "1", 128, 80)]
    assert [(r[2], r[6]) for r in stored if r[0] == li] == [
        (date(2025, 2, 10), 6.5), (date(2025, 5, 12), 7.8), (date(2025, 8, 20), 8.1), (date(2025, 11, 3), None)]
    # the rules' suggestion, step and next date beside a classification the sheet left empty
    assert stored[1][7:] == (None, "1", "1", date(2025, 6, 2))
    assert next(r for r in stored if r[2] == date(2025, 5, 12))[7:] == (None, "2", "2", date(2025, 5, 26))


def test_visits_are_checked_in_date_order_so_the_previous_classification_is_right(
    registry_app: App, patients, clerk, tmp_path: Path
) -> None:
    _, wang_id, _ = patients["王建国"]
    rows = [visit(1, wang_id, "高血压", "2025-03-15", sbp=162, dbp=96),  # the second uncontrolled visit
            visit(2, wang_id, "高血压", "2025-03-01", sbp=158, dbp=92)]  # the first, listed after it
    result = run(registry_app, clerk, write_visits(tmp_path / "v.xlsx", rows))
    assert (result.imported, result.rejected) == (2, ())
    steps = [(r[2], r[8], r[9], r[10]) for r in visits(registry_app)]
    assert steps == [(date(2025, 3, 1), "2", "2", date(2025, 3, 15)),  # recheck in two weeks
                     (date(2025, 3, 15), "2", "3", date(2025, 3, 29))]  # twice uncontrolled: refer


def test_a_visit_stored_before_the_import_is_the_previous_one_for_the_rows_after_it(
    registry_app: App, patients, clerk, tmp_path: Path
) -> None:
    _, wang_id, _ = patients["王建国"]
    run(registry_app, clerk, write_visits(tmp_path / "a.xlsx", [visit(1, wang_id, "高血压", "2025-03-01", sbp=158,
                                                                      dbp=92)]))
    rows = [visit(1, wang_id, "高血压", "2025-04-20", sbp=128, dbp=80),  # after the second: controlled again
            visit(2, wang_id, "高血压", "2025-03-15", sbp=162, dbp=96),  # the second uncontrolled in a row
            visit(3, wang_id, "高血压", "2025-02-10", "电话", None, None)]  # before the stored one
    result = run(registry_app, clerk, write_visits(tmp_path / "b.xlsx", rows))
    assert (result.imported, result.rejected) == (3, ())
    steps = [(r[2], r[8], r[9]) for r in visits(registry_app)]  # the rules' suggestion and step
    assert steps[1:] == [(date(2025, 3, 1), "2", "2"), (date(2025, 3, 15), "2", "3"), (date(2025, 4, 20), "1", "1")]


def test_rows_of_a_person_enrolled_on_import_use_the_new_enrolment(
    registry_app: App, patients, clerk, tmp_path: Path
) -> None:
    zhao, zhao_id, _ = patients["赵春华"]
    rows = [visit(1, zhao_id, "高血压", "2024-09-10", sbp=150, dbp=92, diagnosed="2024-08-20"),
            visit(2, zhao_id, "高血压", "2024-09-24", sbp=152, dbp=94),
            visit(3, zhao_id, "高血压", "2024-09-24", "家庭", sbp=150, dbp=90)]  # a second face-to-face that day
    result = run(registry_app, clerk, write_visits(tmp_path / "v.xlsx", rows))
    assert (result.imported, result.enrolled) == (2, 1)
    assert [r.row for r in result.rejected] == [FIRST_DATA_ROW + 2]
    with registry_app.db.read() as session:
        enrolment_id = session.scalar(select(ChronicEnrolment.id).where(ChronicEnrolment.resident_id == zhao))
        stored = session.execute(select(FollowupVisit.enrolment_id, FollowupVisit.next_step, FollowupVisit.owner_site,
                                        FollowupVisit.version).where(FollowupVisit.resident_id == zhao)
                                 .order_by(FollowupVisit.visit_date)).all()
    assert [(e, step, version) for e, step, _site, version in stored] == [(enrolment_id, "2", 1), (enrolment_id, "3", 1)]
    assert all(site for _e, _step, site, _version in stored)


def bad_rows(patients) -> list[tuple]:
    """One row for every kind of mistake; EXPECTED names the column and the words of each reason."""
    _, wang_id, wang_no = patients["王建国"]
    _, li_id, _ = patients["李秀兰"]
    _, zhao_id, _ = patients["赵春华"]
    future = (now().date() + timedelta(days=3)).isoformat()
    return [
        visit(11, wang_id, "高血压", "2024-04-01", sbp=400, dbp=90),                  # out of range
        visit(12, wang_id, "高血压", "2024-04-02", sbp=80, dbp=95),                   # SBP not above DBP
        visit(13, wang_id, "高血压", future),                                         # in the future
        visit(14, wang_id, "高血压", "1950-06-01"),                                   # before birth
        visit(15, wang_id, "高血压", "2019-12-01"),                                   # before diagnosis
        visit(16, zhao_id, "高血压", "2024-05-01"),                                   # not under management
        visit(17, li_id, "糖尿病", "2024-06-01", "门诊", glucose=6.0),                # first of two face-to-face
        visit(18, li_id, "糖尿病", "2024-06-01", "家庭", glucose=6.1),                # second the same day
        visit(19, li_id, "糖尿病", "2024-06-01", "门诊", glucose=6.0),                # the same visit again
        visit(20, wang_id, "高血压", "2024-07-01", "门诊", None, 80),                 # face-to-face without SBP
        visit(21, wang_id, "心脏病", "2024-07-02"),                                   # unknown disease
        visit(22, wang_id, "高血压", "2024-02-30"),                                   # impossible date
        visit(23, wang_id, "高血压", "2024-07-03", "微信"),                           # unknown method
        visit(24, None, "高血压", "2024-07-04"),                                      # nobody named
        visit(25, 5.134221990010112e17, "高血压", "2024-07-05"),                      # ID digits lost
        visit(26, wang_id, "高血压", "2024-07-06", name="王建军"),                    # name disagrees
        visit(27, wang_id, "高血压", "2024-07-07", sbp=162, dbp=96, classification="控制满意"),  # no reason
        visit(28, wang_id, "高血压", "2024-07-08", record_no=wang_no[:-1] + "9"),     # record number disagrees
    ]


EXPECTED = [
    (11, "收缩压", "超出合理范围"), (12, "收缩压", "应高于舒张压"), (13, "随访日期", "晚于今天"),
    (14, "随访日期", "早于出生日期"), (15, "随访日期", "早于确诊日期 2020-03-01"), (16, "病种", "未纳入管理"),
    (18, "随访日期", "同一天都是面访"), (19, "随访日期", "同一次随访"), (20, "收缩压", "面访须测量血压"),
    (21, "病种", "高血压"), (22, "随访日期", "不存在"), (23, "随访方式", "门诊、家庭、电话"),
    (24, "身份证号码", "都未填写"), (25, "身份证号码", "最后几位已丢失"), (26, "姓名", "不一致"),
    (27, "更改理由", "须填写理由"), (28, "档案编号", "不一致"),
]


def test_every_bad_row_is_rejected_with_its_row_number_column_and_reason(
    registry_app: App, patients, clerk, tmp_path: Path
) -> None:
    path = write_visits(tmp_path / "v.xlsx", good_rows(patients) + bad_rows(patients), blank_after=(7,))
    result = run(registry_app, clerk, path)
    assert (result.imported, len(result.rejected)) == (9, len(EXPECTED))  # the eight good rows and row 17
    first_bad = FIRST_DATA_ROW + 8 + 1  # eight good rows, then a blank row
    for rejected, (number, column, words) in zip(result.rejected, EXPECTED, strict=True):
        assert rejected.row == first_bad + number - 11
        assert rejected.reason.startswith(f"第 {rejected.row} 行，{column}："), rejected.reason
        assert words in rejected.reason, rejected.reason
    assert "确诊日期" in result.rejected[5].reason  # how to enrol on import
    assert result.summary_line() == f"imported 9, updated 0, rejected {len(EXPECTED)}"


def test_a_face_to_face_visit_on_a_day_already_stored_is_rejected(
    registry_app: App, patients, clerk, tmp_path: Path
) -> None:
    _, wang_id, _ = patients["王建国"]
    run(registry_app, clerk, write_visits(tmp_path / "a.xlsx", [visit(1, wang_id, "高血压", "2025-03-02", "门诊")]))
    result = run(registry_app, clerk, write_visits(tmp_path / "b.xlsx", [
        visit(1, wang_id, "高血压", "2025-03-02", "家庭"), visit(2, wang_id, "高血压", "2025-03-02", "电话", None, None)]))
    assert (result.imported, [r.row for r in result.rejected]) == (1, [FIRST_DATA_ROW])
    assert result.rejected[0].reason.startswith(f"第 {FIRST_DATA_ROW} 行，随访日期：")
    assert "已有一次面访记录" in result.rejected[0].reason


def test_importing_the_same_file_twice_adds_nothing(registry_app: App, patients, clerk, tmp_path: Path) -> None:
    path = write_visits(tmp_path / "v.xlsx", good_rows(patients) + bad_rows(patients))
    run(registry_app, clerk, path)
    before = visits(registry_app)
    again = run(registry_app, clerk, path)
    assert again.summary_line() == f"imported 0, updated 0, rejected {len(EXPECTED)}"
    assert (again.unchanged, again.written) == (9, True)
    assert visits(registry_app) == before
    with registry_app.db.read() as session:
        summaries = session.scalars(select(AuditEntry.summary).where(AuditEntry.action == "import")).all()
    assert len(summaries) == 2 and "新增随访 9" in summaries[0] and "新增随访 0，已存在 9" in summaries[1]


def test_a_stored_visit_with_other_values_is_rejected_not_overwritten(
    registry_app: App, patients, clerk, tmp_path: Path
) -> None:
    _, wang_id, _ = patients["王建国"]
    run(registry_app, clerk, write_visits(tmp_path / "a.xlsx", [visit(1, wang_id, "高血压", "2025-03-02", sbp=132)]))
    result = run(registry_app, clerk, write_visits(tmp_path / "b.xlsx", [visit(1, wang_id, "高血压", "2025-03-02",
                                                                              sbp=142)]))
    assert (result.imported, result.unchanged, len(result.rejected)) == (0, 0, 1)
    assert result.rejected[0].reason.startswith(f"第 {FIRST_DATA_ROW} 行，收缩压：该次随访已登记，已登记的值为 132，表中为 142")
    assert visits(registry_app)[0][4] == 132


def test_a_row_with_a_diagnosis_date_enrols_the_patient_once(registry_app: App, patients, clerk,
                                                             tmp_path: Path) -> None:
    zhao, zhao_id, _ = patients["赵春华"]
    rows = [visit(1, zhao_id, "高血压", "2024-09-10", diagnosed="2024-08-20"),
            visit(2, zhao_id, "高血压", "2024-06-05", sbp=146, dbp=88),  # the earliest visit starts management
            visit(3, zhao_id, "高血压", "2024-12-12")]
    path = write_visits(tmp_path / "v.xlsx", rows)
    result = run(registry_app, clerk, path)
    # management starts at the diagnosis: the June visit came before it
    assert (result.imported, result.enrolled) == (2, 1)
    assert [r.row for r in result.rejected] == [FIRST_DATA_ROW + 1]
    assert "早于确诊日期 2024-08-20" in result.rejected[0].reason
    with registry_app.db.read() as session:
        enrolment = session.execute(select(ChronicEnrolment.diagnosed_on, ChronicEnrolment.managed_from,
                                           ChronicEnrolment.ended_on).where(ChronicEnrolment.resident_id == zhao)).one()
        conditions = session.scalars(select(ResidentCondition.kind).where(ResidentCondition.resident_id == zhao)).all()
    assert tuple(enrolment) == (date(2024, 8, 20), date(2024, 8, 20), None)
    assert conditions == ["hypertension"]
    again = run(registry_app, clerk, path)
    assert (again.imported, again.unchanged, again.enrolled, len(again.rejected)) == (0, 2, 0, 1)


def test_enrolment_from_the_first_visit_when_diagnosed_earlier(registry_app: App, patients, clerk,
                                                               tmp_path: Path) -> None:
    zhao, zhao_id, _ = patients["赵春华"]
    rows = [visit(1, zhao_id, "糖尿病", "2024-06-05", glucose=6.2, diagnosed="2023-01-10"),
            visit(2, zhao_id, "糖尿病", "2024-03-01", glucose=6.8)]
    result = run(registry_app, clerk, write_visits(tmp_path / "v.xlsx", rows))
    assert (result.imported, result.enrolled, result.rejected) == (2, 1, ())
    with registry_app.db.read() as session:
        enrolment = session.execute(select(ChronicEnrolment.disease, ChronicEnrolment.managed_from)
                                    .where(ChronicEnrolment.resident_id == zhao)).one()
    assert tuple(enrolment) == ("diabetes", date(2024, 3, 1))


def test_all_or_nothing_leaves_the_database_unchanged_and_still_lists_every_bad_row(
    registry_app: App, patients, clerk, tmp_path: Path
) -> None:
    before = table_counts(registry_app)
    zhao_id = patients["赵春华"][1]
    rows = good_rows(patients) + bad_rows(patients)[:1] + [visit(30, zhao_id, "高血压", "2024-09-10",
                                                                 diagnosed="2024-08-20")]
    result = run(registry_app, clerk, write_visits(tmp_path / "v.xlsx", rows), ImportMode.ALL_OR_NOTHING)
    assert (result.written, result.summary_line(), result.enrolled) == (False, "imported 0, updated 0, rejected 1", 0)
    assert "超出合理范围" in result.rejected[0].reason and "未导入任何数据" in result.message()
    assert table_counts(registry_app) == before
    clean = run(registry_app, clerk, write_visits(tmp_path / "ok.xlsx", good_rows(patients)),
                ImportMode.ALL_OR_NOTHING)
    assert (clean.written, clean.imported) == (True, 8)


def test_a_dry_run_counts_but_writes_nothing(registry_app: App, patients, clerk, tmp_path: Path) -> None:
    before = table_counts(registry_app)
    zhao_id = patients["赵春华"][1]
    rows = good_rows(patients) + bad_rows(patients) + [visit(30, zhao_id, "高血压", "2024-09-10",
                                                             diagnosed="2024-08-20")]
    result = run(registry_app, clerk, write_visits(tmp_path / "v.xlsx", rows), dry_run=True)
    assert (result.imported, result.enrolled, len(result.rejected)) == (10, 1, len(EXPECTED))
    assert (result.written, result.dry_run) == (False, True) and "未写入" in result.message()
    assert table_counts(registry_app) == before


@pytest.mark.parametrize("stage", ["reading", "writing"])
def test_cancel_leaves_the_database_unchanged(registry_app: App, patients, clerk, tmp_path: Path,
                                              stage: str) -> None:
    wang_id = patients["王建国"][1]
    start = date(2021, 1, 1)
    rows = [visit(i, wang_id, "高血压", (start + timedelta(days=i)).isoformat(), "电话", None, None)
            for i in range(1200)]
    path = write_visits(tmp_path / "big.xlsx", rows)
    before = table_counts(registry_app)
    abort = threading.Event()
    seen: list[float] = []

    def progress(fraction: float, message: str) -> None:
        seen.append(fraction)
        if (stage == "reading" and fraction > 0) or (stage == "writing" and fraction > READ_SHARE):
            abort.set()

    with pytest.raises(Cancelled):
        run(registry_app, clerk, path, abort=abort, progress=progress)
    assert table_counts(registry_app) == before
    assert max(seen) < 1.0


def test_roles_without_the_import_right_are_refused(registry_app: App, patients, tmp_path: Path) -> None:
    path = write_visits(tmp_path / "v.xlsx", good_rows(patients))
    for username in ("cunyi001", "kaohe1", "yuanzhang", "jiating1"):
        with pytest.raises(PermissionDenied):
            run(registry_app, actor_for(registry_app.db, username), path)


def test_a_sheet_without_the_needed_columns_is_refused(registry_app: App, clerk, tmp_path: Path) -> None:
    book = Workbook()
    book.active.append(["身份证号", "随访日期", "收缩压"])
    book.save(tmp_path / "partial.xlsx")
    with pytest.raises(UserFacingError, match="疾病.*随访方式"):
        run(registry_app, clerk, tmp_path / "partial.xlsx")
    book = Workbook()
    book.active.append(["疾病", "随访日期", "随访方式"])
    book.save(tmp_path / "nobody.xlsx")
    with pytest.raises(UserFacingError, match="身份证号（或 档案编号）"):
        run(registry_app, clerk, tmp_path / "nobody.xlsx")


def test_the_template_lists_the_columns_and_code_tables_and_imports_as_filled(
    registry_app: App, patients, clerk, tmp_path: Path
) -> None:
    path = followup_template(tmp_path / "template.xlsx")
    book = load_workbook(path)
    assert book.sheetnames == ["随访记录", "填写说明"]
    sheet = book["随访记录"]
    assert [c.value for c in sheet[1]] == [header for header, _, _ in TEMPLATE_COLUMNS]
    assert sheet["A2"].number_format == "@" and sheet["B2"].number_format == "@"
    notes = [row[:3] for row in book["填写说明"].iter_rows(values_only=True)]
    assert ("高血压症状", "7", "鼻衄出血不止") in notes and ("此次随访分类", "4", "并发症") in notes
    assert ("收缩压(mmHg)", "面访必填；须高于舒张压", "60–300 mmHg") in notes
    headers = [header for header, _, _ in TEMPLATE_COLUMNS]
    values = {"身份证号": patients["王建国"][1], "疾病*": "高血压", "随访日期*": "2025-04-01", "随访方式*": "门诊",
              "症状": "头痛头晕、心悸胸闷", "收缩压(mmHg)": 138, "舒张压(mmHg)": 86, "服药依从性": "规律",
              "药物不良反应": "无", "随访医生*": "刘晓梅"}
    sheet.append([values.get(header) for header in headers])
    book.save(tmp_path / "filled.xlsx")
    result = run(registry_app, clerk, tmp_path / "filled.xlsx")
    assert (result.imported, result.rejected) == (1, ())
    with registry_app.db.read() as session:
        stored = session.execute(select(FollowupVisit.symptoms, FollowupVisit.medication_adherence,
                                        FollowupVisit.adverse_reaction)).one()
    assert tuple(stored) == (["2", "6"], "1", False)


def test_the_error_workbook_keeps_ids_as_text_and_can_be_fixed(registry_app: App, patients, clerk,
                                                               tmp_path: Path) -> None:
    result = run(registry_app, clerk, write_visits(tmp_path / "v.xlsx", bad_rows(patients)[:2]))
    errors = write_error_workbook(result, tmp_path / "errors.xlsx")
    sheet = load_workbook(errors).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("原行号", "错误原因", "序号", "身份证号码", "档案编号")
    assert [r[0] for r in rows[1:]] == [FIRST_DATA_ROW, FIRST_DATA_ROW + 1]
    assert rows[1][3] == patients["王建国"][1] and sheet.cell(row=2, column=4).number_format == "@"
    sheet.cell(row=2, column=2 + COLUMN["sbp"] + 1).value = 140  # fix the out-of-range SBP
    sheet.cell(row=3, column=2 + COLUMN["sbp"] + 1).value = 150  # and the reversed pressure
    sheet.parent.save(tmp_path / "fixed.xlsx")
    again = run(registry_app, clerk, tmp_path / "fixed.xlsx")
    assert (again.imported, again.rejected) == (2, ())


def test_every_field_of_the_national_form_is_read_from_its_column(registry_app: App, patients, clerk,
                                                                   tmp_path: Path) -> None:
    _, li_id, _ = patients["李秀兰"]
    book = Workbook()
    sheet = book.active
    sheet.append(["身份证号", "病种", "随访日期", "随访方式", "收缩压", "舒张压", "空腹血糖", "测量方式", "其他症状",
                  "体征其他", "辅助检查", "足背动脉搏动", "足背动脉搏动侧别", "胰岛素种类", "胰岛素用法和用量",
                  "用药调整意见", "转诊原因", "转诊机构及科别", "转诊结果", "转诊联系人", "居民签名", "此次随访分类",
                  "随访医生"])
    sheet.append([li_id, "糖尿病", "2025-03-02", "电话", None, None, 8.6, "居民自测", "口干", "足部皮肤干燥",
                  "尿常规未见异常", "减弱", "左侧", "甘精胰岛素", "睡前 10 单位", "二甲双胍 0.5g 每日3次；阿卡波糖 50mg",
                  None, None, "到位", "县医院王医生", "李秀兰", "控制不满意", "刘晓梅"])
    sheet.append([li_id, "糖尿病", "2025-03-16", "门诊", 130, 80, 9.2, None, None, None, None, None, None, None,
                  None, None, "连续两次控制不满意", "县人民医院内分泌科", None, None, None, None, "刘晓梅"])
    path = tmp_path / "full.xlsx"
    book.save(path)
    result = run(registry_app, clerk, path)
    assert (result.imported, result.rejected) == (2, ())
    with registry_app.db.read() as session:
        first, second = session.scalars(select(FollowupVisit).order_by(FollowupVisit.visit_date)).all()
        session.expunge_all()
    assert (first.measurement, first.fasting_glucose, first.symptoms_other, first.signs_other, first.tests_other) == (
        "2", 8.6, "口干", "足部皮肤干燥", "尿常规未见异常")
    assert (first.foot_pulse, first.foot_pulse_side, first.insulin, first.insulin_dose) == (
        "2", "左侧", "甘精胰岛素", "睡前 10 单位")
    assert first.medication_advice == [{"name": "二甲双胍", "dose": "0.5g 每日3次"}, {"name": "阿卡波糖", "dose": "50mg"}]
    assert (first.referral_result, first.referral_contact, first.resident_signed, first.classification) == (
        "1", "县医院王医生", True, "2")
    # the second uncontrolled visit in a row: referred, the paper's reason and institution kept, no class chosen
    assert (second.next_step, second.classification, second.suggested_classification) == ("3", None, "2")
    assert (second.referral_reason, second.referral_to, second.resident_signed) == (
        "连续两次控制不满意", "县人民医院内分泌科", False)
