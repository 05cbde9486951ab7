"""Resident identity numbers (GB 11643): normalise, validate, derive birth date and sex.

Checksum and date checks come from python-stdnum. Its birth-place check is NOT used: it
refuses people born before their county's current code was assigned (e.g. 霍邱县 341522
since 1999), whose cards nevertheless carry the current code. Only the province is checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from desktop.rules.text import squeeze

SEX_MALE, SEX_FEMALE = "1", "2"
PROVINCE_CODES = frozenset({
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65", "71", "81", "82",
})


class IdNumberError(ValueError):
    """An ID number that cannot be right; the message is Chinese and says why."""


@dataclass(frozen=True)
class IdFacts:
    """What an ID number says about its holder."""

    number: str
    birth_date: date
    sex: str


def normalise_id(raw: object) -> str:
    """Half-width, no spaces, upper-case X, no spreadsheet apostrophe, no '.0' from a float cell."""
    text = squeeze(str(raw)).strip("'‘’`").upper()
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    return text


def _check_character(first17: str) -> str:
    from stdnum.cn import ric

    return ric.calc_check_digit(first17 + "0")


def upgrade_15(number: str) -> str:
    """Turn an old 15-digit number into the 18-character form (19 inserted, check added)."""
    first17 = number[:6] + "19" + number[6:]
    return first17 + _check_character(first17)


def _birth_date(number: str) -> date:
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdNumberError(f"身份证号中的出生日期 {number[6:14]} 不存在。") from None


def parse_id(raw: object, *, today: date | None = None) -> IdFacts:
    """Validate and return the normalised number with its birth date and sex; raise IdNumberError."""
    number = normalise_id(raw)
    if len(number) == 15 and number.isdigit():
        number = upgrade_15(number)
    if len(number) != 18:
        raise IdNumberError(f"身份证号应为 18 位，现为 {len(number)} 位。")
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise IdNumberError("身份证号前 17 位应为数字，最后一位为数字或 X。")
    if number[:2] not in PROVINCE_CODES:
        raise IdNumberError(f"身份证号前两位 {number[:2]} 不是有效的省级代码。")
    birth = _birth_date(number)
    if birth > (today or date.today()):
        raise IdNumberError(f"身份证号中的出生日期 {birth:%Y-%m-%d} 晚于今天。")
    if birth.year < 1890:
        raise IdNumberError(f"身份证号中的出生日期 {birth:%Y-%m-%d} 不合理。")
    expected = _check_character(number[:17])
    if number[17] != expected:
        raise IdNumberError(f"身份证号校验位错误：按前 17 位计算，最后一位应为 {expected}，请核对号码。")
    sex = SEX_MALE if int(number[16]) % 2 else SEX_FEMALE
    return IdFacts(number=number, birth_date=birth, sex=sex)


def make_id(area: str, birth: date, sequence: int) -> str:
    """A valid number for area/birth/sequence (the sequence's parity gives the sex). For demo data."""
    first17 = f"{area}{birth:%Y%m%d}{sequence:03d}"
    return first17 + _check_character(first17)


def mask_id(number: str) -> str:
    """513422********123X: the area and the last four stay visible."""
    if len(number) < 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]
