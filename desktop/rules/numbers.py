"""Numbers as people type them and as spreadsheets store them: one reader for forms, rules and imports.

Full-width digits, signs and points (１２０．５), the Chinese full stop typed for a decimal point
between digits (36。5, what the '.' key gives with a Chinese input method on), outer blanks, and
the ints and floats a spreadsheet cell holds are all read; anything else, and infinities and
not-a-number, is refused with a Chinese message. Dates are read by `desktop.rules.dates.parse_date`.
"""

from __future__ import annotations

import math
import re

from desktop.rules.text import to_half_width

_CHINESE_POINT = re.compile(r"(?<=\d)。(?=\d)")


class NumberError(ValueError):
    """Text that is not the number asked for; the message is Chinese."""


def is_blank(value: object) -> bool:
    """True for None and for text with nothing but blanks."""
    return value is None or (isinstance(value, str) and not value.strip())


def number_text(value: str) -> str:
    """Typed number text made readable: half-width, outer blanks dropped, 。 between digits as a point."""
    return _CHINESE_POINT.sub(".", to_half_width(value).strip())


def parse_decimal(value: object) -> float | None:
    """The number given (None when blank); NumberError when it is not a finite number."""
    if is_blank(value):
        return None
    if isinstance(value, bool):
        raise NumberError(f"“{value}”不是数字。")
    if isinstance(value, int | float):
        number = float(value)
    else:
        try:
            number = float(number_text(str(value)))
        except ValueError:
            raise NumberError(f"“{value}”不是数字。") from None
    if not math.isfinite(number):
        raise NumberError(f"“{value}”不是数字。")
    return number


def parse_whole(value: object) -> int | None:
    """A whole number given (None when blank); NumberError for a fraction or text that is not a number."""
    number = parse_decimal(value)
    if number is None:
        return None
    if not number.is_integer():
        raise NumberError(f"“{value}”应为整数。")
    return int(number)


def decimal_or_none(value: object) -> float | None:
    """The number given, or None while it is blank or not (yet) a number: for live previews in forms."""
    try:
        return parse_decimal(value)
    except NumberError:
        return None
