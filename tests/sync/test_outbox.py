"""Building packages, receipts and the per-record states, on a real demo database."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sync_support import enrol_offline, open_package

from desktop.models import Resident, SyncLogEntry, SyncPackage
from desktop.sync.outbox import Channel, PackageState, build_next
from desktop.sync.receipts import ReceiptRefused, apply_receipt
from desktop.sync.records import binding, bindings
from desktop.sync.site import require_enrolment
from desktop.sync.status import local_counts, sync_status
from township_wire.crypto import KeyPair
from township_wire.envelope import EnvelopeKind, seal_envelope


def _enrolment(app):
    with app.db.read() as session:
        return require_enrolment(session)


def _table_count(app, table, state=None) -> int:
    query = select(func.count()).select_from(table)
    if state:
        query = query.where(table.c.sync_state == state)
    with app.db.read() as session:
        return session.execute(query).scalar_one()


def test_a_package_carries_every_record_parents_first_and_marks_them_in_flight(enrolled_app, head) -> None:
    built = build_next(enrolled_app.db, Channel.NETWORK)
    package = open_package(built.content, _enrolment(enrolled_app), head)
    expected = {bound.name: _table_count(enrolled_app, bound.table) for bound in bindings()}
    assert {name: item["count"] for name, item in package.manifest["counts"].items()} == {
        name: count for name, count in expected.items() if count}
    assert sum(expected.values()) == len(package.records) > 3000
    seen: set[str] = set()
    for record in package.records:
        for key, value in record.data.items():
            if key.endswith("_uuid") and value and key != "head_uuid":
                assert value in seen, f"{record.type} {record.uuid} comes before its parent {key}"
        seen.add(record.uuid)
    assert all(_table_count(enrolled_app, bound.table, "pending") == 0 for bound in bindings())
    assert sync_status(enrolled_app.db).unsent == len(package.records)


def test_a_new_package_carries_what_is_still_in_flight_and_supersedes_the_old_one(enrolled_app, head) -> None:
    first = build_next(enrolled_app.db, Channel.NETWORK)
    second = build_next(enrolled_app.db, Channel.NETWORK)
    assert second.seq == first.seq + 1 and second.record_count == first.record_count
    with enrolled_app.db.read() as session:
        states = dict(session.execute(select(SyncPackage.seq, SyncPackage.state)).all())
    assert states == {first.seq: PackageState.SUPERSEDED, second.seq: PackageState.BUILT}


def test_a_receipt_marks_records_synced_and_a_second_copy_changes_nothing(enrolled_app, head) -> None:
    built = build_next(enrolled_app.db, Channel.NETWORK)
    package = open_package(built.content, _enrolment(enrolled_app), head)
    receipt = head.accept_all(package)
    outcome = apply_receipt(enrolled_app.db, receipt)
    assert (outcome.applied, outcome.rejected, outcome.already) == (len(package.records), 0, False)
    assert sync_status(enrolled_app.db).unsent == 0
    assert build_next(enrolled_app.db, Channel.NETWORK) is None
    assert apply_receipt(enrolled_app.db, receipt).already


def test_a_record_edited_while_in_flight_goes_in_the_next_package(enrolled_app, head) -> None:
    built = build_next(enrolled_app.db, Channel.NETWORK)
    package = open_package(built.content, _enrolment(enrolled_app), head)
    with enrolled_app.db.write() as session:
        resident = session.scalars(select(Resident).limit(1)).one()
        resident.address = "青山镇新街 8 号"
        edited_uuid, edited_version = resident.uuid, resident.version
    with enrolled_app.db.read() as session:
        edited_version = session.scalars(select(Resident.version).where(Resident.uuid == edited_uuid)).one()
    apply_receipt(enrolled_app.db, head.accept_all(package))
    assert sync_status(enrolled_app.db).unsent == 1
    following = open_package(build_next(enrolled_app.db, Channel.NETWORK).content, _enrolment(enrolled_app), head)
    assert [(r.uuid, r.version, r.data["address"]) for r in following.records] == [
        (edited_uuid, edited_version, "青山镇新街 8 号")]


def test_rejected_records_wait_in_error_with_the_reason_until_edited(enrolled_app, head) -> None:
    package = open_package(build_next(enrolled_app.db, Channel.NETWORK).content, _enrolment(enrolled_app), head)
    results = [{"uuid": r.uuid, "type": r.type, "version": r.version, "result": "applied"} for r in package.records]
    victim = next(r for r in package.records if r.type == "resident")
    results[package.records.index(victim)] = {"uuid": victim.uuid, "type": "resident", "version": victim.version,
                                              "result": "invalid", "reason": "出生日期晚于建档日期"}
    assert apply_receipt(enrolled_app.db, head.receipt(package, results)).rejected == 1
    with enrolled_app.db.read() as session:
        state, reason = session.execute(select(Resident.sync_state, Resident.sync_error)
                                        .where(Resident.uuid == victim.uuid)).one()
    assert state == "error" and "出生日期晚于建档日期" in reason
    assert build_next(enrolled_app.db, Channel.NETWORK) is None
    with enrolled_app.db.write() as session:
        session.scalars(select(Resident).where(Resident.uuid == victim.uuid)).one().address = "改正后的地址"
    assert build_next(enrolled_app.db, Channel.NETWORK).record_count == 1


@pytest.mark.parametrize("forgery", ["other_key", "other_package", "other_site"])
def test_a_forged_or_misdirected_receipt_is_refused_and_logged(enrolled_app, head, forgery) -> None:
    package = open_package(build_next(enrolled_app.db, Channel.NETWORK).content, _enrolment(enrolled_app), head)
    results = [{"uuid": r.uuid, "type": r.type, "version": r.version, "result": "applied"} for r in package.records]
    if forgery == "other_key":
        stranger = KeyPair.generate()
        receipt = seal_envelope(EnvelopeKind.RECEIPT, {"package_id": package.package_id, "site_id": package.site_id,
                                                       "package_sha256": package.sha256, "results": results},
                                stranger)
    elif forgery == "other_package":
        receipt = head.receipt(package, results, package_sha256="0" * 64)
    else:
        receipt = head.receipt(package, results, site_id="someone-else")
    with pytest.raises(ReceiptRefused):
        apply_receipt(enrolled_app.db, receipt)
    assert sync_status(enrolled_app.db).unsent == len(package.records)
    with enrolled_app.db.read() as session:
        assert session.scalar(select(func.count()).select_from(SyncLogEntry).where(SyncLogEntry.event == "refused"))


def test_a_usb_package_is_the_same_format_with_its_own_channel(enrolled_app, head) -> None:
    built = build_next(enrolled_app.db, Channel.USB)
    assert open_package(built.content, _enrolment(enrolled_app), head).records
    with enrolled_app.db.read() as session:
        assert session.scalars(select(SyncPackage.state)).one() == PackageState.EXPORTED


def test_records_read_back_into_an_empty_database_agree_by_count_and_digest(enrolled_app, head, schema_template,
                                                                           tmp_path) -> None:
    from core_support import data_dir_with

    from desktop.app import open_app
    from desktop.sync.apply import apply_records

    empty_app = open_app(data_dir_with(schema_template, tmp_path / "empty"))
    enrolment = _enrolment(enrolled_app)
    package = open_package(build_next(enrolled_app.db, Channel.NETWORK).content, enrolment, head)
    with empty_app.db.write() as session:
        result = apply_records(session, package.records)
    assert result.applied == len(package.records) and not result.skipped
    assert local_counts(empty_app.db, enrolment.site_id) == local_counts(enrolled_app.db, enrolment.site_id)
    households = binding("household").table
    with empty_app.db.read() as session:
        households_with_heads = session.execute(
            select(func.count()).select_from(households).where(households.c.head_id.isnot(None))
        ).scalar_one()
    empty_app.close()
    assert households_with_heads > 0


def test_enrolment_is_required_before_building(demo_app, head) -> None:
    from desktop.sync.site import NotEnrolled

    with pytest.raises(NotEnrolled):
        build_next(demo_app.db, Channel.NETWORK)
    enrol_offline(demo_app.db, head, server_url="http://127.0.0.1:9")
    assert build_next(demo_app.db, Channel.NETWORK) is not None


def test_visits_the_head_hospital_rejected_do_not_count_in_local_indicators(enrolled_app, head) -> None:
    from core_support import actor_for

    from desktop.clock import now
    from desktop.models import FollowupVisit
    from desktop.services.indicators import indicator_report

    director = actor_for(enrolled_app.db, "yuanzhang")
    year = now().year
    before = indicator_report(enrolled_app.db, director, year)
    counted = next(v for v in before.people["ht_standard"] if v.counts)
    with enrolled_app.db.read() as session:
        visit_uuids = set(session.scalars(select(FollowupVisit.uuid).where(
            FollowupVisit.resident_id == counted.resident_id, FollowupVisit.disease == "hypertension")))
    package = open_package(build_next(enrolled_app.db, Channel.NETWORK).content, _enrolment(enrolled_app), head)
    results = [{"uuid": r.uuid, "type": r.type, "version": r.version,
                "result": "invalid" if r.uuid in visit_uuids else "applied", "reason": "随访日期有误"}
               for r in package.records]
    apply_receipt(enrolled_app.db, head.receipt(package, results))
    after = indicator_report(enrolled_app.db, director, year)
    assert after.branch("ht_standard").numerator == before.branch("ht_standard").numerator - 1
    assert not next(v for v in after.people["ht_standard"] if v.resident_id == counted.resident_id).counts
