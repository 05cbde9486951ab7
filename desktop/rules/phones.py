"""Phone numbers: mobile (11 digits) or landline with area code."""

from __future__ import annotations

import re

from desktop.rules.text import squeeze

_MOBILE = re.compile(r"1[3-9]\d{9}", re.ASCII)
_LANDLINE = re.compile(r"0\d{9,11}", re.ASCII)


def normalise_phone(raw: object) -> str:
    """Digits only (spaces, dashes, brackets and a +86 prefix dropped)."""
    text = squeeze(str(raw)).removesuffix(".0")
    digits = re.sub(r"[\s\-()（）]", "", text)
    if digits.startswith("+86"):
        digits = digits[3:]
    return digits


def phone_problem(phone: str) -> str | None:
    """Why a normalised phone number is refused, or None."""
    if _MOBILE.fullmatch(phone) or _LANDLINE.fullmatch(phone):
        return None
    if phone.isdigit() and phone.startswith("1"):
        return f"手机号应为 11 位，现为 {len(phone)} 位。"
    return "联系电话应为 11 位手机号，或带区号的固定电话（如 05641234567）。"


def mask_phone(phone: str) -> str:
    """138****8000: the first three and the last four stay visible."""
    if len(phone) < 8:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
