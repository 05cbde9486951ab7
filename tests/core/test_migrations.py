"""Schema versions: head bookkeeping, a clean upgrade, stored fixtures, refusing what we cannot open."""

from __future__ import annotations

import hashlib
import random
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from core_support import DEMO_PASSWORD, FIXTURE_DB, FIXTURES, copy_database
from sqlalchemy import func, select, text

from desktop.app import open_app
from desktop.backups import list_backups
from desktop.db import SCHEMA_HEAD, known_revisions, script_directory, stored_revision
from desktop.errors import DatabaseCorrupt, DatabaseTooNew
from desktop.models import Account, Base, Village
from desktop.paths import DB_FILENAME, DataPaths
from desktop.services.audit import verify_chain
from desktop.services.auth import sign_in


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_schema_head_is_the_alembic_head() -> None:
    assert script_directory().get_current_head() == SCHEMA_HEAD
    assert SCHEMA_HEAD in known_revisions()


def test_every_released_schema_has_a_fixture_database() -> None:
    stored = {path.name for path in (FIXTURES / "db").glob("schema-*.sqlite")}
    for revision in known_revisions():
        assert any(name.startswith(f"schema-{revision}-") for name in stored), f"no fixture for {revision}"


def test_upgrading_an_empty_database_matches_the_models(tmp_path: Path) -> None:
    app = open_app(tmp_path)
    try:
        assert stored_revision(app.db.path, key=app.db.secrets.database_key) == SCHEMA_HEAD
        with app.db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
        with app.db.read() as session:
            triggers = set(session.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")))
        assert {"audit_entry_no_update", "audit_entry_no_delete"} <= triggers
    finally:
        app.close()


def test_opening_an_up_to_date_database_again_changes_nothing(tmp_path: Path) -> None:
    open_app(tmp_path).close()
    open_app(tmp_path).close()
    assert stored_revision(tmp_path / DB_FILENAME, key=open_app(tmp_path).db.secrets.database_key) == SCHEMA_HEAD
    assert list_backups(DataPaths(tmp_path)) == []


def test_fixture_database_is_a_self_contained_file() -> None:
    assert FIXTURE_DB.stat().st_size < 1_000_000
    assert not Path(str(FIXTURE_DB) + "-wal").exists()
    with closing(sqlite3.connect(f"file:{FIXTURE_DB}?mode=ro", uri=True)) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("delete",)


def test_fixture_database_opens_with_its_data_preserved(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    shutil.copy(FIXTURE_DB, data_dir / DB_FILENAME)
    revision = stored_revision(data_dir / DB_FILENAME, key=None)

    app = open_app(data_dir)
    try:
        assert stored_revision(app.db.path, key=app.db.secrets.database_key) == SCHEMA_HEAD
        branch = app.branch
        assert branch is not None and branch.name == "青山镇卫生院" and branch.is_demo
        assert branch.record_prefix == "341522106"
        with app.db.read() as session:
            assert session.scalar(select(func.count()).select_from(Village)) == 13
            assert session.scalar(select(func.count()).select_from(Account)) == 23
            assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        report = verify_chain(app.db)
        assert report.intact and report.checked >= 2
        assert sign_in(app.db, "admin", DEMO_PASSWORD).actor.username == "admin"
        backups = list_backups(app.paths)  # the plain file was encrypted in place after a verified backup
        key = app.db.secrets.database_key
        if revision != SCHEMA_HEAD:
            assert [b.reason for b in backups] == ["before-upgrade", "before-encryption"]
            assert stored_revision(backups[0].path, key=key) == revision
        else:
            assert [b.reason for b in backups] == ["before-encryption"]
        assert stored_revision(backups[-1].path, key=key) == revision  # the plain backup, itself encrypted
    finally:
        app.close()


def _with_revision(tmp_path: Path, revision: str) -> Path:
    data_dir = tmp_path / "data"
    database = copy_database(FIXTURE_DB, data_dir / DB_FILENAME)
    with closing(sqlite3.connect(database, isolation_level=None)) as connection:
        connection.execute("UPDATE alembic_version SET version_num = ?", (revision,))
    return data_dir


def test_a_database_from_a_newer_version_is_refused_untouched(tmp_path: Path) -> None:
    data_dir = _with_revision(tmp_path, "ffff9999")
    database = data_dir / DB_FILENAME
    before = _sha256(database)

    with pytest.raises(DatabaseTooNew) as raised:
        open_app(data_dir)

    assert "更新版本" in raised.value.message
    assert "ffff9999" in raised.value.details
    assert _sha256(database) == before
    assert stored_revision(database, key=None) == "ffff9999"
    assert list_backups(DataPaths(data_dir)) == []


def test_a_newer_database_in_wal_mode_is_refused_untouched(tmp_path: Path) -> None:
    data_dir = _with_revision(tmp_path, "ffff9999")
    database = data_dir / DB_FILENAME
    with closing(sqlite3.connect(database, isolation_level=None)) as connection:
        connection.execute("PRAGMA journal_mode = WAL")
    before = _sha256(database)
    with pytest.raises(DatabaseTooNew):
        open_app(data_dir)
    assert _sha256(database) == before


def test_random_bytes_are_refused_as_corrupt(tmp_path: Path) -> None:
    database = tmp_path / DB_FILENAME
    database.write_bytes(random.Random(7).randbytes(64 * 1024))
    before = _sha256(database)
    with pytest.raises(DatabaseCorrupt) as raised:
        open_app(tmp_path)
    assert "损坏" in raised.value.message
    assert _sha256(database) == before


def test_upgrading_the_0004_fixture_keeps_every_visit_check_and_resident(tmp_path: Path) -> None:
    """Schema 0005 rebuilds the visit, check and resident tables: nothing may be lost on the way."""
    source = FIXTURES / "db" / "schema-0004-demo.sqlite"
    tables = ("resident", "followup_visit", "health_check", "chronic_enrolment", "audit_entry")
    with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as connection:
        before = {table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in tables}
        visits_before = connection.execute(
            "SELECT uuid, sbp, dbp, fasting_glucose, classification, version FROM followup_visit ORDER BY uuid").fetchall()
    assert before["followup_visit"] > 0 and before["health_check"] > 0
    data_dir = tmp_path / "data"
    copy_database(source, data_dir / DB_FILENAME)

    app = open_app(data_dir)
    try:
        with app.db.read() as session:
            after = {table: session.execute(text(f"SELECT count(*) FROM {table}")).scalar() for table in tables}
            visits_after = session.execute(text(
                "SELECT uuid, sbp, dbp, fasting_glucose, classification, version FROM followup_visit ORDER BY uuid")).all()
            measurements = dict(session.execute(text(
                "SELECT measurement, count(*) FROM followup_visit GROUP BY measurement")).all())
            triggers = set(session.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")))
        assert after == before
        assert [tuple(row) for row in visits_after] == visits_before
        with app.db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
        assert set(measurements) <= {"1", "2", "3"} and sum(measurements.values()) == before["followup_visit"]
        assert {"audit_entry_no_update", "audit_entry_no_delete"} <= triggers
        assert verify_chain(app.db).intact
    finally:
        app.close()
