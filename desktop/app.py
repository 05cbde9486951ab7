"""Composition root: data directory -> database (checked, backed up, migrated) -> services.

No Qt here: the window, the command line and the tests all start from `open_app`. It sits below
the services (they may open an app; it never imports them): what it reads, it reads from db/dbfile.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from desktop.at_rest import acknowledge_recovery_key, prepare_secrets, seal_backups, store_wrapped_audit_key
from desktop.backups import create_backup
from desktop.branch_info import BranchInfo
from desktop.db import SCHEMA_HEAD, Database, check_openable, read_branch, upgrade_to_head
from desktop.paths import DataPaths

log = logging.getLogger("township_desk")


@dataclass
class App:
    """An opened data directory."""

    paths: DataPaths
    db: Database

    @property
    def branch(self) -> BranchInfo | None:
        """The branch of this data directory, or None before setup (read from the file, below the services)."""
        return read_branch(self.paths.database, key=self.db.secrets.database_key)

    def is_set_up(self) -> bool:
        return self.branch is not None

    @property
    def pending_recovery_key(self) -> str | None:
        """The recovery key while it has not yet been shown to the admin (setup, upgrade, rotation)."""
        return self.db.secrets.pending_recovery_key

    def recovery_key_shown(self) -> None:
        """The admin has the recovery key now: it is no longer kept on this PC."""
        if self.db.secrets.pending_recovery_key is not None:
            self.db.replace_secrets(acknowledge_recovery_key(self.paths, self.db.secrets))

    def close(self) -> None:
        self.db.dispose()


def open_app(data_dir: Path) -> App:
    """Open (creating if new) the data directory's database, upgraded to this version's schema.

    A corrupt or too-new file raises before anything is written to it. An existing
    database is backed up before any migration runs.
    """
    paths = DataPaths(data_dir)
    paths.ensure()
    secrets = prepare_secrets(paths)  # created with the directory; a plain database is encrypted here
    key = secrets.database_key
    revision = check_openable(paths.database, key=key) if paths.database.exists() else None
    if revision is not None and revision != SCHEMA_HEAD:
        backup = create_backup(paths, reason="before-upgrade", key=key)
        log.info("backed up %s before upgrading from %s: %s", paths.database, revision, backup)
    db = Database(paths.database, secrets)
    if revision != SCHEMA_HEAD:
        upgrade_to_head(db)
    store_wrapped_audit_key(paths.database, secrets)
    seal_backups(paths, key)
    return App(paths=paths, db=db)
