"""The audit log: hash chain, tamper detection, append-only triggers, digests, the viewer's queries."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import date, datetime
from pathlib import Path

import pytest
from core_support import DEMO_PASSWORD, actor_for, person
from data_templates import open_database
from sqlalchemy import select

import desktop
from desktop import sqlite_driver
from desktop.app import App
from desktop.errors import PermissionDenied, UserFacingError
from desktop.models import AuditEntry, Resident
from desktop.printing.catalogue import print_form, registered_forms
from desktop.rules.elderly import SELF_CARE_ITEMS, Dependence
from desktop.rules.followup import Disease
from desktop.rules.visit_checks import VisitInput
from desktop.services import audit
from desktop.services.audit import GENESIS_HASH, Action, AuditFilter, digest, verify_chain
from desktop.services.audit_chain import entry_hash, hashed_fields
from desktop.services.audit_labels import FALLBACK_LABEL, entity_label, register_entity_label
from desktop.services.auth import sign_in
from desktop.services.backup import record_backup
from desktop.services.branch import VillageInput, add_village
from desktop.services.chronic import EnrolmentInput, enrol
from desktop.services.followups import record_visit
from desktop.services.health_checks import HealthCheckInput, record_health_check
from desktop.services.households import start_household
from desktop.services.resident_query import get_resident
from desktop.services.residents import create_resident
from desktop.services.settings import set_idle_lock_minutes
from desktop.transfer.indicators_export import IndicatorsExport
from desktop.transfer.resident_export import ResidentExport
from township_wire.types import type_label

PACKAGE_ROOT = Path(desktop.__file__).resolve().parent


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
def _tamper(app: App) -> Iterator[sqlite_driver.Connection]:
    """A raw connection to the file with the append-only triggers dropped."""
    with closing(open_database(app.db.path, isolation_level=None)) as connection:
        connection.execute("DROP TRIGGER audit_entry_no_update")
        connection.execute("DROP TRIGGER audit_entry_no_delete")
        yield connection


def _row(connection: sqlite_driver.Connection, seq: int) -> dict[str, object]:
    connection.row_factory = sqlite_driver.driver.Row
    row = connection.execute("SELECT * FROM audit_entry WHERE seq = ?", (seq,)).fetchone()
    connection.row_factory = None
    return dict(row)


def _insert(connection: sqlite_driver.Connection, row: dict[str, object]) -> None:
    names = ", ".join(row)
    marks = ", ".join("?" * len(row))
    connection.execute(f"INSERT INTO audit_entry ({names}) VALUES ({marks})", tuple(row.values()))


def _forged(
    connection: sqlite_driver.Connection, seq: int, *, prev_hash: str, well_made: bool, key: bytes | None = None
) -> dict[str, object]:
    """A made-up entry; a well-made one carries the hash the algorithm would give it (even with the key)."""
    row = _row(connection, 1) | {"seq": seq, "summary": "伪造：删除了某居民档案", "actor": "admin",
                                  "prev_hash": prev_hash, "entry_hash": "f" * 64}
    if well_made:
        entry = AuditEntry(**{**row, "at": datetime.fromisoformat(str(row["at"]))})
        row["entry_hash"] = entry_hash(prev_hash, hashed_fields(entry), key=key)
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
    with closing(open_database(chained.db.path, isolation_level=None)) as connection:
        with pytest.raises(sqlite_driver.DatabaseError, match="append-only"):
            connection.execute("UPDATE audit_entry SET summary = 'x' WHERE seq = 3")
        with pytest.raises(sqlite_driver.DatabaseError, match="append-only"):
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


def _renumber_from(connection: sqlite_driver.Connection, seq: int) -> None:
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
        key = chained.db.secrets.audit_key
        _insert(connection, _forged(connection, 4, prev_hash=prev_hash, well_made=True, key=key))
    report = verify_chain(chained.db)
    assert report.first_bad_seq == 5  # the displaced real entry no longer fits
    assert report.checked == 4


def test_a_forged_entry_filling_a_gap_is_found(chained: App) -> None:
    with _tamper(chained) as connection:
        connection.execute("DELETE FROM audit_entry WHERE seq = 4")
        prev_hash = _row(connection, 3)["entry_hash"]
        key = chained.db.secrets.audit_key
        _insert(connection, _forged(connection, 4, prev_hash=prev_hash, well_made=True, key=key))
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


# ----- what the viewer calls each kind of record

_CJK = re.compile(r"[\u4e00-\u9fff]")
_ENTITY_LITERAL = re.compile(r"entity_type=\"([a-z_]+)\"")


def _a_typical_session(app: App, tmp_path: Path) -> None:
    """Writes across the areas, as a day at the branch makes them: people, chronic care, paper, files, settings."""
    db = app.db
    clerk = sign_in(db, "luru1", DEMO_PASSWORD).actor
    with pytest.raises(UserFacingError):
        sign_in(db, "luru1", "wrong password")
    doctor, admin = actor_for(db, "gongwei1"), actor_for(db, "admin")
    resident_id = create_resident(db, clerk, person("欧阳秀兰", "1950-06-15", sequence=22)).resident_id
    get_resident(db, clerk, resident_id)
    start_household(db, clerk, resident_id)
    enrol(db, doctor, resident_id, EnrolmentInput(Disease.HYPERTENSION, date(2019, 3, 1), date(2019, 4, 1)))
    record_visit(db, doctor, resident_id, Disease.HYPERTENSION, VisitInput(
        visit_date=date(2025, 5, 10), method="1", sbp=136, dbp=82, weight=70, target_weight=65, height=160,
        medication_adherence="1", doctor_name="刘晓梅", classification="1"))
    record_health_check(db, doctor, resident_id, HealthCheckInput(
        check_date=date(2025, 4, 2), doctor_name="刘晓梅", sbp=130, dbp=80, evaluation_abnormal=False,
        self_care=dict.fromkeys(SELF_CARE_ITEMS, Dependence.INDEPENDENT)))
    with db.read() as session:
        record_no = session.get(Resident, resident_id).record_no
    for form in registered_forms():
        key = "due" if form.key == "door-to-door" else record_no  # a list of people, not one person
        print_form(db, doctor, form.key, key, **({"disease": "hypertension", "year": 2025}
                                                 if form.key == "followup" else {}))
    job_controls = {"abort": threading.Event(), "progress": lambda fraction, message: None}
    ResidentExport(db, clerk, tmp_path / "residents.xlsx")(**job_controls)
    IndicatorsExport(db, doctor, tmp_path / "indicators.xlsx", year=2025)(**job_controls)
    set_idle_lock_minutes(db, admin, 15)
    add_village(db, admin, VillageInput("113", "新村", "新村卫生室"))
    record_backup(db, admin, tmp_path / "backup.sqlite")


def test_every_kind_of_record_in_the_log_after_a_day_of_work_has_a_chinese_label(demo_app: App,
                                                                                  tmp_path: Path) -> None:
    _a_typical_session(demo_app, tmp_path)
    with demo_app.db.read() as session:
        kinds = set(session.scalars(select(AuditEntry.entity_type).distinct()))
        actions = set(session.scalars(select(AuditEntry.action).distinct()))
    assert {"account", "resident", "household", "chronic_enrolment", "followup_visit", "health_check", "setting",
            "village", "database", "indicators", "demo", "branch"} <= kinds
    for kind in kinds - {""}:
        label = entity_label(kind)
        assert label != FALLBACK_LABEL and _CJK.search(label) and not re.search(r"[A-Za-z]", label), (kind, label)
    for action in actions:
        assert _CJK.search(Action(action).label), action
    rows = audit.list_entries(demo_app.db, actor_for(demo_app.db, "admin"))
    assert all(_CJK.search(row.action_label) for row in rows)


def test_an_unknown_kind_reads_as_other_records_never_its_code() -> None:
    assert entity_label("contract_visit_v9") == FALLBACK_LABEL == "其他记录"
    assert entity_label("") == ""
    assert entity_label("followup_visit") == type_label("followup_visit")  # synced kinds: the wire type's label
    register_entity_label("contract_test_kind", "签约测试")
    assert entity_label("contract_test_kind") == "签约测试"
    with pytest.raises(ValueError, match="labelled twice"):
        register_entity_label("contract_test_kind", "另一个名字")


def test_an_unknown_action_reads_as_other_actions(demo_app: App) -> None:
    with demo_app.db.write() as session:
        entry = audit.record(session, "admin", Action.VIEW, entity_type="nothing_known")
        entry_seq = entry.seq
    with closing(open_database(demo_app.db.path, isolation_level=None)) as connection:
        connection.execute("DROP TRIGGER audit_entry_no_update")
        connection.execute("UPDATE audit_entry SET action = 'teleport' WHERE seq = ?", (entry_seq,))
    (row,) = [r for r in audit.list_entries(demo_app.db, actor_for(demo_app.db, "admin")) if r.seq == entry_seq]
    assert row.action_label == "其他操作"


def test_every_kind_the_code_writes_is_named_once_the_viewer_is_loaded() -> None:
    """Each `entity_type="..."` in the source has a label after importing only the audit page (a fresh process)."""
    written = {match for path in PACKAGE_ROOT.rglob("*.py")
               for match in _ENTITY_LITERAL.findall(path.read_text(encoding="utf-8"))}
    assert {"account", "sync", "indicators", "database", "demo"} <= written
    code = ("import json, sys\nimport desktop.ui.pages.audit\nfrom desktop.services.audit_labels import entity_label\n"
            f"print(json.dumps({{kind: entity_label(kind) for kind in {sorted(written)!r}}}, ensure_ascii=False))\n")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    completed = subprocess.run([sys.executable, "-c", code], cwd=PACKAGE_ROOT.parent, env=env, capture_output=True,
                               text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    labels = json.loads(completed.stdout.strip().splitlines()[-1])
    unnamed = {kind: label for kind, label in labels.items() if label == FALLBACK_LABEL or not _CJK.search(label)}
    assert unnamed == {}
