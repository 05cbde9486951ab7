"""Every opening of a database file goes through here: SQLCipher (sqlcipher3) keyed with the site's key.

The key is SQLCipher's raw 256-bit key (`PRAGMA key = "x'…'"`), issued as the very first statement,
so no passphrase derivation runs per connection and pooled connections stay cheap. A key of None
opens a plain (unencrypted) file, as an older version wrote it, for the one-time encryption.
Files created here are 0600 where permissions mean that, and SQLite gives -wal/-shm the
database file's own mode.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from sqlcipher3 import dbapi2 as driver

from desktop.errors import DatabaseCorrupt

Connection = driver.Connection
Error = driver.Error
DatabaseError = driver.DatabaseError
OperationalError = driver.OperationalError
IntegrityError = driver.IntegrityError
Row = driver.Row

PLAIN_HEADER = b"SQLite format 3\x00"
KEY_BYTES = 32

_quiet = driver.connect(":memory:")
_quiet.execute("PRAGMA cipher_log_level = NONE")  # a wrong key is reported by our error, not on stderr
_quiet.close()


class KeyRejected(DatabaseCorrupt):
    """The file does not open with the key this site holds (another key, no key file, or damaged)."""


def key_literal(key: bytes) -> str:
    """SQLCipher's raw-key literal for a PRAGMA or ATTACH … KEY."""
    if len(key) != KEY_BYTES:
        raise ValueError("database key must be 32 bytes")
    return f"\"x'{key.hex()}'\""


def is_plain(path: Path) -> bool:
    """True for an unencrypted SQLite file (its header is readable)."""
    try:
        with open(path, "rb") as file:
            return file.read(len(PLAIN_HEADER)) == PLAIN_HEADER
    except FileNotFoundError:
        return False


def make_private(path: Path) -> None:
    """Create `path` empty if missing, and make it readable by this account only (POSIX 0600)."""
    if sys.platform == "win32":
        return
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.close(descriptor)
    os.chmod(path, 0o600)


def connect(path: Path | str, *, key: bytes | None, readonly: bool = False,
            check_same_thread: bool = True, timeout: float = 5.0) -> Connection:
    """A connection in autocommit mode, keyed first; raises KeyRejected when a key is given and does not open it."""
    if readonly:
        connection = driver.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None,
                                    check_same_thread=check_same_thread, timeout=timeout)
    else:
        if str(path) != ":memory:":
            make_private(Path(path))
        connection = driver.connect(str(path), isolation_level=None, check_same_thread=check_same_thread,
                                    timeout=timeout)
    try:
        if key is not None:
            connection.execute(f"PRAGMA key = {key_literal(key)}")
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except DatabaseError as error:
        connection.close()
        if key is not None and "not a database" in str(error) and not is_plain(Path(path)):
            raise KeyRejected(
                "数据库文件无法用本机的密钥打开（密钥不符，或文件已损坏）。请用恢复密钥从备份恢复。",
                details=f"{path}: {error}；命令行：township-desk restore 备份文件 --recovery-key 恢复密钥",
            ) from error
        raise
    return connection


def export(source: Connection, *, destination: Path, key: bytes | None) -> None:
    """Copy every table of an open connection into a new file under `key` (None: plain), with sqlcipher_export."""
    make_private(destination)
    literal = key_literal(key) if key is not None else "''"
    source.execute(f"ATTACH DATABASE ? AS exported KEY {literal}", (str(destination),))
    try:
        source.execute("SELECT sqlcipher_export('exported')").fetchone()
        version = source.execute("PRAGMA main.user_version").fetchone()[0]
        source.execute(f"PRAGMA exported.user_version = {int(version)}")
    finally:
        source.execute("DETACH DATABASE exported")


def rekey(connection: Connection, key: bytes) -> None:
    """Re-encrypt an open encrypted database under a new key (one transaction: all or nothing)."""
    connection.execute(f"PRAGMA rekey = {key_literal(key)}")
