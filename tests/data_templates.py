"""Data directories for tests: databases built once per session, copied (backup API, same key) per test.

A database is encrypted under its data directory's key file, so a copy takes the key file along.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

from desktop.app import App, open_app
from desktop.paths import AUDIT_ANCHOR_FILENAME, DB_FILENAME, SECRETS_FILENAME
from desktop.site_secrets import load_secrets
from desktop.sqlite_driver import Connection, connect


def database_key(database: Path | str) -> bytes | None:
    """The key of a data directory's database, read from the key file beside it (None: a plain file)."""
    keys = Path(database).parent / SECRETS_FILENAME
    return load_secrets(keys).database_key if keys.exists() else None


def open_database(database: Path | str, *, isolation_level: None = None, timeout: float = 5.0) -> Connection:
    """A driver connection (autocommit) to a data directory's database, keyed from the key file beside it.

    A file with no key file beside it (the head hospital's database) opens plain.
    """
    return connect(database, key=database_key(database), timeout=timeout)


def copy_database(source: Path, target: Path) -> Path:
    """Copy a closed database (and its key file) with the backup API."""
    target.parent.mkdir(parents=True, exist_ok=True)
    keys = source.parent / SECRETS_FILENAME
    if keys.exists():
        shutil.copy2(keys, target.parent / SECRETS_FILENAME)
    key = database_key(source)
    with closing(connect(source, key=key)) as src, closing(connect(target, key=key)) as dst:
        src.backup(dst)
    return target


def data_dir_with(template: Path, root: Path) -> Path:
    """A fresh data directory under `root` holding a copy of `template` with its keys and audit anchor."""
    copy_database(template, root / DB_FILENAME)
    for name in (SECRETS_FILENAME, AUDIT_ANCHOR_FILENAME):
        if (template.parent / name).exists():
            shutil.copy2(template.parent / name, root / name)
    return root


def build_template(root: Path, build: Callable[[App], object]) -> Path:
    """Open a new data directory under `root`, let `build` fill it, and return its closed database file."""
    app = open_app(root)
    try:
        build(app)
        app.recovery_key_shown()  # as the wizard or `init` would have
    finally:
        app.close()
    return root / DB_FILENAME


def opened_copy(template: Path, root: Path) -> Iterator[App]:
    """An opened private copy of `template` under `root`, closed afterwards."""
    app = open_app(data_dir_with(template, root))
    try:
        yield app
    finally:
        app.close()
