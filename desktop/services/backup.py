"""Backup and restore as audited operations of a signed-in person."""

from __future__ import annotations

from pathlib import Path

from desktop.app import open_app
from desktop.backups import backup_problem, create_backup, restore_backup
from desktop.db import Database, check_openable
from desktop.errors import DatabaseCorrupt, DatabaseProblem, UserFacingError
from desktop.paths import DataPaths
from desktop.services import audit
from desktop.services.audit import Action
from desktop.services.audit_anchor import reanchor
from desktop.services.audit_labels import register_entity_label
from desktop.services.auth import sign_in
from desktop.services.permissions import Actor, Permission, require

register_entity_label("database", "数据库")


def record_backup(db: Database, actor: Actor, target: Path) -> None:
    """Audit a backup someone made (a backup is a copy of every record)."""
    require(actor, Permission.BACKUP)
    with db.write() as session:
        audit.record(session, actor, Action.BACKUP, entity_type="database", summary=f"备份到 {target}")


def _current_is_usable(paths: DataPaths) -> bool:
    if not paths.database.exists():
        return False
    try:
        check_openable(paths.database)
    except DatabaseProblem:
        return False
    return True


def _authorise_restore(paths: DataPaths, username: str | None, password: str | None) -> str:
    """A sound current database may be replaced only by an admin who signs in to it."""
    if not username or not password:
        raise UserFacingError("当前数据库完好，恢复备份需要系统管理员：请给出 --user 并在 TOWNSHIP_DESK_PASSWORD 中提供密码。")
    app = open_app(paths.root)
    try:
        actor = sign_in(app.db, username, password).actor
        require(actor, Permission.RESTORE)
        create_backup(paths, reason="before-restore")
    finally:
        app.close()
    return actor.username


def restore_from(
    paths: DataPaths, backup_file: Path, *, username: str | None = None, password: str | None = None
) -> tuple[Path | None, str]:
    """Restore a verified backup; returns (where the old file went, who restored).

    When the current database is damaged (or unreadable by this version) no sign-in is
    possible, so the restore is allowed and audited as done by the system; the old file
    is always kept aside, never deleted.
    """
    problem = backup_problem(backup_file)
    if problem:
        raise DatabaseCorrupt(f"无法从该备份恢复：{problem}")
    restored_by = _authorise_restore(paths, username, password) if _current_is_usable(paths) else "system"
    aside = restore_backup(paths, backup_file)
    app = open_app(paths.root)
    try:
        with app.db.write() as session:
            reason = "" if restored_by != "system" else "（原数据库损坏或无法读取）"
            audit.record(session, restored_by, Action.RESTORE, entity_type="database",
                         summary=f"从 {backup_file.name} 恢复{reason}，原文件另存为 {aside.name if aside else '无'}")
        with app.db.read() as session:  # the restored chain, ended by the audited restore, is the new anchor
            reanchor(session, app.db.path, app.db.secrets)
    finally:
        app.close()
    return aside, restored_by
