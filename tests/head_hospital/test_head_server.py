"""The real service in a subprocess on loopback: enrol, approve through the CLI, an upload cut by a killed server."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from head_support import Branch, SignedClient
from server_support import approve_site, head_keys, site_list, start_server

from head_hospital.db import open_database
from township_wire import api
from township_wire.crypto import KeyPair, PublicKeys
from township_wire.envelope import EnvelopeKind, open_envelope


def test_upload_survives_a_killed_server_and_resumes(tmp_path: Path, db_url: str) -> None:
    server = start_server(tmp_path, db_url)
    try:
        branch = Branch(site_id="513422021", keys=KeyPair.generate(), name="白水乡卫生院")
        with httpx.Client(base_url=server.url, timeout=30) as http:
            enrolled = http.post(f"{api.API_PREFIX}/enrol", json={
                "site_id": branch.site_id, "name": branch.name, "county_code": "513422", "township_code": "021",
                "keys": branch.keys.public.to_json()}).json()
            branch.head = PublicKeys.from_json(enrolled["head_keys"])
            assert branch.head == head_keys(server.db_url)
            assert enrolled["head_name"] == "县人民医院"
            approve_site(server.db_url, branch.site_id)
            assert site_list(server.db_url)[0]["status"] == "approved"
            db = open_database(server.db_url)
            records = [branch.record("village") for _ in range(2000)]
            package_id = "9a9b9c9d-0000-4000-8000-000000000001"
            package = branch.package(db, records, package_id=package_id)
            db.dispose()
            signed = SignedClient(http, branch)
            signed.upload(package, package_id, chunk=16 * 1024, stop_after=3)
            server.kill()
            server.start()
            where = signed.get(f"{api.API_PREFIX}/uploads/{package_id}").json()
            assert where == {"offset": 3 * 16 * 1024, "size": len(signed.sealed(package))}
            answer = signed.upload(package, package_id, chunk=16 * 1024)
            assert answer.status_code == 200, answer.text
            body = open_envelope(EnvelopeKind.RECEIPT, answer.content, head_keys(server.db_url))
            assert body["totals"]["applied"] == 2000
            page = http.get("/")
            assert page.status_code == 200 and "白水乡卫生院" in page.text
    finally:
        server.stop()


def test_concurrent_commits_of_one_package_apply_it_once(tmp_path: Path, db_url: str) -> None:
    server = start_server(tmp_path, db_url)
    try:
        branch = Branch(site_id="513422022", keys=KeyPair.generate())
        with httpx.Client(base_url=server.url, timeout=60) as http:
            enrolled = http.post(f"{api.API_PREFIX}/enrol", json={"site_id": branch.site_id, "name": "石桥镇卫生院",
                                                                  "keys": branch.keys.public.to_json()}).json()
            branch.head = PublicKeys.from_json(enrolled["head_keys"])
            approve_site(server.db_url, branch.site_id)
            package_id = "9a9b9c9d-0000-4000-8000-000000000002"
            db = open_database(server.db_url)
            package = branch.package(db, [branch.record("village") for _ in range(5000)], package_id=package_id)
            db.dispose()
            signed = SignedClient(http, branch)
            assert signed.upload(package, package_id, commit=False).json() == {"offset": len(signed.sealed(package))}
            with ThreadPoolExecutor(max_workers=3) as pool:
                answers = list(pool.map(lambda _: signed.post(f"{api.API_PREFIX}/uploads/{package_id}/commit"),
                                        range(3)))
            assert all(a.status_code == 200 or (a.status_code, a.json()["code"]) == (409, "busy") for a in answers)
            receipts = {a.content for a in answers if a.status_code == 200}
            final = signed.post(f"{api.API_PREFIX}/uploads/{package_id}/commit")
            assert final.status_code == 200 and receipts <= {final.content}
            body = open_envelope(EnvelopeKind.RECEIPT, final.content, head_keys(server.db_url))
            assert body["totals"]["applied"] == 5000 and body["counts"]["village"]["count"] == 5000
            state = open_envelope(EnvelopeKind.STATE, signed.get(f"{api.API_PREFIX}/state").content,
                                  head_keys(server.db_url))
            assert state["last_seq"] == 1
    finally:
        server.stop()
