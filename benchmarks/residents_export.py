"""Exporting 100,000 residents to Excel (target: within 20 s).

Builds (once, cached in the temp folder keyed by the count) a demo branch with RESIDENTS
residents, then times the export job for a clerk (full numbers) and for the director
(masked), each of the whole register. Prints seconds, rows per second, file size and the target.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

RESIDENTS = int(os.environ.get("BENCH_RESIDENTS", "100000"))
TARGET_SECONDS = 20.0


def demo_directory() -> Path:
    """A data directory holding a demo branch of RESIDENTS residents, built on first use."""
    from desktop.app import open_app
    from desktop.demo import build_demo

    folder = Path(tempfile.gettempdir()) / f"township-desk-bench-export-{RESIDENTS}-sqlcipher"  # never an older plain one
    if not (folder / "ready").exists():
        shutil.rmtree(folder, ignore_errors=True)
        app = open_app(folder)
        started = time.perf_counter()
        build_demo(app.db, residents=RESIDENTS)
        app.close()
        print(f"demo branch with {RESIDENTS} residents built in {time.perf_counter() - started:.0f} s")
        (folder / "ready").touch()
    return folder


def main() -> None:
    from sqlalchemy import select

    from desktop.app import open_app
    from desktop.jobs import no_progress
    from desktop.models import Account
    from desktop.services.auth import actor_of
    from desktop.services.resident_query import ResidentFilter
    from desktop.transfer.resident_export import ResidentExport

    app = open_app(demo_directory())
    with tempfile.TemporaryDirectory() as out:
        for username in ("luru1", "yuanzhang"):
            with app.db.read() as session:
                actor = actor_of(session.scalars(select(Account).where(Account.username == username)).one())
            target = Path(out) / f"{username}.xlsx"
            job = ResidentExport(app.db, actor, target, ResidentFilter(status=None))
            started = time.perf_counter()
            result = job(abort=threading.Event(), progress=no_progress)
            seconds = time.perf_counter() - started
            print(f"{username:<10} {result.count} rows in {seconds:5.1f} s  {result.count / seconds:7.0f} rows/s  "
                  f"{target.stat().st_size / 1e6:5.1f} MB  {'masked' if result.masked else 'full numbers'}")
    print(f"target: {RESIDENTS} rows within {TARGET_SECONDS:.0f} s")
    app.close()


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
