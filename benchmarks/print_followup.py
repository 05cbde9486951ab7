"""Printing a follow-up record form: the time to build one sheet's PDF (target <= 300 ms).

Uses a demo branch of RESIDENTS residents (50,000 gives about 10,000 managed patients with
four years of visits), built once and cached under the temp folder keyed by the count and the
schema, then copied so the prints' audit entries stay out of the cache. Times, for a
public-health doctor, `followup_sheets_pdf` end to end (read, lay out, write the PDF with the
embedded font subset, audit) for a patient whose year fits on one sheet and for the patient
with the most visits that year; the first call (which registers the font) is reported apart,
then the median and p95 of REPEATS further calls. Also the layout and PDF writing alone.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from bench_data import demo_branch, private_copy

RESIDENTS = int(os.environ.get("BENCH_RESIDENTS", "50000"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "15"))
TARGET_MS = 300.0


def patients(db, year: int) -> tuple[tuple[str, int], tuple[str, int]]:
    """((record number, visits) of a patient with 4 visits in the year, the same for the busiest patient)."""
    from sqlalchemy import func, select

    from desktop.models import FollowupVisit, Resident

    count = func.count(FollowupVisit.id)
    query = (select(Resident.record_no, count).join(FollowupVisit, FollowupVisit.resident_id == Resident.id)
             .where(FollowupVisit.disease == "hypertension",
                    FollowupVisit.visit_date.between(date(year, 1, 1), date(year, 12, 31)))
             .group_by(Resident.id))
    with db.read() as session:
        one_sheet = session.execute(query.having(count == 4).limit(1)).one()
        busiest = session.execute(query.order_by(count.desc()).limit(1)).one()
    return tuple(one_sheet), tuple(busiest)


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def report(label: str, call: Callable[[], object]) -> float:
    """Print the first call apart, then median and p95 of REPEATS more; return the median."""
    first = timed(call)
    runs = sorted(timed(call) for _ in range(REPEATS))
    median, p95 = statistics.median(runs), runs[min(len(runs) - 1, round(0.95 * (len(runs) - 1)))]
    print(f"{label:<64} first {first:7.1f} ms   median {median:6.1f} ms   p95 {p95:6.1f} ms", flush=True)
    return median


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from desktop.app import open_app
    from desktop.clock import now
    from desktop.printing.followup_form import PatientHeader, followup_sheets
    from desktop.printing.pdf import render_pdf
    from desktop.printing.service import followup_sheets_pdf
    from desktop.rules.followup import Disease
    from desktop.services.auth import actor_of

    year = now().year - 1
    with tempfile.TemporaryDirectory(prefix="print-bench-") as folder:
        app = open_app(private_copy(demo_branch(RESIDENTS), Path(folder) / "data"))
        try:
            actor = _actor(app.db, actor_of)
            (one, one_visits), (busy, busy_visits) = patients(app.db, year)
            print(f"{RESIDENTS} residents; hypertension forms for {year}; {REPEATS} timed runs after the first")
            median = report(f"one sheet ({one_visits} visits): followup_sheets_pdf",
                            lambda: followup_sheets_pdf(app.db, actor, one, Disease.HYPERTENSION, year))
            report(f"busiest patient ({busy_visits} visits, {-(-busy_visits // 4)} sheets): followup_sheets_pdf",
                   lambda: followup_sheets_pdf(app.db, actor, busy, Disease.HYPERTENSION, year))
            report("one sheet, layout and PDF only (no database)",
                   lambda: render_pdf(followup_sheets(Disease.HYPERTENSION, PatientHeader("王建国", one), [], year), "x"))
        finally:
            app.close()
    verdict = "within" if median <= TARGET_MS else "OVER"
    print(f"one follow-up sheet: median {median:.1f} ms, {verdict} the {TARGET_MS:.0f} ms target")
    return 0


def _actor(db, actor_of):
    from sqlalchemy import select

    from desktop.models import Account

    with db.read() as session:
        return actor_of(session.scalars(select(Account).where(Account.username == "gongwei1")).one())


if __name__ == "__main__":
    raise SystemExit(main())
