"""Administrative codes of the branch: county, township and village codes."""

from __future__ import annotations

import re

from desktop.rules.text import squeeze

_SIX_DIGITS = re.compile(r"\d{6}", re.ASCII)
_THREE_DIGITS = re.compile(r"\d{3}", re.ASCII)


def county_code_problem(code: str) -> str | None:
    """Why a county code (6-digit GB/T 2260 code) is refused, or None."""
    if not _SIX_DIGITS.fullmatch(code):
        return "县（区）代码应为 6 位数字，例如 513422。"
    if code.endswith("00"):
        return "县（区）代码末两位不能是 00（那是市级代码）。"
    return None


def township_code_problem(code: str) -> str | None:
    """Why a township code (3 digits inside the county) is refused, or None."""
    if not _THREE_DIGITS.fullmatch(code) or code == "000":
        return "乡镇代码应为 3 位数字（001–999）。"
    return None


def village_code_problem(code: str) -> str | None:
    """Why a village code is refused: 居委会 001-099, 村委会 101-199, other 901-999."""
    if not _THREE_DIGITS.fullmatch(code):
        return "村（居）委会代码应为 3 位数字。"
    number = int(code)
    if 1 <= number <= 99 or 101 <= number <= 199 or 901 <= number <= 999:
        return None
    return "村（居）委会代码应在 001–099（居委会）、101–199（村委会）或 901–999（其他）之内。"


def normalise_code(value: str) -> str:
    """Strip spaces and turn full-width digits into ASCII."""
    return squeeze(value)
