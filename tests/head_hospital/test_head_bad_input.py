"""Bad input at the head hospital: nested JSON, ids with a trailing newline, zip bombs, unknown fields,
seq jumps and names with hidden control characters are refused with a 4xx and words, real traffic passes."""

from __future__ import annotations

import hashlib
import io
import json
import secrets
import zipfile
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from head_support import Branch, SignedClient, count_rows, events, new_branch, nothing_written, receipt_body
from server_support import approve_site, run_cli, start_server

from head_hospital.app import create_app
from head_hospital.db import HeadDatabase, open_database
from head_hospital.errors import Refused
from head_hospital.ingest import SEQ_WINDOW, ingest
from head_hospital.models import Record, Report, Site
from township_wire import api
from township_wire.crypto import KeyPair, PublicKeys, seal
from township_wire.envelope import canonical_bytes
from township_wire.package import MAX_PACKAGE_RECORDS, MAX_UNPACKED_BYTES, RECORDS, SyncRecord

V1 = api.API_PREFIX
NESTED = {"arrays": b"[" * 60_000, "objects": b'{"a":' * 12_000, "closed": b"[" * 30_000 + b"]" * 30_000}


def _enrol_body(site_id: str, name: str = "青山镇卫生院", keys: KeyPair | None = None) -> dict:
    return {"site_id": site_id, "name": name, "keys": (keys or KeyPair.generate()).public.to_json()}


@pytest.mark.parametrize("how", sorted(NESTED))
def test_deeply_nested_json_is_400_on_every_json_endpoint(sqlite_db: HeadDatabase, how: str) -> None:
    branch = new_branch(sqlite_db)
    with TestClient(create_app(sqlite_db), raise_server_exceptions=False) as client:
        enrolment = client.post(f"{V1}/enrol", content=NESTED[how])
        declared = SignedClient(client, branch).request("POST", f"{V1}/uploads", body=NESTED[how])
    for answer in (enrolment, declared):
        assert (answer.status_code, answer.json()["code"]) == (400, "rejected")
        assert "嵌套层数超过上限" in answer.json()["message"]


def test_a_huge_enrolment_is_refused_unread(sqlite_db: HeadDatabase) -> None:
    huge = b'{"site_id": "513422046", "name": "' + "卫".encode() * 30_000 + b'"}'
    with TestClient(create_app(sqlite_db)) as client:
        answer = client.post(f"{V1}/enrol", content=huge)
    assert (answer.status_code, answer.json()["code"]) == (413, "too_large") and "请求内容过大" in answer.json()["message"]


def test_a_nested_enrolment_to_the_running_service_is_400_and_it_keeps_serving(tmp_path: Path) -> None:
    server = start_server(tmp_path)
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            nested = http.post(f"{V1}/enrol", content=b"[" * 60_000, headers={"Content-Type": "application/json"})
            fine = http.post(f"{V1}/enrol", json=_enrol_body("513422041"))
    finally:
        server.stop()
    assert nested.status_code == 400 and "JSON" in nested.json()["message"]
    assert fine.status_code == 200 and fine.json()["status"] == "pending"


def test_ids_with_a_trailing_newline_are_refused(sqlite_db: HeadDatabase, tmp_path: Path) -> None:
    branch = new_branch(sqlite_db)
    with TestClient(create_app(sqlite_db)) as client:
        site = client.post(f"{V1}/enrol", json=_enrol_body("513422042\n"))
        declared = SignedClient(client, branch).post(f"{V1}/uploads", {
            "package_id": "9a9b9c9d-0000-4000-8000-000000000003\n", "size": 10, "sha256": "0" * 64})
    assert site.status_code == 422 and "站点编号" in site.json()["message"]
    assert declared.status_code == 422 and "package_id" in declared.json()["message"]
    package = branch.package(sqlite_db, [branch.record("village")], package_id="9a9b9c9d\n")
    stick = tmp_path / "stick.tdpkg"
    stick.write_bytes(seal(package, sqlite_db.keys.public))
    sqlite_db.dispose()
    done = run_cli("import", str(stick), "--db", sqlite_db.url, "--receipt-out", str(tmp_path / "out"))
    assert done.returncode == 1 and "数据包编号格式错误" in done.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir()), "no return file is named"
    assert nothing_written(sqlite_db)


def _bomb(package: bytes, unpacked: int) -> bytes:
    """The package with its records member swapped for `unpacked` bytes of zeros (deflated, never in memory)."""
    source = zipfile.ZipFile(io.BytesIO(package))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for info in source.infolist():
            if info.filename != RECORDS:
                target.writestr(info.filename, source.read(info))
                continue
            with target.open(RECORDS, "w", force_zip64=True) as member:
                block = b"0" * (1024 * 1024)
                for _ in range(unpacked // len(block)):
                    member.write(block)
    return buffer.getvalue()


def test_a_small_package_that_unpacks_beyond_the_limit_is_refused_unread(sqlite_db: HeadDatabase) -> None:
    branch = new_branch(sqlite_db)
    bomb = _bomb(branch.package(sqlite_db, [branch.record("village")]), MAX_UNPACKED_BYTES + 16 * 1024 * 1024)
    assert len(bomb) < 2 * 1024 * 1024
    with pytest.raises(Refused) as refused:
        ingest(sqlite_db, bomb, channel="usb")
    assert refused.value.status == 422 and refused.value.extra["reason"] == "oversize"
    assert "解压后过大" in refused.value.message
    assert nothing_written(sqlite_db) and events(sqlite_db, "package_oversize")


def test_a_package_of_more_than_20000_records_is_refused(sqlite_db: HeadDatabase) -> None:
    branch = new_branch(sqlite_db)
    records = [branch.record("village", code=str(n), name="上坝村") for n in range(MAX_PACKAGE_RECORDS + 1)]
    with pytest.raises(Refused) as refused:
        ingest(sqlite_db, branch.package(sqlite_db, records), channel="usb")
    assert refused.value.extra["reason"] == "oversize" and "20000" in refused.value.message
    assert nothing_written(sqlite_db)


def test_records_with_unknown_fields_are_refused_by_name(sqlite_db: HeadDatabase) -> None:
    branch = new_branch(sqlite_db)
    extra = branch.record("village", code="102", name="下坝村", spaceship="🚀")
    plain = branch.record("village", code="103", name="中坝村")
    body = receipt_body(sqlite_db, ingest(sqlite_db, branch.package(sqlite_db, [extra, plain]),
                                          channel="usb").receipt)
    results = {entry["uuid"]: entry for entry in body["results"]}
    assert results[extra.uuid]["result"] == "invalid" and "未知字段：spaceship" in results[extra.uuid]["reason"]
    assert results[plain.uuid]["result"] == "applied"
    assert count_rows(sqlite_db, Record) == 1


@dataclass(frozen=True)
class _RecordWithExtraKey(SyncRecord):
    def line(self) -> bytes:
        return canonical_bytes({"type": self.type, "uuid": self.uuid, "version": self.version, "deleted": self.deleted,
                                "owner_site": self.owner_site, "data": self.data, "smuggled": "x"})


def test_a_record_line_with_an_extra_key_refuses_the_package(sqlite_db: HeadDatabase) -> None:
    branch = new_branch(sqlite_db)
    plain = branch.record("village")
    smuggled = _RecordWithExtraKey(plain.type, plain.uuid, plain.version, plain.deleted, plain.owner_site, plain.data)
    with pytest.raises(Refused) as refused:
        ingest(sqlite_db, branch.package(sqlite_db, [smuggled]), channel="usb")
    assert "第 1 条记录格式错误" in refused.value.message and nothing_written(sqlite_db)


def test_a_seq_jump_is_refused_and_does_not_block_real_packages(sqlite_db: HeadDatabase) -> None:
    branch = new_branch(sqlite_db)
    with pytest.raises(Refused) as refused:
        ingest(sqlite_db, branch.package(sqlite_db, [branch.record("village")], seq=30_000), channel="usb")
    assert refused.value.status == 422 and refused.value.extra["reason"] == "seq_jump"
    assert "30000" in refused.value.message and "跳跃过大" in refused.value.message
    assert nothing_written(sqlite_db)
    assert not ingest(sqlite_db, branch.package(sqlite_db, [branch.record("village")], seq=1), channel="usb").replay
    edge = branch.package(sqlite_db, [branch.record("village")], seq=1 + SEQ_WINDOW)
    assert not ingest(sqlite_db, edge, channel="usb").replay, "gaps of undelivered packages within the window pass"
    with sqlite_db.read() as session:
        assert session.get(Site, branch.site_id).last_seq == 1 + SEQ_WINDOW


def test_a_seq_jump_over_the_network_is_refused_and_the_next_real_package_lands(tmp_path: Path) -> None:
    server = start_server(tmp_path)
    try:
        branch = Branch(site_id="513422043", keys=KeyPair.generate())
        with httpx.Client(base_url=server.url, timeout=60) as http:
            enrolled = http.post(f"{V1}/enrol", json=_enrol_body(branch.site_id, keys=branch.keys)).json()
            branch.head = PublicKeys.from_json(enrolled["head_keys"])
            approve_site(server.db_url, branch.site_id)
            db = open_database(server.db_url)
            forged_id, real_id = "9a9b9c9d-0000-4000-8000-000000000030", "9a9b9c9d-0000-4000-8000-000000000031"
            forged = branch.package(db, [branch.record("village")], seq=30_000, package_id=forged_id)
            real = branch.package(db, [branch.record("village")], seq=1, package_id=real_id)
            db.dispose()
            signed = SignedClient(http, branch)
            refused = signed.upload(forged, forged_id)
            landed = signed.upload(real, real_id)
    finally:
        server.stop()
    assert (refused.status_code, refused.json()["code"], refused.json()["reason"]) == (422, "rejected", "seq_jump")
    assert landed.status_code == 200, landed.text


@pytest.mark.parametrize("name", ["青山\u202e院生卫", "青山\x00卫生院", "青山\u2066卫生院", "青山\x1b[31m卫生院"])
def test_site_names_with_hidden_control_characters_are_refused(sqlite_db: HeadDatabase, name: str) -> None:
    with TestClient(create_app(sqlite_db)) as client:
        answer = client.post(f"{V1}/enrol", json=_enrol_body("513422044", name))
        fine = client.post(f"{V1}/enrol", json=_enrol_body("513422045", "青山镇卫生院（分院）"))
    assert answer.status_code == 422 and "单位名称（name）含有不可见的" in answer.json()["message"]
    assert f"U+{ord(next(ch for ch in name if ch not in '青山卫生院[31m')):04X}" in answer.json()["message"]
    assert fine.status_code == 200


def test_record_text_with_hidden_control_characters_is_refused_by_field(sqlite_db: HeadDatabase) -> None:
    branch = new_branch(sqlite_db)
    reversed_name = branch.record("resident", **{**_resident(), "name": "张\u202e三"})
    nul_in_number = branch.record("resident", **{**_resident(), "record_no": "51342202101\x00000002"})
    newline_in_name = branch.record("resident", **{**_resident(), "name": "张三\n"})
    note = branch.record("household", village_uuid=_resident()["village_uuid"], address="上坝村\n3 组 12 号")
    body = receipt_body(sqlite_db, ingest(sqlite_db, branch.package(
        sqlite_db, [reversed_name, nul_in_number, newline_in_name, note]), channel="usb").receipt)
    results = {entry["uuid"]: entry for entry in body["results"]}
    assert "居民健康档案的字段 name 含有不可见的从右到左覆盖符 RLO（U+202E）" == results[reversed_name.uuid]["reason"]
    assert "字段 record_no 含有不可见的空字符 NUL（U+0000）" in results[nul_in_number.uuid]["reason"]
    assert "字段 name 含有不可见的换行符" in results[newline_in_name.uuid]["reason"]
    assert results[note.uuid]["result"] == "applied", "free text keeps its line breaks"
    assert count_rows(sqlite_db, Record) == 1


def _resident() -> dict:
    return {"record_no": "51342202101000001", "name": "张三", "sex": "1", "birth_date": "1950-01-02",
            "village_uuid": "0b0b0b0b-0000-4000-8000-000000000001", "registered_on": "2026-01-05"}


def test_real_traffic_still_passes(sqlite_db: HeadDatabase) -> None:
    """Real traffic: a package whose id is a uuid goes through declare, chunks and commit as before."""
    branch = new_branch(sqlite_db)
    package_id = "9a9b9c9d-0000-4000-8000-000000000044"
    package = branch.package(sqlite_db, [branch.record("resident", **_resident())], package_id=package_id)
    with TestClient(create_app(sqlite_db)) as client:
        answer = SignedClient(client, branch).upload(package, package_id)
    assert answer.status_code == 200 and receipt_body(sqlite_db, answer.content)["totals"]["applied"] == 1
    assert hashlib.sha256(package).hexdigest() == receipt_body(sqlite_db, answer.content)["package_sha256"]


def test_reports_with_nested_json_or_hidden_characters_are_logged_not_stored(sqlite_db: HeadDatabase) -> None:
    branch = new_branch(sqlite_db)
    reversed_name = json.dumps({"period": "2026-10", "site_id": branch.site_id, "figures": [
        {"code": "htn_standard", "name": "高血压\u202e率", "numerator": 1, "denominator": 2}]}).encode()
    nested = "".join(f'{{"{secrets.token_hex(3)}":' for _ in range(5_000)).encode()  # not a zip bomb, just deep
    reports = {"2026-09.json": nested, "2026-10.json": reversed_name}
    ingest(sqlite_db, branch.package(sqlite_db, [branch.record("village")], reports=reports), channel="usb")
    assert count_rows(sqlite_db, Report) == 0 and count_rows(sqlite_db, Record) == 1
    messages = sorted(row.message for row in events(sqlite_db, "report_invalid"))
    assert "嵌套层数" in messages[0] and "U+202E" in messages[1]
