"""Applying packages: every per-record result, receipts, replays, refusals of old or changed packages."""

from __future__ import annotations

import json

import pytest
from head_support import count_rows, events, new_branch, receipt_body
from sqlalchemy import select

from head_hospital.db import HeadDatabase
from head_hospital.errors import Refused
from head_hospital.ingest import ingest
from head_hospital.models import Package, Record, RecordRejection, Report, Site
from township_wire.package import count_and_digest


def test_new_records_are_applied_and_the_receipt_counts_what_the_site_has(head_db: HeadDatabase) -> None:
    branch = new_branch(head_db)
    records = [branch.record("village"), branch.record("resident"), branch.record("staff", deleted=True)]
    done = ingest(head_db, branch.package(head_db, records), channel="network")
    body = receipt_body(head_db, done.receipt)
    assert body["totals"] == {"applied": 3, "duplicate": 0, "stale": 0, "not_owner": 0, "invalid": 0}
    assert [entry["result"] for entry in body["results"]] == ["applied"] * 3
    assert body["counts"] == count_and_digest((r.type, r.uuid, r.version) for r in records)
    assert (body["site_id"], body["seq"], body["package_id"]) == (branch.site_id, 1, done.package_id)
    with head_db.read() as session:
        stored = session.get(Record, records[1].uuid)
        assert (stored.site_id, stored.version, json.loads(stored.data)) == (branch.site_id, 1, records[1].data)
        assert session.get(Record, records[2].uuid).deleted is True
        assert session.get(Site, branch.site_id).last_seq == 1
        row = session.get(Package, done.package_id)
        assert (row.applied, row.channel, row.receipt) == (3, "network", done.receipt)


def test_each_per_record_result(head_db: HeadDatabase) -> None:
    branch, other = new_branch(head_db), new_branch(head_db)
    theirs = other.record("village")
    ingest(head_db, other.package(head_db, [theirs]), channel="network")
    kept = branch.record("village", version=3)
    changed = branch.record("village", version=2)
    ingest(head_db, branch.package(head_db, [kept, changed]), channel="network")

    newer = branch.record("village", version=4, record_id=kept.uuid, code="101", name="上坝村（改）")
    duplicate = branch.record("village", version=2, record_id=changed.uuid)
    older = branch.record("village", version=1, record_id=changed.uuid)
    same_version_other_content = branch.record("village", version=2, record_id=changed.uuid, code="9", name="别")
    not_owner = branch.record("village", version=5, record_id=theirs.uuid)
    unknown_type = branch.record("spaceship")
    missing_field = branch.record("resident", name="王五")
    foreign_owner = branch.record("village", owner=other.site_id)
    bad_uuid = branch.record("village", record_id="not-a-uuid")
    records = [newer, duplicate, older, same_version_other_content, not_owner, unknown_type, missing_field,
               foreign_owner, bad_uuid]
    body = receipt_body(head_db, ingest(head_db, branch.package(head_db, records), channel="network").receipt)

    results = [(entry["result"], entry.get("reason", "")) for entry in body["results"]]
    assert [result for result, _ in results] == ["applied", "duplicate", "stale", "stale", "not_owner", "invalid",
                                                 "invalid", "invalid", "invalid"]
    assert "更新的版本 2" in results[2][1] and "内容不同" in results[3][1]
    assert other.site_id in results[4][1]
    assert "spaceship" in results[5][1] and "record_no" in results[6][1]
    assert other.site_id in results[7][1] and "uuid" in results[8][1]
    assert body["totals"] == {"applied": 1, "duplicate": 1, "stale": 2, "not_owner": 1, "invalid": 4}
    with head_db.read() as session:
        assert session.get(Record, kept.uuid).version == 4
        assert json.loads(session.get(Record, changed.uuid).data) == changed.data
        assert session.get(Record, theirs.uuid).site_id == other.site_id
        rejected = session.scalars(select(RecordRejection.result).where(
            RecordRejection.site_id == branch.site_id)).all()
    assert sorted(rejected) == sorted(["stale", "stale", "not_owner"] + ["invalid"] * 4)


def test_the_same_uuid_twice_in_one_package_keeps_the_higher_version(head_db: HeadDatabase) -> None:
    branch = new_branch(head_db)
    first = branch.record("village")
    second = branch.record("village", version=2, record_id=first.uuid, code="102", name="下坝村")
    body = receipt_body(head_db, ingest(head_db, branch.package(head_db, [first, second]), channel="usb").receipt)
    assert body["totals"]["applied"] == 2
    assert body["counts"]["village"]["count"] == 1
    with head_db.read() as session:
        assert session.get(Record, first.uuid).version == 2


def test_a_replay_returns_the_stored_receipt_byte_for_byte(head_db: HeadDatabase) -> None:
    branch = new_branch(head_db)
    package = branch.package(head_db, [branch.record("village")])
    first = ingest(head_db, package, channel="network")
    later = branch.package(head_db, [branch.record("village")])
    ingest(head_db, later, channel="network")
    again = ingest(head_db, package, channel="usb")
    assert again.replay and again.receipt == first.receipt
    assert count_rows(head_db, Package) == 2


def test_same_id_with_other_content_is_refused_and_nothing_applied(head_db: HeadDatabase) -> None:
    branch = new_branch(head_db)
    package_id = "5f0c1a52-7d1e-4a8e-9a51-0c3f7e0f6a11"
    ingest(head_db, branch.package(head_db, [branch.record("village")], package_id=package_id), channel="network")
    other = branch.package(head_db, [branch.record("village")], package_id=package_id)
    with pytest.raises(Refused) as refused:
        ingest(head_db, other, channel="network")
    assert (refused.value.code, refused.value.status) == ("hash_mismatch", 422)
    assert count_rows(head_db, Record) == 1
    assert events(head_db, "hash_mismatch")


def test_a_package_not_newer_than_the_last_is_superseded(head_db: HeadDatabase) -> None:
    branch = new_branch(head_db)
    ingest(head_db, branch.package(head_db, [branch.record("village")], seq=5), channel="network")
    for seq in (5, 3):
        with pytest.raises(Refused) as refused:
            ingest(head_db, branch.package(head_db, [branch.record("village")], seq=seq), channel="network")
        assert (refused.value.code, refused.value.status) == ("superseded", 422)
        assert "旧备份" in refused.value.message
    assert count_rows(head_db, Record) == 1 and count_rows(head_db, Package) == 1
    assert len(events(head_db, "superseded")) == 2


def _report(period: str, site_id: str, numerator: int, denominator: int) -> bytes:
    return json.dumps({"period": period, "kind": "indicators", "site_id": site_id, "branch_name": "青山镇卫生院",
                       "period_start": "2026-10-01", "period_end": "2026-10-31",
                       "figures": [{"code": "htn_standard", "name": "高血压规范管理率", "numerator": numerator,
                                    "denominator": denominator}]}, ensure_ascii=False).encode("utf-8")


def test_reports_are_stored_and_the_latest_seq_wins(head_db: HeadDatabase) -> None:
    branch = new_branch(head_db)
    ingest(head_db, branch.package(head_db, [], reports={"2026-10.json": _report("2026-10", branch.site_id, 5, 10),
                                                         "2026-10.xlsx": b"PK-first"}), channel="network")
    ingest(head_db, branch.package(head_db, [], reports={"2026-10.json": _report("2026-10", branch.site_id, 7, 10),
                                                         "2026-10.xlsx": b"PK-second",
                                                         "2026-Q4.json": b"{not json"}), channel="network")
    with head_db.read() as session:
        reports = session.scalars(select(Report)).all()
    assert [(r.period, r.seq, r.workbook, json.loads(r.figures)[0]["numerator"]) for r in reports] == [
        ("2026-10", 2, b"PK-second", 7)]
    assert "JSON" in events(head_db, "report_invalid")[0].message
