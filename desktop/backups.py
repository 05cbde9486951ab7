"""Backups of the branch database: make, list, verify, restore.

Backups are made with the SQLite backup API into `<data>/backups/`, each verified
with integrity_check before it is kept. Restoring never deletes the current file:
it is set aside next to the database under a `.replaced-<time>` name.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from desktop.clock import now
from desktop.dbfile import backup_to, check_openable, run_check, stored_revision
from desktop.errors import DatabaseCorrupt, UserFacingError
from desktop.paths import DataPaths

BACKUP_PATTERN = re.compile(r"township-desk-(\d{8}-\d{6})(?:-([a-z0-9-]+))?\.sqlite$")
KEEP_AUTOMATIC = 30
AUTOMATIC_REASONS = ("daily", "before-upgrade", "before-restore")


@dataclass(frozen=True)
class BackupInfo:
    """One backup file."""

    path: Path
    created: datetime
    reason: str
    size: int


def _backup_name(reason: str, at: datetime) -> str:
    return f"township-desk-{at:%Y%m%d-%H%M%S}-{reason}.sqlite"


def create_backup(paths: DataPaths, *, reason: str = "manual", out: Path | None = None) -> Path:
    """Back up the live database; `out` chooses the file, otherwise the backups folder."""
    paths.ensure()
    target = out or paths.backups / _backup_name(reason, now())
    if target.exists() and out is None:
        target = target.with_name(target.stem + f"-{now():%f}.sqlite")
    backup_to(paths.database, target)
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


def backup_problem(file: Path) -> str | None:
    """Why a file cannot be restored, or None when it is a sound backup of this app."""
    if not file.is_file():
        return f"找不到备份文件：{file}"
    problems = run_check(file, full=True)
    if problems:
        return "备份文件已损坏：" + problems[0]
    try:
        check_openable(file)
        if stored_revision(file) is None:
            return "该文件不是工作台的数据库备份。"
    except UserFacingError as error:
        return error.message
    return None


def newest_good_backup(paths: DataPaths) -> BackupInfo | None:
    """The newest backup that passes verification."""
    for backup in list_backups(paths):
        if backup_problem(backup.path) is None:
            return backup
    return None


def daily_backup_due(paths: DataPaths, *, at: datetime | None = None) -> bool:
    """True when no backup was made in the last 24 hours."""
    backups = list_backups(paths)
    return not backups or ((at or now()) - backups[0].created).total_seconds() > 24 * 3600


def daily_backup(paths: DataPaths) -> Path | None:
    """Make the day's automatic backup unless one was made in the last 24 hours."""
    return create_backup(paths, reason="daily") if daily_backup_due(paths) else None


def _set_aside(database: Path, at: datetime) -> Path | None:
    if not database.exists():
        return None
    aside = database.with_name(f"{database.name}.replaced-{at:%Y%m%d-%H%M%S}")
    for suffix in ("", "-wal", "-shm"):
        source = Path(str(database) + suffix)
        if source.exists():
            shutil.move(source, Path(str(aside) + suffix))
    return aside


def restore_backup(paths: DataPaths, backup_file: Path) -> Path | None:
    """Verify the backup, set the current database aside, copy the backup in.

    Returns where the previous database was set aside (None if there was none).
    The caller opens the database afterwards (which upgrades an older schema).
    """
    problem = backup_problem(Path(backup_file))
    if problem:
        raise DatabaseCorrupt(f"无法从该备份恢复：{problem}")
    aside = _set_aside(paths.database, now())
    try:
        backup_to(Path(backup_file), paths.database)
    except BaseException:
        paths.database.unlink(missing_ok=True)
        if aside is not None:
            shutil.move(aside, paths.database)
        raise
    return aside
