"""Two branches, one head hospital: the county summary is the sum of the branches."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from core_support import actor_for, libreoffice_sheets
from server_support import approve_site, start_server

from desktop.app import open_app
from desktop.clock import now
from desktop.demo import build_demo
from desktop.services.indicators import indicator_report
from desktop.sync.client import sync_now
from desktop.sync.enrolment import enrol
from desktop.sync.reports import REPORTING_ACTOR, closed_periods
from desktop.sync.status import local_counts
from desktop.sync.transport import RetryPolicy

FAST = RetryPolicy(attempts=2, base=0.01, cap=0.05)


def _summary(server, period: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "head_hospital", "summary", "--period", period, "--json",
                           "--db", server.db_url], capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout)


def _check_workbook(server, period: str, summary: dict, tmp_path: Path) -> None:
    """The summary workbook, as LibreOffice reads it, shows the same sums."""
    out = tmp_path / f"county-{period}.xlsx"
    subprocess.run([sys.executable, "-m", "head_hospital", "summary", "--period", period, "--out", str(out),
                    "--db", server.db_url], capture_output=True, text=True, timeout=120, check=True)
    county = libreoffice_sheets(out, tmp_path / "lo")["县域汇总"]
    assert county[0][:4] == ["指标代码", "指标名称", "分子合计", "分母合计"]
    shown = {row[0]: (float(row[2]), float(row[3])) for row in county[1:] if row and row[0]}
    assert shown == {item["code"]: (pytest.approx(item["numerator"]), pytest.approx(item["denominator"]))
                     for item in summary["indicators"]}


def test_the_county_summary_equals_the_sum_of_two_branches(demo_app, tmp_path: Path) -> None:
    server = start_server(tmp_path / "head")
    second = open_app(tmp_path / "second")
    try:
        build_demo(second.db, seed=11, residents=600)
        branches = [demo_app, second]
        site_ids = []
        for app in branches:
            admin = actor_for(app.db, "admin")
            site_id = enrol(app.db, admin, server.url, retry=FAST).site_id
            approve_site(server.db_url, site_id)
            sync_now(app.db, admin, retry=FAST)
            site_ids.append(site_id)
        assert len(set(site_ids)) == 2
        for period in closed_periods(now().date()):
            summary = _summary(server, period.name)
            expected: dict[str, list[float]] = {}
            for app in branches:
                report = indicator_report(app.db, REPORTING_ACTOR, period, as_of=period.end)
                for figure in report.figures:
                    if figure.village_id is None:
                        sums = expected.setdefault(figure.code, [0, 0])
                        sums[0] += figure.numerator
                        sums[1] += figure.denominator
            got = {item["code"]: [item["numerator"], item["denominator"]] for item in summary["indicators"]}
            assert got.keys() == expected.keys()
            for code, (numerator, denominator) in expected.items():
                assert got[code][0] == numerator
                assert abs(got[code][1] - denominator) < 1e-6
            assert all(item["sites"] == 2 for item in summary["indicators"]) and not summary["missing"]
        month = closed_periods(now().date())[0].name
        _check_workbook(server, month, _summary(server, month), tmp_path)
        held = _summary(server, month)["records"]
        for app, site_id in zip(branches, site_ids, strict=True):
            local = local_counts(app.db, site_id)
            assert {row["type"]: row["count"] for row in held if row["site_id"] == site_id} == {
                name: item["count"] for name, item in local.items()}
    finally:
        second.close()
        server.stop()
