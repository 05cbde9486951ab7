"""The database key's life: created with the data directory, encrypting an older plain file in place,
finishing an interrupted rotation, keeping backups sealed, and the audit key wrapped for restores.

Order matters wherever a crash could strand the data. Encrypting in place: a verified plain backup,
an encrypted copy verified row by row, the key file written (with the recovery key still pending),
then the copy renamed over the file; a crash before the rename leaves the plain file and a key file
whose pending recovery key is used again. Rotation writes the new keys to `township-desk.keys.next`
before `PRAGMA rekey` commits; at the next open, whichever key file opens the database wins.
"""

from __future__ import annotations

import logging
from contextlib import closing
from pathlib import Path

from desktop.backups import create_backup, list_backups
from desktop.dbfile import backup_to, check_openable, last_audit_seq, open_sqlite
from desktop.errors import DatabaseCorrupt
from desktop.paths import DataPaths
from desktop.recovery_key import (
    WRAPPED_AUDIT_KEY_SETTING,
    database_key_from,
    new_recovery_key,
    unwrap_audit_key,
    wrap_audit_key,
)
from desktop.site_secrets import SiteSecrets, load_secrets, new_key, save_secrets
from desktop.sqlite_driver import DatabaseError, KeyRejected, connect, is_plain, make_private

log = logging.getLogger("township_desk.at_rest")


def next_secrets_path(paths: DataPaths) -> Path:
    """Where a rotation keeps the new keys until the database has been re-keyed."""
    return paths.secrets.with_name(paths.secrets.name + ".next")


def secrets_for_recovery_key(recovery_key: str, *, audit_key: bytes, keyed_from: int,
                             pending: bool = True) -> SiteSecrets:
    """Secrets whose database key is derived from `recovery_key` (kept pending until shown)."""
    return SiteSecrets(database_key=database_key_from(recovery_key), audit_key=audit_key,
                       audit_keyed_from=keyed_from, pending_recovery_key=recovery_key if pending else None)


def opens_with(path: Path, key: bytes | None) -> bool:
    """True when the file opens with `key`."""
    try:
        with closing(connect(path, key=key, readonly=True)):
            return True
    except (KeyRejected, DatabaseError):
        return False


def finish_rotation(paths: DataPaths) -> None:
    """Adopt `keys.next` if the re-key committed before a crash; drop it if it did not."""
    pending = next_secrets_path(paths)
    if not pending.exists():
        return
    candidate = load_secrets(pending)
    if paths.database.exists() and opens_with(paths.database, candidate.database_key):
        pending.replace(paths.secrets)
        log.warning("finished an interrupted key rotation")
    else:
        pending.unlink()


def prepare_secrets(paths: DataPaths) -> SiteSecrets:
    """The data directory's secrets; a new directory gets a random recovery key, a plain file is encrypted."""
    finish_rotation(paths)
    previous = load_secrets(paths.secrets) if paths.secrets.exists() else None
    if paths.database.exists() and is_plain(paths.database):
        return encrypt_in_place(paths, previous)
    if previous is not None and previous.database_key is not None:
        return previous
    if paths.database.exists() and paths.database.stat().st_size > 0:
        raise KeyRejected("数据库文件无法打开：本机没有它的密钥文件，或文件已损坏。请用恢复密钥从备份恢复。",
                          details=f"{paths.secrets} 缺失；命令行：township-desk restore 备份文件 --recovery-key 恢复密钥")
    created = secrets_for_recovery_key(
        new_recovery_key(), audit_key=previous.audit_key if previous else new_key(),
        keyed_from=previous.audit_keyed_from if previous else 1)
    save_secrets(paths.secrets, created)
    return created


def _table_counts(path: Path, key: bytes | None) -> dict[str, int]:
    with closing(open_sqlite(path, key=key, readonly=True)) as connection:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {table: connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] for table in tables}


def encrypt_in_place(paths: DataPaths, previous: SiteSecrets | None) -> SiteSecrets:
    """Encrypt an older version's plain database after a verified backup; its recovery key stays pending."""
    check_openable(paths.database, key=None)
    recovery = previous.pending_recovery_key if previous and previous.pending_recovery_key else new_recovery_key()
    keyed_from = last_audit_seq(paths.database, key=None) + 1
    secrets = secrets_for_recovery_key(
        recovery, audit_key=previous.audit_key if previous else new_key(),
        keyed_from=previous.audit_keyed_from if previous else keyed_from)
    create_backup(paths, reason="before-encryption", key=None)
    with closing(connect(paths.database, key=None)) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    encrypted = paths.database.with_name(paths.database.name + ".encrypting")
    encrypted.unlink(missing_ok=True)
    backup_to(paths.database, encrypted, key=None, destination_key=secrets.database_key)
    if _table_counts(encrypted, secrets.database_key) != _table_counts(paths.database, None):
        encrypted.unlink()
        raise DatabaseCorrupt("数据库加密后的核对未通过，原文件未改动。")
    save_secrets(paths.secrets, secrets)
    for suffix in ("-wal", "-shm"):
        Path(str(paths.database) + suffix).unlink(missing_ok=True)
    encrypted.replace(paths.database)
    log.warning("encrypted the plain database in place: %s", paths.database)
    seal_backups(paths, secrets.database_key)
    return secrets


def reseal_file(file: Path, *, key: bytes | None, to_key: bytes) -> None:
    """Put one backup under `to_key` (from plain or from `key`), verified, replacing it atomically."""
    sealed = file.with_name(file.name + ".sealing")
    sealed.unlink(missing_ok=True)
    backup_to(file, sealed, key=key, destination_key=to_key)
    sealed.replace(file)


def seal_backups(paths: DataPaths, key: bytes | None, *, old_key: bytes | None = None) -> list[Path]:
    """Encrypt every plain backup in the backups folder (and those under `old_key`); returns those left as they were."""
    if key is None:
        return []
    left = []
    for backup in list_backups(paths):
        make_private(backup.path)
        if is_plain(backup.path):
            reseal_file(backup.path, key=None, to_key=key)
        elif old_key is not None and opens_with(backup.path, old_key):
            reseal_file(backup.path, key=old_key, to_key=key)
        elif old_key is not None and not opens_with(backup.path, key):
            left.append(backup.path)
    return left


def read_wrapped_audit_key(path: Path, key: bytes | None) -> str | None:
    """The sealed audit key stored in a database or backup (None when it has none)."""
    with closing(open_sqlite(path, key=key, readonly=True)) as connection:
        has_table = connection.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='setting'").fetchone()
        row = has_table and connection.execute("SELECT value FROM setting WHERE key = ?",
                                               (WRAPPED_AUDIT_KEY_SETTING,)).fetchone()
    return row[0] if row else None


def store_wrapped_audit_key(path: Path, secrets: SiteSecrets) -> None:
    """Seal the audit key under the pending recovery key inside the database, unless already there."""
    recovery = secrets.pending_recovery_key
    if recovery is None:
        return
    stored = read_wrapped_audit_key(path, secrets.database_key)
    if stored is not None and unwrap_audit_key(recovery, stored) == (secrets.audit_key, secrets.audit_keyed_from):
        return
    value = wrap_audit_key(recovery, audit_key=secrets.audit_key, keyed_from=secrets.audit_keyed_from)
    write_wrapped_audit_key(path, secrets.database_key, value)


def write_wrapped_audit_key(path: Path, key: bytes | None, value: str) -> None:
    """Store the sealed audit key's setting text in a database."""
    with closing(open_sqlite(path, key=key)) as connection:
        connection.execute(
            "INSERT INTO setting (key, value, updated_at) VALUES (?, ?, CURRENT_TIMESTAMP) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            (WRAPPED_AUDIT_KEY_SETTING, value))


def acknowledge_recovery_key(paths: DataPaths, secrets: SiteSecrets) -> SiteSecrets:
    """The recovery key has been shown (and written down): forget it on this PC."""
    shown = SiteSecrets(database_key=secrets.database_key, audit_key=secrets.audit_key,
                        audit_keyed_from=secrets.audit_keyed_from)
    save_secrets(paths.secrets, shown)
    return shown

