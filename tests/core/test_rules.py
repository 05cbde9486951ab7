"""Pure rules, with hand-worked cases: the password policy and the administrative codes."""

from __future__ import annotations

import pytest

from desktop.rules.codes import (
    county_code_problem,
    normalise_code,
    township_code_problem,
    village_code_problem,
)
from desktop.rules.passwords import character_classes, password_problem

# --- passwords -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "classes"),
    [
        ("", 0),
        ("abcdefgh", 1),
        ("ABCDEFGH", 1),
        ("12345678", 1),
        ("!@#$%^&*", 1),
        ("abcDEF", 2),
        ("abc123", 2),
        ("Abc123", 3),
        ("Abc123#", 4),
        ("abc 123", 3),  # a space is a symbol
        ("卫生院abc1", 3),  # non-ASCII letters count as symbols
    ],
)
def test_character_classes(password: str, classes: int) -> None:
    assert character_classes(password) == classes


@pytest.mark.parametrize(
    "password",
    ["Vxqmwp12", "vxqmwp1!", "VXQMWP1!", "Ab#defgh", "卫生院abc12", "Long passphrase 2026"],
)
def test_acceptable_passwords(password: str) -> None:
    assert password_problem(password) is None
    assert password_problem(password, username="zhangsan") is None


@pytest.mark.parametrize(
    ("password", "username", "fragment"),
    [
        ("Ab1#xyz", "", "至少 8 位"),  # 7 characters
        ("", "", "至少 8 位"),
        ("abcdefgh", "", "至少三类"),
        ("abcdefg1", "", "至少三类"),
        ("ABCDEFG!", "", "至少三类"),
        ("12345678", "", "至少三类"),
        ("Zhangsan#1", "zhangsan", "用户名"),
        ("ZHANGSAN#1x", "ZhangSan", "用户名"),  # case does not hide the user name
        ("xx#1Admin", "admin", "用户名"),
        (" Abcdef1", "", "空格"),
        ("Abcdef1 ", "", "空格"),
    ],
)
def test_refused_passwords(password: str, username: str, fragment: str) -> None:
    problem = password_problem(password, username=username)
    assert problem is not None and fragment in problem


def test_length_is_checked_before_classes_and_user_name() -> None:
    assert "至少 8 位" in password_problem("admin", username="admin")


def test_an_empty_user_name_is_not_searched_for() -> None:
    assert password_problem("Vxqmwp12", username="") is None


# --- codes -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["341522", "513422", "110101", "659001"])
def test_good_county_codes(code: str) -> None:
    assert county_code_problem(code) is None


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("34152", "6 位数字"),
        ("3415222", "6 位数字"),
        ("34152a", "6 位数字"),
        (" 341522", "6 位数字"),  # callers normalise first
        ("", "6 位数字"),
        ("٣٤١٥٢٢", "6 位数字"),  # Arabic-Indic digits are not ASCII digits
        ("341500", "00"),
        ("340000", "00"),
    ],
)
def test_bad_county_codes(code: str, fragment: str) -> None:
    problem = county_code_problem(code)
    assert problem is not None and fragment in problem


@pytest.mark.parametrize("code", ["001", "021", "106", "999"])
def test_good_township_codes(code: str) -> None:
    assert township_code_problem(code) is None


@pytest.mark.parametrize("code", ["000", "1", "01", "0001", "1a2", "", "１０６"])
def test_bad_township_codes(code: str) -> None:
    assert township_code_problem(code) is not None


@pytest.mark.parametrize("code", ["001", "050", "099", "101", "150", "199", "901", "950", "999"])
def test_village_codes_in_the_three_ranges(code: str) -> None:
    assert village_code_problem(code) is None


@pytest.mark.parametrize("code", ["000", "100", "200", "555", "899", "900"])
def test_village_codes_outside_the_ranges(code: str) -> None:
    problem = village_code_problem(code)
    assert problem is not None and "001–099" in problem and "101–199" in problem and "901–999" in problem


@pytest.mark.parametrize("code", ["1", "01", "1010", "10a", "", "１０１"])
def test_village_codes_must_be_three_ascii_digits(code: str) -> None:
    problem = village_code_problem(code)
    assert problem is not None and "3 位数字" in problem


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [(" 101 ", "101"), ("１０１", "101"), ("3415 22", "341522"), ("３４１５２２\t", "341522"), ("abc", "abc")],
)
def test_normalise_code(raw: str, normalised: str) -> None:
    assert normalise_code(raw) == normalised


def test_normalised_full_width_codes_pass_the_validators() -> None:
    assert county_code_problem(normalise_code("３４１５２２")) is None
    assert village_code_problem(normalise_code(" １０１ ")) is None
