"""Chronic management at scale: the due list, a year's indicators and the follow-up export.

Builds (once, cached under the temp folder keyed by the resident count and the schema) a
demo branch whose hypertension and diabetes patients are enrolled with four years of visits:
RESIDENTS = 50,000 gives about 10,000 managed patients and some 180,000 visits. The cache is
built in a private folder and renamed into place, so two benchmarks building at the same
time never share a half-built database.

Prints, for the branch (the director) and for one village doctor: the due list (target
<= 300 ms), a year's indicators (target <= 1 s), and the follow-up export of a year. Then,
on a copy of the branch with that year's visits of the village doctor's villages deleted, the
import of the exported file (every row through the form's checks) in rows per second.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from bench_data import demo_branch, private_copy

RESIDENTS = int(os.environ.get("BENCH_RESIDENTS", "50000"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "5"))
DUE_TARGET_MS, INDICATORS_TARGET_MS = 300.0, 1000.0


def timed_ms(fn: Callable[[], object], repeats: int = REPEATS) -> tuple[float, float, object]:
    """(median ms, max ms, last result) of `repeats` runs after one warm-up run."""
    result = fn()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times), result


def verdict(value: float, target: float) -> str:
    return "ok" if value <= target else "MISSED"


def run_for(app, username: str, year: int, out_dir: Path) -> bool:
    from desktop.clock import now
    from desktop.jobs import no_progress
    from desktop.services.due import due_list
    from desktop.services.indicators import indicator_report
    from desktop.transfer.followup_export import FollowupExport

    actor = actor_named(app, username)
    today = now().date()
    print(f"\n{username} ({actor.role.label})")
    due_ms, due_max, due = timed_ms(lambda: due_list(app.db, actor, on=today))
    print(f"  due list ({len(due.items)} items): median {due_ms:.0f} ms, max {due_max:.0f} ms  "
          f"[target <= {DUE_TARGET_MS:.0f} ms: {verdict(due_ms, DUE_TARGET_MS)}]")
    ind_ms, ind_max, report = timed_ms(lambda: indicator_report(app.db, actor, year))
    managed = report.branch("ht_standard").denominator + report.branch("dm_standard").denominator
    print(f"  indicators {year} ({managed:.0f} managed): median {ind_ms:.0f} ms, max {ind_max:.0f} ms  "
          f"[target <= {INDICATORS_TARGET_MS:.0f} ms: {verdict(ind_ms, INDICATORS_TARGET_MS)}]")
    target = out_dir / f"followups-{username}-{year}.xlsx"
    started = time.perf_counter()
    result = FollowupExport(app.db, actor, target, year=year)(abort=threading.Event(), progress=no_progress)
    seconds = time.perf_counter() - started
    print(f"  follow-up export {year}: {result.visits} visits, {result.enrolments} enrolments in {seconds:.1f} s "
          f"({result.visits / max(seconds, 1e-9):,.0f} visits/s, {target.stat().st_size / 1e6:.1f} MB)")
    return due_ms <= DUE_TARGET_MS and ind_ms <= INDICATORS_TARGET_MS


def actor_named(app, username: str):
    from sqlalchemy import select

    from desktop.models import Account
    from desktop.services.auth import actor_of

    with app.db.read() as session:
        return actor_of(session.scalars(select(Account).where(Account.username == username)).one())


def counts(app) -> tuple[int, int, int]:
    from sqlalchemy import func, select

    from desktop.models import ChronicEnrolment, FollowupVisit

    with app.db.read() as session:
        enrolments = session.scalar(select(func.count()).select_from(ChronicEnrolment)) or 0
        patients = session.scalar(select(func.count(ChronicEnrolment.resident_id.distinct()))) or 0
        visits = session.scalar(select(func.count()).select_from(FollowupVisit)) or 0
    return enrolments, patients, visits


def run_import(root: Path, year: int, work: Path) -> None:
    """Export a village doctor's year, delete those visits from a copy, and time importing them back."""
    from sqlalchemy import delete, select

    from desktop.app import open_app
    from desktop.jobs import no_progress
    from desktop.models import FollowupVisit, Resident
    from desktop.transfer.followup_export import FollowupExport
    from desktop.transfer.followup_import import FollowupImport
    from desktop.transfer.resident_import import ImportMode

    app = open_app(private_copy(root, work / "copy"))
    try:
        doctor, clerk = actor_named(app, "cunyi001"), actor_named(app, "luru1")
        sheet = work / "history.xlsx"
        FollowupExport(app.db, doctor, sheet, year=year)(abort=threading.Event(), progress=no_progress)
        theirs = select(Resident.id).where(Resident.village_id.in_(doctor.village_ids))
        with app.db.write() as session:
            session.execute(delete(FollowupVisit).where(
                FollowupVisit.resident_id.in_(theirs), FollowupVisit.visit_date.between(date(year, 1, 1),
                                                                                       date(year, 12, 31))))
        started = time.perf_counter()
        result = FollowupImport(app.db, clerk, sheet, ImportMode.VALID_ONLY)(abort=threading.Event(),
                                                                             progress=no_progress)
        seconds = time.perf_counter() - started
    finally:
        app.close()
    rows = result.imported + result.unchanged + len(result.rejected)
    print(f"\nimport of {rows} historical visits ({result.summary_line()}): {seconds:.1f} s "
          f"({rows / max(seconds, 1e-9):,.0f} rows/s)")


def main() -> int:
    from desktop.app import open_app
    from desktop.clock import now

    root = demo_branch(RESIDENTS)
    app = open_app(root)
    year = int(os.environ.get("BENCH_YEAR", now().date().year - 1))
    try:
        enrolments, patients, visits = counts(app)
        print(f"{RESIDENTS} residents, {enrolments} enrolments ({patients} patients), {visits} visits; year {year}")
        with tempfile.TemporaryDirectory() as out:
            results = [run_for(app, username, year, Path(out)) for username in ("yuanzhang", "cunyi001")]
    finally:
        app.close()
    with tempfile.TemporaryDirectory() as work:
        run_import(root, year, Path(work))
    print("\nall targets met" if all(results) else "\nsome targets missed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
