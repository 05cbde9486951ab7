"""The audit log: hash chain, tamper detection, append-only triggers, digests, the viewer's queries."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import datetime

import pytest
from core_support import actor_for
from sqlalchemy import select

from desktop.app import App
from desktop.errors import PermissionDenied
from desktop.models import AuditEntry
from desktop.services import audit
from desktop.services.audit import GENESIS_HASH, Action, AuditFilter, digest, verify_chain


def _entries(app: App) -> list[tuple[int, str, str]]:
    """(seq, prev_hash, entry_hash) of every entry in order."""
    query = select(AuditEntry.seq, AuditEntry.prev_hash, AuditEntry.entry_hash).order_by(AuditEntry.seq)
    with app.db.read() as session:
        return [tuple(row) for row in session.execute(query)]


def _add_entries(app: App, count: int) -> None:
    """Append `count` VIEW entries by the director, one transaction each."""
    director = actor_for(app.db, "yuanzhang")
    for number in range(count):
        with app.db.write() as session:
            audit.record(session, director, Action.VIEW, entity_type="resident", entity_id=number,
                         summary=f"查看居民档案 {number}", after={"number": number})


@pytest.fixture
def chained(demo_app: App) -> App:
    """The demo branch with eight audit entries."""
    _add_entries(demo_app, 8 - len(_entries(demo_app)))
    assert len(_entries(demo_app)) == 8
    return demo_app


@contextmanager
def _tamper(app: App) -> Iterator[sqlite3.Connection]:
    """A raw connection to the file with the append-only triggers dropped."""
    with closing(sqlite3.connect(app.db.path, isolation_level=None)) as connection:
        connection.execute("DROP TRIGGER audit_entry_no_update")
        connection.execute("DROP TRIGGER audit_entry_no_delete")
        yield connection


def _row(connection: sqlite3.Connection, seq: int) -> dict[str, object]:
    connection.row_factory = sqlite3.Row
    row = connection.execute("SELECT * FROM audit_entry WHERE seq = ?", (seq,)).fetchone()
    connection.row_factory = None
    return dict(row)


def _insert(connection: sqlite3.Connection, row: dict[str, object]) -> None:
    names = ", ".join(row)
    marks = ", ".join("?" * len(row))
    connection.execute(f"INSERT INTO audit_entry ({names}) VALUES ({marks})", tuple(row.values()))


def _forged(
    connection: sqlite3.Connection, seq: int, *, prev_hash: str, well_made: bool
) -> dict[str, object]:
    """A made-up entry; a well-made one carries the hash the algorithm would give it."""
    row = _row(connection, 1) | {"seq": seq, "summary": "伪造：删除了某居民档案", "actor": "admin",
                                  "prev_hash": prev_hash, "entry_hash": "f" * 64}
    if well_made:
        entry = AuditEntry(**{**row, "at": datetime.fromisoformat(str(row["at"]))})
        row["entry_hash"] = audit._entry_hash(prev_hash, audit._hashed_fields(entry))
    return row


def test_entries_chain_from_genesis(chained: App) -> None:
    entries = _entries(chained)
    assert [seq for seq, _, _ in entries] == list(range(1, 9))
    assert entries[0][1] == GENESIS_HASH
    for (_, _, previous_hash), (_, prev_hash, _) in zip(entries, entries[1:], strict=False):
        assert prev_hash == previous_hash
    assert len({entry_hash for _, _, entry_hash in entries}) == 8


def test_an_untouched_chain_verifies(chained: App) -> None:
    report = verify_chain(chained.db)
    assert report.intact and report.checked == 8 and report.first_bad_seq is None


def test_the_triggers_refuse_update_and_delete(chained: App) -> None:
    with closing(sqlite3.connect(chained.db.path, isolation_level=None)) as connection:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            connection.execute("UPDATE audit_entry SET summary = 'x' WHERE seq = 3")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            connection.execute("DELETE FROM audit_entry WHERE seq = 3")
    assert verify_chain(chained.db).intact
    assert len(_entries(chained)) == 8


def test_a_changed_summary_is_found_at_that_entry(chained: App) -> None:
    with _tamper(chained) as connection:
        connection.execute("UPDATE audit_entry SET summary = '无事发生' WHERE seq = 5")
    report = verify_chain(chained.db)
    assert report.first_bad_seq == 5 and report.checked == 4
    assert "修改" in report.problem


def test_a_changed_actor_or_time_is_found(chained: App) -> None:
    with _tamper(chained) as connection:
        connection.execute("UPDATE audit_entry SET actor = 'someone' WHERE seq = 7")
        connection.execute("UPDATE audit_entry SET at = '2020-01-01 00:00:00.000000' WHERE seq = 6")
    assert verify_chain(chained.db).first_bad_seq == 6


def test_a_deleted_middle_entry_is_found(chained: App) -> None:
    with _tamper(chained) as connection:
        connection.execute("DELETE FROM audit_entry WHERE seq = 4")
    report = verify_chain(chained.db)
    assert report.first_bad_seq == 4
    assert "缺失" in report.problem


def test_a_deleted_first_entry_is_found(chained: App) -> None:
    with _tamper(chained) as connection:
        connection.execute("DELETE FROM audit_entry WHERE seq = 1")
    assert verify_chain(chained.db).first_bad_seq == 1


def test_a_deleted_and_renumbered_middle_entry_is_found(chained: App) -> None:
    with _tamper(chained) as connection:
        connection.execute("DELETE FROM audit_entry WHERE seq = 4")
        connection.execute("UPDATE audit_entry SET seq = -(seq - 1) WHERE seq > 4")
        connection.execute("UPDATE audit_entry SET seq = -seq WHERE seq < 0")
    assert verify_chain(chained.db).first_bad_seq == 4


def _renumber_from(connection: sqlite3.Connection, seq: int) -> None:
    connection.execute("UPDATE audit_entry SET seq = -(seq + 1) WHERE seq >= ?", (seq,))
    connection.execute("UPDATE audit_entry SET seq = -seq WHERE seq < 0")


def test_a_crude_forged_entry_inserted_in_the_middle_is_found(chained: App) -> None:
    with _tamper(chained) as connection:
        _renumber_from(connection, 4)
        _insert(connection, _forged(connection, 4, prev_hash="0" * 64, well_made=False))
    report = verify_chain(chained.db)
    assert report.first_bad_seq == 4
    assert "不衔接" in report.problem


def test_a_well_made_forged_entry_in_the_middle_breaks_the_next_link(chained: App) -> None:
    with _tamper(chained) as connection:
        _renumber_from(connection, 4)
        prev_hash = _row(connection, 3)["entry_hash"]
        _insert(connection, _forged(connection, 4, prev_hash=prev_hash, well_made=True))
    report = verify_chain(chained.db)
    assert report.first_bad_seq == 5  # the displaced real entry no longer fits
    assert report.checked == 4


def test_a_forged_entry_filling_a_gap_is_found(chained: App) -> None:
    with _tamper(chained) as connection:
        connection.execute("DELETE FROM audit_entry WHERE seq = 4")
        prev_hash = _row(connection, 3)["entry_hash"]
        _insert(connection, _forged(connection, 4, prev_hash=prev_hash, well_made=True))
    assert verify_chain(chained.db).first_bad_seq == 5


def test_digest_is_stable_and_content_sensitive() -> None:
    assert digest(None) is None
    first = digest({"name": "柳树村", "villages": [1, 2], "at": datetime(2026, 1, 2, 3, 4, 5)})
    same = digest({"at": datetime(2026, 1, 2, 3, 4, 5), "villages": [1, 2], "name": "柳树村"})
    assert first == same and len(first) == 64
    assert digest({"name": "柳树村", "villages": [2, 1], "at": datetime(2026, 1, 2, 3, 4, 5)}) != first
    assert digest({}) == "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"  # sha256("{}")


def test_changed_fields() -> None:
    before = {"role": "clerk", "active": True, "villages": [1]}
    after = {"role": "director", "active": True, "villages": [1], "display_name": "王五"}
    assert audit.changed_fields(before, after) == ["display_name", "role"]
    assert audit.changed_fields(before, dict(before)) == []


def test_list_entries_needs_view_audit(chained: App) -> None:
    clerk = actor_for(chained.db, "luru1")
    with pytest.raises(PermissionDenied, match="审计"):
        audit.list_entries(chained.db, clerk)
    with pytest.raises(PermissionDenied):
        audit.count_entries(chained.db, clerk)
    with pytest.raises(PermissionDenied):
        audit.actor_names(chained.db, clerk)
    rows = audit.list_entries(chained.db, actor_for(chained.db, "yuanzhang"))
    assert [row.seq for row in rows] == list(range(8, 0, -1))  # newest first


def test_list_entries_filters_and_pages(chained: App) -> None:
    director = actor_for(chained.db, "yuanzhang")
    views = audit.list_entries(chained.db, director, AuditFilter(action=Action.VIEW.value))
    assert len(views) == 6 and {row.action_label for row in views} == {"查看"}
    by_system = audit.list_entries(chained.db, director, AuditFilter(actor="system"))
    assert [row.action for row in by_system] == [Action.CREATE.value, Action.SETUP.value]
    assert audit.list_entries(chained.db, director, AuditFilter(actor="nobody")) == []
    assert [r.seq for r in audit.list_entries(chained.db, director, AuditFilter(text="档案 3"))] == [6]
    assert [r.seq for r in audit.list_entries(chained.db, director, limit=3, before_seq=6)] == [5, 4, 3]
    assert audit.count_entries(chained.db, director, AuditFilter(actor="yuanzhang")) == 6
    assert audit.actor_names(chained.db, director) == ["system", "yuanzhang"]
    assert audit.list_entries(chained.db, director, AuditFilter(since=datetime(2100, 1, 1))) == []


def test_an_entry_written_in_a_failed_transaction_disappears_with_it(chained: App) -> None:
    director = actor_for(chained.db, "yuanzhang")
    with pytest.raises(RuntimeError), chained.db.write() as session:
        audit.record(session, director, Action.EXPORT, summary="导出")
        raise RuntimeError("export failed")
    assert len(_entries(chained)) == 8
    assert verify_chain(chained.db).intact
