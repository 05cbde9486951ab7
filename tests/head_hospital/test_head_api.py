"""The HTTP API as township_wire.api describes it: enrolment, signed requests, uploads, state, feed, own records."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from head_support import Branch, SignedClient, events, new_branch, receipt_body
from sqlalchemy import select, update

from head_hospital.db import HeadDatabase
from head_hospital.feed import publish_catalogue
from head_hospital.ingest import PACKAGE_LOCKS, ingest
from head_hospital.models import Record, RequestNonce, Site, Upload, as_utc, utc_now
from head_hospital.sites import approve, revoke
from township_wire import api
from township_wire.crypto import KeyPair, PublicKeys, seal
from township_wire.envelope import EnvelopeKind, open_envelope

V1 = api.API_PREFIX


def _enrol(client: TestClient, branch: Branch) -> dict:
    answer = client.post(f"{V1}/enrol", json={"site_id": branch.site_id, "name": branch.name, "county_code": "513422",
                                              "township_code": "021", "keys": branch.keys.public.to_json()})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_enrolment_waits_for_approval_by_fingerprint(client: TestClient, head_db: HeadDatabase) -> None:
    branch = Branch(site_id="513422021", keys=KeyPair.generate())
    answer = _enrol(client, branch)
    branch.head = PublicKeys.from_json(answer["head_keys"])
    assert answer["status"] == "pending" and answer["fingerprint"] == branch.keys.public.fingerprint
    assert PublicKeys.from_json(answer["head_keys"]) == head_db.keys.public
    assert answer["head_name"] == "白水县人民医院"
    signed = SignedClient(client, branch)
    refused = signed.get(f"{V1}/state")
    assert (refused.status_code, refused.json()["code"]) == (403, "not_approved")
    assert _enrol(client, branch)["status"] == "pending", "enrolling again with the same keys is harmless"
    approve(head_db, branch.site_id, branch.keys.public.fingerprint.replace("-", "").lower())
    assert _enrol(client, branch)["status"] == "approved"
    state = signed.get(f"{V1}/state")
    assert state.status_code == 200
    body = open_envelope(EnvelopeKind.STATE, state.content, head_db.keys.public)
    assert (body["site_id"], body["status"], body["last_seq"], body["feed_last_seq"]) == (
        branch.site_id, "approved", 0, 0)
    with head_db.read() as session:
        assert session.get(Site, branch.site_id).last_contact is not None


def test_other_keys_for_an_approved_site_are_refused(client: TestClient, head_db: HeadDatabase) -> None:
    branch = new_branch(head_db)
    thief = Branch(site_id=branch.site_id, keys=KeyPair.generate())
    answer = client.post(f"{V1}/enrol", json={"site_id": thief.site_id, "name": "x", "keys": thief.keys.public.to_json()})
    assert (answer.status_code, answer.json()["code"]) == (409, "rejected")
    assert events(head_db, "enrol_refused")
    revoke(head_db, branch.site_id)
    assert _enrol(client, thief)["status"] == "pending", "after revocation a new key starts a new enrolment"


def test_signed_requests_are_checked(client: TestClient, head_db: HeadDatabase) -> None:
    branch = new_branch(head_db)
    stranger = Branch(site_id="nobody", keys=KeyPair.generate())
    assert SignedClient(client, stranger).get(f"{V1}/state").json()["code"] == "not_enrolled"
    forged = SignedClient(client, Branch(site_id=branch.site_id, keys=KeyPair.generate())).get(f"{V1}/state")
    assert (forged.status_code, forged.json()["code"]) == (401, "bad_signature")
    unsigned = client.get(f"{V1}/feed?after=0")
    assert unsigned.status_code == 401
    late = SignedClient(client, branch, clock=datetime.now(UTC) - timedelta(days=4)).get(f"{V1}/state")
    assert (late.status_code, late.json()["code"]) == (401, "clock_skew") and "慢了约 4 天" in late.json()["message"]
    day_off = SignedClient(client, branch, clock=datetime.now(UTC) + timedelta(days=1)).get(f"{V1}/state")
    assert (day_off.status_code, day_off.json()["code"]) == (401, "clock_skew"), "the window is minutes, not days"
    assert "快了约 24 小时" in day_off.json()["message"] and "5 分钟" in day_off.json()["message"]
    assert day_off.json()["server_time"].endswith("Z")
    minutes_off = SignedClient(client, branch, clock=datetime.now(UTC) + timedelta(minutes=3)).get(f"{V1}/state")
    assert minutes_off.status_code == 200, "a clock a few minutes off still syncs"
    revoke(head_db, branch.site_id)
    revoked = SignedClient(client, branch).get(f"{V1}/state")
    assert (revoked.status_code, revoked.json()["code"]) == (403, "revoked")
    logged = {row.event for row in events(head_db, "auth_")}
    assert logged == {"auth_not_enrolled", "auth_bad_signature", "auth_clock_skew", "auth_revoked"}


def test_a_signature_covers_the_query(client: TestClient, head_db: HeadDatabase) -> None:
    branch = new_branch(head_db)
    timestamp = datetime.now(UTC).isoformat()
    headers = api.sign_request(branch.keys, branch.site_id, "GET", f"{V1}/feed?after=0", timestamp, b"")
    assert client.get(f"{V1}/feed?after=0", headers=headers).status_code == 200
    assert client.get(f"{V1}/feed?after=5", headers=headers).json()["code"] == "bad_signature"
    other_nonce = {**headers, api.HEADER_NONCE: api.new_nonce()}
    assert client.get(f"{V1}/feed?after=0", headers=other_nonce).json()["code"] == "bad_signature", \
        "the signature covers the nonce"


def test_a_nonce_is_taken_once_per_site_and_forgotten_after_its_window(client: TestClient,
                                                                        head_db: HeadDatabase) -> None:
    branch, other = new_branch(head_db), new_branch(head_db)
    signed, nonce = SignedClient(client, branch), api.new_nonce()
    assert signed.request("GET", f"{V1}/state", nonce=nonce).status_code == 200
    again = signed.request("GET", f"{V1}/state", nonce=nonce)
    assert (again.status_code, again.json()["code"]) == (401, "replayed") and "重放" in again.json()["message"]
    assert SignedClient(client, other).request("GET", f"{V1}/state", nonce=nonce).status_code == 200, \
        "another site's nonces are its own"
    with head_db.read() as session:
        kept = as_utc(session.get(RequestNonce, (branch.site_id, nonce)).expires_at) - utc_now()
    assert api.MAX_CLOCK_SKEW < kept <= api.MAX_CLOCK_SKEW + timedelta(minutes=1, seconds=5)
    with head_db.session() as session:  # the window of every nonce so far has passed
        session.execute(update(RequestNonce).values(expires_at=utc_now() - timedelta(seconds=1)))
    assert signed.get(f"{V1}/state").status_code == 200
    with head_db.read() as session:
        assert session.get(RequestNonce, (branch.site_id, nonce)) is None, "expired nonces are dropped"
        assert len(session.scalars(select(RequestNonce.nonce)).all()) == 1
    assert {row.event for row in events(head_db, "auth_")} == {"auth_replayed"}


def test_upload_resumes_after_a_cut_and_commit_repeats_the_same_bytes(client: TestClient,
                                                                     head_db: HeadDatabase) -> None:
    branch = new_branch(head_db)
    records = [branch.record("resident", record_no=f"5134220210{i:07d}", name=f"居民{i}", sex="1",
                             birth_date="1950-01-02", village_uuid="v", registered_on="2026-01-05")
               for i in range(3000)]
    package_id = "0b8e2f60-3f7c-4e55-9d1a-6a0f9e6d2c01"
    package = branch.package(head_db, records, package_id=package_id)
    signed = SignedClient(client, branch)
    assert signed.upload(package, package_id, chunk=32 * 1024, stop_after=2).status_code == 201
    sealed = signed.sealed(package)
    where = signed.get(f"{V1}/uploads/{package_id}").json()
    assert where == {"offset": 64 * 1024, "size": len(sealed)}
    assert signed.upload(package, package_id, chunk=32 * 1024, stop_after=0).json() == {"offset": 64 * 1024}
    receipt = signed.upload(package, package_id, chunk=32 * 1024)
    assert receipt.status_code == 200, receipt.text
    assert receipt_body(head_db, receipt.content)["totals"]["applied"] == 3000
    again = signed.post(f"{V1}/uploads/{package_id}/commit")
    declared = signed.post(f"{V1}/uploads", signed.declaration(package, package_id))
    assert again.content == receipt.content and (declared.status_code, declared.content) == (200, receipt.content)
    assert signed.get(f"{V1}/uploads/{package_id}").json() == {"offset": len(sealed), "size": len(sealed)}
    with head_db.read() as session:
        assert session.scalar(select(Upload).where(Upload.package_id == package_id)) is None
        assert len(session.scalars(select(Record.uuid)).all()) == 3000


def test_upload_checks_offsets_chunk_hashes_sizes_and_ids(client: TestClient, head_db: HeadDatabase) -> None:
    branch = new_branch(head_db)
    package_id = "7d3a0f6e-1c2b-4d5e-8f90-a1b2c3d4e5f6"
    package = branch.package(head_db, [branch.record("village")], package_id=package_id)
    signed = SignedClient(client, branch)
    sha = hashlib.sha256(package).hexdigest()
    huge = signed.post(f"{V1}/uploads", {"package_id": package_id, "size": 300 * 1024 * 1024, "sha256": sha})
    assert (huge.status_code, huge.json()["code"]) == (413, "too_large")
    assert signed.post(f"{V1}/uploads", {"package_id": package_id, "size": len(package), "sha256": sha,
                                         "package_sha256": sha}).json() == {"offset": 0}
    path = f"{V1}/uploads/{package_id}"
    wrong_offset = signed.request("PATCH", path, body=package[:10], headers={
        api.HEADER_OFFSET: "10", api.HEADER_CHUNK_SHA: hashlib.sha256(package[:10]).hexdigest()})
    assert (wrong_offset.status_code, wrong_offset.json()["code"], wrong_offset.json()["offset"]) == (
        409, "offset_mismatch", 0)
    damaged = signed.request("PATCH", path, body=package[:10], headers={
        api.HEADER_OFFSET: "0", api.HEADER_CHUNK_SHA: hashlib.sha256(b"other").hexdigest()})
    assert (damaged.status_code, damaged.json()["code"]) == (400, "hash_mismatch")
    early = signed.post(f"{path}/commit")
    assert (early.status_code, early.json()["offset"]) == (409, 0)
    other = new_branch(head_db)
    assert SignedClient(client, other).get(path).status_code == 404, "another site cannot see the upload"
    logged = {row.event for row in events(head_db, "refused_")}
    assert logged == {"refused_too_large", "refused_offset_mismatch", "refused_hash_mismatch", "refused_rejected"}


def test_commit_of_a_tampered_upload_is_refused_and_logged(client: TestClient, head_db: HeadDatabase) -> None:
    branch = new_branch(head_db)
    package_id = "11111111-2222-4333-8444-555555555555"
    package = bytearray(branch.package(head_db, [branch.record("village") for _ in range(50)], package_id=package_id))
    package[len(package) // 2] ^= 0xFF
    answer = SignedClient(client, branch).upload(bytes(package), package_id)
    assert (answer.status_code, answer.json()["code"]) == (422, "rejected")
    assert events(head_db, "package_")
    with head_db.read() as session:
        assert session.scalars(select(Record.uuid)).all() == []


@pytest.mark.parametrize("sealing", ["in_clear", "to_another_head_hospital"])
def test_an_upload_not_sealed_to_this_head_hospital_is_refused(client: TestClient, head_db: HeadDatabase,
                                                                sealing: str) -> None:
    branch = new_branch(head_db)
    package_id = "55555555-6666-4777-8888-999999999999"
    package = branch.package(head_db, [branch.record("resident")], package_id=package_id)
    signed = SignedClient(client, branch)
    signed.travel_as(package, package if sealing == "in_clear" else seal(package, KeyPair.generate().public))
    answer = signed.upload(package, package_id)
    assert (answer.status_code, answer.json()["code"], answer.json()["reason"]) == (422, "rejected", "sealed")
    assert ("不是本系统的加密数据包" if sealing == "in_clear" else "不是本总院") in answer.json()["message"]
    assert events(head_db, "package_sealed")
    with head_db.read() as session:
        assert session.scalars(select(Record.uuid)).all() == []


def test_a_commit_while_the_same_package_is_applied_is_busy(client: TestClient, head_db: HeadDatabase) -> None:
    branch = new_branch(head_db)
    package_id = "22222222-3333-4444-8555-666666666666"
    package = branch.package(head_db, [branch.record("village")], package_id=package_id)
    signed = SignedClient(client, branch)
    with PACKAGE_LOCKS.hold(package_id):
        busy = signed.upload(package, package_id)
    assert (busy.status_code, busy.json()["code"]) == (409, "busy")
    assert signed.post(f"{V1}/uploads/{package_id}/commit").status_code == 200, "the upload is kept for a retry"


def test_superseded_and_hash_mismatch_over_the_network(client: TestClient, head_db: HeadDatabase) -> None:
    branch = new_branch(head_db)
    signed = SignedClient(client, branch)
    first_id = "33333333-4444-4555-8666-777777777777"
    first = branch.package(head_db, [branch.record("village")], package_id=first_id, seq=2)
    assert signed.upload(first, first_id).status_code == 200
    changed = branch.package(head_db, [branch.record("village")], package_id=first_id, seq=3)
    mismatch = signed.upload(changed, first_id)
    assert (mismatch.status_code, mismatch.json()["code"]) == (422, "hash_mismatch")
    old_id = "44444444-5555-4666-8777-888888888888"
    old = signed.upload(branch.package(head_db, [branch.record("village")], package_id=old_id, seq=1), old_id)
    assert (old.status_code, old.json()["code"]) == (422, "superseded")


def test_feed_state_and_own_records(client: TestClient, head_db: HeadDatabase) -> None:
    branch, other = new_branch(head_db), new_branch(head_db)
    publish_catalogue(head_db, "referral_diseases", title="转诊病种目录", items=[{"code": "I10", "name": "高血压"}])
    publish_catalogue(head_db, "referral_diseases", title="转诊病种目录", items=[{"code": "E11", "name": "糖尿病"}])
    records = [branch.record("village") for _ in range(7)]
    ingest(head_db, branch.package(head_db, records), channel="network")
    ingest(head_db, other.package(head_db, [other.record("village")]), channel="network")
    signed = SignedClient(client, branch)
    page = open_envelope(EnvelopeKind.FEED, signed.get(f"{V1}/feed?after=0&limit=1").content, head_db.keys.public)
    assert (page["site_id"], page["after"], page["last_seq"], len(page["entries"])) == (branch.site_id, 0, 1, 1)
    entry = page["entries"][0]
    catalogue = open_envelope(EnvelopeKind.CATALOGUE, entry["payload"], head_db.keys.public)
    assert (entry["kind"], catalogue["name"], catalogue["version"], catalogue["title"]) == (
        "catalogue", "referral_diseases", 1, "转诊病种目录")
    rest = open_envelope(EnvelopeKind.FEED, signed.get(f"{V1}/feed?after=1").content, head_db.keys.public)
    assert [item["seq"] for item in rest["entries"]] == [2] and rest["last_seq"] == 2
    state = open_envelope(EnvelopeKind.STATE, signed.get(f"{V1}/state").content, head_db.keys.public)
    assert (state["last_seq"], state["catalogues"], state["feed_last_seq"]) == (1, {"referral_diseases": 2}, 2)
    assert state["counts"]["village"]["count"] == 7
    seen, cursor = [], ""
    while cursor is not None:
        body = open_envelope(EnvelopeKind.RECORDS, signed.get(f"{V1}/own-records?after={cursor}&limit=3").content,
                             head_db.keys.public)
        seen += body["records"]
        cursor = body["next"]
    assert sorted(item["uuid"] for item in seen) == sorted(record.uuid for record in records)
    assert seen[0]["data"] == next(r.data for r in records if r.uuid == seen[0]["uuid"])
    assert {item["owner_site"] for item in seen} == {branch.site_id}


@pytest.mark.parametrize(("body", "status"), [(b"not json", 400), (b"[]", 400),
                                              (json.dumps({"site_id": "../x", "name": "x"}).encode(), 422)])
def test_bad_enrolments_are_refused_in_chinese(sqlite_db: HeadDatabase, body: bytes, status: int) -> None:
    from head_hospital.app import create_app

    with TestClient(create_app(sqlite_db)) as client:
        answer = client.post(f"{V1}/enrol", content=body)
    assert answer.status_code == status and answer.json()["code"] == "rejected", "a body that is no JSON object is 400"
    assert any("\u4e00" <= ch <= "\u9fff" for ch in answer.json()["message"])
