"""USB import through the command line: sealed package in, sealed return file out that only the site can open."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from head_support import events, new_branch, nothing_written
from server_support import run_cli

from head_hospital.db import HeadDatabase
from head_hospital.feed import publish_catalogue
from head_hospital.sites import revoke
from township_wire.crypto import KeyPair, SealBroken, seal
from township_wire.envelope import EnvelopeKind, open_envelope


def _stick(tmp_path: Path, sealed: bytes, name: str = "package.tdpkg") -> Path:
    path = tmp_path / "stick" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(sealed)
    return path


def test_usb_round_trip_with_a_return_file_only_the_site_can_open(head_db: HeadDatabase, tmp_path: Path) -> None:
    branch = new_branch(head_db)
    publish_catalogue(head_db, "referral_diseases", title="转诊病种目录", items=[{"code": "I10"}])
    publish_catalogue(head_db, "referral_diseases", title="转诊病种目录", items=[{"code": "I10"}, {"code": "E11"}])
    records = [branch.record("village") for _ in range(20)]
    package = branch.package(head_db, records, checkpoint=1)
    path = _stick(tmp_path, seal(package, head_db.keys.public))
    head_db.dispose()
    done = run_cli("import", str(path), "--db", head_db.url, "--receipt-out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    assert "已导入" in done.stdout and "已接收 20" in done.stdout
    returned = list((tmp_path / "out").glob("*.tdreturn"))
    assert len(returned) == 1 and returned[0].stem in done.stdout
    with pytest.raises(SealBroken):
        KeyPair.generate().open_sealed(returned[0].read_bytes())
    content = json.loads(branch.keys.open_sealed(returned[0].read_bytes()))
    receipt = open_envelope(EnvelopeKind.RECEIPT, content["receipt"], head_db.keys.public)
    assert receipt["totals"]["applied"] == 20 and receipt["site_id"] == branch.site_id
    feed = open_envelope(EnvelopeKind.FEED, content["feed"], head_db.keys.public)
    assert (feed["after"], [entry["seq"] for entry in feed["entries"]]) == (1, [2])

    again = run_cli("import", str(path), "--db", head_db.url, "--receipt-out", str(tmp_path / "again"))
    assert again.returncode == 0 and "重复导入" in again.stdout
    repeated = json.loads(branch.keys.open_sealed(next((tmp_path / "again").glob("*.tdreturn")).read_bytes()))
    assert repeated["receipt"] == content["receipt"], "a replay answers with the stored receipt"


def test_usb_files_for_another_head_or_from_a_revoked_site_are_refused(sqlite_db: HeadDatabase,
                                                                        tmp_path: Path) -> None:
    branch = new_branch(sqlite_db)
    package = branch.package(sqlite_db, [branch.record("village")])
    elsewhere = _stick(tmp_path, seal(package, KeyPair.generate().public), "elsewhere.tdpkg")
    done = run_cli("import", str(elsewhere), "--db", sqlite_db.url)
    assert done.returncode == 1 and "另一总院" in done.stderr
    damaged = bytearray(seal(package, sqlite_db.keys.public))
    damaged[-5] ^= 1
    done = run_cli("import", str(_stick(tmp_path, bytes(damaged), "damaged.tdpkg")), "--db", sqlite_db.url)
    assert done.returncode == 1 and "损坏" in done.stderr
    revoke(sqlite_db, branch.site_id)
    done = run_cli("import", str(_stick(tmp_path, seal(package, sqlite_db.keys.public))), "--db", sqlite_db.url)
    assert done.returncode == 1 and "吊销" in done.stderr
    assert nothing_written(sqlite_db)
    assert {row.event for row in events(sqlite_db)} >= {"usb_unreadable", "package_revoked"}
