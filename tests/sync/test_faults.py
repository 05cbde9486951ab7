"""Faults from the sync protocol's list, on loopback: cuts, lost responses, kills, replays, skew.

Pass = every acknowledged record is on the head hospital exactly once, nothing appears that
was never written, per-type counts and digests agree, and both databases pass integrity_check.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from core_support import DEMO_PASSWORD
from data_templates import open_database
from netfault import FaultProxy
from server_support import approve_site
from sqlalchemy import select

from desktop.errors import UserFacingError
from desktop.models import Resident, SyncPackage
from desktop.sync.client import handshake, sync_now
from desktop.sync.enrolment import enrol
from desktop.sync.outbox import PackageState
from desktop.sync.site import require_enrolment
from desktop.sync.status import local_counts, sync_status
from desktop.sync.transport import Offline, RetryPolicy, ServerRefused, Transport
from township_wire.api import CHUNK_BYTES

FAST = RetryPolicy(attempts=2, base=0.01, cap=0.05)
ONE_TRY = RetryPolicy(attempts=1)


def _enrol(app, admin, server) -> str:
    site_id = enrol(app.db, admin, server.url, retry=FAST).site_id
    approve_site(server.db_url, site_id)
    return site_id


def _head_counts(app, url: str | None = None) -> dict:
    with app.db.read() as session:
        enrolment = require_enrolment(session)
    transport = Transport.for_enrolment(enrolment, server_url=url, retry=FAST)
    try:
        return handshake(transport, enrolment)["counts"]
    finally:
        transport.close()


def _integrity(path: Path) -> str:
    with closing(open_database(path)) as connection:
        return connection.execute("PRAGMA integrity_check").fetchone()[0]


def _assert_in_step(app, site_id: str, server) -> None:
    assert sync_status(app.db).unsent == 0
    assert _head_counts(app, server.url) == local_counts(app.db, site_id)
    assert _integrity(app.paths.database) == "ok"
    if server.db_url.startswith("sqlite"):
        assert _integrity(Path(server.db_url.removeprefix("sqlite:///"))) == "ok"


def _package_size(app) -> int:
    with app.db.read() as session:
        return session.scalars(select(SyncPackage.size).order_by(SyncPackage.seq.desc()).limit(1)).one()


def test_a_cut_mid_upload_resumes_and_re_sends_at_most_one_chunk(demo_app, admin, server) -> None:
    site_id = _enrol(demo_app, admin, server)
    with FaultProxy(server.port) as proxy:
        proxy.cut_after(5 * CHUNK_BYTES + 1000, direction="up")
        try:  # the upload resumes within this sync when the next connection succeeds
            sync_now(demo_app.db, admin, server_url=proxy.url, retry=ONE_TRY)
        except Offline:
            sync_now(demo_app.db, admin, server_url=proxy.url, retry=FAST)
        size = _package_size(demo_app)
        overhead = proxy.bytes_up - size
        assert proxy.connections >= 2, "the cut happened and a new connection carried the rest"
        assert size > 10 * CHUNK_BYTES
        assert overhead <= CHUNK_BYTES + 64 * 1024, f"re-sent {overhead} bytes beyond the package"
    _assert_in_step(demo_app, site_id, server)


def test_a_response_lost_after_commit_is_answered_by_the_stored_receipt(demo_app, admin, server) -> None:
    site_id = _enrol(demo_app, admin, server)
    with FaultProxy(server.port) as proxy:
        # Every answer before the commit's is under 1 kB (state, offsets); the receipt of 3,000+ records is
        # far over 64 kB, so the cut falls in the receipt, after the head hospital committed the package.
        proxy.cut_after(64 * 1024, direction="down")
        with pytest.raises(Offline):
            sync_now(demo_app.db, admin, server_url=proxy.url, retry=ONE_TRY)
        proxy.clear()
        with demo_app.db.read() as session:
            assert session.scalars(select(SyncPackage.state)).all() == [PackageState.BUILT], "no receipt arrived"
        assert _head_counts(demo_app, server.url) == local_counts(demo_app.db, site_id), "yet all was applied"
        again = sync_now(demo_app.db, admin, server_url=proxy.url, retry=FAST)
    assert again.sent == again.applied > 3000, "the stored receipt answers the same package"
    _assert_in_step(demo_app, site_id, server)


def test_a_clock_a_day_off_is_refused_in_clear_words_and_minutes_off_still_syncs(demo_app, admin, server) -> None:
    site_id = _enrol(demo_app, admin, server)
    with pytest.raises(ServerRefused) as refused:
        sync_now(demo_app.db, admin, retry=FAST, clock=lambda: datetime.now(UTC) + timedelta(days=1))
    assert refused.value.code == "clock_skew"
    assert "本机时钟比总院服务器快了约 24 小时" in refused.value.message and "5 分钟" in refused.value.message
    assert "校准本机的日期、时间和时区" in refused.value.message and "数据都已保留在本机" in refused.value.message
    assert sync_status(demo_app.db).last_attempt["message"] == refused.value.message
    sync_now(demo_app.db, admin, retry=FAST, clock=lambda: datetime.now(UTC) - timedelta(minutes=3))
    _assert_in_step(demo_app, site_id, server)


def test_a_replayed_old_package_changes_nothing(demo_app, admin, server) -> None:
    site_id = _enrol(demo_app, admin, server)
    sync_now(demo_app.db, admin, retry=FAST)
    with demo_app.db.read() as session:
        first = session.execute(select(SyncPackage.package_id, SyncPackage.size, SyncPackage.sha256)
                                .order_by(SyncPackage.seq).limit(1)).one()
    with demo_app.db.write() as session:
        session.scalars(select(Resident).limit(1)).one().phone = "13600001234"
    sync_now(demo_app.db, admin, retry=FAST)
    counts = _head_counts(demo_app)
    # Offering the first, long-acknowledged package again: the stored receipt, nothing applied.
    with demo_app.db.read() as session:
        enrolment = require_enrolment(session)
    transport = Transport.for_enrolment(enrolment, server_url=server.url, retry=FAST)
    try:
        import json

        replay = transport.request("POST", "/uploads", ok=(200, 201), body=json.dumps(
            {"package_id": first.package_id, "size": first.size, "sha256": first.sha256,
             "package_sha256": first.sha256}).encode())
    finally:
        transport.close()
    assert replay.status_code == 200
    assert _head_counts(demo_app) == counts == local_counts(demo_app.db, site_id)


def test_concurrent_syncs_of_one_site_apply_each_record_once(demo_app, admin, server) -> None:
    site_id = _enrol(demo_app, admin, server)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            sync_now(demo_app.db, admin, retry=RetryPolicy(attempts=6, base=0.05, cap=0.5))
        except Exception as error:  # noqa: BLE001 - collected and checked below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert all(isinstance(error, UserFacingError) for error in errors), errors  # a refusal, never a crash
    sync_now(demo_app.db, admin, retry=FAST)
    _assert_in_step(demo_app, site_id, server)


def _cli_sync(data_dir: Path, url: str) -> subprocess.Popen:
    env = os.environ | {"TOWNSHIP_DESK_PASSWORD": DEMO_PASSWORD}
    return subprocess.Popen([sys.executable, "-m", "desktop", "--data-dir", str(data_dir), "sync", "--user", "admin",
                             "--server", url], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _edit_some(app, rng: random.Random, count: int) -> None:
    with app.db.write() as session:
        for resident in session.scalars(select(Resident).order_by(Resident.id).offset(rng.randrange(2000)).limit(count)):
            resident.address = f"第 {rng.randrange(10**6)} 号"


@pytest.mark.slow
def test_killing_the_branch_process_mid_sync_loses_and_duplicates_nothing(demo_app, admin, server) -> None:
    site_id = _enrol(demo_app, admin, server)
    rng = random.Random(5)
    data_dir = demo_app.paths.root
    for _ in range(6):
        _edit_some(demo_app, rng, 20)
        demo_app.db.dispose()
        process = _cli_sync(data_dir, server.url)
        time.sleep(rng.uniform(0.3, 4.0))
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        assert _integrity(demo_app.paths.database) == "ok"
    sync_now(demo_app.db, admin, retry=FAST)
    _assert_in_step(demo_app, site_id, server)


@pytest.mark.slow
def test_killing_the_head_hospital_mid_apply_loses_and_duplicates_nothing(demo_app, admin, server) -> None:
    site_id = _enrol(demo_app, admin, server)
    rng = random.Random(7)
    for _ in range(5):
        _edit_some(demo_app, rng, 50)
        worker = threading.Thread(target=lambda: _quiet_sync(demo_app, admin))
        worker.start()
        time.sleep(rng.uniform(0.2, 3.0))
        server.kill()
        worker.join(120)
        server.restart()
    sync_now(demo_app.db, admin, retry=FAST)
    _assert_in_step(demo_app, site_id, server)


def _quiet_sync(app, admin) -> None:
    try:
        sync_now(app.db, admin, retry=ONE_TRY)
    except UserFacingError as error:  # the server is being killed under it on purpose
        print(f"sync cut short as intended: {error.message}")
