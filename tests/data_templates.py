"""Data directories for tests: databases built once per session, copied (SQLite backup API) per test."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

from desktop.app import App, open_app
from desktop.paths import AUDIT_ANCHOR_FILENAME, DB_FILENAME, SECRETS_FILENAME


def copy_database(source: Path, target: Path) -> Path:
    """Copy a closed database with the SQLite backup API."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
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
