"""Rules of the resident record, with hand-worked cases: ID numbers, phones, pinyin keys,
age groups, and `check_resident` (one message per field, in Chinese, naming the field)."""

from __future__ import annotations

from datetime import date

import pytest

from desktop.errors import ValidationError
from desktop.rules.idnumbers import IdNumberError, mask_id, normalise_id, parse_id, upgrade_15
from desktop.rules.phones import mask_phone, normalise_phone, phone_problem
from desktop.rules.pinyin import name_keys
from desktop.rules.population import KeyPopulation, age_groups, birth_range_for_age_group
from desktop.rules.resident_checks import ResidentInput, check_resident

TODAY = date(2026, 11, 23)
VILLAGES = {"001": 1, "101": 2, "102": 3}
# GB 11643's own example: born 1949-12-31, sequence 002 (even: female), check character X.
SAMPLE = "11010519491231002X"

# --- ID numbers --------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [
    SAMPLE, "11010519491231002x", " 110105 19491231 002X ", "１１０１０５１９４９１２３１００２ｘ", "'11010519491231002X",
])
def test_id_numbers_are_normalised_before_checking(raw: str) -> None:
    facts = parse_id(raw, today=TODAY)
    assert (facts.number, facts.birth_date, facts.sex) == (SAMPLE, date(1949, 12, 31), "2")


def test_a_number_read_from_a_float_cell_loses_its_dot_zero() -> None:
    assert normalise_id("341522196111230119.0") == "341522196111230119"


def test_fifteen_digit_numbers_are_upgraded() -> None:
    assert upgrade_15("110105491231002") == SAMPLE
    assert parse_id("110105491231002", today=TODAY).number == SAMPLE


@pytest.mark.parametrize(("raw", "fragment"), [
    ("110105194912310021", "校验位错误"),  # X expected
    ("110105194912310021", "应为 X"),
    ("11010519490230002X", "19490230 不存在"),  # 30 February
    ("11010519491331002X", "不存在"),  # month 13
    ("341522203001010011", "晚于今天"),
    ("34152219491231002", "18 位，现为 17 位"),
    ("1101051949123100XX", "前 17 位应为数字"),
    ("99010519491231002X", "省级代码"),
])
def test_bad_id_numbers_say_why(raw: str, fragment: str) -> None:
    with pytest.raises(IdNumberError) as caught:
        parse_id(raw, today=TODAY)
    assert fragment in str(caught.value)


def test_mask_id_keeps_area_and_last_four() -> None:
    assert mask_id(SAMPLE) == "110105********002X"


# --- phones ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "clean"), [
    ("138 0013 8000", "13800138000"), ("+86 138-0013-8000", "13800138000"), ("１３８００１３８０００", "13800138000"),
    ("0564-1234567", "05641234567"), ("13800138000.0", "13800138000"),
])
def test_phones_are_normalised(raw: str, clean: str) -> None:
    assert normalise_phone(raw) == clean
    assert phone_problem(clean) is None


@pytest.mark.parametrize(("phone", "fragment"), [
    ("1380013800", "11 位，现为 10 位"), ("138001380001", "11 位，现为 12 位"), ("5551234", "联系电话"),
])
def test_phones_of_the_wrong_length_are_refused(phone: str, fragment: str) -> None:
    assert fragment in (phone_problem(phone) or "")


def test_mask_phone() -> None:
    assert mask_phone("13800138000") == "138****8000"


# --- pinyin --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "keys"), [
    ("张三丰", ("zsf", "zhangsanfeng")),
    ("单田芳", ("stf", "shantianfang")),
    ("曾国藩", ("zgf", "zengguofan")),
    ("解缙", ("xj", "xiejin")),
    ("区小红", ("oxh", "ouxiaohong")),
    ("仇英", ("qy", "qiuying")),
    ("朴槿", ("pj", "piaojin")),
    ("欧阳修", ("oyx", "ouyangxiu")),
    ("尉迟恭", ("ycg", "yuchigong")),
    ("吕秀兰", ("lxl", "lvxiulan")),
    ("阿依古丽·买买提", ("ayglmmt", "ayigulimaimaiti")),
])
def test_name_keys_use_surname_readings(name: str, keys: tuple[str, str]) -> None:
    assert name_keys(name) == keys


# --- age groups ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("birth", "groups"), [
    (date(1961, 11, 23), [KeyPopulation.ELDERLY]),  # 65 today
    (date(1961, 11, 24), []),  # 65 tomorrow
    (date(2019, 11, 24), [KeyPopulation.CHILD]),  # 6, turns 7 tomorrow
    (date(2019, 11, 23), []),  # 7 today
    (date(2026, 11, 23), [KeyPopulation.CHILD]),  # born today
])
def test_age_groups_on_a_day(birth: date, groups: list[KeyPopulation]) -> None:
    assert age_groups(birth, TODAY) == groups


def test_birth_ranges_agree_with_age_groups() -> None:
    assert birth_range_for_age_group(KeyPopulation.ELDERLY, TODAY) == (None, date(1961, 11, 23))
    assert birth_range_for_age_group(KeyPopulation.CHILD, TODAY) == (date(2019, 11, 24), TODAY)
    # 29 February: on 2028-02-29 someone born 1963-02-28 is 65, someone born 1963-03-01 is not
    assert birth_range_for_age_group(KeyPopulation.ELDERLY, date(2028, 2, 29)) == (None, date(1963, 2, 28))


# --- check_resident ------------------------------------------------------------------------------------------


def _check(**fields: object):
    values = {"name": "王秀兰", "id_number": SAMPLE, "village_code": "101"} | fields
    return check_resident(ResidentInput(**values), villages=VILLAGES, today=TODAY)  # type: ignore[arg-type]


def _errors(**fields: object) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        _check(**fields)
    return caught.value.errors


def test_a_good_resident_is_cleaned_and_takes_birth_and_sex_from_the_id() -> None:
    clean = _check(id_number="１１０１０５１９４９１２３１００２ｘ", name=" 王 秀兰 ", phone="138 0013 8000", village_code="1")
    assert (clean.id_number, clean.birth_date, clean.sex) == (SAMPLE, date(1949, 12, 31), "2")
    assert (clean.name, clean.phone, clean.village_code, clean.village_id) == ("王秀兰", "13800138000", "001", 1)
    assert clean.registered_on == TODAY and clean.ethnicity == "汉族"


def test_matching_entered_birth_and_sex_are_accepted() -> None:
    assert _check(sex="女", birth_date="1949年12月31日").sex == "2"


def test_sex_mismatch_names_the_sex_field() -> None:
    errors = _errors(sex="男")
    assert list(errors) == ["sex"] and "性别“男”与身份证号（女）不一致" in errors["sex"]


def test_birth_mismatch_names_the_birth_field() -> None:
    errors = _errors(birth_date="1949-12-30")
    assert list(errors) == ["birth_date"]
    assert "出生日期 1949-12-30 与身份证号中的 1949-12-31 不一致" in errors["birth_date"]


@pytest.mark.parametrize(("fields", "field", "fragment"), [
    ({"id_number": "110105194912310021"}, "id_number", "校验位"),
    ({"id_number": "11010519490230002X"}, "id_number", "不存在"),
    ({"id_number": "341522203001010011"}, "id_number", "晚于今天"),
    ({"id_number": "", "birth_date": "2027-01-01", "sex": "男"}, "birth_date", "晚于今天"),
    ({"id_number": "", "sex": "男"}, "birth_date", "必须填写出生日期"),
    ({"id_number": "", "birth_date": "1950-01-01"}, "sex", "必须填写性别"),
    ({"phone": "1380013800"}, "phone", "11 位，现为 10 位"),
    ({"name": "  "}, "name", "姓名不能为空"),
    ({"name": "王2"}, "name", "不像人名"),
    ({"village_code": "199"}, "village_code", "所属村代码“199”在本分院不存在"),
    ({"village_code": ""}, "village_code", "请选择所属村"),
    ({"consent_given_by": "王秀兰"}, "consent_on", "请填写同意日期"),
    ({"consent_on": "2026-01-05"}, "consent_given_by", "请填写同意人"),
    ({"registered_on": "1949-12-30"}, "registered_on", "早于出生日期"),
    ({"record_no": "12345"}, "record_no", "17 位数字"),
    ({"conditions": ((KeyPopulation.HYPERTENSION, "1940-01-01"),)}, "conditions", "早于出生日期"),
    ({"conditions": ((KeyPopulation.ELDERLY, None),)}, "conditions", "自动判断"),
])
def test_bad_fields_are_named(fields: dict, field: str, fragment: str) -> None:
    errors = _errors(**fields)
    assert field in errors and fragment in errors[field]


def test_every_bad_field_is_reported_at_once() -> None:
    errors = _errors(name="", phone="123", village_code="555", sex="男")
    assert set(errors) == {"name", "phone", "village_code", "sex"}


def test_consent_with_who_and_when_is_kept() -> None:
    clean = _check(consent_given_by="王秀兰", consent_on="2026-01-05", consent_notice_version="2024版")
    assert (clean.consent_given_by, clean.consent_on, clean.consent_notice_version) == (
        "王秀兰", date(2026, 1, 5), "2024版")
