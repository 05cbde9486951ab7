"""Dates as people type them and as spreadsheets store them."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from desktop.rules.text import squeeze

_SEPARATED = re.compile(r"(\d{4})\s*[-./年]\s*(\d{1,2})\s*[-./月]\s*(\d{1,2})\s*日?", re.ASCII)
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})", re.ASCII)
_EXCEL_EPOCH = date(1899, 12, 30)


class DateError(ValueError):
    """Text that is not a date; the message is Chinese."""


def parse_date(value: object) -> date:
    """20260315, 2026-3-15, 2026.3.15, 2026/3/15, 2026年3月15日, an Excel serial, or a date."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return excel_serial_to_date(float(value))
    text = squeeze(str(value))
    match = _SEPARATED.fullmatch(text) or _COMPACT.fullmatch(text)
    if match is None:
        if re.fullmatch(r"\d{5}(\.0+)?", text):
            return excel_serial_to_date(float(text))
        raise DateError(f"“{value}”不是日期，请按 2026-03-15 或 20260315 填写。")
    year, month, day = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        raise DateError(f"日期 {year}-{month:02d}-{day:02d} 不存在。") from None


def excel_serial_to_date(serial: float) -> date:
    """An Excel day number (1900 date system) as a date."""
    if not 1 <= serial < 2958466:
        raise DateError(f"“{serial:g}”不是有效的 Excel 日期。")
    return _EXCEL_EPOCH + timedelta(days=int(serial))


def age_on(birth: date, on: date) -> int:
    """Completed years of age on a given day."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
