"""Period reports that travel in packages: the last closed month's and quarter's indicators.

A month's or quarter's figures are counted by the period rules (what was due by its end, see
`desktop.rules.chronic_indicators.expectation`), and the JSON says which rule (`rules`).

Each report is `<period>.json` (the branch-level figures the head hospital sums into the
county summary) and `<period>.xlsx` (the indicators workbook with the people behind each
figure). A report goes again only when its figures changed since the head hospital
acknowledged it, and figures of a closed period only change when records do.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from desktop.clock import now
from desktop.db import Database
from desktop.jobs import no_progress
from desktop.services.indicator_base import Period
from desktop.services.indicators import DEFINITIONS, IndicatorReport, indicator_report
from desktop.services.permissions import Actor, Role
from desktop.sync.site import REPORTS_SENT_KEY, SYNC_ACTOR, get_value, require_enrolment, set_value
from township_wire.envelope import canonical_bytes
from township_wire.package import sha256_hex

REPORTING_ACTOR = Actor(account_id=None, username=SYNC_ACTOR, display_name="数据同步", role=Role.DIRECTOR)


def closed_periods(today: date) -> list[Period]:
    """The last complete month and the last complete quarter before `today`."""
    month_end = today.replace(day=1) - timedelta(days=1)
    quarter_end = date(today.year, (today.month - 1) // 3 * 3 + 1, 1) - timedelta(days=1)
    return [Period.for_month(month_end.year, month_end.month, today),
            Period.for_quarter(quarter_end.year, (quarter_end.month - 1) // 3 + 1, today)]


def period_figures(report: IndicatorReport, period: Period, site_id: str, branch_name: str) -> dict[str, Any]:
    """The report's JSON body: branch-level figures, and the rule each source counted the period by."""
    figures = [{"code": code, "name": definition.name, "numerator": report.branch(code).numerator,
                "denominator": report.branch(code).denominator} for code, definition in DEFINITIONS.items()]
    return {"period": period.name, "kind": "indicators", "site_id": site_id, "branch_name": branch_name,
            "period_start": period.start.isoformat(), "period_end": period.end.isoformat(),
            "counted_from": report.period.year_start.isoformat(), "rules": dict(report.rules), "figures": figures}


def due_reports(db: Database, session: Session, *, today: date | None = None) -> dict[str, bytes]:
    """Report members (name -> bytes) whose figures the head hospital has not acknowledged yet."""
    from desktop.services.branch import get_branch

    enrolment = require_enrolment(session)
    branch = get_branch(db)
    sent: dict[str, str] = get_value(session, REPORTS_SENT_KEY, {}) or {}
    members: dict[str, bytes] = {}
    for period in closed_periods(today or now().date()):
        report = indicator_report(db, REPORTING_ACTOR, period, as_of=period.end)
        figures = canonical_bytes(period_figures(report, period, enrolment.site_id, branch.name if branch else ""))
        if sent.get(period.name) == sha256_hex(figures):
            continue
        members[f"{period.name}.json"] = figures
        members[f"{period.name}.xlsx"] = _workbook(report, period)
    return members


def _workbook(report: IndicatorReport, period: Period) -> bytes:
    from desktop.transfer.indicators_export import write_indicators_workbook

    with tempfile.TemporaryDirectory(prefix="township-desk-report-") as folder:
        path = Path(folder) / f"{period.name}.xlsx"
        write_indicators_workbook(path, report, threading.Event(), no_progress)
        return path.read_bytes()


def sent_digests(report_members: Mapping[str, bytes]) -> list[list[str]]:
    """[period, digest of its figures] pairs, remembered once the head hospital acknowledged them."""
    return sorted([name.removesuffix(".json"), sha256_hex(content)]
                  for name, content in report_members.items() if name.endswith(".json"))


def remember_sent(session: Session, periods: list[list[str]]) -> None:
    sent: dict[str, str] = get_value(session, REPORTS_SENT_KEY, {}) or {}
    sent.update({period: digest for period, digest in periods})
    set_value(session, REPORTS_SENT_KEY, sent)
