"""Importing residents' rosters: ugly files, every kind of bad row, matching, modes, cancel, error workbook."""

from __future__ import annotations

import shutil
import subprocess
import threading
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from core_support import REQUIRE_TOOLS, actor_for, data_dir_with, person, register_counts
from openpyxl import load_workbook
from roster_support import FIRST_DATA_ROW, good_rows, id_for, write_roster, x_id
from sqlalchemy import func, select

from desktop.app import App, open_app
from desktop.errors import Cancelled, PermissionDenied, UserFacingError
from desktop.jobs import no_progress
from desktop.models import AuditEntry, Resident, ResidentCondition, Village
from desktop.rules.idnumbers import make_id
from desktop.rules.resident_checks import ResidentInput
from desktop.services.residents import create_resident
from desktop.transfer.resident_import import READ_SHARE, ImportMode, ResidentImport, write_error_workbook
from desktop.transfer.workbook import read_preview

PREFIX = "341522106"


@pytest.fixture
def clerk(registry_app: App):
    return actor_for(registry_app.db, "luru1")


def run(app: App, actor, path: Path, mode: ImportMode = ImportMode.VALID_ONLY, *, dry_run: bool = False,
        abort: threading.Event | None = None, progress=no_progress):
    job = ResidentImport(app.db, actor, path, mode, dry_run=dry_run)
    return job(abort=abort or threading.Event(), progress=progress)


def stored(app: App) -> dict[str, SimpleNamespace]:
    """The stored residents by name: their columns, village code and recorded conditions."""
    with app.db.read() as session:
        found = {}
        for resident in session.scalars(select(Resident)):
            values = {c.key: getattr(resident, c.key) for c in Resident.__table__.columns}
            found[resident.name] = SimpleNamespace(
                **values, village_code=session.get(Village, resident.village_id).code,
                kinds={c.kind: c.since for c in resident.conditions if not c.deleted})
        return found


def bad_rows() -> list[tuple]:
    """One row for every kind of mistake, each with the column its message must name."""
    return [
        (6, "钱多多", 5.134221990010112e17, "男", "", "", "101", "", "", ""),          # digits lost to a float
        (7, "孙悟", id_for("1970-05-05", 11)[:-1] + "0", "", "", "", "101", "", "", ""),  # wrong check character
        (8, "周无证", "", "男", "1955-02-30", "", "101", "", "", ""),                    # impossible date
        (9, "吴未来", "", "女", "2099-01-01", "", "101", "", "", ""),                    # future birth date
        (10, "郑错性", id_for("1971-06-06", 11), "女", "", "", "101", "", "", ""),       # sex contradicts the ID
        (11, "冯短号", id_for("1972-07-07", 13), "", "", "1381234", "101", "", "", ""),  # phone too short
        (12, "", id_for("1973-08-08", 15), "", "", "", "101", "", "", ""),               # empty name
        (13, "陈无村", id_for("1974-09-09", 17), "", "", "", "火星村", "", "", ""),      # no such village
        (14, "张三丰", id_for("1955-03-02", 11), "", "", "", "101", "", "", ""),         # same ID as the first row
        (15, "褚高压", id_for("1975-10-10", 19), "", "", "", "101", "明年", "", ""),     # not a date nor 是
    ]


EXPECTED_PROBLEMS = [
    ("身份证号码", "存成了数字"), ("身份证号码", "校验位"), ("出生日期", "不存在"), ("出生日期", "晚于今天"),
    ("性别", "不一致"), ("联系电话", "11 位"), ("姓名", "不能为空"), ("所属村", "不存在"),
    ("身份证号码", f"与第 {FIRST_DATA_ROW} 行"), ("高血压", "确诊/登记日期"),
]


def test_preview_finds_the_header_under_a_title_with_merged_two_row_headers(tmp_path: Path) -> None:
    path = write_roster(tmp_path / "roster.xlsx", good_rows(), blank_after=(1,))
    preview = read_preview(path)
    assert (preview.layout.first_header_row, preview.header_row) == (2, 3)
    assert preview.mapping() == [
        ("姓名", "B", "姓名"), ("身份证号", "C", "身份证号码"), ("性别", "D", "性别"), ("出生日期", "E", "出生日期"),
        ("联系电话", "F", "联系电话"), ("所属村", "G", "所属村"), ("高血压患者", "H", "高血压"),
        ("2型糖尿病患者", "I", "糖尿病"),
    ]
    assert [(c.letter, c.header) for c in preview.layout.unmatched] == [("A", "序号"), ("J", "备注")]
    assert preview.missing == ()
    assert preview.sample[0][:2] == ("张 三丰", "３４１５２２１９５５０３０２０１１６")
    assert preview.sample[2][1] == "341522620109033"  # a whole number shown without ".0"
    assert preview.row_count == 6  # five rows and one blank row below the header


def test_an_ugly_roster_imports_every_shape_of_good_row(registry_app: App, clerk, tmp_path: Path) -> None:
    result = run(registry_app, clerk, write_roster(tmp_path / "r.xlsx", good_rows(), blank_after=(0, 2)))
    assert (result.imported, result.updated, result.rejected, result.written) == (5, 0, (), True)
    people = stored(registry_app)
    first = people["张三丰"]
    assert (first.id_number, first.birth_date, first.sex, first.phone) == (
        id_for("1955-03-02", 11), date(1955, 3, 2), "1", "13800138000")
    assert (first.name_initials, first.name_pinyin, first.phone_rev) == ("zsf", "zhangsanfeng", "00083100831")
    assert first.kinds == {"hypertension": date(2019, 5, 1), "diabetes": None}
    assert first.record_no.startswith(PREFIX + "101") and first.record_no_rev == first.record_no[::-1]
    assert first.registered_by == "luru1" and first.version == 1
    assert people["李秀兰"].id_number == id_for("1948-11-20", 22) and people["李秀兰"].village_code == "101"
    assert people["李秀兰"].kinds == {"diabetes": date(2020, 1, 5)} and people["李秀兰"].phone == "13900001111"
    assert people["王建国"].id_number == id_for("1962-01-09", 33) and people["王建国"].village_code == "001"
    assert (people["赵桂英"].id_number, people["赵桂英"].birth_date, people["赵桂英"].sex) == (None, date(1955, 3, 2), "2")
    assert people["解放"].id_number == x_id() and people["解放"].id_number_rev.startswith("X")
    assert people["解放"].name_pinyin == "xiefang"  # the surname reading, not jiefang


def test_an_id_number_in_an_exact_integer_cell_is_read_as_its_digits(registry_app: App, clerk, tmp_path: Path) -> None:
    from desktop.transfer.xlsx_stream import SheetWriter

    writer = SheetWriter(tmp_path / "ints.xlsx", sheet="Sheet1", widths=[10] * 3, rows=1)
    writer.write_header(["姓名", "公民身份号码", "村代码"])
    writer.write_row(["王建国", int(id_for("1962-01-09", 33)), 1])  # <v>341522196201090332</v>, village 1 -> 001
    writer.close()
    assert load_workbook(tmp_path / "ints.xlsx").active["B2"].value == int(id_for("1962-01-09", 33))
    result = run(registry_app, clerk, tmp_path / "ints.xlsx")
    assert (result.imported, result.rejected) == (1, ())
    assert stored(registry_app)["王建国"].id_number == id_for("1962-01-09", 33)
    assert stored(registry_app)["王建国"].village_code == "001"


def test_every_bad_row_is_rejected_with_its_row_number_column_and_reason(
    registry_app: App, clerk, tmp_path: Path
) -> None:
    path = write_roster(tmp_path / "r.xlsx", good_rows() + bad_rows(), blank_after=(4,))
    result = run(registry_app, clerk, path)
    assert (result.imported, result.updated, len(result.rejected)) == (5, 0, 10)
    first_bad = FIRST_DATA_ROW + 5 + 1  # five good rows, then one blank row
    for offset, (rejected, (column, words)) in enumerate(zip(result.rejected, EXPECTED_PROBLEMS, strict=True)):
        assert rejected.row == first_bad + offset
        assert rejected.reason.startswith(f"第 {rejected.row} 行，{column}："), rejected.reason
        assert words in rejected.reason, rejected.reason
    assert "文本" in result.rejected[0].reason and "最后几位已丢失" in result.rejected[0].reason
    assert result.summary_line() == "imported 5, updated 0, rejected 10"


def test_importing_the_same_file_twice_creates_no_duplicates(registry_app: App, clerk, tmp_path: Path) -> None:
    path = write_roster(tmp_path / "r.xlsx", good_rows() + bad_rows())
    run(registry_app, clerk, path)
    before = {name: (r.version, r.record_no) for name, r in stored(registry_app).items()}
    again = run(registry_app, clerk, path)
    assert again.summary_line() == "imported 0, updated 0, rejected 10"
    assert (again.unchanged, again.written) == (5, True)
    assert {name: (r.version, r.record_no) for name, r in stored(registry_app).items()} == before
    with registry_app.db.read() as session:
        summaries = session.scalars(select(AuditEntry.summary).where(AuditEntry.action == "import")).all()
    assert len(summaries) == 2 and "新增 5" in summaries[0] and "新增 0，更新 0，未变 5，拒绝 10" in summaries[1]


def test_a_changed_row_updates_only_the_columns_it_carries(registry_app: App, clerk, tmp_path: Path) -> None:
    rows = good_rows()
    run(registry_app, clerk, write_roster(tmp_path / "r.xlsx", rows))
    original = stored(registry_app)["张三丰"]
    rows[0] = (1, "张三丰", id_for("1955-03-02", 11), "", "", "13912345678", "101", "", "2021-02-03", "")
    result = run(registry_app, clerk, write_roster(tmp_path / "changed.xlsx", rows))
    assert (result.imported, result.updated, result.unchanged) == (0, 1, 4)
    changed = stored(registry_app)["张三丰"]
    assert (changed.phone, changed.phone_rev) == ("13912345678", "87654321931")
    assert changed.kinds == {"hypertension": date(2019, 5, 1), "diabetes": date(2021, 2, 3)}
    assert changed.record_no == original.record_no and changed.address == original.address
    assert changed.version == original.version + 1


def test_a_record_without_id_is_matched_by_name_birth_date_and_village(registry_app: App, clerk, tmp_path: Path) -> None:
    create_resident(registry_app.db, clerk, ResidentInput(name="赵桂英", sex="女", birth_date="1955-03-02",
                                                          village_code="101"))
    result = run(registry_app, clerk, write_roster(tmp_path / "r.xlsx", [good_rows()[3]]))
    assert (result.imported, result.updated, result.unchanged) == (0, 0, 1)
    with registry_app.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Resident)) == 1


def test_a_record_number_contradicting_the_stored_one_is_rejected(registry_app: App, clerk, tmp_path: Path) -> None:
    saved = create_resident(registry_app.db, clerk, person("张三丰", "1955-03-02"))
    book = tmp_path / "numbers.xlsx"
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["健康档案编号", "姓名", "身份证号", "所属村"])
    workbook.active.append([f"{PREFIX}10199999", "张三丰", id_for("1955-03-02", 11), "101"])
    workbook.active.append([f"{PREFIX}10100500", "李四", id_for("1960-01-01", 13), "101"])
    workbook.active.append([None, "王五", id_for("1961-01-01", 15), "101"])
    workbook.save(book)
    result = run(registry_app, clerk, book)
    assert [r.row for r in result.rejected] == [2] and saved.record_no in result.rejected[0].reason
    assert result.rejected[0].reason.startswith("第 2 行，健康档案编号：")
    numbers = {r.name: r.record_no for r in stored(registry_app).values()}
    assert numbers["李四"] == f"{PREFIX}10100500"  # a number given in the file is kept
    assert numbers["王五"] == f"{PREFIX}10100002"  # the counter goes on from the form's number


def test_all_or_nothing_writes_nothing_when_any_row_is_rejected(registry_app: App, clerk, tmp_path: Path) -> None:
    before = register_counts(registry_app.db)
    path = write_roster(tmp_path / "r.xlsx", good_rows() + bad_rows()[:1])
    result = run(registry_app, clerk, path, ImportMode.ALL_OR_NOTHING)
    assert (result.written, result.summary_line()) == (False, "imported 0, updated 0, rejected 1")
    assert "未导入任何数据" in result.message()
    assert register_counts(registry_app.db) == before
    clean = run(registry_app, clerk, write_roster(tmp_path / "ok.xlsx", good_rows()), ImportMode.ALL_OR_NOTHING)
    assert (clean.written, clean.imported) == (True, 5)


def test_a_dry_run_counts_but_writes_nothing(registry_app: App, clerk, tmp_path: Path) -> None:
    before = register_counts(registry_app.db)
    result = run(registry_app, clerk, write_roster(tmp_path / "r.xlsx", good_rows() + bad_rows()), dry_run=True)
    assert (result.imported, len(result.rejected), result.written, result.dry_run) == (5, 10, False, True)
    assert "未写入" in result.message()
    assert register_counts(registry_app.db) == before


@pytest.mark.parametrize("stage", ["reading", "writing"])
def test_cancel_leaves_the_database_unchanged(registry_app: App, clerk, tmp_path: Path, stage: str) -> None:
    rows = [(i, f"居民{chr(0x4E00 + i)}", make_id("341522", date(1950, 1, 1) + timedelta(days=i), 11), "", "", "",
             "101", "", "", "") for i in range(2500)]
    path = write_roster(tmp_path / "big.xlsx", rows)
    before = register_counts(registry_app.db)
    abort = threading.Event()
    seen: list[float] = []

    def progress(fraction: float, message: str) -> None:
        seen.append(fraction)
        if (stage == "reading" and fraction > 0) or (stage == "writing" and fraction > READ_SHARE):
            abort.set()

    with pytest.raises(Cancelled):
        run(registry_app, clerk, path, abort=abort, progress=progress)
    assert register_counts(registry_app.db) == before
    assert max(seen) < 1.0


def test_roles_without_the_import_right_are_refused(registry_app: App, tmp_path: Path) -> None:
    path = write_roster(tmp_path / "r.xlsx", good_rows())
    for username in ("cunyi001", "kaohe1", "yuanzhang"):
        with pytest.raises(PermissionDenied):
            run(registry_app, actor_for(registry_app.db, username), path)


def test_a_sheet_without_a_name_column_or_header_is_refused(registry_app: App, clerk, tmp_path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["身份证号", "所属村"])
    workbook.active.append([id_for("1955-03-02", 11), "101"])
    workbook.save(tmp_path / "noname.xlsx")
    with pytest.raises(UserFacingError, match="姓名"):
        run(registry_app, clerk, tmp_path / "noname.xlsx")
    workbook = Workbook()
    workbook.active.append(["随便", "什么"])
    workbook.save(tmp_path / "noheader.xlsx")
    with pytest.raises(UserFacingError, match="表头"):
        run(registry_app, clerk, tmp_path / "noheader.xlsx")
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(UserFacingError, match="另存为"):
        run(registry_app, clerk, tmp_path / "old.xls")


def test_the_error_workbook_can_be_fixed_and_imported_again(registry_app: App, clerk, tmp_path: Path) -> None:
    result = run(registry_app, clerk, write_roster(tmp_path / "r.xlsx", good_rows() + bad_rows()))
    errors = write_error_workbook(result, tmp_path / "errors.xlsx")
    sheet = load_workbook(errors).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("原行号", "错误原因", "序号", "姓名")
    assert [r[0] for r in rows[1:]] == [r.row for r in result.rejected]
    assert rows[2][1] == result.rejected[1].reason and rows[2][4] == id_for("1970-05-05", 11)[:-1] + "0"
    assert sheet.cell(row=3, column=5).number_format == "@"
    sheet.cell(row=3, column=5).value = id_for("1970-05-05", 11)  # the clerk fixes the check character
    sheet.parent.save(tmp_path / "fixed.xlsx")
    again = run(registry_app, clerk, tmp_path / "fixed.xlsx")
    # the fixed row goes in; the row that repeated 张三丰's ID now simply matches the stored record
    assert (again.imported, again.unchanged, len(again.rejected)) == (1, 1, 8)
    assert "孙悟" in stored(registry_app)
    with registry_app.db.read() as session:
        assert session.scalar(select(func.count()).select_from(ResidentCondition)) == 3


def converted(workbook: Path, form: str, tmp_path: Path) -> Path:
    """The workbook saved by LibreOffice as .xls, .ods or UTF-8 .csv (values as shown)."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        if REQUIRE_TOOLS:
            pytest.fail("soffice (LibreOffice) is required here but is not installed")
        pytest.skip("LibreOffice (soffice) is not installed")
    target = {"csv": "csv:Text - txt - csv (StarCalc):44,34,76"}.get(form, form)
    out = tmp_path / f"as-{form}"
    completed = subprocess.run(
        [soffice, f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}", "--headless", "--convert-to", target,
         "--outdir", str(out), str(workbook)], capture_output=True, text=True, timeout=180, check=False)
    assert completed.returncode == 0, completed.stderr
    return out / f"{workbook.stem}.{form}"


def as_csv(workbook: Path, encoding: str, tmp_path: Path) -> Path:
    """The workbook as the .csv Excel or WPS saves: GBK on a Chinese Windows, or UTF-8 with a BOM."""
    text = converted(workbook, "csv", tmp_path).read_text(encoding="utf-8")
    target = tmp_path / f"roster-{encoding}.csv"
    target.write_bytes(text.encode(encoding))
    return target


def outcome(result) -> tuple:
    return result.summary_line(), result.unchanged, [r.row for r in result.rejected]


def people(app: App) -> dict[str, tuple]:
    return {name: (p.id_number, p.sex, p.birth_date, p.phone, p.record_no, p.village_code, p.kinds)
            for name, p in stored(app).items()}


@pytest.mark.parametrize("form", ["xls", "ods", "csv-gbk", "csv-utf-8-sig", "csv-utf-8"])
def test_the_same_roster_imports_alike_from_every_format(registry_app: App, registry_template: Path, clerk,
                                                        tmp_path: Path, form: str) -> None:
    workbook = write_roster(tmp_path / "roster.xlsx", good_rows() + bad_rows())
    expected = run(registry_app, clerk, workbook)
    assert expected.summary_line() == "imported 5, updated 0, rejected 10"
    other = as_csv(workbook, form.removeprefix("csv-"), tmp_path) if form.startswith("csv") else \
        converted(workbook, form, tmp_path)
    if form == "csv-gbk":
        with pytest.raises(UnicodeDecodeError):
            other.read_bytes().decode("utf-8")
    second = open_app(data_dir_with(registry_template, tmp_path / "second"))
    try:
        result = run(second, actor_for(second.db, "luru1"), other)
        assert outcome(result) == outcome(expected)
        assert people(second) == people(registry_app)
    finally:
        second.close()


def test_other_files_are_refused_naming_their_type(registry_app: App, clerk, tmp_path: Path) -> None:
    for name, words in (("roster.et", "WPS 表格"), ("roster.pdf", "PDF"), ("roster", "没有扩展名")):
        (tmp_path / name).write_bytes(b"not a sheet")
        with pytest.raises(UserFacingError, match=words):
            run(registry_app, clerk, tmp_path / name)
