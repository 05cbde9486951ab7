"""Backups of the branch database: make, list, verify, restore.

Backups are made with the SQLite backup API into `<data>/backups/`, encrypted under the database's
own key (a copy on a USB stick is useless without it), each verified by opening it with the key and
running integrity_check before it is kept; files are 0600. Restoring never deletes the current file:
it is set aside next to the database under a `.replaced-<time>` name, with the key file beside it.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from desktop.clock import now
from desktop.dbfile import backup_to, check_openable, run_check, stored_revision
from desktop.errors import DatabaseCorrupt, UserFacingError
from desktop.paths import DataPaths
from desktop.site_secrets import load_secrets
from desktop.sqlite_driver import KeyRejected, is_plain

BACKUP_PATTERN = re.compile(r"township-desk-(\d{8}-\d{6})(?:-([a-z0-9-]+))?\.sqlite$")
KEEP_AUTOMATIC = 30
AUTOMATIC_REASONS = ("daily", "before-upgrade", "before-restore", "before-encryption", "before-rotation")
LOCAL = "local"
KeyChoice = bytes | None | Literal["local"]


def local_key(paths: DataPaths) -> bytes | None:
    """The key the data directory's database is under (None while it is still a plain file)."""
    if not paths.database.exists() or is_plain(paths.database):
        return None
    return load_secrets(paths.secrets).database_key


def _key(paths: DataPaths, key: KeyChoice) -> bytes | None:
    return local_key(paths) if key == LOCAL else key  # type: ignore[return-value]


@dataclass(frozen=True)
class BackupInfo:
    """One backup file."""

    path: Path
    created: datetime
    reason: str
    size: int


def _backup_name(reason: str, at: datetime) -> str:
    return f"township-desk-{at:%Y%m%d-%H%M%S}-{reason}.sqlite"


def create_backup(paths: DataPaths, *, reason: str = "manual", out: Path | None = None,
                  key: KeyChoice = LOCAL) -> Path:
    """Back up the live database under its key; `out` chooses the file, otherwise the backups folder."""
    paths.ensure()
    target = out or paths.backups / _backup_name(reason, now())
    if target.exists() and out is None:
        target = target.with_name(target.stem + f"-{now():%f}.sqlite")
    backup_to(paths.database, target, key=_key(paths, key))
    if reason in AUTOMATIC_REASONS:
        prune_automatic(paths)
    return target


def list_backups(paths: DataPaths) -> list[BackupInfo]:
    """Backups in the backups folder, newest first."""
    if not paths.backups.is_dir():
        return []
    found = []
    for file in paths.backups.iterdir():
        match = BACKUP_PATTERN.fullmatch(file.name)
        if match:
            created = datetime.strptime(match.group(1), "%Y%m%d-%H%M%S")
            found.append(BackupInfo(file, created, match.group(2) or "", file.stat().st_size))
    return sorted(found, key=lambda b: (b.created, b.path.name), reverse=True)


def prune_automatic(paths: DataPaths) -> None:
    """Keep the newest automatic backups; manual ones are never removed."""
    automatic = [b for b in list_backups(paths) if b.reason.startswith(AUTOMATIC_REASONS)]
    for old in automatic[KEEP_AUTOMATIC:]:
        old.path.unlink(missing_ok=True)


def backup_problem(file: Path, *, key: bytes | None) -> str | None:
    """Why a file cannot be restored with `key`, or None when it is a sound backup of this app.

    A plain backup made by an older version is checked as it is (restoring encrypts it).
    """
    if not file.is_file():
        return f"找不到备份文件：{file}"
    key = None if is_plain(file) else key
    try:
        problems = run_check(file, key=key, full=True)
        if problems:
            return "备份文件已损坏：" + problems[0]
        check_openable(file, key=key)
        if stored_revision(file, key=key) is None:
            return "该文件不是工作台的数据库备份。"
    except KeyRejected:
        return "备份文件已损坏，或不是用这个密钥加密的（换电脑或更换过密钥时请用对应的恢复密钥）。"
    except UserFacingError as error:
        return error.message
    return None


def newest_good_backup(paths: DataPaths, *, key: KeyChoice = LOCAL) -> BackupInfo | None:
    """The newest backup that passes verification with the key."""
    chosen = _key(paths, key)
    for backup in list_backups(paths):
        if backup_problem(backup.path, key=chosen) is None:
            return backup
    return None


def daily_backup_due(paths: DataPaths, *, at: datetime | None = None) -> bool:
    """True when no backup was made in the last 24 hours."""
    backups = list_backups(paths)
    return not backups or ((at or now()) - backups[0].created).total_seconds() > 24 * 3600


def daily_backup(paths: DataPaths, *, key: KeyChoice = LOCAL) -> Path | None:
    """Make the day's automatic backup unless one was made in the last 24 hours."""
    return create_backup(paths, reason="daily", key=key) if daily_backup_due(paths) else None


def _set_aside(paths: DataPaths, at: datetime) -> Path | None:
    """Move the database (and its -wal/-shm) aside; copy the key file beside it so it stays openable."""
    database = paths.database
    if not database.exists():
        return None
    aside = database.with_name(f"{database.name}.replaced-{at:%Y%m%d-%H%M%S}")
    for suffix in ("", "-wal", "-shm"):
        source = Path(str(database) + suffix)
        if source.exists():
            shutil.move(source, Path(str(aside) + suffix))
    if paths.secrets.exists():
        shutil.copy2(paths.secrets, paths.secrets.with_name(f"{paths.secrets.name}.replaced-{at:%Y%m%d-%H%M%S}"))
    return aside


def restore_backup(paths: DataPaths, backup_file: Path, *, key: KeyChoice = LOCAL,
                   database_key: KeyChoice = LOCAL) -> Path | None:
    """Verify the backup (under `key`), set the current database aside, copy the backup in under `database_key`.

    Returns where the previous database was set aside (None if there was none). A plain backup
    of an older version is encrypted on the way in. The caller writes the key file when the
    key changes, then opens the database (which upgrades an older schema).
    """
    backup_key, target_key = _key(paths, key), _key(paths, database_key)
    backup_key = None if is_plain(Path(backup_file)) else backup_key
    problem = backup_problem(Path(backup_file), key=backup_key)
    if problem:
        raise DatabaseCorrupt(f"无法从该备份恢复：{problem}")
    aside = _set_aside(paths, now())
    try:
        backup_to(Path(backup_file), paths.database, key=backup_key, destination_key=target_key)
    except BaseException:
        paths.database.unlink(missing_ok=True)
        if aside is not None:
            shutil.move(aside, paths.database)
        raise
    return aside
