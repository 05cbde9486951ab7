"""Rotating the database key: a new recovery key, the database and its backups re-encrypted (admin, audited)."""

from __future__ import annotations

from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from desktop.app import App
from desktop.at_rest import next_secrets_path, seal_backups, secrets_for_recovery_key, store_wrapped_audit_key
from desktop.backups import create_backup, list_backups
from desktop.db import Database
from desktop.recovery_key import new_recovery_key
from desktop.services import audit
from desktop.services.audit import Action
from desktop.services.permissions import Actor, Permission, require
from desktop.site_secrets import save_secrets
from desktop.sqlite_driver import connect, rekey


@dataclass(frozen=True)
class Rotation:
    """What a rotation did: the new recovery key (show it once), the backup made first, the backups left alone."""

    recovery_key: str
    backup: Path
    resealed_backups: int
    backups_left: list[Path]


def rotate_key(app: App, actor: Actor) -> Rotation:
    """Re-key the database under a new recovery key after a verified backup; re-encrypt the backups folder.

    Order: verified backup; new keys written to `keys.next`; `PRAGMA rekey` (one transaction);
    the audit key sealed under the new recovery key; `keys.next` renamed over the key file. A crash
    before the rename is finished at the next open (desktop/at_rest.finish_rotation).
    """
    require(actor, Permission.RESTORE)
    old = app.db.secrets
    backup = create_backup(app.paths, reason="before-rotation", key=old.database_key)
    recovery = new_recovery_key()
    new = secrets_for_recovery_key(recovery, audit_key=old.audit_key, keyed_from=old.audit_keyed_from)
    app.db.dispose()
    save_secrets(next_secrets_path(app.paths), new)
    with closing(connect(app.paths.database, key=old.database_key)) as connection:
        rekey(connection, new.database_key)  # type: ignore[arg-type]
    store_wrapped_audit_key(app.paths.database, new)
    next_secrets_path(app.paths).replace(app.paths.secrets)
    app.db = Database(app.paths.database, new)
    before = list_backups(app.paths)
    left = seal_backups(app.paths, new.database_key, old_key=old.database_key)
    with app.db.write() as session:
        audit.record(session, actor, Action.UPDATE, entity_type="database",
                     summary=f"更换数据库密钥（新的恢复密钥），先备份到 {backup.name}，"
                             f"重新加密备份 {len(before) - len(left)} 份")
    return Rotation(recovery_key=recovery, backup=backup, resealed_backups=len(before) - len(left), backups_left=left)

