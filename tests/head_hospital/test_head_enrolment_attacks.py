"""Enrolment as an attacker tries it: re-keying a known site, flooding the service, reading pending sites."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from head_support import Branch, SignedClient, events, new_branch
from server_support import approve_site, run_cli, site_list, start_server

from head_hospital.app import create_app
from head_hospital.db import HeadDatabase
from head_hospital.enrol_limits import EnrolLimits
from head_hospital.models import Site
from head_hospital.sites import approve
from township_wire import api
from township_wire.crypto import KeyPair
from township_wire.rekey import sign_rekey

V1 = api.API_PREFIX


def _body(branch: Branch, keys: KeyPair | None = None, **extra) -> dict:
    return {"site_id": branch.site_id, "name": branch.name, "county_code": "513422", "township_code": "021",
            "keys": (keys or branch.keys).public.to_json(), **extra}


def _stored_fingerprint(db: HeadDatabase, site_id: str) -> tuple[str, str]:
    with db.read() as session:
        site = session.get(Site, site_id)
        return site.fingerprint, site.status


@pytest.mark.parametrize("approved", [False, True], ids=["pending", "approved"])
def test_a_stranger_cannot_re_key_a_known_site(sqlite_db: HeadDatabase, approved: bool) -> None:
    branch = new_branch(sqlite_db, approved=approved)
    before = _stored_fingerprint(sqlite_db, branch.site_id)
    thief = KeyPair.generate()
    with TestClient(create_app(sqlite_db)) as client:
        answer = client.post(f"{V1}/enrol", json=_body(branch, thief))
        assert (answer.status_code, answer.json()["code"]) == (409, "rejected")
        assert "原密钥签名" in answer.json()["message"] and "sites reset" in answer.json()["message"]
        forged = client.post(f"{V1}/enrol", json=_body(branch, thief, previous_key=sign_rekey(
            thief, branch.site_id, thief.public)))
        assert (forged.status_code, forged.json()["code"]) == (409, "bad_signature")
        assert "签名校验失败" in forged.json()["message"]
        assert client.post(f"{V1}/enrol", json=_body(branch)).status_code == 200, "the real site still enrols"
    assert _stored_fingerprint(sqlite_db, branch.site_id) == before
    assert len(events(sqlite_db, "enrol_refused")) == 2
    if not approved:
        approve(sqlite_db, branch.site_id, branch.keys.public.fingerprint)  # the fingerprint read by phone still fits


def test_a_rotation_signed_with_the_earlier_key_waits_for_approval(sqlite_db: HeadDatabase) -> None:
    branch = new_branch(sqlite_db)
    rotated = KeyPair.generate()
    proof = sign_rekey(branch.keys, branch.site_id, rotated.public)
    with TestClient(create_app(sqlite_db)) as client:
        stolen = client.post(f"{V1}/enrol", json=_body(branch, KeyPair.generate(), previous_key=proof))
        assert stolen.status_code == 409, "a proof signs exactly one set of new keys"
        answer = client.post(f"{V1}/enrol", json=_body(branch, rotated, previous_key=proof))
        assert answer.status_code == 200 and answer.json()["status"] == "pending"
        assert answer.json()["fingerprint"] == rotated.public.fingerprint
        old = SignedClient(client, branch).get(f"{V1}/state")
        assert (old.status_code, old.json()["code"]) == (401, "bad_signature"), "the earlier key is no longer taken"
        new = SignedClient(client, Branch(site_id=branch.site_id, keys=rotated, head=branch.head))
        assert new.get(f"{V1}/state").json()["code"] == "not_approved"
        approve(sqlite_db, branch.site_id, rotated.public.fingerprint)
        assert new.get(f"{V1}/state").status_code == 200
    assert [row.site_id for row in events(sqlite_db, "rekeyed")] == [branch.site_id]
    assert branch.keys.public.fingerprint in events(sqlite_db, "rekeyed")[0].message


def test_an_admin_reset_lets_a_site_that_lost_its_key_enrol_again(tmp_path: Path) -> None:
    server = start_server(tmp_path)
    try:
        lost, replacement = KeyPair.generate(), KeyPair.generate()
        branch = Branch(site_id="513422023", keys=lost, name="石桥镇卫生院")
        with httpx.Client(base_url=server.url, timeout=30) as http:
            assert http.post(f"{V1}/enrol", json=_body(branch)).status_code == 200
            approve_site(server.db_url, branch.site_id)
            assert http.post(f"{V1}/enrol", json=_body(branch, replacement)).status_code == 409
            done = run_cli("sites", "reset", branch.site_id, "--db", server.db_url)
            assert done.returncode == 0 and "已重置站点 513422023" in done.stdout
            answer = http.post(f"{V1}/enrol", json=_body(branch, replacement))
            assert answer.status_code == 200 and answer.json()["status"] == "pending"
            assert SignedClient(http, branch).get(f"{V1}/state").status_code == 401, "the lost key is refused"
        [row] = site_list(server.db_url)
        assert (row["fingerprint"], row["status"]) == (replacement.public.fingerprint, "pending")
        missing = run_cli("sites", "reset", "nobody", "--db", server.db_url)
        assert missing.returncode == 1 and "没有编号为 nobody 的站点" in missing.stderr
    finally:
        server.stop()
    from head_hospital.db import open_database

    db = open_database(server.db_url)
    try:
        [reset] = events(db, "site_reset")
        assert reset.site_id == "513422023" and lost.public.fingerprint in reset.message and "管理员" in reset.message
    finally:
        db.dispose()


def test_enrolment_is_limited_per_address(sqlite_db: HeadDatabase) -> None:
    with TestClient(create_app(sqlite_db, enrol_limits=EnrolLimits(per_address=3))) as client:
        branch = Branch(site_id="513422031", keys=KeyPair.generate())
        for _ in range(3):
            assert client.post(f"{V1}/enrol", json=_body(branch)).status_code == 200
        for _ in range(5):
            refused = client.post(f"{V1}/enrol", json=_body(branch))
            assert (refused.status_code, refused.json()["code"]) == (429, "rate_limited")
        assert "过于频繁" in refused.json()["message"] and int(refused.headers["Retry-After"]) > 0
        nested = client.post(f"{V1}/enrol", content=b"[" * 60_000)
        assert nested.status_code == 429, "the limit comes before the body is read"
    assert len(events(sqlite_db, "refused_rate_limited")) == 1, "a flood is logged once, not per request"


def test_new_sites_wait_while_too_many_are_pending(sqlite_db: HeadDatabase) -> None:
    first, second = new_branch(sqlite_db, approved=False), new_branch(sqlite_db, approved=False)
    third = Branch(site_id="513422033", keys=KeyPair.generate())
    with TestClient(create_app(sqlite_db, enrol_limits=EnrolLimits(max_pending=2))) as client:
        refused = client.post(f"{V1}/enrol", json=_body(third))
        assert (refused.status_code, refused.json()["code"]) == (429, "rate_limited")
        assert "待审核的站点已达 2 个上限" in refused.json()["message"]
        assert client.post(f"{V1}/enrol", json=_body(first)).status_code == 200, "known sites still enrol"
        approve(sqlite_db, second.site_id, second.keys.public.fingerprint)
        assert client.post(f"{V1}/enrol", json=_body(third)).status_code == 200


def test_the_public_page_shows_no_pending_site(sqlite_db: HeadDatabase) -> None:
    approved = new_branch(sqlite_db, name="白水乡卫生院")
    pending = new_branch(sqlite_db, approved=False, name="石桥镇卫生院")
    with TestClient(create_app(sqlite_db)) as client:
        html = client.get("/").text
    assert approved.site_id in html and "白水乡卫生院" in html
    for secret in (pending.site_id, "石桥镇卫生院", pending.keys.public.fingerprint):
        assert secret not in html
    assert "待审核 1 个" in html


def test_the_served_limits_are_set_on_the_command_line(tmp_path: Path) -> None:
    server = start_server(tmp_path, extra_args=("--enrol-per-hour", "2", "--max-pending", "5"))
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            answers = [http.post(f"{V1}/enrol", json=_body(Branch(site_id=f"51342204{n}", keys=KeyPair.generate())))
                       for n in range(3)]
            html = http.get("/").text
    finally:
        server.stop()
    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert "请约" in answers[2].json()["message"] and "51342204" not in html
