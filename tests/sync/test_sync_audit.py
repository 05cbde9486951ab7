"""Sync writes are audited like any other write: records applied from the head hospital, recovery, USB export.

Records that arrive carry no search keys; they are derived again here from what arrived.
"""

from __future__ import annotations

from types import SimpleNamespace

from core_support import actor_for, data_dir_with
from sqlalchemy import select, update

from desktop.app import open_app
from desktop.models import AuditEntry, Resident, SyncState
from desktop.models.resident import resident_search_keys
from desktop.services.audit import Action, verify_chain
from desktop.sync.apply import apply_records
from desktop.sync.outbox import unsent_records
from desktop.sync.records import binding, read_records
from desktop.sync.recovery import recover_from_head
from desktop.sync.site import SYNC_ACTOR, require_enrolment
from desktop.sync.usb import export_package
from township_wire.envelope import EnvelopeKind, seal_envelope
from township_wire.types import type_label

SEARCH_KEYS = (Resident.record_no, Resident.name_initials, Resident.name_pinyin, Resident.name_rev,
               Resident.id_number_rev, Resident.phone_rev, Resident.record_no_rev)


def _entries(app, **where) -> list[AuditEntry]:
    with app.db.read() as session:
        query = select(AuditEntry).order_by(AuditEntry.seq)
        for name, value in where.items():
            query = query.where(getattr(AuditEntry, name) == value)
        entries = list(session.scalars(query))
        session.expunge_all()
        return entries


def _search_keys(app) -> list[tuple]:
    with app.db.read() as session:
        return [tuple(row) for row in session.execute(select(*SEARCH_KEYS).order_by(Resident.record_no))]


def test_records_from_the_head_hospital_are_audited_per_type_with_search_keys_derived(
        enrolled_app, schema_template, tmp_path) -> None:
    with enrolled_app.db.read() as session:
        records = unsent_records(session, require_enrolment(session).site_id)
    assert not any("name_pinyin" in record.data for record in records if record.type == "resident")
    fresh = open_app(data_dir_with(schema_template, tmp_path / "fresh"))
    try:
        with fresh.db.write() as session:
            result = apply_records(session, records)
        assert result.applied == len(records) and not result.skipped
        entries = _entries(fresh, actor=SYNC_ACTOR)
        per_type = {entry.entity_type: entry for entry in entries}
        assert len(entries) == len(per_type) == len({record.type for record in records})
        residents = sum(record.type == "resident" for record in records)
        assert per_type["resident"].action == Action.IMPORT.value
        assert per_type["resident"].summary == f"总院下发：{type_label('resident')}新增 {residents} 条"
        assert _search_keys(fresh) == _search_keys(enrolled_app)
        assert verify_chain(fresh.db).intact
    finally:
        fresh.close()


class _HeadCopy:
    """The head hospital's copy of this site's records, served as one signed page."""

    def __init__(self, head, records) -> None:
        self.body = {"records": [dict(type=r.type, uuid=r.uuid, version=r.version, deleted=r.deleted,
                                      owner_site=r.owner_site, data=r.data) for r in records], "next": ""}
        self.head = head

    def request(self, method: str, path: str, **_: object) -> SimpleNamespace:
        assert (method, path.split("?")[0]) == ("GET", "/own-records")
        return SimpleNamespace(content=seal_envelope(EnvelopeKind.RECORDS, self.body, self.head.keys),
                               status_code=200)


def test_recovery_is_audited_and_puts_back_search_keys(enrolled_app, head) -> None:
    bound = binding("resident")
    with enrolled_app.db.write() as session:
        enrolment = require_enrolment(session)
        kept = next(read_records(session, bound, limit=1))
        session.execute(update(Resident).where(Resident.uuid == kept.uuid)
                        .values(sync_state=SyncState.SYNCED.value))
    newer = kept.__class__(type=kept.type, uuid=kept.uuid, version=kept.version + 1, deleted=False,
                           owner_site=kept.owner_site, data=kept.data | {"phone": "13711112222", "name": "曾小单"})
    assert recover_from_head(enrolled_app.db, _HeadCopy(head, [newer]), enrolment, head_seq=7) == 1
    with enrolled_app.db.read() as session:
        stored = session.scalars(select(Resident).where(Resident.uuid == kept.uuid)).one()
        derived = {column: getattr(stored, column) for column in bound.local}
        assert stored.version == kept.version + 1 and stored.phone_rev == "22221111731"
        assert derived == resident_search_keys(name="曾小单", id_number=stored.id_number, phone="13711112222",
                                               record_no=stored.record_no)
    [entry] = _entries(enrolled_app, actor=SYNC_ACTOR)
    assert (entry.action, entry.entity_type, entry.entity_id) == (Action.IMPORT.value, "resident", kept.uuid)
    assert entry.summary.startswith("恢复：") and "更新 1 条" in entry.summary


def test_a_usb_export_audits_every_record_it_carries(enrolled_app, tmp_path) -> None:
    admin = actor_for(enrolled_app.db, "admin")
    stick = tmp_path / "stick"
    stick.mkdir()
    exported = export_package(enrolled_app.db, admin, stick)
    [entry] = _entries(enrolled_app, action=Action.EXPORT.value, entity_type="sync_package")
    assert entry.actor == "admin"
    assert f"共 {exported.records} 条记录" in entry.summary and str(exported.path) in entry.summary
    assert f"{type_label('resident')} " in entry.summary
    assert verify_chain(enrolled_app.db).intact
