"""An intruder with the data folder and the sqlite3 shell: every way of hiding audit entries is found.

The database file is closed, edited with the real `sqlite3` command-line shell, and opened again,
as someone who copied the folder away or sat at the PC would. `audit verify` (the command line,
exit code 0 only when intact) holds the chain against the signed anchor file and the backups.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from audit_tamper_support import (
    DROP_TRIGGERS,
    audit_rows,
    edit_with_sqlite3_shell,
    needs_sqlite3_shell,
    rewrite_with_plain_chain,
)
from core_support import DEMO_PASSWORD, FIXTURE_DB, actor_for, copy_database, data_dir_with

from desktop.app import App, open_app
from desktop.backups import create_backup
from desktop.cli import main
from desktop.paths import DB_FILENAME, DataPaths
from desktop.services import audit
from desktop.services.audit import Action
from desktop.services.audit_anchor import read_anchor_file
from desktop.services.audit_verify import ProblemKind, verify_audit
from desktop.services.backup import restore_from

pytestmark = needs_sqlite3_shell

ENTRIES = 12


def _add_views(app: App, count: int) -> None:
    director = actor_for(app.db, "yuanzhang")
    for number in range(count):
        with app.db.write() as session:
            audit.record(session, director, Action.VIEW, entity_type="resident", entity_id=number,
                         summary=f"查看居民档案 {number}")


def _last_seq(app: App) -> int:
    return audit_rows(app.paths)[-1]["seq"]


@pytest.fixture
def data_dir(demo_template: Path, tmp_path: Path) -> Path:
    """A demo branch's data folder with ENTRIES audit entries, closed."""
    root = data_dir_with(demo_template, tmp_path / "data")
    app = open_app(root)
    try:
        _add_views(app, ENTRIES - _last_seq(app))
    finally:
        app.close()
    return root


@pytest.fixture
def paths(data_dir: Path) -> DataPaths:
    return DataPaths(data_dir)


@pytest.fixture
def verify(capsys: pytest.CaptureFixture[str]):
    """`township-desk audit verify` in-process: (exit code, what it printed)."""

    def run(data_dir: Path) -> tuple[int, str]:
        code = main(["--data-dir", str(data_dir), "audit", "verify"])
        return code, capsys.readouterr().out

    return run


def _report(data_dir: Path):
    app = open_app(data_dir)
    try:
        return verify_audit(app.db)
    finally:
        app.close()


@pytest.fixture
def opened(data_dir: Path) -> Iterator[App]:
    app = open_app(data_dir)
    yield app
    app.close()


def test_an_untouched_database_is_intact(data_dir: Path, paths: DataPaths, verify) -> None:
    app = open_app(data_dir)
    try:
        anchor = read_anchor_file(paths.audit_anchor, app.db.secrets).anchor
    finally:
        app.close()
    assert anchor is not None and anchor.seq == ENTRIES and anchor.entries == ENTRIES and anchor.site
    assert oct(paths.audit_anchor.stat().st_mode & 0o777) == "0o600"
    code, out = verify(data_dir)
    assert code == 0, out
    assert f"审计日志完整：共 {ENTRIES} 条（与锚点文件第 {ENTRIES} 条" in out


def test_deleting_the_last_entries_is_a_missing_tail(data_dir: Path, paths: DataPaths, verify) -> None:
    edit_with_sqlite3_shell(paths, DROP_TRIGGERS + f"DELETE FROM audit_entry WHERE seq > {ENTRIES - 3};")
    report = _report(data_dir)
    assert report.chain.intact  # what is left is a sound chain: only the anchor shows the loss
    assert report.kinds == {ProblemKind.MISSING_TAIL}
    code, out = verify(data_dir)
    assert code == 1
    assert f"审计记录第 {ENTRIES - 3} 条之后的 3 条缺失（最近锚点：锚点文件第 {ENTRIES} 条" in out


def test_emptying_the_table_is_found(data_dir: Path, paths: DataPaths, verify) -> None:
    edit_with_sqlite3_shell(paths, DROP_TRIGGERS + "DELETE FROM audit_entry;")
    assert audit_rows(paths) == []
    assert _report(data_dir).kinds == {ProblemKind.EMPTIED}
    code, out = verify(data_dir)
    assert code == 1 and "审计记录已被清空" in out and f"锚点记录到第 {ENTRIES} 条" in out


def test_rewriting_entries_and_recomputing_the_plain_chain_is_a_rewritten_history(
        data_dir: Path, paths: DataPaths, verify) -> None:
    rewrite_with_plain_chain(paths, from_seq=4, summary="查看了本人档案")
    report = _report(data_dir)
    assert report.chain.first_bad_seq == 4  # the plain hash is not the keyed one
    assert report.kinds == {ProblemKind.CHAIN_BROKEN, ProblemKind.REWRITTEN}
    code, out = verify(data_dir)
    assert code == 1
    assert f"审计记录第 {ENTRIES} 条与锚点不符，之前的历史被改写" in out


def test_a_deleted_anchor_file_is_reported(data_dir: Path, paths: DataPaths, verify) -> None:
    paths.audit_anchor.unlink()
    code, out = verify(data_dir)
    assert code == 1 and "审计锚点文件 audit-anchor.json 缺失" in out


def test_a_forged_anchor_file_is_reported(data_dir: Path, paths: DataPaths, verify) -> None:
    document = json.loads(paths.audit_anchor.read_text(encoding="utf-8"))
    document["anchor"]["seq"] = ENTRIES - 3
    paths.audit_anchor.write_text(json.dumps(document), encoding="utf-8")
    edit_with_sqlite3_shell(paths, DROP_TRIGGERS + f"DELETE FROM audit_entry WHERE seq > {ENTRIES - 3};")
    code, out = verify(data_dir)
    assert code == 1 and "签名不符" in out
    assert _report(data_dir).kinds == {ProblemKind.ANCHOR_FORGED}


def test_a_backup_still_shows_the_tail_when_the_anchor_file_went_with_it(
        data_dir: Path, paths: DataPaths, verify) -> None:
    create_backup(paths, reason="daily")
    paths.audit_anchor.unlink()
    edit_with_sqlite3_shell(paths, DROP_TRIGGERS + f"DELETE FROM audit_entry WHERE seq > {ENTRIES - 2};")
    report = _report(data_dir)
    assert report.kinds == {ProblemKind.ANCHOR_MISSING, ProblemKind.MISSING_TAIL}
    code, out = verify(data_dir)
    assert code == 1 and "之后的 2 条缺失（最近锚点：备份 township-desk-" in out


def test_writing_on_after_the_deletion_does_not_move_the_anchor(data_dir: Path, paths: DataPaths) -> None:
    edit_with_sqlite3_shell(paths, DROP_TRIGGERS + f"DELETE FROM audit_entry WHERE seq > {ENTRIES - 4};")
    app = open_app(data_dir)
    try:
        _add_views(app, 6)  # the app's own later entries chain validly to what is left
        assert verify_audit(app.db).kinds == {ProblemKind.REWRITTEN}  # seq ENTRIES now holds another entry
        anchor = read_anchor_file(paths.audit_anchor, app.db.secrets).anchor
        assert anchor is not None and anchor.seq == ENTRIES  # held where the real chain ended
    finally:
        app.close()


def test_an_emptied_table_is_not_re_anchored_by_the_next_sign_in(data_dir: Path, paths: DataPaths) -> None:
    edit_with_sqlite3_shell(paths, DROP_TRIGGERS + "DELETE FROM audit_entry;")
    app = open_app(data_dir)
    try:
        _add_views(app, 1)
        assert verify_audit(app.db).kinds == {ProblemKind.MISSING_TAIL}
    finally:
        app.close()


def test_an_audited_restore_of_an_older_backup_is_intact(
        data_dir: Path, paths: DataPaths, monkeypatch: pytest.MonkeyPatch) -> None:
    older = create_backup(paths, reason="manual")
    app = open_app(data_dir)
    try:
        _add_views(app, 3)
    finally:
        app.close()
    restore_from(paths, older, username="admin", password=DEMO_PASSWORD)
    report = _report(data_dir)
    assert report.intact, report.problems
    assert report.entries == ENTRIES + 1  # the backup's entries and the restore itself


def test_a_savepoint_rolled_back_leaves_the_anchor_on_committed_entries(opened: App) -> None:
    director = actor_for(opened.db, "yuanzhang")
    with opened.db.write() as session:
        audit.record(session, director, Action.VIEW, summary="保留")
        nested = session.begin_nested()
        audit.record(session, director, Action.VIEW, summary="撤销")
        nested.rollback()
    anchor = read_anchor_file(opened.paths.audit_anchor, opened.db.secrets).anchor
    assert anchor is not None and anchor.seq <= ENTRIES + 1
    _add_views(opened, 1)
    assert verify_audit(opened.db).intact
    assert read_anchor_file(opened.paths.audit_anchor, opened.db.secrets).anchor.seq == ENTRIES + 2


def test_rewriting_the_plain_part_of_an_upgraded_database_breaks_the_keyed_part(tmp_path: Path) -> None:
    """A database from before the keyed chain keeps its plain hashes; the first keyed entry chains to them."""
    data_dir = tmp_path / "upgraded"
    copy_database(FIXTURE_DB, data_dir / DB_FILENAME)
    app = open_app(data_dir)
    try:
        keyed_from = app.db.secrets.audit_keyed_from
        assert keyed_from > 1
        _add_views(app, 3)
        assert verify_audit(app.db).intact
    finally:
        app.close()
    paths = DataPaths(data_dir)
    rewrite_with_plain_chain(paths, from_seq=1, through_seq=keyed_from - 1, summary="无事")
    report = _report(data_dir)
    assert report.chain.first_bad_seq == keyed_from and "不衔接" in report.chain.problem


def test_a_backup_made_up_from_the_tampered_file_is_not_taken_as_an_anchor(
        data_dir: Path, paths: DataPaths) -> None:
    """Without the audit key a made-up 'newer' backup cannot outrank the anchor file."""
    kept = ENTRIES - 3
    edit_with_sqlite3_shell(paths, DROP_TRIGGERS + f"DELETE FROM audit_entry WHERE seq > {kept};\n"
                                   f"UPDATE audit_entry SET at = '2099-01-01 00:00:00.000000' WHERE seq = {kept};")
    shutil.copy(paths.database, paths.backups / "township-desk-20990101-000000-daily.sqlite")
    report = _report(data_dir)
    assert report.anchor is not None and report.anchor.source == "file"
    assert ProblemKind.MISSING_TAIL in report.kinds and report.chain.first_bad_seq == kept
