"""Data at rest: the database, its backups and the site's private keys are encrypted (SQLCipher).

A copied file or backup is useless without the key; the recovery key restores on another PC;
rotation re-keys everything; an older plain database is encrypted in place keeping every row.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from core_support import DEMO_PASSWORD, FIXTURES, copy_database
from encryption_support import encrypt_into, plain_copy
from sqlalchemy import select

from desktop.app import App, open_app
from desktop.at_rest import next_secrets_path, read_wrapped_audit_key
from desktop.backups import create_backup, list_backups
from desktop.cli import PASSWORD_ENV, main
from desktop.errors import ValidationError
from desktop.models import Resident
from desktop.paths import DB_FILENAME, DataPaths
from desktop.recovery_key import (
    database_key_from,
    format_recovery_key,
    new_recovery_key,
    parse_recovery_key,
    unwrap_audit_key,
)
from desktop.services.audit import verify_chain
from desktop.site_secrets import load_secrets, save_secrets
from desktop.sqlite_driver import KeyRejected, connect, is_plain
from desktop.sync import site
from township_wire.crypto import KeyPair

FIXTURE_0005 = FIXTURES / "db" / "schema-0005-demo.sqlite"
RECOVERY_KEY_LINE = re.compile(r"恢复密钥：(\d{6}(?:-\d{6}){7})")


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
    """A closed copy of the demo branch's data directory (database and key file)."""
    root = tmp_path / "demo"
    copy_database(demo_template, root / DB_FILENAME)
    return root


def _an_id_number(app: App) -> str:
    with app.db.read() as session:
        return session.scalars(select(Resident.id_number).where(Resident.id_number.is_not(None)).limit(1)).one()


def _files_of(root: Path) -> Iterator[Path]:
    return (path for path in root.rglob("*") if path.is_file())


def _recovery_key_in(text: str) -> str:
    match = RECOVERY_KEY_LINE.search(text)
    assert match, text
    return match.group(1)


# --- the recovery key ------------------------------------------------------------------------------


def test_recovery_key_is_eight_groups_that_check_themselves() -> None:
    key = new_recovery_key()
    assert re.fullmatch(r"\d{6}(-\d{6}){7}", key)
    assert format_recovery_key(parse_recovery_key(key)) == key
    assert parse_recovery_key(key.replace("-", " ")) == parse_recovery_key(key.replace("-", ""))
    groups = key.split("-")
    typo = groups[2][:-1] + str((int(groups[2][-1]) + 1) % 10)
    with pytest.raises(ValidationError, match="第 3 组"):
        parse_recovery_key("-".join([*groups[:2], typo, *groups[3:]]))
    swapped = groups[5][1] + groups[5][0] + groups[5][2:]
    if swapped != groups[5]:
        with pytest.raises(ValidationError, match="第 6 组"):
            parse_recovery_key("-".join([*groups[:5], swapped, *groups[6:]]))
    with pytest.raises(ValidationError, match="8 组"):
        parse_recovery_key("123456-234567")
    assert database_key_from(key) != database_key_from(new_recovery_key())  # well formed but another key


# --- the files ------------------------------------------------------------------------------------


def test_database_and_backups_hold_no_id_number_in_clear(demo_app: App, tmp_path: Path) -> None:
    id_number = _an_id_number(demo_app).encode("ascii")
    backup = create_backup(demo_app.paths)
    usb = create_backup(demo_app.paths, out=tmp_path / "usb" / "copy.sqlite")
    with demo_app.db.write() as session:  # the write-ahead log holds pages too
        session.get(Resident, 1).phone = "13900000000"
    for file in [*_files_of(demo_app.paths.root), usb]:
        assert id_number not in file.read_bytes(), file
    assert not is_plain(demo_app.paths.database) and not is_plain(backup) and not is_plain(usb)
    demo_app.close()
    clear = plain_copy(demo_app.paths.database, demo_app.db.secrets.database_key, tmp_path / "clear.sqlite")
    assert id_number in clear.read_bytes()  # the search above would have found it


def test_a_copied_backup_cannot_be_opened_without_the_key(demo_app: App, tmp_path: Path) -> None:
    usb = create_backup(demo_app.paths, out=tmp_path / "usb" / "copy.sqlite")
    with closing(sqlite3.connect(usb)) as connection, pytest.raises(sqlite3.DatabaseError, match="not a database"):
        connection.execute("SELECT count(*) FROM resident").fetchone()
    shell = subprocess.run(["sqlite3", str(usb), "SELECT count(*) FROM resident;"], capture_output=True, text=True)
    assert shell.returncode != 0 and "not a database" in shell.stderr
    with pytest.raises(KeyRejected, match="密钥"):
        connect(usb, key=database_key_from(new_recovery_key()))
    with closing(connect(usb, key=demo_app.db.secrets.database_key)) as connection:
        assert connection.execute("SELECT count(*) FROM resident").fetchone()[0] > 0


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
def test_files_the_app_creates_are_private(demo_app: App, tmp_path: Path) -> None:
    backup = create_backup(demo_app.paths)
    usb = create_backup(demo_app.paths, out=tmp_path / "usb" / "copy.sqlite")
    with demo_app.db.write() as session:
        session.get(Resident, 1).phone = "13900000001"
        wal = [Path(str(demo_app.paths.database) + suffix) for suffix in ("-wal", "-shm")]
        assert all(path.exists() for path in wal)
        for file in (demo_app.paths.database, demo_app.paths.secrets, backup, usb, *wal):
            assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
    fresh = open_app(tmp_path / "fresh")
    try:
        for file in (fresh.paths.database, fresh.paths.secrets):
            assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
        assert stat.S_IMODE(fresh.paths.backups.stat().st_mode) == 0o700
    finally:
        fresh.close()


def test_a_new_data_directory_gets_a_random_key_derived_from_its_recovery_key(tmp_path: Path) -> None:
    first, second = open_app(tmp_path / "a"), open_app(tmp_path / "b")
    try:
        assert first.pending_recovery_key and first.pending_recovery_key != second.pending_recovery_key
        assert first.db.secrets.database_key == database_key_from(first.pending_recovery_key)
        wrapped = read_wrapped_audit_key(first.paths.database, first.db.secrets.database_key)
        assert unwrap_audit_key(first.pending_recovery_key, wrapped) == (first.db.secrets.audit_key, 1)
        assert unwrap_audit_key(second.pending_recovery_key, wrapped) is None
    finally:
        first.close()
        second.close()


def test_the_sync_private_keys_are_only_inside_the_encrypted_database(demo_app: App) -> None:
    keys = KeyPair.generate()
    enrolment = site.Enrolment(site_id="S1", server_url="http://127.0.0.1:1", head_name="总院",
                               head_keys=KeyPair.generate().public, site_keys=keys, enrolled_at="2026-12-01")
    with demo_app.db.write() as session:
        site.set_value(session, site.CONFIG_KEY, enrolment.to_json())
    backup = create_backup(demo_app.paths)
    secrets_text = [keys.sign_private, keys.box_private, *(v.encode() for v in keys.to_json().values())]
    for file in [*_files_of(demo_app.paths.root), backup]:
        content = file.read_bytes()
        assert not any(secret in content for secret in secrets_text), file


# --- init, demo, restore with the recovery key ------------------------------------------------------


def test_init_prints_the_recovery_key_once(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "Qingshan#2026")
    code, out, err = cli("--data-dir", tmp_path, "init", "--county-code", "513422", "--township-code", "021",
                         "--branch-name", "白水乡卫生院", "--head-hospital", "白水县人民医院", "--admin", "admin")
    assert code == 0, err
    recovery = _recovery_key_in(out)
    assert "抄写" in out and "只显示这一次" in out
    secrets = load_secrets(DataPaths(tmp_path).secrets)
    assert secrets.pending_recovery_key is None  # shown: no longer kept on this PC
    assert secrets.database_key == database_key_from(recovery)
    assert recovery.encode() not in b"".join(file.read_bytes() for file in _files_of(tmp_path))


def test_restore_on_another_pc_with_the_recovery_key(cli, tmp_path: Path) -> None:
    home = tmp_path / "home"
    code, out, err = cli("--data-dir", home, "demo", "--residents", "20")
    assert code == 0, err
    recovery = _recovery_key_in(out)
    paths = DataPaths(home)
    usb = create_backup(paths, out=tmp_path / "usb" / "copy.sqlite")
    home_secrets = load_secrets(paths.secrets)
    other = tmp_path / "other-pc"

    wrong = new_recovery_key()
    code, _, err = cli("--data-dir", other, "restore", usb, "--recovery-key", wrong)
    assert code == 1 and "恢复密钥与该备份不符" in err
    assert not (other / DB_FILENAME).exists() and not (other / "township-desk.keys").exists()
    groups = recovery.split("-")
    typo = "-".join([groups[0], groups[1][:-1] + str((int(groups[1][-1]) + 3) % 10), *groups[2:]])
    code, _, err = cli("--data-dir", other, "restore", usb, "--recovery-key", typo)
    assert code == 1 and "第 2 组" in err
    code, _, err = cli("--data-dir", other, "restore", usb)
    assert code == 1 and "--recovery-key" in err

    code, out, err = cli("--data-dir", other, "restore", usb, "--recovery-key", recovery)
    assert code == 0, err
    restored = load_secrets(DataPaths(other).secrets)
    assert restored.database_key == home_secrets.database_key
    assert (restored.audit_key, restored.audit_keyed_from) == (home_secrets.audit_key, home_secrets.audit_keyed_from)
    app = open_app(other)
    try:
        assert app.branch is not None and app.branch.is_demo
        assert verify_chain(app.db).intact
    finally:
        app.close()


def test_restore_over_a_database_under_another_key_keeps_it_openable_aside(cli, demo_dir: Path,
                                                                          tmp_path: Path) -> None:
    code, out, _ = cli("--data-dir", tmp_path / "elsewhere", "demo", "--residents", "5")
    recovery = _recovery_key_in(out)
    usb = create_backup(DataPaths(tmp_path / "elsewhere"), out=tmp_path / "usb.sqlite")
    local = load_secrets(DataPaths(demo_dir).secrets)
    (demo_dir / "township-desk.keys").unlink()  # this PC lost its key file: its database cannot be opened
    code, out, err = cli("--data-dir", demo_dir, "restore", usb, "--recovery-key", recovery)
    assert code == 0, err
    (aside,) = demo_dir.glob(f"{DB_FILENAME}.replaced-*[0-9]")
    with closing(connect(aside, key=local.database_key)) as connection:
        assert connection.execute("SELECT count(*) FROM resident").fetchone()[0] > 5
    assert load_secrets(DataPaths(demo_dir).secrets).database_key == database_key_from(recovery)


# --- rotation -------------------------------------------------------------------------------------


def test_key_rotate_rekeys_the_database_and_the_backups(cli, demo_dir: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    paths = DataPaths(demo_dir)
    old = load_secrets(paths.secrets)
    create_backup(paths, reason="manual")
    monkeypatch.setenv(PASSWORD_ENV, DEMO_PASSWORD)
    code, _, err = cli("--data-dir", demo_dir, "key", "rotate", "--user", "luru1")
    assert code == 1 and "无权" in err
    assert load_secrets(paths.secrets) == old

    code, out, err = cli("--data-dir", demo_dir, "key", "rotate", "--user", "admin")
    assert code == 0, err
    recovery = _recovery_key_in(out)
    assert "重新加密" in out
    new = load_secrets(paths.secrets)
    assert new.database_key == database_key_from(recovery) != old.database_key
    assert (new.audit_key, new.pending_recovery_key) == (old.audit_key, None)
    assert not next_secrets_path(paths).exists()
    with pytest.raises(KeyRejected):
        connect(paths.database, key=old.database_key)
    assert {b.reason for b in list_backups(paths)} == {"manual", "before-rotation"}
    for backup in list_backups(paths):
        with pytest.raises(KeyRejected):
            connect(backup.path, key=old.database_key)
        connect(backup.path, key=new.database_key).close()
    app = open_app(demo_dir)
    try:
        assert verify_chain(app.db).intact
        wrapped = read_wrapped_audit_key(paths.database, new.database_key)
        assert unwrap_audit_key(recovery, wrapped) == (new.audit_key, new.audit_keyed_from)
    finally:
        app.close()
    assert cli("--data-dir", demo_dir, "check")[0] == 0


def test_an_interrupted_rotation_is_finished_at_the_next_open(demo_dir: Path) -> None:
    """The re-key committed but the key file was not yet replaced: the next open adopts keys.next."""
    paths = DataPaths(demo_dir)
    old = load_secrets(paths.secrets)
    recovery = new_recovery_key()
    from desktop.at_rest import secrets_for_recovery_key
    from desktop.sqlite_driver import rekey

    new = secrets_for_recovery_key(recovery, audit_key=old.audit_key, keyed_from=old.audit_keyed_from)
    save_secrets(next_secrets_path(paths), new)
    with closing(connect(paths.database, key=old.database_key)) as connection:
        rekey(connection, new.database_key)
    app = open_app(demo_dir)
    try:
        assert app.db.secrets == new and app.pending_recovery_key == recovery  # still to be shown
        assert not next_secrets_path(paths).exists()
    finally:
        app.close()


def test_a_rotation_that_did_not_commit_leaves_the_old_key(demo_dir: Path) -> None:
    paths = DataPaths(demo_dir)
    old = load_secrets(paths.secrets)
    from desktop.at_rest import secrets_for_recovery_key

    save_secrets(next_secrets_path(paths), secrets_for_recovery_key(
        new_recovery_key(), audit_key=old.audit_key, keyed_from=old.audit_keyed_from))
    app = open_app(demo_dir)
    try:
        assert app.db.secrets == old
        assert not next_secrets_path(paths).exists()
    finally:
        app.close()


# --- upgrading a plain database ---------------------------------------------------------------------


def _row_counts(connection) -> dict[str, int]:
    tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {table: connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] for table in tables}


def test_the_0005_fixture_is_encrypted_in_place_keeping_every_row(cli, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    shutil.copy(FIXTURE_0005, data_dir / DB_FILENAME)
    with closing(sqlite3.connect(f"file:{FIXTURE_0005}?mode=ro", uri=True)) as connection:
        before = _row_counts(connection)
        id_number = connection.execute("SELECT id_number FROM resident WHERE id_number IS NOT NULL").fetchone()[0]

    code, out, err = cli("--data-dir", data_dir, "check")
    assert code == 0, err  # `check` does not open the app: nothing is changed by it
    assert is_plain(data_dir / DB_FILENAME)
    code, out, err = cli("--data-dir", data_dir, "audit", "verify")
    assert code == 0, err
    recovery = _recovery_key_in(out)
    assert "数据库已加密" in out

    paths = DataPaths(data_dir)
    secrets = load_secrets(paths.secrets)
    assert secrets.database_key == database_key_from(recovery)
    assert secrets.pending_recovery_key == recovery  # until an admin has seen it in the window
    assert not is_plain(paths.database)
    with closing(connect(paths.database, key=secrets.database_key)) as connection:
        after = _row_counts(connection)
    after.pop("setting")
    assert after == {table: count for table, count in before.items() if table != "setting"}
    (backup,) = list_backups(paths)
    assert backup.reason == "before-encryption" and not is_plain(backup.path)
    with closing(connect(backup.path, key=secrets.database_key)) as connection:
        assert _row_counts(connection) == before
    for file in _files_of(data_dir):
        assert id_number.encode() not in file.read_bytes(), file
    assert not list(data_dir.glob("*.encrypting")) and not list(paths.backups.glob("*.sealing"))

    code, out, _ = cli("--data-dir", data_dir, "audit", "verify")
    assert code == 0 and "恢复密钥" not in out  # printed by the command that upgraded, not again


def test_an_interrupted_encryption_is_done_again_with_the_same_recovery_key(tmp_path: Path) -> None:
    """Crash after the key file was written but before the encrypted copy replaced the plain file."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    shutil.copy(FIXTURE_0005, data_dir / DB_FILENAME)
    paths = DataPaths(data_dir)
    from desktop.at_rest import secrets_for_recovery_key
    from desktop.site_secrets import new_key

    recovery = new_recovery_key()
    save_secrets(paths.secrets, secrets_for_recovery_key(recovery, audit_key=new_key(), keyed_from=1))
    app = open_app(data_dir)
    try:
        assert app.pending_recovery_key == recovery
        assert not is_plain(paths.database)
    finally:
        app.close()


# --- editing as an intruder holding the key ---------------------------------------------------------


def test_plain_copy_and_encrypt_into_round_trip_through_the_sqlite3_shell(demo_app: App, tmp_path: Path) -> None:
    key = demo_app.db.secrets.database_key
    demo_app.close()
    clear = plain_copy(demo_app.paths.database, key, tmp_path / "clear.sqlite")
    subprocess.run(["sqlite3", str(clear), "UPDATE village SET name = '改名村' WHERE id = 1;"], check=True)
    encrypt_into(clear, key, demo_app.paths.database)
    assert not is_plain(demo_app.paths.database)
    app = open_app(demo_app.paths.root)
    try:
        with app.db.read() as session:
            from desktop.models import Village

            assert session.get(Village, 1).name == "改名村"
    finally:
        app.close()


def test_the_printed_recovery_key_sheet_shows_every_group() -> None:
    from datetime import date

    from desktop.printing.pdf import render_pdf
    from desktop.printing.recovery_key_sheet import TITLE, recovery_key_sheet

    key = new_recovery_key()
    sheet = recovery_key_sheet(key, branch_name="青山镇卫生院", printed_on=date(2026, 12, 3))
    text = " ".join(sheet.texts())
    assert all(group in text for group in key.split("-")) and "青山镇卫生院" in text
    assert render_pdf([sheet], TITLE).startswith(b"%PDF")


def test_a_plain_backup_of_an_older_version_is_encrypted_on_restore(cli, demo_dir: Path, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    paths = DataPaths(demo_dir)
    secrets = load_secrets(paths.secrets)
    sealed = read_wrapped_audit_key(paths.database, secrets.database_key)
    old_backup = plain_copy(paths.database, secrets.database_key, tmp_path / "usb" / "old-plain.sqlite")
    with closing(sqlite3.connect(old_backup)) as connection, connection:
        connection.execute("DELETE FROM setting WHERE key = 'recovery.audit_key'")  # as an older version wrote it
    monkeypatch.setenv(PASSWORD_ENV, DEMO_PASSWORD)
    code, out, err = cli("--data-dir", demo_dir, "restore", old_backup, "--user", "admin")
    assert code == 0, err
    assert not is_plain(paths.database)
    assert load_secrets(paths.secrets) == secrets
    assert read_wrapped_audit_key(paths.database, secrets.database_key) == sealed  # a later restore elsewhere works
