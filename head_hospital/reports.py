"""Report members of a package: a period's indicator figures (`reports/<period>.json`) and workbook.

A report that does not parse is skipped and logged (the records of the package still count);
per site and period the report from the highest package seq wins.
"""

from __future__ import annotations

import math
import re
from numbers import Real
from typing import Any

from sqlalchemy import Connection, insert, select, update

from head_hospital.models import EventLog, Report, utc_now
from township_wire.envelope import canonical_bytes
from township_wire.package import Package
from township_wire.safe_json import JsonRefused, bounded_loads
from township_wire.text import field_text_problem

PERIOD = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2]|Q[1-4])")  # always fullmatch


class BadReport(ValueError):
    """A report member that cannot be stored; the message says why (Chinese)."""


def check_period(period: str) -> str:
    """`YYYY-MM` or `YYYY-Qn`, else `BadReport`."""
    if not isinstance(period, str) or not PERIOD.fullmatch(period):
        raise BadReport(f"统计期 {period!r} 格式错误，应为 2026-10 或 2026-Q3 这样的写法")
    return period


def parse_report(period: str, raw: bytes, site_id: str) -> list[dict[str, Any]]:
    """The figures of one report member, checked; `BadReport` names the problem."""
    try:
        body = bounded_loads(raw)
    except JsonRefused as error:
        raise BadReport(f"统计报表 {period}.json 不是有效的 JSON（{error}）") from error
    if not isinstance(body, dict) or body.get("period") != period:
        raise BadReport(f"统计报表 {period}.json 中的统计期与文件名不符")
    if body.get("site_id", site_id) != site_id:
        raise BadReport(f"统计报表 {period}.json 属于站点 {body.get('site_id')}，不是发送站点")
    figures = body.get("figures")
    if not isinstance(figures, list):
        raise BadReport(f"统计报表 {period}.json 缺少指标列表（figures）")
    return [_figure(item, period, number) for number, item in enumerate(figures, start=1)]


def _figure(item: Any, period: str, number: int) -> dict[str, Any]:
    if not isinstance(item, dict) or not isinstance(item.get("code"), str) or not item["code"]:
        raise BadReport(f"统计报表 {period}.json 第 {number} 项指标缺少代码（code）")
    numbers = [item.get("numerator"), item.get("denominator")]
    if not all(isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value) and value >= 0
               for value in numbers):
        raise BadReport(f"统计报表 {period}.json 指标 {item['code']} 的分子或分母不是非负数")
    for field in ("code", "name"):
        problem = field_text_problem(f"统计报表 {period}.json 第 {number} 项指标的{field}", item.get(field))
        if problem:
            raise BadReport(problem)
    return {"code": item["code"], "name": str(item.get("name") or item["code"]),
            "numerator": numbers[0], "denominator": numbers[1]}


def store_reports(connection: Connection, package: Package) -> list[str]:
    """Store every report of the package (newer seq replaces older); the periods stored."""
    stored: list[str] = []
    for name, raw in sorted(package.reports.items()):
        if not name.endswith(".json"):
            continue
        period = name.removesuffix(".json")
        try:
            figures = parse_report(check_period(period), raw, package.site_id)
        except BadReport as error:
            connection.execute(insert(EventLog).values(at=utc_now(), site_id=package.site_id, event="report_invalid",
                                                       package_id=package.package_id, message=str(error)))
            continue
        workbook = package.reports.get(f"{period}.xlsx")
        _upsert(connection, package, period, canonical_bytes(figures).decode("utf-8"), workbook)
        stored.append(period)
    return stored


def _upsert(connection: Connection, package: Package, period: str, figures: str, workbook: bytes | None) -> None:
    existing = connection.execute(select(Report.id, Report.seq).where(
        Report.site_id == package.site_id, Report.period == period)).first()
    values = {"figures": figures, "workbook": workbook, "package_id": package.package_id, "seq": package.seq}
    if existing is None:
        connection.execute(insert(Report).values(site_id=package.site_id, period=period, **values))
    elif package.seq > existing.seq:
        connection.execute(update(Report).where(Report.id == existing.id).values(**values))
