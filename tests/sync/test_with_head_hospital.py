"""A branch and the real head hospital service on loopback: enrol, sync, feed, USB, recovery."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from server_support import approve_site
from sqlalchemy import select

from desktop.models import Catalogue, Resident
from desktop.sync.client import handshake, sync_now
from desktop.sync.enrolment import enrol
from desktop.sync.site import LAST_SUCCESS_KEY, require_enrolment, set_value
from desktop.sync.status import local_counts, sync_log, sync_status
from desktop.sync.transport import AwaitingApproval, RetryPolicy, ServerRefused, Transport

FAST = RetryPolicy(attempts=2, base=0.01, cap=0.05)


def _enrolled(app, admin, server) -> str:
    result = enrol(app.db, admin, server.url, retry=FAST)
    approve_site(server.db_url, result.site_id)
    return result.site_id


def _head_counts(app) -> dict:
    with app.db.read() as session:
        enrolment = require_enrolment(session)
    transport = Transport.for_enrolment(enrolment, retry=FAST)
    try:
        return handshake(transport, enrolment)["counts"]
    finally:
        transport.close()


def test_a_first_sync_sends_everything_and_both_sides_agree(demo_app, admin, server) -> None:
    site_id = _enrolled(demo_app, admin, server)
    outcome = sync_now(demo_app.db, admin, retry=FAST)
    status = sync_status(demo_app.db)
    assert outcome.sent == outcome.applied > 3000 and outcome.rejected == 0
    assert status.unsent == 0 and status.errors == 0 and status.last_success
    assert _head_counts(demo_app) == local_counts(demo_app.db, site_id)
    with demo_app.db.write() as session:  # a sync with nothing to send is a success too
        set_value(session, LAST_SUCCESS_KEY, "2026-01-01T00:00:00")
    again = sync_now(demo_app.db, admin, retry=FAST)
    assert (again.sent, again.applied) == (0, 0)
    assert sync_status(demo_app.db).last_success > "2026-01-01T00:00:00"


def test_an_edit_travels_in_the_next_sync_alone(demo_app, admin, server) -> None:
    site_id = _enrolled(demo_app, admin, server)
    sync_now(demo_app.db, admin, retry=FAST)
    with demo_app.db.write() as session:
        session.scalars(select(Resident).limit(1)).one().phone = "13900001111"
    outcome = sync_now(demo_app.db, admin, retry=FAST)
    assert (outcome.sent, outcome.applied) == (1, 1)
    assert _head_counts(demo_app) == local_counts(demo_app.db, site_id)


def test_an_unapproved_site_is_refused_and_keeps_everything(demo_app, admin, server) -> None:
    enrol(demo_app.db, admin, server.url, retry=FAST)
    before = sync_status(demo_app.db).unsent
    for _attempt in range(2):
        with pytest.raises(AwaitingApproval) as refused:
            sync_now(demo_app.db, admin, retry=FAST)
    assert refused.value.status == 403 and refused.value.message.startswith("等待总院批准")
    status = sync_status(demo_app.db)
    assert status.unsent == before and status.online is True and status.awaiting_approval
    events = [entry.event for entry in sync_log(demo_app.db)]
    assert events.count("awaiting_approval") == 1 and "refused" not in events  # said once, not as a refusal


def test_a_revoked_site_is_refused(demo_app, admin, server) -> None:
    site_id = _enrolled(demo_app, admin, server)
    _head_cli(server, "sites", "revoke", site_id)
    with pytest.raises(ServerRefused) as refused:
        sync_now(demo_app.db, admin, retry=FAST)
    assert refused.value.status == 403


def _head_cli(server, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "head_hospital", *args, "--db", server.db_url],
                          capture_output=True, text=True, check=True, timeout=120)


def test_a_published_catalogue_comes_down_once(demo_app, admin, server, tmp_path) -> None:
    _enrolled(demo_app, admin, server)
    catalogue = tmp_path / "drugs.json"
    catalogue.write_text(json.dumps({"title": "基本药物目录", "items": [{"code": "A01", "name": "硝苯地平缓释片"}]},
                                    ensure_ascii=False), encoding="utf-8")
    _head_cli(server, "catalogue", "publish", "essential_drugs", str(catalogue))
    assert sync_now(demo_app.db, admin, retry=FAST).received == 1
    assert sync_now(demo_app.db, admin, retry=FAST).received == 0
    with demo_app.db.read() as session:
        stored = session.get(Catalogue, "essential_drugs")
        assert (stored.version, stored.items[0]["name"]) == (1, "硝苯地平缓释片")


def test_a_restored_backup_recovers_what_only_the_head_hospital_has(demo_app, admin, server, tmp_path) -> None:
    site_id = _enrolled(demo_app, admin, server)
    sync_now(demo_app.db, admin, retry=FAST)
    old_copy = tmp_path / "old.sqlite"
    demo_app.db.dispose()
    shutil.copy(demo_app.paths.database, old_copy)
    with demo_app.db.write() as session:
        resident = session.scalars(select(Resident).order_by(Resident.id).limit(1)).one()
        resident.phone, later_uuid = "13711112222", resident.uuid
    sync_now(demo_app.db, admin, retry=FAST)
    demo_app.db.dispose()
    shutil.copy(old_copy, demo_app.paths.database)
    for suffix in ("-wal", "-shm"):
        Path(f"{demo_app.paths.database}{suffix}").unlink(missing_ok=True)
    outcome = sync_now(demo_app.db, admin, retry=FAST)
    assert outcome.recovered == 1
    with demo_app.db.read() as session:
        assert session.scalars(select(Resident.phone).where(Resident.uuid == later_uuid)).one() == "13711112222"
    assert _head_counts(demo_app) == local_counts(demo_app.db, site_id)
    with demo_app.db.write() as session:
        session.scalars(select(Resident).where(Resident.uuid == later_uuid)).one().address = "恢复后修改"
    assert sync_now(demo_app.db, admin, retry=FAST).applied == 1


def test_a_usb_round_trip_marks_records_synced(demo_app, admin, server, tmp_path) -> None:
    from desktop.sync.usb import export_package, import_return

    site_id = _enrolled(demo_app, admin, server)
    stick = tmp_path / "stick"
    stick.mkdir()
    exported = export_package(demo_app.db, admin, stick)
    assert exported.verified and exported.path.exists()
    _head_cli(server, "import", str(exported.path), "--receipt-out", str(stick))
    returned = next(stick.glob("*.tdreturn"))
    result = import_return(demo_app.db, admin, returned)
    assert result.receipt.applied == exported.records
    assert sync_status(demo_app.db).unsent == 0
    assert _head_counts(demo_app) == local_counts(demo_app.db, site_id)


def test_the_command_line_enrols_and_syncs(demo_app, server, tmp_path) -> None:
    from core_support import DEMO_PASSWORD

    data_dir = str(demo_app.paths.root)
    demo_app.db.dispose()
    env = os.environ | {"TOWNSHIP_DESK_PASSWORD": DEMO_PASSWORD}
    command = [sys.executable, "-m", "desktop", "--data-dir", data_dir]
    enrolled = subprocess.run([*command, "enrol", "--server", server.url, "--user", "admin"], env=env,
                              capture_output=True, text=True, timeout=120, check=False)
    assert enrolled.returncode == 0, enrolled.stderr
    site_id = next(line.split(": ")[1] for line in enrolled.stdout.splitlines() if line.startswith("site id: "))
    approve_site(server.db_url, site_id)
    synced = subprocess.run([*command, "sync", "--user", "admin"], env=env, capture_output=True, text=True,
                            timeout=300, check=False)
    assert synced.returncode == 0, synced.stderr
    last = synced.stdout.strip().splitlines()[-1]
    sent = int(last.split(",")[0].removeprefix("sent "))
    assert sent > 3000 and last == f"sent {sent}, applied {sent}, rejected 0, received 0"
    status = subprocess.run([*command, "sync", "status", "--json"], capture_output=True, text=True, timeout=60,
                            check=True)
    assert json.loads(status.stdout)["unsent"] == 0


def test_a_large_backlog_goes_in_several_capped_packages(demo_app, admin, server, monkeypatch) -> None:
    from desktop.models import SyncPackage
    from desktop.sync import outbox

    monkeypatch.setattr(outbox, "NETWORK_PACKAGE_RECORDS", 4000)
    site_id = _enrolled(demo_app, admin, server)
    outcome = sync_now(demo_app.db, admin, retry=FAST)
    with demo_app.db.read() as session:
        sizes = list(session.scalars(select(SyncPackage.record_count).order_by(SyncPackage.seq)))
    assert len(sizes) >= 4 and max(sizes) == 4000 and sum(sizes) == outcome.sent == outcome.applied
    assert _head_counts(demo_app) == local_counts(demo_app.db, site_id)


def test_an_answer_larger_than_the_limit_is_not_read_whole(demo_app, admin, server, monkeypatch) -> None:
    from desktop.sync import transport

    _enrolled(demo_app, admin, server)
    monkeypatch.setattr(transport, "MAX_RESPONSE_BYTES", 200)
    with pytest.raises(ServerRefused) as refused:
        sync_now(demo_app.db, admin, retry=FAST)
    assert refused.value.code == "too_large" and "过大" in refused.value.message
    assert sync_status(demo_app.db).unsent > 3000


def test_a_head_hospital_restored_from_an_old_backup_gets_back_what_it_lost(demo_app, admin, server,
                                                                             tmp_path) -> None:
    site_id = _enrolled(demo_app, admin, server)
    sync_now(demo_app.db, admin, retry=FAST)
    head_file = Path(server.db_url.removeprefix("sqlite:///"))
    server.stop()
    shutil.copy(head_file, tmp_path / "head-old.sqlite")
    server.start()
    with demo_app.db.write() as session:
        session.scalars(select(Resident).order_by(Resident.id).limit(1)).one().phone = "13512345678"
    assert sync_now(demo_app.db, admin, retry=FAST).applied == 1
    server.stop()
    shutil.copy(tmp_path / "head-old.sqlite", head_file)
    for suffix in ("-wal", "-shm"):
        Path(f"{head_file}{suffix}").unlink(missing_ok=True)
    server.start()
    assert _head_counts(demo_app) != local_counts(demo_app.db, site_id)
    assert sync_now(demo_app.db, admin, retry=FAST).applied == 1
    assert _head_counts(demo_app) == local_counts(demo_app.db, site_id)
