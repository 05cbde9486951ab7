"""Indicators at scale: a year's figures beside a raw SQL aggregate over the same visits, and a period report.

Uses the cached demo branch of `bench_data` (RESIDENTS = 50,000 gives about 10,000 managed
patients). Prints, for the branch (the director):

- a year's indicators (target <= 250 ms median), and in the same run a raw SQL aggregate over
  the same visits (face-to-face visits and the last visit per patient and disease, over the
  covering index the indicators read): the floor any Python on top of SQLite starts from;
- a quarter's and a month's indicators;
- the period report as it travels (the quarter's JSON figures and its workbook, target <= 1 s).

Each figure is printed as wall-clock median and as the process CPU time of one run: on a shared
machine the CPU time is the steadier of the two.

Set BENCH_PROFILE=1 to print a pyinstrument profile of one year's indicators (pyinstrument is
not a dependency of the project: install it in the virtual environment to use this).
"""

from __future__ import annotations

import os
import sys
import time
from datetime import date

from bench_data import demo_branch
from followups import actor_named, timed_ms, verdict

RESIDENTS = int(os.environ.get("BENCH_RESIDENTS", "50000"))
YEAR_TARGET_MS, REPORT_TARGET_MS = 250.0, 1000.0

RAW_AGGREGATE = """
SELECT disease, resident_id, sum(method != '3'), max(visit_date), method, sbp, dbp, fasting_glucose
FROM followup_visit
WHERE deleted = 0 AND visit_date BETWEEN :start AND :end
GROUP BY disease, resident_id
"""


def cpu_time_ms(fn) -> float:
    """The process CPU time of one run (less swayed than wall time by other work on a shared machine)."""
    started = time.process_time()
    fn()
    return (time.process_time() - started) * 1000


def raw_aggregate(app, year: int) -> int:
    """The visits of the year grouped per patient and disease in plain SQL; how many groups."""
    from sqlalchemy import text

    with app.db.read() as session:
        rows = session.execute(text(RAW_AGGREGATE), {"start": date(year, 1, 1), "end": date(year, 12, 31)}).all()
    return len(rows)


def period_report(app, actor, period) -> int:
    """The quarter's report members as `due_reports` builds them: the JSON figures and the workbook; bytes."""
    from township_wire.envelope import canonical_bytes  # noqa: I001 - the wire package sits beside desktop

    from desktop.services.indicators import indicator_report
    from desktop.sync.reports import _workbook, period_figures

    report = indicator_report(app.db, actor, period, as_of=period.end)
    figures = canonical_bytes(period_figures(report, period, "site", "分院"))
    return len(figures) + len(_workbook(report, period))


def profile(app, actor, year: int) -> None:
    from pyinstrument import Profiler

    from desktop.services.indicators import indicator_report

    profiler = Profiler()
    profiler.start()
    indicator_report(app.db, actor, year)
    profiler.stop()
    print(profiler.output_text(unicode=True, color=False))


def main() -> int:
    from desktop.app import open_app
    from desktop.clock import now
    from desktop.services.indicator_base import Period
    from desktop.services.indicators import indicator_report

    root = demo_branch(RESIDENTS)
    app = open_app(root)
    today = now().date()
    year = int(os.environ.get("BENCH_YEAR", today.year - 1))
    try:
        actor = actor_named(app, "yuanzhang")
        if os.environ.get("BENCH_PROFILE") == "1":
            profile(app, actor, year)
        sql_ms, _, groups = timed_ms(lambda: raw_aggregate(app, year))
        sql_cpu = cpu_time_ms(lambda: raw_aggregate(app, year))
        year_ms, year_max, report = timed_ms(lambda: indicator_report(app.db, actor, year))
        cpu_ms = cpu_time_ms(lambda: indicator_report(app.db, actor, year))
        managed = report.branch("ht_coverage").numerator + report.branch("dm_coverage").numerator
        print(f"{RESIDENTS} residents, year {year}: {managed} managed patients, {groups} patient-disease groups")
        print(f"  raw SQL aggregate over the year's visits: median {sql_ms:.0f} ms, CPU {sql_cpu:.0f} ms")
        print(f"  indicators {year}: median {year_ms:.0f} ms, max {year_max:.0f} ms, CPU {cpu_ms:.0f} ms  "
              f"[target <= {YEAR_TARGET_MS:.0f} ms: {verdict(year_ms, YEAR_TARGET_MS)}]")
        quarter, month = Period.for_quarter(year, 1, today), Period.for_month(year, 3, today)
        for period in (quarter, month):
            ms, _, _ = timed_ms(lambda period=period: indicator_report(app.db, actor, period))
            print(f"  indicators {period.name}: median {ms:.0f} ms")
        report_ms, _, size = timed_ms(lambda: period_report(app, actor, quarter), repeats=3)
        report_cpu = cpu_time_ms(lambda: period_report(app, actor, quarter))
        print(f"  period report {quarter.name} (JSON and workbook, {size / 1e6:.1f} MB): median {report_ms:.0f} ms, "
              f"CPU {report_cpu:.0f} ms  "
              f"[target <= {REPORT_TARGET_MS:.0f} ms: {verdict(report_ms, REPORT_TARGET_MS)}]")
    finally:
        app.close()
    met = year_ms <= YEAR_TARGET_MS and report_ms <= REPORT_TARGET_MS
    print("\nall targets met" if met else "\nsome targets missed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
