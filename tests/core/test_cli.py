"""The command line, run in-process through `desktop.cli.main` and once as `python -m desktop`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
from core_support import ADMIN_PASSWORD, DEMO_PASSWORD, actor_for, corrupt_middle, data_dir_with
from data_templates import database_key, open_database
from sqlalchemy import select

from desktop.app import open_app
from desktop.backups import list_backups
from desktop.cli import PASSWORD_ENV, main
from desktop.db import run_check
from desktop.dbfile import SCHEMA_HEAD
from desktop.models import AuditEntry
from desktop.paths import DB_FILENAME, DataPaths
from desktop.services.audit import Action, verify_chain
from desktop.services.branch import VillageInput, add_village, list_villages

PROJECT_ROOT = Path(__file__).resolve().parents[2]

INIT_ARGS = ("init", "--county-code", "513422", "--township-code", "021", "--branch-name", "白水乡卫生院",
             "--head-hospital", "白水县人民医院", "--admin", "admin", "--admin-name", "李强",
             "--village", "001:白水社区:白水社区卫生室", "--village", "101:上坝村")


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):
    """Run the command line in-process; returns (exit code, stdout, stderr)."""

    def run(*args: object) -> tuple[int, str, str]:
        code = main([str(arg) for arg in args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


@pytest.fixture
def demo_dir(demo_template: Path, tmp_path: Path) -> Path:
    return data_dir_with(demo_template, tmp_path / "data")


def _last_audit(data_dir: Path) -> tuple[str, str, str]:
    app = open_app(data_dir)
    try:
        with app.db.read() as session:
            entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
            return entry.actor, entry.action, entry.summary
    finally:
        app.close()


def _village_codes(data_dir: Path) -> list[str]:
    app = open_app(data_dir)
    try:
        return [village.code for village in list_villages(app.db)]
    finally:
        app.close()


def _add_village(data_dir: Path, code: str) -> None:
    app = open_app(data_dir)
    try:
        add_village(app.db, actor_for(app.db, "admin"), VillageInput(code, "后加村"))
    finally:
        app.close()


# --- init and demo ---------------------------------------------------------------------------------


def test_init_then_a_second_init_is_refused(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, ADMIN_PASSWORD)
    code, out, err = cli("--data-dir", tmp_path, *INIT_ARGS)
    assert code == 0, err
    assert "已设置分院：白水乡卫生院（513422021）" in out and "首次登录时须修改初始密码" in out
    assert _village_codes(tmp_path) == ["001", "101"]

    code, out, err = cli("--data-dir", tmp_path, *INIT_ARGS)
    assert code == 1
    assert "该数据目录已设置分院，不会覆盖现有数据。" in err


def test_init_reports_each_bad_field(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "weak")
    code, _, err = cli("--data-dir", tmp_path, "init", "--county-code", "5134", "--township-code", "021",
                       "--branch-name", "某乡卫生院", "--head-hospital", "某县医院", "--admin", "admin")
    assert code == 1
    assert "县（区）代码应为 6 位数字" in err and "密码至少 8 位" in err
    app = open_app(tmp_path)
    try:
        assert not app.is_set_up()
    finally:
        app.close()


def test_init_refuses_a_malformed_village_argument(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, ADMIN_PASSWORD)
    code, _, err = cli("--data-dir", tmp_path, *INIT_ARGS[:-2], "--village", "101")
    assert code == 1 and "格式应为" in err


def test_demo_prints_the_demo_sign_in(cli, tmp_path: Path) -> None:
    code, out, _ = cli("--data-dir", tmp_path, "demo")
    assert code == 0
    assert "已创建演示分院" in out
    assert f"演示账户（密码均为 {DEMO_PASSWORD}）" in out
    assert "admin" in out and "cunyi001" in out
    code, out, _ = cli("--data-dir", tmp_path, "demo")
    assert code == 0 and "演示分院已存在" in out and DEMO_PASSWORD in out


def test_demo_refuses_a_real_branch(cli, real_template: Path, tmp_path: Path) -> None:
    data_dir = data_dir_with(real_template, tmp_path / "data")
    code, _, err = cli("--data-dir", data_dir, "demo")
    assert code == 1 and "不能写入演示数据" in err


# --- check -----------------------------------------------------------------------------------------


def test_check_passes_a_sound_database(cli, demo_dir: Path) -> None:
    code, out, _ = cli("--data-dir", demo_dir, "check")
    assert code == 0 and "数据库完好" in out and SCHEMA_HEAD in out


def test_check_fails_without_a_database(cli, tmp_path: Path) -> None:
    code, out, _ = cli("--data-dir", tmp_path, "check")
    assert code == 1 and "没有数据库" in out


def _backup(cli, demo_dir: Path, monkeypatch: pytest.MonkeyPatch, *extra: object):
    """`backup` as the clerk (the command needs a signed-in person)."""
    monkeypatch.setenv(PASSWORD_ENV, DEMO_PASSWORD)
    return cli("--data-dir", demo_dir, "backup", "--user", "luru1", *extra)


def test_check_fails_on_a_corrupt_database_and_suggests_the_newest_backup(
    cli, demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = _backup(cli, demo_dir, monkeypatch)
    assert code == 0
    backup = list_backups(DataPaths(demo_dir))[0].path
    corrupt_middle(demo_dir / DB_FILENAME)

    code, _, err = cli("--data-dir", demo_dir, "check")
    assert code == 1
    assert "损坏" in err
    assert "可从最近的完好备份恢复" in err and str(backup) in err


def test_check_fails_on_broken_foreign_keys_and_suggests_a_backup(
    cli, demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _backup(cli, demo_dir, monkeypatch)[0] == 0
    with closing(open_database(demo_dir / DB_FILENAME, isolation_level=None)) as connection:
        connection.execute("PRAGMA foreign_keys = OFF")
        connection.execute("UPDATE staff SET clinic_id = 9999 WHERE clinic_id IS NOT NULL")
    code, out, err = cli("--data-dir", demo_dir, "check")  # quick_check passes; integrity_check does not
    assert code == 1
    assert "完整性检查未通过" in out and "外键错误" in out
    assert "  ok" not in out.splitlines()
    assert "可从最近的完好备份恢复" in err


def test_check_on_a_corrupt_database_without_backups_says_so(cli, demo_dir: Path) -> None:
    corrupt_middle(demo_dir / DB_FILENAME)
    code, _, err = cli("--data-dir", demo_dir, "check")
    assert code == 1 and "没有可用的备份" in err


def test_python_dash_m_desktop_runs_the_command_line(demo_dir: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key not in ("TOWNSHIP_DESK_DATA", PASSWORD_ENV)}
    completed = subprocess.run(
        [sys.executable, "-m", "desktop", "--data-dir", str(demo_dir), "check"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, encoding="utf-8", timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    assert "数据库完好" in completed.stdout

    corrupt_middle(demo_dir / DB_FILENAME)
    completed = subprocess.run(
        [sys.executable, "-m", "desktop", "--data-dir", str(demo_dir), "check"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, encoding="utf-8", timeout=60,
    )
    assert completed.returncode == 1 and "损坏" in completed.stderr


# --- backup and restore ----------------------------------------------------------------------------


def test_backup_then_restore_needs_an_admin_when_the_database_is_sound(
    cli, demo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out_file = tmp_path / "usb" / "copy.sqlite"
    code, out, _ = _backup(cli, demo_dir, monkeypatch, "--out", out_file)
    assert code == 0 and str(out_file) in out
    assert run_check(out_file, key=database_key(demo_dir / DB_FILENAME), full=True) == []
    _add_village(demo_dir, "113")
    assert "113" in _village_codes(demo_dir)

    code, _, err = cli("--data-dir", demo_dir, "restore", out_file)
    assert code == 1 and "需要系统管理员" in err
    assert "113" in _village_codes(demo_dir)

    monkeypatch.setenv(PASSWORD_ENV, DEMO_PASSWORD)
    code, _, err = cli("--data-dir", demo_dir, "restore", out_file, "--user", "yuanzhang")
    assert code == 1 and "无权从备份恢复" in err
    assert "113" in _village_codes(demo_dir)

    code, out, err = cli("--data-dir", demo_dir, "restore", out_file, "--user", "admin")
    assert code == 0, err
    assert "原数据库已另存为" in out and "操作人 admin" in out
    assert "113" not in _village_codes(demo_dir)
    assert [b.reason for b in list_backups(DataPaths(demo_dir))] == ["before-restore"]
    assert list(demo_dir.glob(f"{DB_FILENAME}.replaced-*"))
    actor, action, summary = _last_audit(demo_dir)
    assert (actor, action) == ("admin", Action.RESTORE.value) and "copy.sqlite" in summary
    app = open_app(demo_dir)
    try:
        assert verify_chain(app.db).intact
    finally:
        app.close()


def test_a_corrupt_database_is_restored_without_a_user_and_kept_aside(
    cli, demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _backup(cli, demo_dir, monkeypatch)[0] == 0
    backup = list_backups(DataPaths(demo_dir))[0].path
    database = demo_dir / DB_FILENAME
    corrupt_middle(database)
    damaged = database.read_bytes()

    code, out, err = cli("--data-dir", demo_dir, "restore", backup)
    assert code == 0, err
    assert "操作人 system" in out
    (aside,) = demo_dir.glob(f"{DB_FILENAME}.replaced-*[0-9]")
    assert aside.read_bytes() == damaged
    assert cli("--data-dir", demo_dir, "check")[0] == 0
    actor, action, summary = _last_audit(demo_dir)
    assert (actor, action) == ("system", Action.RESTORE.value) and "损坏" in summary


def test_restore_refuses_a_damaged_backup(
    cli, demo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"\0garbage" * 1000)
    monkeypatch.setenv(PASSWORD_ENV, DEMO_PASSWORD)
    code, _, err = cli("--data-dir", demo_dir, "restore", bad, "--user", "admin")
    assert code == 1 and "无法从该备份恢复" in err
    assert not list(demo_dir.glob(f"{DB_FILENAME}.replaced-*"))
    assert cli("--data-dir", demo_dir, "check")[0] == 0
    assert len(_village_codes(demo_dir)) == 13


def test_backup_with_a_user_is_audited(cli, demo_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, DEMO_PASSWORD)
    code, _, err = cli("--data-dir", demo_dir, "backup", "--user", "luru1")
    assert code == 0, err
    actor, action, _ = _last_audit(demo_dir)
    assert (actor, action) == ("luru1", Action.BACKUP.value)


def test_backup_without_a_user_is_refused_and_makes_no_file(
    cli, demo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, DEMO_PASSWORD)
    out_file = tmp_path / "copy.sqlite"
    code, _, err = cli("--data-dir", demo_dir, "backup", "--out", out_file)
    assert code == 1 and "--user" in err
    assert not out_file.exists() and list_backups(DataPaths(demo_dir)) == []


def test_backup_by_a_user_without_the_right_makes_no_file(
    cli, demo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, DEMO_PASSWORD)
    out_file = tmp_path / "copy.sqlite"
    code, _, err = cli("--data-dir", demo_dir, "backup", "--out", out_file, "--user", "kaohe1")
    assert code == 1 and "无权备份数据库" in err
    assert not out_file.exists()


# --- audit verify ----------------------------------------------------------------------------------


def test_audit_verify_finds_tampering(cli, demo_dir: Path) -> None:
    code, out, _ = cli("--data-dir", demo_dir, "audit", "verify")
    assert code == 0 and "审计日志完整：共 2 条" in out

    with closing(open_database(demo_dir / DB_FILENAME, isolation_level=None)) as connection:
        connection.execute("DROP TRIGGER audit_entry_no_update")
        connection.execute("UPDATE audit_entry SET summary = '什么也没发生' WHERE seq = 2")

    code, out, _ = cli("--data-dir", demo_dir, "audit", "verify")
    assert code == 1
    assert "第 2 条" in out and "被修改" in out


def test_help_lists_every_command_each_module_registered_without_loading_the_core() -> None:
    """The entry module lists no command: each area's module registers its own; --help stays quick."""
    code = (
        "import contextlib, io, json, sys\n"
        "from desktop.cli import main\n"
        "from desktop.cli.registry import COMMANDS\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    try:\n"
        "        main(['--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(json.dumps([sorted(COMMANDS), out.getvalue(), 'sqlalchemy' in sys.modules]))\n"
    )
    env = {key: value for key, value in os.environ.items() if key != "TOWNSHIP_DESK_DATA"}
    completed = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, env=env, capture_output=True,
                               text=True, encoding="utf-8", timeout=60, check=False)
    assert completed.returncode == 0, completed.stderr
    names, text, core_loaded = json.loads(completed.stdout)
    assert {"gui", "init", "residents", "followups", "import", "export", "template", "print", "sync"} <= set(names)
    assert all(f"    {name} " in text for name in names) and not core_loaded
