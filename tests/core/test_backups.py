"""Backups of the branch database: make, list, prune, verify, restore (never deleting the current file)."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from core_support import actor_for, corrupt_middle
from sqlalchemy import func, select

from desktop.dbfile import SCHEMA_HEAD
from desktop.app import App, open_app
from desktop.backups import (
    KEEP_AUTOMATIC,
    backup_problem,
    create_backup,
    daily_backup_due,
    list_backups,
    newest_good_backup,
    prune_automatic,
    restore_backup,
)
from desktop.db import run_check, stored_revision
from desktop.errors import DatabaseCorrupt
from desktop.models import Village
from desktop.services.branch import VillageInput, add_village


def _villages(app: App) -> int:
    with app.db.read() as session:
        return session.scalar(select(func.count()).select_from(Village))


def _fake_backup(app: App, at: datetime, reason: str) -> Path:
    path = app.paths.backups / f"township-desk-{at:%Y%m%d-%H%M%S}-{reason}.sqlite"
    path.write_bytes(b"")
    return path


def test_create_backup_is_a_verified_copy_listed_newest_first(demo_app: App) -> None:
    first = create_backup(demo_app.paths, reason="daily")
    second = create_backup(demo_app.paths, reason="manual")
    key = demo_app.db.secrets.database_key
    assert first != second and run_check(second, key=key, full=True) == []
    assert stored_revision(second, key=key) == SCHEMA_HEAD
    listed = list_backups(demo_app.paths)
    assert {b.path for b in listed} == {first, second}
    assert {b.reason for b in listed} == {"daily", "manual"} and all(b.size > 0 for b in listed)
    assert newest_good_backup(demo_app.paths).path in {first, second}
    assert not daily_backup_due(demo_app.paths)
    assert daily_backup_due(demo_app.paths, at=datetime.now() + timedelta(hours=25))


def test_a_backup_holds_what_was_committed(demo_app: App, tmp_path: Path) -> None:
    add_village(demo_app.db, actor_for(demo_app.db, "admin"), VillageInput("113", "新村"))
    copy = create_backup(demo_app.paths, out=tmp_path / "copy.sqlite")
    restored = open_app(_dir_with(copy, tmp_path / "other", keys=demo_app.paths.secrets))
    try:
        assert _villages(restored) == 14
    finally:
        restored.close()


def _dir_with(backup: Path, root: Path, *, keys: Path) -> Path:
    """A data directory holding the backup, with the key file of the directory it was made in."""
    root.mkdir(parents=True)
    (root / "township-desk.sqlite").write_bytes(backup.read_bytes())
    shutil.copy2(keys, root / "township-desk.keys")
    return root


def test_only_automatic_backups_are_pruned(demo_app: App) -> None:
    start = datetime(2026, 1, 1, 3, 0, 0)
    for day in range(KEEP_AUTOMATIC + 5):
        _fake_backup(demo_app, start + timedelta(days=day), "daily")
    manual = _fake_backup(demo_app, start - timedelta(days=400), "manual")
    prune_automatic(demo_app.paths)
    left = list_backups(demo_app.paths)
    assert len([b for b in left if b.reason == "daily"]) == KEEP_AUTOMATIC
    assert min(b.created for b in left if b.reason == "daily") == start + timedelta(days=5)
    assert manual.exists()


def test_backup_problem_explains_what_is_wrong(demo_app: App, tmp_path: Path) -> None:
    key = demo_app.db.secrets.database_key
    assert backup_problem(tmp_path / "missing.sqlite", key=key).startswith("找不到备份文件")
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database" * 500)
    assert backup_problem(junk, key=key).startswith("备份文件已损坏")
    good = create_backup(demo_app.paths)
    assert backup_problem(good, key=key) is None
    corrupt_middle(good)
    assert backup_problem(good, key=key) is not None
    assert newest_good_backup(demo_app.paths) is None


def test_restore_sets_the_current_file_aside(demo_app: App) -> None:
    backup = create_backup(demo_app.paths)
    add_village(demo_app.db, actor_for(demo_app.db, "admin"), VillageInput("113", "新村"))
    demo_app.close()
    current = demo_app.paths.database.read_bytes()

    aside = restore_backup(demo_app.paths, backup)

    assert aside is not None and aside.read_bytes() == current
    reopened = open_app(demo_app.paths.root)
    try:
        assert _villages(reopened) == 13
    finally:
        reopened.close()


def test_restore_refuses_a_bad_backup_and_keeps_the_current_file(demo_app: App, tmp_path: Path) -> None:
    demo_app.close()
    before = demo_app.paths.database.read_bytes()
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database" * 500)
    with pytest.raises(DatabaseCorrupt, match="无法从该备份恢复"):
        restore_backup(demo_app.paths, junk)
    assert demo_app.paths.database.read_bytes() == before
    assert not list(demo_app.paths.root.glob("*.replaced-*"))
