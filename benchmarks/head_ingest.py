"""Head hospital ingest speed: records/s for 20,000-record packages on SQLite and PostgreSQL.

Per backend, one site sends three packages of the same 20,000 records: all new (inserts),
all at a newer version (updates), and the same again (duplicates, nothing written). Each
figure covers the whole ingest: signature and member checks, the per-record decisions, the
writes and the signed receipt with the site's counts and digests, in one transaction.
PostgreSQL uses HEAD_HOSPITAL_TEST_PG_URL when set, else (as root) a throwaway cluster of its
own with the default durability settings. Target: >= 2,000 records/s.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from head_hospital.db import open_database
from head_hospital.ingest import ingest
from head_hospital.sites import approve, enrol
from township_wire.crypto import KeyPair
from township_wire.envelope import EnvelopeKind, open_envelope
from township_wire.package import PackageHeader, SyncRecord, build_package

RECORDS = int(os.environ.get("HEAD_INGEST_RECORDS", "20000"))
TARGET = 2000


def _records(site_id: str, version: int, ids: list[str]) -> list[SyncRecord]:
    return [SyncRecord("resident", uid, version, False, site_id, {
        "record_no": f"51342202101{index:06d}", "name": f"居民{index}", "sex": "1" if index % 2 else "2",
        "birth_date": "1956-03-04", "village_uuid": ids[index % 50], "registered_on": "2026-01-05",
        "id_number": f"513422195603{index:06d}", "phone": f"138{index:08d}", "address": "白水乡上坝村三组"})
        for index, uid in enumerate(ids)]


def run_backend(label: str, url: str) -> None:
    db = open_database(url)
    keys, site_id = KeyPair.generate(), f"bench-{uuid.uuid4().hex[:8]}"
    enrol(db, {"site_id": site_id, "name": "基准卫生院", "keys": keys.public.to_json()})
    approve(db, site_id, keys.public.fingerprint)
    ids = [str(uuid.uuid4()) for _ in range(RECORDS)]
    for seq, (what, version) in enumerate((("new", 1), ("newer", 2), ("duplicate", 2)), start=1):
        header = PackageHeader(str(uuid.uuid4()), site_id, seq, "2026-10-01T08:00:00Z", db.keys.public.key_id, 0)
        package = build_package(header, _records(site_id, version, ids), keys)
        started = time.perf_counter()
        done = ingest(db, package, channel="network")
        elapsed = time.perf_counter() - started
        totals = open_envelope(EnvelopeKind.RECEIPT, done.receipt, db.keys.public)["totals"]
        rate = RECORDS / elapsed
        verdict = "ok" if rate >= TARGET else f"BELOW TARGET {TARGET}"
        print(f"{label:10} {what:9} {RECORDS} records ({len(package) / 1048576:.1f} MB) in {elapsed:6.2f} s: "
              f"{rate:8.0f} records/s  {verdict}  {totals}")
    db.dispose()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def own_postgres() -> Iterator[str | None]:
    """A throwaway cluster on loopback (needs root and Debian's postgresql), or None."""
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if os.geteuid() != 0 or not binaries:
        yield None
        return
    binary, port = binaries[-1], _free_port()
    root = tempfile.mkdtemp(prefix="head-ingest-pg.")
    shutil.chown(root, "postgres")
    as_postgres = ["runuser", "-u", "postgres", "--"]
    try:
        subprocess.run([*as_postgres, f"{binary}/initdb", "-D", f"{root}/data", "-A", "trust", "-U", "postgres",
                        "-E", "UTF8", "--locale=C"], check=True, capture_output=True)
        subprocess.run([*as_postgres, f"{binary}/pg_ctl", "-D", f"{root}/data", "-l", f"{root}/log", "-w", "-o",
                        f"-c listen_addresses=127.0.0.1 -p {port} -k {root}", "start"], check=True,
                       capture_output=True)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_postgres, f"{binary}/pg_ctl", "-D", f"{root}/data", "-m", "fast", "-w", "stop"],
                       capture_output=True, check=False)
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        run_backend("sqlite", str(Path(folder) / "head.sqlite"))
    given = os.environ.get("HEAD_HOSPITAL_TEST_PG_URL")
    if given:
        run_backend("postgresql", given)
        return
    with own_postgres() as url:
        if url is None:
            print("postgresql: skipped (no HEAD_HOSPITAL_TEST_PG_URL, and no local PostgreSQL to start as root)")
        else:
            run_backend("postgresql", url)


if __name__ == "__main__":
    main()
