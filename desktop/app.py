"""Composition root: data directory -> database (checked, backed up, migrated) -> services.

No Qt here: the window, the command line and the tests all start from `open_app`. It sits below
the services (they may open an app; it never imports them): what it reads, it reads from db/dbfile.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from desktop.backups import create_backup
from desktop.branch_info import BranchInfo
from desktop.db import SCHEMA_HEAD, Database, check_openable, read_branch, upgrade_to_head
from desktop.dbfile import last_audit_seq
from desktop.paths import DataPaths
from desktop.site_secrets import SiteSecrets, load_secrets, new_key, save_secrets

log = logging.getLogger("township_desk")


@dataclass
class App:
    """An opened data directory."""

    paths: DataPaths
    db: Database

    @property
    def branch(self) -> BranchInfo | None:
        """The branch of this data directory, or None before setup (read from the file, below the services)."""
        return read_branch(self.paths.database)

    def is_set_up(self) -> bool:
        return self.branch is not None

    def close(self) -> None:
        self.db.dispose()


def site_secrets(paths: DataPaths) -> SiteSecrets:
    """The data directory's secrets, created with the directory.

    A database written before secrets existed gets an audit key that chains the entries after
    its last one; the entries before stay verifiable with the plain hash they were written with.
    """
    if paths.secrets.exists():
        return load_secrets(paths.secrets)
    keyed_from = last_audit_seq(paths.database) + 1 if paths.database.exists() else 1
    created = SiteSecrets(database_key=None, audit_key=new_key(), audit_keyed_from=keyed_from)
    save_secrets(paths.secrets, created)
    return created


def open_app(data_dir: Path) -> App:
    """Open (creating if new) the data directory's database, upgraded to this version's schema.

    A corrupt or too-new file raises before anything is written to it. An existing
    database is backed up before any migration runs.
    """
    paths = DataPaths(data_dir)
    paths.ensure()
    revision = check_openable(paths.database) if paths.database.exists() else None
    if revision is not None and revision != SCHEMA_HEAD:
        backup = create_backup(paths, reason="before-upgrade")
        log.info("backed up %s before upgrading from %s: %s", paths.database, revision, backup)
    db = Database(paths.database, site_secrets(paths))
    if revision != SCHEMA_HEAD:
        upgrade_to_head(db)
    return App(paths=paths, db=db)
