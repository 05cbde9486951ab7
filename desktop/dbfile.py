"""The database file without SQLAlchemy: pragmas, checks, revision, backups, branch header.

Only the SQLCipher driver (desktop/sqlite_driver.py) is used here, so the window can check the
file and show the sign-in before the ORM is imported (that import costs a third of a second).
Every function takes the database key (None for a plain file of an older version).
"""

from __future__ import annotations

from contextlib import closing
from pathlib import Path
from typing import Any, Literal

from desktop.branch_info import BranchInfo
from desktop.errors import DatabaseCorrupt, DatabaseTooNew, DiskFull
from desktop.sqlite_driver import Connection, DatabaseError, OperationalError, connect, export, make_private

CACHE_KIB = 32_768  # decrypted pages kept per connection: a page read again is not decrypted again
BUSY_TIMEOUT_MS = 30_000  # a writer waits out a long write (a 10,000-record package, an import) on a busy PC

# The newest schema this code knows. A test keeps it equal to the Alembic head.
SCHEMA_HEAD = "0005"


def apply_pragmas(connection: Connection) -> None:
    """WAL, synchronous=FULL, foreign keys and a busy timeout, with the driver in autocommit."""
    connection.isolation_level = None
    cursor = connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = FULL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    cursor.close()


def is_disk_full(error: BaseException) -> bool:
    """True for SQLite's 'database or disk is full' (SQLITE_FULL)."""
    text = str(getattr(error, "orig", error)).lower()
    return "database or disk is full" in text or "no space left" in text


def open_sqlite(path: Path, *, key: bytes | None, readonly: bool = False) -> Connection:
    """A keyed connection in autocommit mode with the house pragmas."""
    if readonly:
        connection = connect(path, key=key, readonly=True)
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        return connection
    connection = connect(path, key=key)
    apply_pragmas(connection)
    return connection


def run_check(path: Path, *, key: bytes | None, full: bool = False) -> list[str]:
    """Problems found by `quick_check` (or `integrity_check` when full); [] when sound."""
    pragma = "integrity_check" if full else "quick_check"
    try:
        with closing(open_sqlite(path, key=key, readonly=True)) as connection:
            rows = [row[0] for row in connection.execute(f"PRAGMA {pragma}")]
            if rows == ["ok"]:
                rows = []
            if full and not rows:
                rows += [f"外键错误: {row}" for row in connection.execute("PRAGMA foreign_key_check")]
    except DatabaseError as error:
        return [str(error)]
    except MemoryError:  # SQLCipher reports a page that fails its HMAC this way once the codec has seen one
        return ["数据页无法解密（文件已损坏）"]
    return rows


def stored_revision(path: Path, *, key: bytes | None) -> str | None:
    """The Alembic revision recorded in the file, None for an empty database."""
    with closing(open_sqlite(path, key=key, readonly=True)) as connection:
        has_table = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='alembic_version'"
        ).fetchone()
        if not has_table:
            return None
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        return row[0] if row else None


def last_audit_seq(path: Path, *, key: bytes | None) -> int:
    """The newest audit entry's number in the file (0 when it has none)."""
    with closing(open_sqlite(path, key=key, readonly=True)) as connection:
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


def check_openable(path: Path, *, key: bytes | None) -> str | None:
    """Refuse a corrupt, foreign-keyed or too-new file before anything writes to it; return its revision."""
    problems = run_check(path, key=key)
    if problems:
        raise DatabaseCorrupt(
            "数据库文件已损坏或不是本程序的数据库，无法打开。请从最近的备份恢复。",
            details="\n".join(problems[:20]),
        )
    revision = stored_revision(path, key=key)
    if revision is not None and revision != SCHEMA_HEAD and revision not in known_revisions():
        raise DatabaseTooNew(
            "该数据库由更新版本的工作台创建，当前程序无法使用。数据库未作任何改动，请安装最新版本后再打开。",
            details=f"数据库版本 {revision}，本程序支持到 {SCHEMA_HEAD}",
        )
    return revision


def backup_to(source: Path, destination: Path, *, key: bytes | None,
              destination_key: bytes | None | Literal["same"] = "same") -> Path:
    """Copy a live database (under `key`) with the backup API, then verify the copy by opening it with its key.

    The copy is under the same key unless `destination_key` names another (None: plain); that copy
    is made with sqlcipher_export instead (the backup API needs the same key on both sides).
    """
    target_key = key if destination_key == "same" else destination_key
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".part")
    partial.unlink(missing_ok=True)
    try:
        if target_key == key:
            with closing(open_sqlite(source, key=key, readonly=True)) as src, closing(connect(partial, key=key)) as dst:
                src.backup(dst)
                dst.execute("PRAGMA journal_mode = DELETE")
        else:
            with closing(connect(source, key=key)) as src:  # ATTACH needs a writable connection
                export(src, destination=partial, key=target_key)  # type: ignore[arg-type]
    except OperationalError as error:
        partial.unlink(missing_ok=True)
        if is_disk_full(error):
            raise DiskFull(details=str(error)) from error
        raise
    problems = run_check(partial, key=target_key, full=True)  # type: ignore[arg-type]
    if problems:
        partial.unlink(missing_ok=True)
        raise DatabaseCorrupt("备份文件校验未通过，备份未保存。", details="\n".join(problems[:20]))
    make_private(partial)
    partial.replace(destination)
    return destination


def read_branch(path: Path, *, key: bytes | None) -> BranchInfo | None:
    """The branch recorded in the file, or None before setup (or for an empty file)."""
    with closing(open_sqlite(path, key=key, readonly=True)) as connection:
        has_table = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='branch'"
        ).fetchone()
        row = has_table and connection.execute(
            "SELECT site_id, county_code, township_code, name, head_hospital_name, is_demo FROM branch WHERE id = 1"
        ).fetchone()
    return BranchInfo(*row[:5], is_demo=bool(row[5])) if row else None
