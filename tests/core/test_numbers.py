"""One reader for numbers and typed codes: what people type and what spreadsheets hold."""

from __future__ import annotations

import pytest

from desktop.rules.codes import normalise_code
from desktop.rules.numbers import NumberError, decimal_or_none, is_blank, parse_decimal, parse_whole
from desktop.rules.text import squeeze


@pytest.mark.parametrize(("given", "expected"), [
    ("120", 120.0), ("６.８", 6.8), ("１２０．５", 120.5), (" 7.2 ", 7.2), ("\u30007\u3000", 7.0),
    ("36。5", 36.5), ("３６。５", 36.5), ("－3", -3.0), ("+4", 4.0), ("1e2", 100.0),
    (95, 95.0), (6.1, 6.1), ("0", 0.0),
])
def test_decimals_are_read_from_typed_text_full_width_and_cells(given: object, expected: float) -> None:
    assert parse_decimal(given) == expected


@pytest.mark.parametrize("given", [None, "", "   ", "\u3000"])
def test_blank_is_no_number(given: object) -> None:
    assert is_blank(given)
    assert parse_decimal(given) is None and parse_whole(given) is None and decimal_or_none(given) is None


@pytest.mark.parametrize("given", ["abc", "12 5", "12。", "。5", "1.2.3", "nan", "inf", "-Infinity", "一百", True])
def test_what_is_not_a_finite_number_is_refused_in_chinese(given: object) -> None:
    with pytest.raises(NumberError, match="不是数字"):
        parse_decimal(given)
    assert decimal_or_none(given) is None


def test_whole_numbers_refuse_fractions() -> None:
    assert parse_whole("１３２") == 132 and parse_whole(84.0) == 84 and parse_whole("72.0") == 72
    with pytest.raises(NumberError, match="应为整数"):
        parse_whole("72.5")


@pytest.mark.parametrize(("given", "expected"), [
    ("513422", "513422"), (" ５１３４２２ ", "513422"), ("513 422", "513422"), ("00１", "001"), ("101", "101"),
])
def test_codes_are_half_width_without_spaces(given: str, expected: str) -> None:
    assert normalise_code(given) == expected
    assert squeeze(given) == expected
