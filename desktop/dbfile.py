"""The database file without SQLAlchemy: pragmas, checks, revision, backups, branch header.

Only the standard library's sqlite3 is used here, so the window can check the file and
show the sign-in before the ORM is imported (that import costs a third of a second).
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from desktop.branch_info import BranchInfo
from desktop.errors import DatabaseCorrupt, DatabaseTooNew, DiskFull

BUSY_TIMEOUT_MS = 10_000

# The newest schema this code knows. A test keeps it equal to the Alembic head.
SCHEMA_HEAD = "0005"


def apply_pragmas(connection: sqlite3.Connection) -> None:
    """WAL, synchronous=FULL, foreign keys and a busy timeout, with the driver in autocommit."""
    connection.isolation_level = None
    cursor = connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = FULL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def is_disk_full(error: BaseException) -> bool:
    """True for SQLite's 'database or disk is full' (SQLITE_FULL)."""
    text = str(getattr(error, "orig", error)).lower()
    return "database or disk is full" in text or "no space left" in text


def open_sqlite(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """A stdlib connection in autocommit mode with the house pragmas."""
    if readonly:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        return connection
    connection = sqlite3.connect(path, isolation_level=None)
    apply_pragmas(connection)
    return connection


def run_check(path: Path, *, full: bool = False) -> list[str]:
    """Problems found by `quick_check` (or `integrity_check` when full); [] when sound."""
    pragma = "integrity_check" if full else "quick_check"
    try:
        with closing(open_sqlite(path, readonly=True)) as connection:
            rows = [row[0] for row in connection.execute(f"PRAGMA {pragma}")]
            if rows == ["ok"]:
                rows = []
            if full:
                rows += [f"外键错误: {row}" for row in connection.execute("PRAGMA foreign_key_check")]
    except sqlite3.DatabaseError as error:
        return [str(error)]
    return rows


def stored_revision(path: Path) -> str | None:
    """The Alembic revision recorded in the file, None for an empty database."""
    with closing(open_sqlite(path, readonly=True)) as connection:
        has_table = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='alembic_version'"
        ).fetchone()
        if not has_table:
            return None
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        return row[0] if row else None


def last_audit_seq(path: Path) -> int:
    """The newest audit entry's number in the file (0 when it has none)."""
    with closing(open_sqlite(path, readonly=True)) as connection:
        has_table = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='audit_entry'"
        ).fetchone()
        return (connection.execute("SELECT max(seq) FROM audit_entry").fetchone()[0] or 0) if has_table else 0


def known_revisions() -> set[str]:
    """Every revision id the bundled migrations know."""
    script = script_directory()
    return {revision.revision for revision in script.walk_revisions()}


def alembic_config(connection: Any = None) -> Any:
    """The migrations' Alembic configuration, optionally bound to an open connection."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    config.attributes["connection"] = connection
    return config


def script_directory() -> Any:
    """The bundled migration scripts (Alembic's ScriptDirectory)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def check_openable(path: Path) -> str | None:
    """Refuse a corrupt or too-new file before anything writes to it; return its revision."""
    problems = run_check(path)
    if problems:
        raise DatabaseCorrupt(
            "数据库文件已损坏或不是本程序的数据库，无法打开。请从最近的备份恢复。",
            details="\n".join(problems[:20]),
        )
    revision = stored_revision(path)
    if revision is not None and revision != SCHEMA_HEAD and revision not in known_revisions():
        raise DatabaseTooNew(
            "该数据库由更新版本的工作台创建，当前程序无法使用。数据库未作任何改动，请安装最新版本后再打开。",
            details=f"数据库版本 {revision}，本程序支持到 {SCHEMA_HEAD}",
        )
    return revision


def backup_to(source: Path, destination: Path) -> Path:
    """Copy a live database with the SQLite backup API, then verify the copy."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".part")
    partial.unlink(missing_ok=True)
    try:
        with closing(open_sqlite(source, readonly=True)) as src, closing(sqlite3.connect(partial)) as dst:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode = DELETE")
    except sqlite3.OperationalError as error:
        partial.unlink(missing_ok=True)
        if is_disk_full(error):
            raise DiskFull(details=str(error)) from error
        raise
    problems = run_check(partial, full=True)
    if problems:
        partial.unlink(missing_ok=True)
        raise DatabaseCorrupt("备份文件校验未通过，备份未保存。", details="\n".join(problems[:20]))
    partial.replace(destination)
    return destination


def read_branch(path: Path) -> BranchInfo | None:
    """The branch recorded in the file, or None before setup (or for an empty file)."""
    with closing(open_sqlite(path, readonly=True)) as connection:
        has_table = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='branch'"
        ).fetchone()
        row = has_table and connection.execute(
            "SELECT site_id, county_code, township_code, name, head_hospital_name, is_demo FROM branch WHERE id = 1"
        ).fetchone()
    return BranchInfo(*row[:5], is_demo=bool(row[5])) if row else None
