"""The database layer: pragmas on every connection, transactions, disk full, integrity checks."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from core_support import corrupt_middle
from data_templates import open_database
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import IntegrityError

from desktop.dbfile import SCHEMA_HEAD
from desktop import sqlite_driver
from desktop.app import App
from desktop.db import (
    BUSY_TIMEOUT_MS,
    Database,
    backup_to,
    is_disk_full,
    open_sqlite,
    run_check,
    stored_revision,
)
from desktop.errors import DatabaseProblem, DiskFull
from desktop.models import Setting, VillageClinic
from desktop.recovery_key import WRAPPED_AUDIT_KEY_SETTING
from desktop.site_secrets import SiteSecrets, new_key

HOUSE_PRAGMAS = {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1}


def _pragmas_of(execute) -> dict[str, object]:
    values = {name: execute(f"PRAGMA {name}") for name in (*HOUSE_PRAGMAS, "busy_timeout")}
    values["journal_mode"] = str(values["journal_mode"]).lower()
    return values


def _assert_house_pragmas(values: dict[str, object]) -> None:
    assert {name: values[name] for name in HOUSE_PRAGMAS} == HOUSE_PRAGMAS
    assert values["busy_timeout"] == BUSY_TIMEOUT_MS > 0


def _settings(db: Database) -> dict[str, str]:
    with db.read() as session:
        scratch = select(Setting).where(Setting.key != WRAPPED_AUDIT_KEY_SETTING)  # the sealed audit key is always there
        return {row.key: row.value for row in session.scalars(scratch)}


def test_read_session_has_house_pragmas(empty_app: App) -> None:
    with empty_app.db.read() as session:
        _assert_house_pragmas(_pragmas_of(lambda sql: session.execute(text(sql)).scalar()))


def test_write_session_has_house_pragmas(empty_app: App) -> None:
    with empty_app.db.write() as session:
        _assert_house_pragmas(_pragmas_of(lambda sql: session.execute(text(sql)).scalar()))


def test_raw_connection_has_house_pragmas(empty_app: App) -> None:
    with closing(empty_app.db.raw_connection()) as connection:
        _assert_house_pragmas(_pragmas_of(lambda sql: connection.execute(sql).fetchone()[0]))


def test_a_fresh_database_on_a_new_path_gets_the_pragmas_too(tmp_path: Path) -> None:
    db = Database(tmp_path / "new.sqlite", SiteSecrets(database_key=None, audit_key=new_key()))
    try:
        with db.read() as session:
            _assert_house_pragmas(_pragmas_of(lambda sql: session.execute(text(sql)).scalar()))
    finally:
        db.dispose()


def test_foreign_keys_are_enforced(empty_app: App) -> None:
    with pytest.raises(IntegrityError), empty_app.db.write() as session:
        session.add(VillageClinic(village_id=999, name="无主卫生室", owner_site="site"))
        session.flush()
    with empty_app.db.read() as session:
        assert session.scalar(select(func.count()).select_from(VillageClinic)) == 0


def test_write_session_commits(empty_app: App) -> None:
    with empty_app.db.write() as session:
        session.add(Setting(key="a", value="1"))
    assert _settings(empty_app.db) == {"a": "1"}


def test_write_session_rolls_back_fully_on_an_exception(empty_app: App) -> None:
    with empty_app.db.write() as session:
        session.add(Setting(key="kept", value="1"))

    with pytest.raises(RuntimeError, match="boom"), empty_app.db.write() as session:
        session.get(Setting, "kept").value = "changed"
        session.add(Setting(key="new", value="2"))
        session.flush()  # both changes reach the database inside the transaction ...
        assert session.scalar(select(func.count()).select_from(Setting)
                              .where(Setting.key != WRAPPED_AUDIT_KEY_SETTING)) == 2
        raise RuntimeError("boom")

    assert _settings(empty_app.db) == {"kept": "1"}  # ... and none survives


def test_write_session_holds_the_write_lock_from_the_start(empty_app: App) -> None:
    with empty_app.db.write() as session:
        session.execute(text("SELECT 1"))
        with closing(open_database(empty_app.db.path, timeout=0)) as other:
            with pytest.raises(sqlite_driver.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            assert other.execute("SELECT count(*) FROM setting WHERE key = ?",
                                 (WRAPPED_AUDIT_KEY_SETTING,)).fetchone() == (1,)  # readers still read


def test_read_session_does_not_block_writers(empty_app: App) -> None:
    with empty_app.db.read() as reader:
        reader.execute(text("SELECT count(*) FROM setting")).scalar()
        with empty_app.db.write() as session:
            session.add(Setting(key="while-reading", value="1"))
    assert "while-reading" in _settings(empty_app.db)


def _fill(session, count: int = 400) -> None:
    for number in range(count):
        session.add(Setting(key=f"bulk-{number:04d}", value="数据" * 1000))
    session.flush()


def test_disk_full_inside_the_session_raises_disk_full_and_writes_nothing(empty_app: App) -> None:
    with empty_app.db.write() as session:
        session.add(Setting(key="before", value="1"))

    with pytest.raises(DiskFull) as raised, empty_app.db.write() as session:
        pages = session.execute(text("PRAGMA page_count")).scalar()
        session.execute(text(f"PRAGMA max_page_count = {pages + 5}"))
        session.get(Setting, "before").value = "changed"
        _fill(session)

    error = raised.value
    assert isinstance(error, DatabaseProblem)
    assert "磁盘空间不足" in error.message
    assert "full" in error.details
    assert _settings(empty_app.db) == {"before": "1"}
    with empty_app.db.write() as session:  # the next write works as usual
        session.add(Setting(key="after", value="2"))
    assert _settings(empty_app.db) == {"before": "1", "after": "2"}


def test_disk_full_on_every_connection_is_reported_as_disk_full(empty_app: App) -> None:
    with empty_app.db.write() as session:
        session.add(Setting(key="before", value="1"))
    with empty_app.db.read() as session:
        limit = session.execute(text("PRAGMA page_count")).scalar() + 3

    def small_disk(dbapi_connection, connection_record) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count = {limit}")

    event.listen(empty_app.db.engine, "connect", small_disk)
    empty_app.db.dispose()  # pooled connections were opened before the disk "filled up"
    try:
        with pytest.raises(DiskFull, match="磁盘空间不足"), empty_app.db.write() as session:
            _fill(session)
    finally:
        event.remove(empty_app.db.engine, "connect", small_disk)
        empty_app.db.dispose()
    assert _settings(empty_app.db) == {"before": "1"}


def test_is_disk_full_recognises_only_sqlite_full() -> None:
    assert is_disk_full(sqlite3.OperationalError("database or disk is full"))
    assert is_disk_full(OSError(28, "No space left on device"))
    assert not is_disk_full(sqlite3.OperationalError("database is locked"))


def _many_pages(path: Path) -> Path:
    with closing(sqlite3.connect(path, isolation_level=None)) as connection:
        connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        connection.execute("CREATE INDEX ix_t_v ON t (v)")
        connection.execute("BEGIN")
        rows = [(f"{n:06d}-" + "居民" * 60,) for n in range(3000)]
        connection.executemany("INSERT INTO t (v) VALUES (?)", rows)
        connection.execute("COMMIT")
    assert path.stat().st_size > 100 * 4096
    return path


def test_run_check_is_empty_for_a_sound_file(tmp_path: Path, empty_app: App) -> None:
    sound = _many_pages(tmp_path / "sound.sqlite")
    assert run_check(sound, key=None) == []
    assert run_check(sound, key=None, full=True) == []
    assert run_check(empty_app.db.path, key=empty_app.db.secrets.database_key, full=True) == []


def test_run_check_reports_problems_of_a_corrupted_file(tmp_path: Path) -> None:
    damaged = _many_pages(tmp_path / "damaged.sqlite")
    corrupt_middle(damaged)
    assert run_check(damaged, key=None)
    assert run_check(damaged, key=None, full=True)


def test_full_check_also_reports_broken_foreign_keys(demo_app: App) -> None:
    with closing(open_database(demo_app.db.path)) as connection:
        connection.execute("PRAGMA foreign_keys = OFF")
        connection.execute("UPDATE village_clinic SET village_id = 9999 WHERE id = 1")
    key = demo_app.db.secrets.database_key
    assert run_check(demo_app.db.path, key=key) == []  # quick_check does not look at foreign keys
    problems = run_check(demo_app.db.path, key=key, full=True)
    assert len(problems) == 1 and problems[0].startswith("外键错误") and "village_clinic" in problems[0]


def test_run_check_reports_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database at all " * 300)
    problems = run_check(junk, key=None)
    assert problems and "not a database" in problems[0]


def test_stored_revision(tmp_path: Path, empty_app: App) -> None:
    plain = tmp_path / "plain.sqlite"
    with closing(open_sqlite(plain, key=None)) as connection:
        connection.execute("CREATE TABLE t (x)")
    assert stored_revision(plain, key=None) is None
    assert stored_revision(empty_app.db.path, key=empty_app.db.secrets.database_key) == SCHEMA_HEAD


def test_backup_to_makes_a_verified_self_contained_copy(tmp_path: Path, empty_app: App) -> None:
    with empty_app.db.write() as session:
        session.add(Setting(key="k", value="v"))
    key = empty_app.db.secrets.database_key
    copy = backup_to(empty_app.db.path, tmp_path / "out" / "copy.sqlite", key=key)
    assert not (tmp_path / "out" / "copy.sqlite.part").exists()
    with closing(sqlite_driver.connect(copy, key=key)) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        assert connection.execute("SELECT key, value FROM setting WHERE key = 'k'").fetchall() == [("k", "v")]
    assert run_check(copy, key=key, full=True) == []
