"""Editing an encrypted database as an intruder holding the key would: out to a plain file, back in.

    plain_copy(db_path, key, out_path)    sqlcipher_export into a plain SQLite file (the `sqlite3` shell opens it)
    encrypt_into(plain_path, key, db_path) the edited plain file back under the key, replacing the database

The database must be closed (the app disposed) around the edit.
"""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

from desktop.sqlite_driver import connect, export


def plain_copy(db_path: Path, key: bytes | None, out_path: Path) -> Path:
    """A plain SQLite copy of an encrypted database (every table, index, trigger and user_version)."""
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.unlink(missing_ok=True)
    with closing(connect(db_path, key=key)) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        export(connection, destination=out_path, key=None)
    return out_path


def encrypt_into(plain_path: Path, key: bytes | None, db_path: Path) -> Path:
    """Replace the database with the plain file encrypted under `key`."""
    partial = db_path.with_name(db_path.name + ".intruder")
    partial.unlink(missing_ok=True)
    with closing(connect(plain_path, key=None)) as connection:
        export(connection, destination=partial, key=key)
    for suffix in ("-wal", "-shm"):
        Path(str(db_path) + suffix).unlink(missing_ok=True)
    partial.replace(db_path)
    return db_path
