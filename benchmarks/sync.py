"""Sync speed: building a package, a backlog over a slow link, and the cost of a resume.

On a cached demo branch (BENCH_SYNC_RESIDENTS residents with their follow-ups), enrolled with
the real head hospital service started on loopback:
- build a package of 20,000 records (target <= 2 s), median of a few runs;
- a one-week backlog of about 5,000 records through the test proxy limited to 256 kbit/s
  (target < 2 min), then through the same link cut in the middle of the upload: bytes sent
  again beyond the package itself (target: at most one chunk).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench_data import demo_branch, private_copy

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "core"), str(ROOT / "tests" / "head_hospital"), str(ROOT / "tests" / "sync")]

RESIDENTS = int(os.environ.get("BENCH_SYNC_RESIDENTS", "5000"))
PACKAGE_RECORDS = 20_000
BACKLOG_RECORDS = 5_000
LINK_BITS = 256_000


def _keep_unsent(db, count: int) -> int:
    """Leave the first `count` records (in package order) pending and mark the rest synced."""
    from sqlalchemy import update

    from desktop.sync.records import bindings

    left = count
    with db.write() as session:
        for bound in bindings():
            table = bound.table
            ids = [row[0] for row in session.execute(table.select().with_only_columns(table.c.id)
                                                     .order_by(table.c.id).limit(max(left, 0)))]
            session.execute(update(table).values(sync_state="synced"))
            if ids:
                session.execute(update(table).where(table.c.id.in_(ids)).values(sync_state="pending"))
            left -= len(ids)
    return count - max(left, 0)


def bench_build(source: Path, work: Path) -> None:
    from sqlalchemy import update
    from sync_support import HeadKeys, enrol_offline

    from desktop.app import open_app
    from desktop.sync.outbox import Channel, build_next
    from desktop.sync.records import bindings

    app = open_app(private_copy(source, work / "build"))
    enrol_offline(app.db, HeadKeys.generate(), server_url="http://127.0.0.1:9")
    records = _keep_unsent(app.db, PACKAGE_RECORDS)
    times, size = [], 0
    for _ in range(5):
        with app.db.write() as session:
            for bound in bindings():
                session.execute(update(bound.table).where(bound.table.c.sync_state == "in_flight")
                                .values(sync_state="pending"))
        started = time.perf_counter()
        built = build_next(app.db, Channel.NETWORK)
        times.append(time.perf_counter() - started)
        size = len(built.content)
    app.close()
    print(f"build a package of {records} records: median {statistics.median(times):.2f} s, "
          f"max {max(times):.2f} s ({size / 1e6:.1f} MB zipped)   [target <= 2 s]")


def bench_link(source: Path, work: Path) -> None:
    from core_support import actor_for
    from netfault import FaultProxy
    from server_support import approve_site, start_server

    from desktop.app import open_app
    from township_wire.api import CHUNK_BYTES
    from desktop.sync.client import sync_now
    from desktop.sync.enrolment import enrol
    from desktop.sync.status import sync_status
    from desktop.sync.transport import Offline, RetryPolicy

    server = start_server(work / "head")
    app = open_app(private_copy(source, work / "link"))
    try:
        admin = actor_for(app.db, "admin")
        approve_site(server.db_url, enrol(app.db, admin, server.url).site_id)
        for label, cut in (("backlog over 256 kbit/s", False), ("the same backlog, cut mid-upload", True)):
            records = _keep_unsent(app.db, BACKLOG_RECORDS)
            with FaultProxy(server.port) as proxy:
                proxy.bandwidth(LINK_BITS)
                started = time.perf_counter()
                if cut:
                    proxy.cut_after(300_000, direction="up")
                    try:
                        sync_now(app.db, admin, server_url=proxy.url, retry=RetryPolicy(attempts=1))
                    except Offline:
                        pass
                sync_now(app.db, admin, server_url=proxy.url, retry=RetryPolicy(attempts=3, base=0.1))
                elapsed = time.perf_counter() - started
                size = _last_package_size(app)
                extra = proxy.bytes_up - size
            assert sync_status(app.db).unsent == 0
            print(f"{label}: {records} records, package {size / 1e3:.0f} kB, {elapsed:.1f} s, "
                  f"{proxy.bytes_up / 1e3:.0f} kB sent in all, {extra / 1e3:.0f} kB beyond the package "
                  f"(one chunk = {CHUNK_BYTES / 1e3:.0f} kB)   [target < 120 s; resume <= 1 chunk]", flush=True)
    finally:
        app.close()
        server.stop()


def _last_package_size(app) -> int:
    from sqlalchemy import select

    from desktop.models import SyncPackage

    with app.db.read() as session:
        return session.scalars(select(SyncPackage.size).order_by(SyncPackage.seq.desc())).first()


def main() -> None:
    source = demo_branch(RESIDENTS)
    with tempfile.TemporaryDirectory(prefix="township-desk-bench-sync-") as folder:
        bench_build(source, Path(folder))
        bench_link(source, Path(folder))


if __name__ == "__main__":
    main()
