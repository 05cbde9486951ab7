"""The county summary for a period: indicators summed over the sites' reports, and records held per site."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from head_hospital import reports
from head_hospital.db import HeadDatabase
from head_hospital.models import SITE_APPROVED, Record, Report, Site
from township_wire.cells import append_row
from township_wire.errors import UserFacingError
from township_wire.types import type_label


def _rate(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 6) if denominator else None


def check_period(period: str) -> str:
    """The period typed at the command line, or a Chinese error naming it."""
    try:
        return reports.check_period(period)
    except reports.BadReport as error:
        raise UserFacingError(f"{error}。") from error


def county_summary(db: HeadDatabase, period: str) -> dict[str, Any]:
    """Per indicator the sums over sites (rate = numerator / denominator), per site rows, records per type."""
    check_period(period)
    with db.read() as session:
        sites = {row.site_id: row for row in session.execute(select(Site.site_id, Site.name, Site.status))}
        reports = session.execute(select(Report.site_id, Report.figures, Report.seq).where(Report.period == period)
                                  .order_by(Report.site_id)).all()
        held = session.execute(select(Record.site_id, Record.type, func.count())
                               .where(Record.deleted.is_(False)).group_by(Record.site_id, Record.type)
                               .order_by(Record.site_id, Record.type)).all()
    site_rows, totals = _site_rows(reports, sites)
    indicators = [{"code": code, "name": entry["name"], "numerator": entry["numerator"],
                   "denominator": entry["denominator"], "rate": _rate(entry["numerator"], entry["denominator"]),
                   "sites": entry["sites"]} for code, entry in totals.items()]
    reported = {row.site_id for row in reports}
    missing = [{"site_id": site_id, "name": row.name} for site_id, row in sorted(sites.items())
               if row.status == SITE_APPROVED and site_id not in reported]
    records = [{"site_id": site_id, "name": sites[site_id].name if site_id in sites else site_id,
                "type": record_type, "label": type_label(record_type), "count": count}
               for site_id, record_type, count in held]
    return {"period": period, "indicators": indicators, "sites": site_rows, "missing": missing, "records": records}


def _site_rows(reports: list, sites: dict) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    rows: list[dict[str, Any]] = []
    totals: dict[str, dict[str, Any]] = {}
    for report in reports:
        name = sites[report.site_id].name if report.site_id in sites else report.site_id
        for figure in json.loads(report.figures):
            numerator, denominator = figure["numerator"], figure["denominator"]
            rows.append({"site_id": report.site_id, "name": name, "code": figure["code"],
                         "indicator": figure["name"], "numerator": numerator, "denominator": denominator,
                         "rate": _rate(numerator, denominator)})
            entry = totals.setdefault(figure["code"], {"name": figure["name"], "numerator": 0, "denominator": 0,
                                                       "sites": 0})
            entry["numerator"] += numerator
            entry["denominator"] += denominator
            entry["sites"] += 1
    return rows, dict(sorted(totals.items()))


_SHEETS = (
    ("县域汇总", "indicators", (("指标代码", "code"), ("指标名称", "name"), ("分子合计", "numerator"),
                            ("分母合计", "denominator"), ("率", "rate"), ("上报分院数", "sites"))),
    ("分院明细", "sites", (("站点编号", "site_id"), ("分院", "name"), ("指标代码", "code"), ("指标名称", "indicator"),
                       ("分子", "numerator"), ("分母", "denominator"), ("率", "rate"))),
    ("未上报分院", "missing", (("站点编号", "site_id"), ("分院", "name"))),
    ("记录数", "records", (("站点编号", "site_id"), ("分院", "name"), ("记录类型", "type"), ("类型名称", "label"),
                        ("记录数", "count"))),
)


def write_workbook(summary: dict[str, Any], path: Path) -> None:
    """The summary as an .xlsx: a sheet per part, numbers as numbers, rates as percentages, text as text."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, part, columns in _SHEETS:
        sheet = workbook.create_sheet(title)
        append_row(sheet, [header for header, _ in columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for item in summary[part]:
            append_row(sheet, [item.get(key) for _, key in columns])  # a site named "=..." stays text
        for index, (header, key) in enumerate(columns, start=1):
            letter = sheet.cell(row=1, column=index).column_letter
            sheet.column_dimensions[letter].width = max(10, len(header) * 2 + 4)
            if key == "rate":
                for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                    cell.number_format = "0.00%"
        sheet.freeze_panes = "A2"
    workbook.properties.title = f"县域汇总 {summary['period']}"
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
