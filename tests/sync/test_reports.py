"""Period reports in packages: the last closed month and quarter, sent until acknowledged."""

from __future__ import annotations

import io
import json
from datetime import date

from openpyxl import load_workbook
from sqlalchemy import select
from sync_support import open_package

from desktop.models import FollowupVisit
from desktop.sync.outbox import Channel, build_next
from desktop.sync.receipts import apply_receipt
from desktop.sync.reports import closed_periods, due_reports
from desktop.sync.site import require_enrolment

TODAY = date(2026, 11, 23)


def test_the_closed_periods_are_the_last_month_and_quarter() -> None:
    assert [p.name for p in closed_periods(TODAY)] == ["2026-10", "2026-Q3"]
    january = closed_periods(date(2027, 1, 5))
    assert [(p.name, p.start, p.end) for p in january] == [
        ("2026-12", date(2026, 12, 1), date(2026, 12, 31)), ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31))]


def _due(app) -> dict[str, bytes]:
    with app.db.read() as session:
        return due_reports(app.db, session, today=TODAY)


def test_reports_travel_until_acknowledged_and_again_when_their_figures_change(enrolled_app, head) -> None:
    reports = _due(enrolled_app)
    assert sorted(reports) == ["2026-10.json", "2026-10.xlsx", "2026-Q3.json", "2026-Q3.xlsx"]
    figures = json.loads(reports["2026-10.json"])
    assert figures["period_end"] == "2026-10-31" and {f["code"] for f in figures["figures"]} >= {"ht_standard"}
    assert figures["rules"]["chronic"].startswith("2026 年 10 月（2026-10-01 至 2026-10-31）")
    assert "应完成面访 3 次" in figures["rules"]["chronic"]
    workbook = load_workbook(io.BytesIO(reports["2026-Q3.xlsx"]), read_only=True)
    assert workbook.sheetnames[0] == "指标汇总"
    with enrolled_app.db.read() as session:
        enrolment = require_enrolment(session)
    package = open_package(build_next(enrolled_app.db, Channel.NETWORK, reports).content, enrolment, head)
    assert sorted(package.reports) == sorted(reports)
    apply_receipt(enrolled_app.db, head.accept_all(package))
    assert _due(enrolled_app) == {}
    counted = next(f for f in json.loads(reports["2026-10.json"])["figures"] if f["code"] == "ht_standard")
    assert counted["numerator"] > 0
    with enrolled_app.db.write() as session:  # a patient's whole year of visits withdrawn
        resident_id = session.scalars(select(FollowupVisit.resident_id).where(
            FollowupVisit.disease == "hypertension", FollowupVisit.visit_date >= date(2026, 1, 1),
            FollowupVisit.visit_date <= date(2026, 10, 31), FollowupVisit.method != "3").limit(1)).one()
        for visit in session.scalars(select(FollowupVisit).where(FollowupVisit.resident_id == resident_id)):
            visit.deleted = True
    again = _due(enrolled_app)
    assert "2026-10.json" in again and "2026-10.xlsx" in again
    assert json.loads(again["2026-10.json"]) != figures
