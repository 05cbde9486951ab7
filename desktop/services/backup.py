"""Backup and restore as audited operations of a signed-in person."""

from __future__ import annotations

from pathlib import Path

from desktop.app import open_app
from desktop.at_rest import opens_with, read_wrapped_audit_key, write_wrapped_audit_key
from desktop.backups import backup_problem, create_backup, local_key, restore_backup
from desktop.db import Database, check_openable
from desktop.dbfile import last_audit_seq
from desktop.errors import DatabaseCorrupt, UserFacingError
from desktop.paths import DataPaths
from desktop.recovery_key import database_key_from, unwrap_audit_key
from desktop.services import audit
from desktop.services.audit import Action
from desktop.services.audit_anchor import reanchor
from desktop.services.audit_labels import register_entity_label
from desktop.services.auth import sign_in
from desktop.services.permissions import Actor, Permission, require
from desktop.site_secrets import SecretsUnreadable, SiteSecrets, load_secrets, new_key, save_secrets
from desktop.sqlite_driver import is_plain

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
        check_openable(paths.database, key=local_key(paths))
    except UserFacingError:  # damaged, too new, or no key file that opens it
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


def _backup_key(paths: DataPaths, backup_file: Path, recovery_key: str | None) -> bytes | None:
    """The key the backup should open with: the recovery key's, else this PC's."""
    if is_plain(backup_file):
        return None
    if recovery_key is not None:
        return database_key_from(recovery_key)
    try:
        return load_secrets(paths.secrets).database_key
    except SecretsUnreadable as error:
        raise UserFacingError("本机没有可用的数据库密钥。在另一台电脑上恢复时，请加上 --recovery-key 恢复密钥。",
                              details=error.message) from error


def _sealed_audit_key(paths: DataPaths, key: bytes | None) -> str | None:
    """This PC's audit key as sealed under the recovery key in the current database (a sound one)."""
    return read_wrapped_audit_key(paths.database, key) if paths.database.exists() else None


def _restore_under_this_pcs_key(paths: DataPaths, backup_file: Path, backup_key: bytes | None, *,
                                sound: bool) -> Path | None:
    """Copy the backup in under this PC's key; the audit key sealed in the current database goes on."""
    database_key = load_secrets(paths.secrets).database_key if paths.secrets.exists() else None
    sealed = _sealed_audit_key(paths, database_key) if sound else None
    aside = restore_backup(paths, backup_file, key=backup_key, database_key=database_key)
    if sealed is not None and read_wrapped_audit_key(paths.database, database_key) != sealed:
        write_wrapped_audit_key(paths.database, database_key, sealed)
    return aside


def _secrets_from_recovery_key(paths: DataPaths, backup_file: Path, recovery_key: str,
                               backup_key: bytes | None) -> SiteSecrets:
    """This PC's new secrets: the recovery key's database key and the audit key sealed in the backup."""
    wrapped = read_wrapped_audit_key(backup_file, backup_key)
    audit = unwrap_audit_key(recovery_key, wrapped) if wrapped else None
    if audit is None:
        try:
            local = load_secrets(paths.secrets)
            audit = (local.audit_key, local.audit_keyed_from)
        except SecretsUnreadable:
            audit = (new_key(), last_audit_seq(backup_file, key=backup_key) + 1)
    return SiteSecrets(database_key=database_key_from(recovery_key), audit_key=audit[0], audit_keyed_from=audit[1])


def restore_from(
    paths: DataPaths, backup_file: Path, *, username: str | None = None, password: str | None = None,
    recovery_key: str | None = None,
) -> tuple[Path | None, str]:
    """Restore a verified backup; returns (where the old file went, who restored).

    With `recovery_key` (another PC, or a lost key file) the backup is opened with the key derived
    from it, and this PC's key file is written afterwards, with the audit key recovered from the
    backup; a wrong key changes nothing. When the current database is damaged (or unreadable by
    this version or this PC's key) no sign-in is possible, so the restore is allowed and audited as
    done by the system; the old file is always kept aside (with its key file), never deleted.
    """
    backup_key = _backup_key(paths, backup_file, recovery_key)
    if recovery_key is not None and backup_file.is_file() and not opens_with(backup_file, backup_key):
        raise UserFacingError("恢复密钥与该备份不符：这份备份不是用该恢复密钥加密的（或已损坏）。"
                              "请核对恢复密钥或换一份备份。未作任何改动。")
    problem = backup_problem(backup_file, key=backup_key)
    if problem:
        raise DatabaseCorrupt(f"无法从该备份恢复：{problem}")
    restored_by = _authorise_restore(paths, username, password) if _current_is_usable(paths) else "system"
    if recovery_key is None:
        aside = _restore_under_this_pcs_key(paths, backup_file, backup_key, sound=restored_by != "system")
    else:
        secrets = _secrets_from_recovery_key(paths, backup_file, recovery_key, backup_key)
        aside = restore_backup(paths, backup_file, key=backup_key, database_key=secrets.database_key)
        save_secrets(paths.secrets, secrets)
    app = open_app(paths.root)
    try:
        with app.db.write() as session:
            reason = "" if restored_by != "system" else "（原数据库损坏或无法读取）"
            how = "（用恢复密钥）" if recovery_key is not None else ""
            audit.record(session, restored_by, Action.RESTORE, entity_type="database",
                         summary=f"从 {backup_file.name} 恢复{how}{reason}，原文件另存为 {aside.name if aside else '无'}")
        with app.db.read() as session:  # the restored chain, ended by the audited restore, is the new anchor
            reanchor(session, app.db.path, app.db.secrets)
    finally:
        app.close()
    return aside, restored_by
