"""`township-desk followups import|template|export|due` and `township-desk indicators`, run in-process."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from core_support import DEMO_PASSWORD, actor_for, data_dir_with
from openpyxl import load_workbook
from test_followup_import import EXPECTED, bad_rows, good_rows, table_counts
from visit_sheet_support import add_patients, write_visits

from desktop.app import open_app
from desktop.cli import PASSWORD_ENV, main
from desktop.clock import now
from desktop.services.due import due_list
from desktop.services.indicators import DEFINITIONS, indicator_report

YEAR = 2025


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """Run the command line in-process with the demo password; returns (exit code, stdout, stderr)."""
    monkeypatch.setenv(PASSWORD_ENV, DEMO_PASSWORD)

    def run(*args: object) -> tuple[int, str, str]:
        code = main([str(arg) for arg in args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


@pytest.fixture
def registry_dir(registry_template: Path, tmp_path: Path) -> tuple[Path, dict]:
    """A demo branch without residents but the three patients of the visit sheets."""
    root = data_dir_with(registry_template, tmp_path / "data")
    app = open_app(root)
    try:
        return root, add_patients(app)
    finally:
        app.close()


@pytest.fixture
def demo_dir(demo_template: Path, tmp_path: Path) -> Path:
    return data_dir_with(demo_template, tmp_path / "data")


def json_lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.strip().splitlines()]


def test_import_valid_rows_then_again_reports_nothing_new(cli, registry_dir, tmp_path: Path) -> None:
    root, patients = registry_dir
    sheet = write_visits(tmp_path / "v.xlsx", good_rows(patients) + bad_rows(patients))
    code, out, err = cli("--data-dir", root, "followups", "import", sheet, "--valid-only",
                         "--errors", tmp_path / "errors.xlsx", "--user", "luru1")
    assert code == 0, err
    lines = out.strip().splitlines()
    assert lines[-1] == f"imported 9, updated 0, rejected {len(EXPECTED)}"
    assert any(line.startswith("第 12 行，收缩压：") for line in lines)
    assert len(list(load_workbook(tmp_path / "errors.xlsx").active.iter_rows())) == len(EXPECTED) + 1
    code, out, _ = cli("--data-dir", root, "followups", "import", sheet, "--valid-only", "--user", "luru1")
    assert (code, out.strip().splitlines()[-1]) == (0, f"imported 0, updated 0, rejected {len(EXPECTED)}")


def test_all_or_nothing_and_dry_run_write_nothing(cli, registry_dir, tmp_path: Path) -> None:
    root, patients = registry_dir
    app = open_app(root)
    before = table_counts(app)[:3]
    app.close()
    sheet = write_visits(tmp_path / "v.xlsx", good_rows(patients) + bad_rows(patients)[:2])
    code, out, _ = cli("--data-dir", root, "followups", "import", sheet, "--user", "luru1")
    assert (code, out.strip().splitlines()[-1]) == (1, "imported 0, updated 0, rejected 2")
    clean = write_visits(tmp_path / "clean.xlsx", good_rows(patients))
    code, out, _ = cli("--data-dir", root, "followups", "import", clean, "--dry-run", "--user", "luru1")
    assert (code, out.strip().splitlines()[-1]) == (0, "imported 8, updated 0, rejected 0") and "未写入" in out
    app = open_app(root)
    assert table_counts(app)[:3] == before
    app.close()
    code, _, err = cli("--data-dir", root, "followups", "import", clean, "--user", "cunyi001")
    assert code == 1 and "无权导入历史随访" in err


def test_template_then_export_of_a_year(cli, demo_dir: Path, tmp_path: Path) -> None:
    code, out, _ = cli("followups", "template", tmp_path / "template.xlsx")
    assert code == 0 and "模板" in out
    assert load_workbook(tmp_path / "template.xlsx").sheetnames == ["随访记录", "填写说明"]
    code, out, err = cli("--data-dir", demo_dir, "followups", "export", tmp_path / "v.xlsx", "--year", YEAR,
                         "--village", "101", "--user", "cunyi001")
    assert code == 0, err
    assert "已导出 2025 年随访" in out
    villages = {row[4] for row in load_workbook(tmp_path / "v.xlsx", read_only=True)["随访记录"].iter_rows(
        min_row=2, values_only=True)}
    assert villages == {"柳树村"}
    code, _, err = cli("--data-dir", demo_dir, "followups", "export", tmp_path / "other.xlsx", "--year", YEAR,
                       "--village", "102", "--user", "cunyi001")
    assert code == 1 and "不属于您负责的村" in err and not (tmp_path / "other.xlsx").exists()
    code, _, err = cli("--data-dir", demo_dir, "followups", "export", tmp_path / "k.xlsx", "--year", YEAR,
                       "--user", "kaohe1")
    assert code == 1 and "无权导出随访记录" in err


def test_due_prints_one_json_object_per_item(cli, demo_dir: Path) -> None:
    on = now().date() + timedelta(days=30)  # demo visits run to today: a month on, some are overdue
    code, out, err = cli("--data-dir", demo_dir, "followups", "due", "--on", on.isoformat(), "--json",
                         "--user", "cunyi001")
    assert code == 0, err
    items = json_lines(out)
    app = open_app(demo_dir)
    try:
        expected = due_list(app.db, actor_for(app.db, "cunyi001"), on=on)
    finally:
        app.close()
    assert len(items) == len(expected.items) > 0
    assert set(items[0]) == {"record_no", "name", "village", "kind", "disease", "due_on", "days_overdue", "phone",
                             "address"}
    assert [(i["record_no"], i["phone"], i["address"]) for i in items] == [
        (item.record_no, item.phone, item.address) for item in expected.items]
    late = next(i for i in items if i["days_overdue"] > 0)
    assert (date.fromisoformat(late["due_on"]) - on).days == -late["days_overdue"]
    assert {i["kind"] for i in items} <= {"routine", "recheck", "referral_followup", "elderly_check"}
    code, out, _ = cli("--data-dir", demo_dir, "followups", "due", "--on", on.isoformat(), "--village", "101",
                       "--user", "cunyi001")
    assert code == 0 and out.strip().splitlines()[-1].startswith(f"截至 {on:%Y-%m-%d}：共 ")
    code, _, err = cli("--data-dir", demo_dir, "followups", "due", "--on", "明天", "--user", "cunyi001")
    assert code == 1 and "--on" in err


def test_indicators_json_and_a_drill_down_whose_counts_equal_the_figure(cli, demo_dir: Path, tmp_path: Path) -> None:
    code, out, err = cli("--data-dir", demo_dir, "indicators", "--year", YEAR, "--json", "--user", "kaohe1")
    assert code == 0, err
    figures = {item["code"]: item for item in json_lines(out)}
    assert list(figures) == list(DEFINITIONS)
    app = open_app(demo_dir)
    try:
        report = indicator_report(app.db, actor_for(app.db, "kaohe1"), YEAR)
    finally:
        app.close()
    for code_, item in figures.items():
        figure = report.branch(code_)
        assert (item["name"], item["numerator"], item["denominator"]) == (figure.name, figure.numerator,
                                                                         figure.denominator)
        assert item["value"] == pytest.approx(figure.value)
    for code_ in ("ht_standard", "dm_control", "elderly_care"):
        code, out, _ = cli("--data-dir", demo_dir, "indicators", "--year", YEAR, "--code", code_, "--list", "--json",
                           "--user", "kaohe1")
        people = json_lines(out)
        assert (sum(p["counted"] for p in people), len(people)) == (figures[code_]["numerator"],
                                                                    figures[code_]["denominator"])
        assert all(p["reason"] for p in people if not p["counted"]) and set(people[0]) == {
            "record_no", "name", "counted", "reason"}
    code, out, _ = cli("--data-dir", demo_dir, "indicators", "--year", YEAR, "--out", tmp_path / "ind.xlsx",
                       "--user", "kaohe1")
    assert code == 0 and "已导出 2025 年管理指标" in out
    assert load_workbook(tmp_path / "ind.xlsx", read_only=True).sheetnames[0] == "指标汇总"
    code, _, err = cli("--data-dir", demo_dir, "indicators", "--year", YEAR, "--code", "ht_coverage", "--list",
                       "--user", "kaohe1")
    assert code == 1 and "--list" in err
    code, _, err = cli("--data-dir", demo_dir, "indicators", "--year", YEAR, "--code", "nope", "--user", "kaohe1")
    assert code == 1 and "ht_control" in err


def test_indicators_for_one_village_of_a_village_doctor(cli, demo_dir: Path) -> None:
    code, out, err = cli("--data-dir", demo_dir, "indicators", "--year", YEAR, "--village", "101", "--user",
                         "cunyi001")
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == len(DEFINITIONS) + 1 and "高血压患者规范管理率（ht_standard）：" in out
    assert lines[-1].startswith("统计口径：2025 年（2025-01-01 至 2025-12-31）")
    code, _, err = cli("--data-dir", demo_dir, "indicators", "--year", YEAR, "--village", "102", "--user",
                       "cunyi001")
    assert code == 1 and "不属于您负责的村" in err


def test_indicators_for_a_quarter_or_a_month_say_which_rule_they_used(cli, demo_dir: Path, tmp_path: Path) -> None:
    code, out, err = cli("--data-dir", demo_dir, "indicators", "--period", f"{YEAR}-Q1", "--json", "--user", "kaohe1")
    assert code == 0, err
    figures = {item["code"]: item for item in json_lines(out)}
    app = open_app(demo_dir)
    try:
        report = indicator_report(app.db, actor_for(app.db, "kaohe1"), f"{YEAR}-Q1")
    finally:
        app.close()
    standard = report.branch("ht_standard")
    assert (figures["ht_standard"]["numerator"], figures["ht_standard"]["denominator"]) == (
        standard.numerator, standard.denominator)
    assert figures["ht_standard"]["period"] == f"{YEAR}-Q1"
    assert figures["ht_standard"]["rule"].startswith(f"{YEAR} 年第 1 季度（{YEAR}-01-01 至 {YEAR}-03-31）")
    code, out, err = cli("--data-dir", demo_dir, "indicators", "--period", f"{YEAR}-03", "--user", "kaohe1")
    assert code == 0, err
    assert out.strip().splitlines()[-1].startswith(f"统计口径：{YEAR} 年 3 月（{YEAR}-03-01 至 {YEAR}-03-31）")
    code, out, _ = cli("--data-dir", demo_dir, "indicators", "--period", f"{YEAR}-Q2", "--code", "ht_standard",
                       "--list", "--json", "--user", "kaohe1")
    assert code == 0 and all(p["reason"] for p in json_lines(out) if not p["counted"])
    code, out, _ = cli("--data-dir", demo_dir, "indicators", "--period", f"{YEAR}-Q1", "--out", tmp_path / "q1.xlsx",
                       "--user", "kaohe1")
    assert code == 0 and f"已导出 {YEAR} 年第 1 季度管理指标" in out
    code, _, err = cli("--data-dir", demo_dir, "indicators", "--period", f"{YEAR}-Q5", "--user", "kaohe1")
    assert code == 1 and "季度 5 不对" in err
    with pytest.raises(SystemExit):
        cli("--data-dir", demo_dir, "indicators", "--period", str(YEAR), "--year", YEAR, "--user", "kaohe1")


def test_template_and_import_over_the_registry(cli, registry_dir, tmp_path: Path) -> None:
    code, out, _ = cli("template", "followups", tmp_path / "template.xlsx")
    assert code == 0 and out.strip() == f"已生成历史随访导入模板：{tmp_path / 'template.xlsx'}"
    assert load_workbook(tmp_path / "template.xlsx").sheetnames == ["随访记录", "填写说明"]
    root, patients = registry_dir
    clean = write_visits(tmp_path / "clean.xlsx", good_rows(patients))
    code, out, _ = cli("--data-dir", root, "import", "followups", clean, "--dry-run", "--user", "luru1")
    assert (code, out.strip().splitlines()[-1]) == (0, "imported 8, updated 0, rejected 0") and "未写入" in out


def test_export_over_the_registry(cli, demo_dir: Path, tmp_path: Path) -> None:
    code, out, err = cli("--data-dir", demo_dir, "export", "followups", tmp_path / "v.xlsx", "--year", YEAR,
                         "--village", "101", "--user", "cunyi001")
    assert code == 0 and "已导出 2025 年随访" in out, err
