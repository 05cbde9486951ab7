"""The one-box search ranking and the list filters, on small registers built so the order is known."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from core_support import actor_for, data_dir_with, person
from sqlalchemy import select

from desktop.app import App, open_app
from desktop.models import Resident, Village
from desktop.rules.population import KeyPopulation, ResidentStatus
from desktop.services.resident_lookup import hidden_by_status, hidden_hint
from desktop.services.resident_query import ResidentFilter, count_residents, list_ids, search
from desktop.services.residents import create_resident, set_status

# name, birth date, ID sequence, village, phone
PEOPLE = (
    ("张三", "1950-01-01", 11, "101", "13800000001"),
    ("张三丰", "1961-11-23", 13, "101", "13800001234"),
    ("张三丰", "1975-06-15", 15, "102", "13900004321"),
    ("李张三", "1980-02-02", 17, "101", None),
    ("王小三", "2019-11-24", 19, "001", "13700005678"),
    ("单田芳", "1955-05-05", 21, "101", None),
    ("曾国藩", "1956-06-06", 23, "101", None),
    ("解缙", "1957-07-07", 25, "102", None),
    ("区小红", "1958-08-08", 27, "101", None),
    ("仇英", "1959-09-09", 29, "101", None),
    ("朴槿", "1960-10-10", 31, "101", None),
    ("张善", "1990-03-03", 33, "101", "13600001234"),
)
TODAY = date(2026, 11, 23)


@pytest.fixture(scope="session")
def register_template(registry_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The people above entered by a clerk into a copy of the empty demo branch, built once."""
    app = open_app(data_dir_with(registry_template, tmp_path_factory.mktemp("search-register")))
    try:
        clerk = actor_for(app.db, "luru1")
        for name, birth, sequence, village, phone in PEOPLE:
            data = person(name, birth, sequence=sequence, village=village, phone=phone or "")
            if name == "区小红":
                data = replace(data, conditions=((KeyPopulation.HYPERTENSION, "2015-01-01"),))
            create_resident(app.db, clerk, data, today=TODAY)
    finally:
        app.close()
    return app.db.path


@pytest.fixture
def register(register_template: Path, tmp_path: Path) -> Iterator[App]:
    """An opened copy of the register above."""
    app = open_app(data_dir_with(register_template, tmp_path / "data"))
    try:
        yield app
    finally:
        app.close()


def _names(app: App, query: str, username: str = "luru1") -> list[str]:
    return [row.name for row in search(app.db, actor_for(app.db, username), query)]


def _column(app: App, name: str, column: str) -> str:
    with app.db.read() as session:
        return session.scalars(select(getattr(Resident, column)).where(Resident.name == name)).first()


def test_chinese_name_exact_before_prefix_before_ending_before_middle(register: App) -> None:
    assert _names(register, "张三") == ["张三", "张三丰", "张三丰", "李张三"]
    assert _names(register, " 张 三丰 ") == ["张三丰", "张三丰"]
    assert _names(register, "三丰") == ["张三丰", "张三丰"]  # the given name: an ending
    assert _names(register, "小") == ["区小红", "王小三"]  # only in the middle: found when nothing else is


def test_pinyin_initials_and_full_pinyin(register: App) -> None:
    assert _names(register, "zsf") == ["张三丰", "张三丰"]
    assert _names(register, "ZS") == ["张三", "张善", "张三丰", "张三丰"]  # exact zs first, then by pinyin
    assert _names(register, "zhangsan") == ["张三", "张三丰", "张三丰"]
    assert _names(register, "zhang san feng") == ["张三丰", "张三丰"]


@pytest.mark.parametrize(("query", "name"), [
    ("shantianfang", "单田芳"), ("zengguofan", "曾国藩"), ("xiejin", "解缙"), ("ouxiaohong", "区小红"),
    ("qiuying", "仇英"), ("piaojin", "朴槿"), ("shan", "单田芳"), ("oxh", "区小红"),
])
def test_surname_readings_are_searchable(register: App, query: str, name: str) -> None:
    assert _names(register, query) == [name]


def test_wrong_surname_readings_find_nothing(register: App) -> None:
    assert _names(register, "dantianfang") == [] and _names(register, "cengguofan") == []


def test_id_numbers_whole_or_by_their_last_characters(register: App) -> None:
    number = _column(register, "解缙", "id_number")
    assert _names(register, number) == ["解缙"]
    assert _names(register, number.lower()) == ["解缙"]
    for tail in (number[-4:], number[-5:], number[-6:]):
        assert "解缙" in _names(register, tail)
    assert _names(register, "１９５７０７０７０２５" [-6:]) == []  # only endings count, not the middle


def test_an_id_ending_in_x_is_found_by_its_tail(register: App) -> None:
    clerk = actor_for(register.db, "luru1")
    from desktop.rules.idnumbers import make_id

    number = next(make_id("341522", date(1966, 6, 6), s) for s in range(1, 999, 2)
                  if make_id("341522", date(1966, 6, 6), s).endswith("X"))
    create_resident(register.db, clerk, replace(person("何晓", "1966-06-06"), id_number=number))
    assert _names(register, number[-4:].lower()) == ["何晓"]
    assert _names(register, number[-6:]) == ["何晓"]


def test_record_numbers_whole_last_eight_or_as_printed(register: App) -> None:
    record_no = _column(register, "仇英", "record_no")
    assert _names(register, record_no) == ["仇英"]
    assert _names(register, record_no[-8:]) == ["仇英"]
    assert _names(register, f"{record_no[-8:-5]}-{record_no[-5:]}") == ["仇英"]  # □□□-□□□□□ on forms


def test_phones_whole_or_last_four(register: App) -> None:
    assert _names(register, "13800001234") == ["张三丰"]
    assert _names(register, "138-0000-1234") == ["张三丰"]
    assert set(_names(register, "1234")) == {"张三丰", "张善"}
    assert _names(register, "0000") == []


def test_nonsense_and_empty_queries_find_nothing(register: App) -> None:
    assert _names(register, "") == [] and _names(register, "  ") == [] and _names(register, "%_") == []


def test_the_limit_keeps_the_best_ranked(register: App) -> None:
    clerk = actor_for(register.db, "luru1")
    assert [r.name for r in search(register.db, clerk, "张三", limit=2)] == ["张三", "张三丰"]


def test_a_village_doctor_searches_only_their_villages(register: App) -> None:
    assert _names(register, "zsf", "cunyi102") == ["张三丰"]
    assert _names(register, "张三", "cunyi001") == ["张三", "张三丰", "李张三"]
    assert _names(register, "xiejin", "cunyi001") == []


# --- filters, sorting, counting ---------------------------------------------------------------------------


def _village_id(app: App, code: str) -> int:
    with app.db.read() as session:
        return session.scalar(select(Village.id).where(Village.code == code))


def _listed(app: App, flt: ResidentFilter, username: str = "luru1", **options) -> list[str]:
    actor = actor_for(app.db, username)
    ids = list_ids(app.db, actor, flt, **options)
    with app.db.read() as session:
        names = dict(session.execute(select(Resident.id, Resident.name).where(Resident.id.in_(ids))).all())
    assert count_residents(app.db, actor, replace(flt, query="")) == len(ids) or flt.query
    return [names[i] for i in ids]


def test_age_groups_are_computed_for_the_given_day(register: App) -> None:
    # 张三丰 (1961-11-23) turns 65 on TODAY; 王小三 (2019-11-24) is 6 until tomorrow
    elderly = _listed(register, ResidentFilter(key_population=KeyPopulation.ELDERLY, on=TODAY), sort="name")
    assert elderly == ["区小红", "朴槿", "仇英", "单田芳", "解缙", "曾国藩", "张三", "张三丰"]  # by pinyin
    day_before = ResidentFilter(key_population=KeyPopulation.ELDERLY, on=date(2026, 11, 22))
    assert "张三丰" not in _listed(register, day_before)
    assert _listed(register, ResidentFilter(key_population=KeyPopulation.CHILD, on=TODAY)) == ["王小三"]
    assert _listed(register, ResidentFilter(key_population=KeyPopulation.CHILD, on=date(2026, 11, 24))) == []


def test_filters_by_village_status_and_recorded_condition(register: App) -> None:
    clerk = actor_for(register.db, "luru1")
    assert _listed(register, ResidentFilter(village_id=_village_id(register, "102"))) == ["张三丰", "解缙"]
    assert _listed(register, ResidentFilter(key_population=KeyPopulation.HYPERTENSION)) == ["区小红"]
    set_status(register.db, clerk, _column(register, "解缙", "id"), ResidentStatus.DECEASED, on=date(2024, 1, 1))
    assert _listed(register, ResidentFilter(village_id=_village_id(register, "102"))) == ["张三丰"]
    assert _listed(register, ResidentFilter(status=ResidentStatus.DECEASED)) == ["解缙"]
    assert count_residents(register.db, clerk, ResidentFilter(status=None)) == len(PEOPLE)
    assert count_residents(register.db, clerk) == len(PEOPLE) - 1


def test_sorting_and_a_query_within_filters(register: App) -> None:
    by_birth = _listed(register, ResidentFilter(), sort="birth_date", descending=True)
    assert by_birth[:3] == ["王小三", "张善", "李张三"] and by_birth[-1] == "张三"
    by_record = _listed(register, ResidentFilter())
    assert by_record[0] == "王小三"  # village 001 numbers sort first
    within = ResidentFilter(query="zsf", village_id=_village_id(register, "101"))
    assert _listed(register, within) == ["张三丰"]


def test_a_village_doctor_lists_and_counts_only_their_villages(register: App) -> None:
    names = _listed(register, ResidentFilter(), "cunyi102")
    assert sorted(names) == ["张三丰", "解缙"]
    assert count_residents(register.db, actor_for(register.db, "cunyi001")) == len(PEOPLE) - 2


@pytest.mark.parametrize("query", ["19611123", "1961-11-23", "1961/11/23", "1961.11.23", "1961-11-23 "])
def test_a_birth_date_finds_who_was_born_that_day(register: App, query: str) -> None:
    assert _names(register, query) == ["张三丰"]
    assert _column(register, "张三丰", "birth_date") == date(1961, 11, 23)


def test_a_day_that_does_not_exist_or_nobody_was_born_on_finds_nobody(register: App) -> None:
    assert _names(register, "1961-02-30") == [] and _names(register, "19610230") == []
    assert _names(register, "1999-01-01") == []


def test_the_status_filter_says_how_many_matches_it_hides(register: App) -> None:
    clerk = actor_for(register.db, "luru1")
    set_status(register.db, clerk, _column(register, "解缙", "id"), ResidentStatus.DECEASED, on=date(2024, 1, 1))
    set_status(register.db, clerk, _column(register, "曾国藩", "id"), ResidentStatus.MOVED_OUT, on=date(2024, 1, 1))
    for query, hidden in (("解缙", {"deceased": 1}), ("zgf", {"moved_out": 1}), ("1957-07-07", {"deceased": 1})):
        flt = ResidentFilter(query=query)
        assert _listed(register, flt) == []
        assert dict(hidden_by_status(register.db, clerk, flt)) == hidden
    both = hidden_by_status(register.db, clerk, ResidentFilter(query="解缙")) + hidden_by_status(
        register.db, clerk, ResidentFilter(query="曾国藩"))
    assert hidden_hint(ResidentStatus.ACTIVE, both) == "在册居民中没有找到；另有 2 人已迁出或死亡，选“全部”可见"
    assert hidden_hint(ResidentStatus.DECEASED, hidden_by_status(
        register.db, clerk, ResidentFilter(query="张善", status=ResidentStatus.DECEASED))) == \
        "死亡居民中没有找到；另有 1 人在册，选“全部”可见"
    assert hidden_hint(ResidentStatus.ACTIVE, hidden_by_status(register.db, clerk, ResidentFilter(query="无此人"))) == ""
