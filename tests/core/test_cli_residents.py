"""`township-desk residents import|export|search`, run in-process through `desktop.cli.main`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from core_support import DEMO_PASSWORD, data_dir_with, register_counts
from openpyxl import load_workbook
from roster_support import good_rows, id_for, write_roster
from test_resident_import import bad_rows

from desktop.app import open_app
from desktop.cli import PASSWORD_ENV, main

PROJECT_ROOT = Path(__file__).resolve().parents[2]


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
def registry_dir(registry_template: Path, tmp_path: Path) -> Path:
    return data_dir_with(registry_template, tmp_path / "data")


@pytest.fixture
def demo_dir(demo_template: Path, tmp_path: Path) -> Path:
    return data_dir_with(demo_template, tmp_path / "data")


def counts(data_dir: Path) -> tuple[int, int]:
    """(residents, conditions); the audit grows by each sign-in of the command line."""
    app = open_app(data_dir)
    try:
        return register_counts(app.db)[:2]
    finally:
        app.close()


def test_import_valid_rows_then_again_reports_nothing_new(cli, registry_dir: Path, tmp_path: Path) -> None:
    roster = write_roster(tmp_path / "r.xlsx", good_rows() + bad_rows())
    code, out, err = cli("--data-dir", registry_dir, "residents", "import", roster, "--valid-only",
                         "--errors", tmp_path / "errors.xlsx", "--user", "luru1")
    assert code == 0, err
    lines = out.strip().splitlines()
    assert lines[-1] == "imported 5, updated 0, rejected 10"
    assert any(line.startswith("第 9 行，身份证号码：") for line in lines)
    assert len(list(load_workbook(tmp_path / "errors.xlsx").active.iter_rows())) == 11
    code, out, _ = cli("--data-dir", registry_dir, "residents", "import", roster, "--valid-only", "--user", "luru1")
    assert (code, out.strip().splitlines()[-1]) == (0, "imported 0, updated 0, rejected 10")


def test_all_or_nothing_and_dry_run_write_nothing(cli, registry_dir: Path, tmp_path: Path) -> None:
    roster = write_roster(tmp_path / "r.xlsx", good_rows() + bad_rows()[:2])
    before = counts(registry_dir)
    code, out, _ = cli("--data-dir", registry_dir, "residents", "import", roster, "--user", "luru1")
    assert (code, out.strip().splitlines()[-1]) == (1, "imported 0, updated 0, rejected 2")
    assert counts(registry_dir) == before
    clean = write_roster(tmp_path / "clean.xlsx", good_rows())
    code, out, _ = cli("--data-dir", registry_dir, "residents", "import", clean, "--dry-run", "--user", "luru1")
    assert (code, out.strip().splitlines()[-1]) == (0, "imported 5, updated 0, rejected 0")
    assert "未写入" in out and counts(registry_dir) == before
    code, out, _ = cli("--data-dir", registry_dir, "residents", "import", clean, "--user", "luru1")
    assert (code, out.strip().splitlines()[-1]) == (0, "imported 5, updated 0, rejected 0")


def test_import_needs_the_right_and_the_password(cli, registry_dir: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    roster = write_roster(tmp_path / "r.xlsx", good_rows())
    code, _, err = cli("--data-dir", registry_dir, "residents", "import", roster, "--user", "cunyi001")
    assert code == 1 and "无权导入居民档案" in err
    monkeypatch.delenv(PASSWORD_ENV)
    code, _, err = cli("--data-dir", registry_dir, "residents", "import", roster, "--user", "luru1")
    assert code == 1 and PASSWORD_ENV in err


def test_export_for_a_village_doctor_is_limited_to_their_villages(cli, demo_dir: Path, tmp_path: Path) -> None:
    code, out, err = cli("--data-dir", demo_dir, "residents", "export", tmp_path / "mine.xlsx", "--village", "101",
                         "--user", "cunyi001")
    assert code == 0, err
    assert "已导出" in out and "部分隐藏" not in out
    villages = {row[8] for row in load_workbook(tmp_path / "mine.xlsx", read_only=True).active.iter_rows(
        min_row=2, values_only=True)}
    assert villages == {"柳树村"}
    code, _, err = cli("--data-dir", demo_dir, "residents", "export", tmp_path / "other.xlsx", "--village", "102",
                       "--user", "cunyi001")
    assert code == 1 and "不属于您负责的村" in err and not (tmp_path / "other.xlsx").exists()
    code, out, _ = cli("--data-dir", demo_dir, "residents", "export", tmp_path / "all.xlsx", "--user", "yuanzhang")
    assert code == 0 and "部分隐藏" in out


def test_search_prints_one_json_object_per_match_with_a_masked_id(cli, registry_dir: Path, tmp_path: Path) -> None:
    cli("--data-dir", registry_dir, "residents", "import", write_roster(tmp_path / "r.xlsx", good_rows()),
        "--user", "luru1")
    code, out, err = cli("--data-dir", registry_dir, "residents", "search", "zsf", "--json", "--user", "luru1")
    assert code == 0, err
    objects = [json.loads(line) for line in out.strip().splitlines()]
    assert len(objects) == 1
    found = objects[0]
    assert (found["name"], found["sex"], found["birth_date"], found["village_code"]) == ("张三丰", "男", "1955-03-02", "101")
    assert len(found["record_no"]) == 17
    number = id_for("1955-03-02", 11)
    assert found["id_number"] == number[:6] + "********" + number[-4:]
    code, out, _ = cli("--data-dir", registry_dir, "residents", "search", number[-4:], "--limit", "5", "--user", "luru1")
    assert code == 0 and "张三丰" in out and number not in out
    code, out, _ = cli("--data-dir", registry_dir, "residents", "search", "zsf", "--json", "--user", "cunyi102")
    assert (code, out) == (0, "")  # 张三丰 lives in village 101, outside cunyi102's village


def test_import_residents_over_the_registry_prints_what_the_alias_prints(cli, registry_template: Path,
                                                                        tmp_path: Path) -> None:
    roster = write_roster(tmp_path / "r.xlsx", good_rows() + bad_rows())
    outputs = []
    for name, words in (("alias", ("residents", "import")), ("kind", ("import", "residents"))):
        data = data_dir_with(registry_template, tmp_path / name)
        code, out, err = cli("--data-dir", data, *words, roster, "--valid-only", "--user", "luru1")
        assert code == 0, err
        outputs.append(out)
    assert outputs[0] == outputs[1] and outputs[1].strip().splitlines()[-1] == "imported 5, updated 0, rejected 10"


def test_export_residents_over_the_registry_and_unknown_kinds(cli, demo_dir: Path, tmp_path: Path) -> None:
    code, out, err = cli("--data-dir", demo_dir, "export", "residents", tmp_path / "mine.xlsx", "--village", "101",
                         "--user", "cunyi001")
    assert code == 0 and "已导出" in out, err
    villages = {row[8] for row in load_workbook(tmp_path / "mine.xlsx", read_only=True).active.iter_rows(
        min_row=2, values_only=True)}
    assert villages == {"柳树村"}
    with pytest.raises(SystemExit):
        main(["--data-dir", str(demo_dir), "import", "contracts", str(tmp_path / "x.xlsx"), "--user", "luru1"])


def test_a_closed_output_pipe_ends_the_command_quietly(demo_dir: Path) -> None:
    """`residents search … --json | head -1`: the reader goes away after one line; no traceback."""
    env = {key: value for key, value in os.environ.items() if key != "TOWNSHIP_DESK_DATA"}
    env[PASSWORD_ENV] = DEMO_PASSWORD
    process = subprocess.Popen(
        [sys.executable, "-m", "desktop", "--data-dir", str(demo_dir), "residents", "search", "z", "--json",
         "--limit", "1000", "--user", "luru1"],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    first = json.loads(process.stdout.readline())
    process.stdout.close()  # far more than a pipe's buffer is still to come (hundreds of residents)
    error = process.stderr.read().decode("utf-8")
    assert process.wait(timeout=60) in (0, 141)
    assert first["record_no"] and "Traceback" not in error and "BrokenPipe" not in error, error
