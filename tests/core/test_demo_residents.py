"""Demo residents: valid identities, households with one head, a plausible township, top-ups."""

from __future__ import annotations

from collections import Counter
from contextlib import closing
from dataclasses import fields
from datetime import date
from pathlib import Path

import pytest
from core_support import DEMO_COUNTY
from data_templates import open_database

from desktop.app import open_app
from desktop.cli import main
from desktop.demo import build_demo
from desktop.paths import DB_FILENAME
from desktop.rules.idnumbers import parse_id
from desktop.rules.pinyin import name_keys
from desktop.rules.population import HEAD_OF_HOUSEHOLD, KeyPopulation, ResidentStatus
from desktop.rules.resident_checks import ResidentInput, check_resident


def _rows(path: Path, sql: str) -> list[tuple]:
    with closing(open_database(path)) as connection:
        return connection.execute(sql).fetchall()


@pytest.fixture(scope="module")
def residents(demo_template: Path) -> list[tuple]:
    return _rows(demo_template, "SELECT id, record_no, name, sex, birth_date, id_number, name_initials, name_pinyin, "
                                "name_rev, household_id, relation_to_head, registered_on, village_id FROM resident")


def test_every_id_number_is_valid_for_the_county_and_agrees_with_birth_and_sex(residents) -> None:
    with_number = [r for r in residents if r[5]]
    assert len(with_number) > 0.95 * len(residents)
    assert len({r[5] for r in with_number}) == len(with_number)
    for _, _, name, sex, birth, number, *_ in with_number:
        facts = parse_id(number)
        assert (facts.number, number[:6], facts.sex, facts.birth_date.isoformat()) == (number, DEMO_COUNTY, sex, birth)


def test_record_numbers_are_unique_and_well_formed(demo_template: Path, residents) -> None:
    villages = dict(_rows(demo_template, "SELECT id, code FROM village"))
    numbers = [r[1] for r in residents]
    assert len(set(numbers)) == len(numbers)
    # A record moved into another village keeps the number issued in the village it came from.
    moved_from = dict(_rows(demo_template, "SELECT resident_id, from_village_id FROM resident_transfer "
                                           "WHERE status = 'approved'"))
    for resident_id, record_no, *_, village_id in residents:
        assert len(record_no) == 17 and record_no.isdigit()
        issued_in = moved_from.get(resident_id, village_id)
        assert record_no[:12] == f"{DEMO_COUNTY}106{villages[issued_in]}" and record_no[12:] != "00000"
    counters = dict(_rows(demo_template, "SELECT prefix, last_serial FROM record_number_counter"))
    highest = Counter()
    for number in numbers:
        highest[number[:12]] = max(highest[number[:12]], int(number[12:]))
    assert all(counters[prefix] >= serial for prefix, serial in highest.items())


def test_every_household_has_exactly_one_head_who_is_a_member(demo_template: Path, residents) -> None:
    heads = dict(_rows(demo_template, "SELECT id, head_id FROM household WHERE deleted = 0"))
    by_household: dict[int, list[tuple]] = {}
    for row in residents:
        by_household.setdefault(row[9], []).append(row)
    assert set(by_household) == set(heads)
    for household_id, members in by_household.items():
        marked = [m[0] for m in members if m[10] == HEAD_OF_HOUSEHOLD]
        assert marked == [heads[household_id]]


def test_search_keys_match_the_names(residents) -> None:
    for row in residents:
        name, initials, pinyin, name_rev = row[2], row[6], row[7], row[8]
        assert (initials, pinyin, name_rev) == (*name_keys(name), name[::-1])


def test_the_records_pass_the_entry_checks(demo_template: Path) -> None:
    """A sample of demo records, conditions included, as the form would check them."""
    villages = {code: vid for vid, code in _rows(demo_template, "SELECT id, code FROM village")}
    codes = {vid: code for code, vid in villages.items()}
    rows = _rows(demo_template, "SELECT r.id, r.name, r.id_number, r.sex, r.birth_date, r.village_id, "
                                "r.registered_on, r.phone, r.status, r.status_date, r.status_note, r.residence_type "
                                "FROM resident r ORDER BY r.id")
    conditions: dict[int, list[tuple[str, str]]] = {}
    for resident_id, kind, since in _rows(demo_template, "SELECT resident_id, kind, since FROM resident_condition"):
        conditions.setdefault(resident_id, []).append((kind, since))
    known = {f.name for f in fields(ResidentInput)}
    for rid, name, number, sex, birth, village_id, registered_on, phone, status, status_date, note, residence in rows:
        values = {"name": name, "id_number": number or "", "sex": sex, "birth_date": birth,
                  "village_code": codes[village_id], "registered_on": registered_on, "phone": phone or "",
                  "conditions": tuple((KeyPopulation(k), s) for k, s in conditions.get(rid, ())),
                  "status": status, "status_date": status_date, "status_note": note or "",
                  "residence_type": residence or ""}
        check_resident(ResidentInput(**{k: v for k, v in values.items() if k in known}), villages=villages,
                       today=date.today())
        assert ResidentStatus(status) is ResidentStatus.ACTIVE or (
            registered_on < status_date < date.today().isoformat() and note), rid
        assert (status_date is None) == (status == ResidentStatus.ACTIVE.value), rid
        assert all(since is None or since <= (status_date or date.today().isoformat())
                   for _, since in conditions.get(rid, ())), rid
        assert residence in ("1", "2"), rid


def test_the_age_pyramid_and_key_populations_are_plausible(demo_template: Path, residents) -> None:
    today = date.today()
    ages = [(today - date.fromisoformat(r[4])).days / 365.25 for r in residents]
    elderly = sum(a >= 65 for a in ages) / len(ages)
    children = sum(a < 7 for a in ages) / len(ages)
    assert 0.12 <= elderly <= 0.30 and 0.03 <= children <= 0.12
    adults = {r[0] for r, a in zip(residents, ages, strict=True) if a >= 35}
    hypertensive = {rid for (rid,) in _rows(demo_template, "SELECT resident_id FROM resident_condition "
                                                           "WHERE kind = 'hypertension' AND deleted = 0")}
    assert hypertensive <= adults
    assert 0.15 <= len(hypertensive) / len(adults) <= 0.40
    sexes = Counter(r[3] for r in residents)
    assert 0.45 <= sexes["2"] / len(residents) <= 0.55


def _names(data_dir: Path) -> list[str]:
    return [name for (name,) in _rows(data_dir / DB_FILENAME, "SELECT name FROM resident ORDER BY id")]


def test_demo_residents_n_fills_exactly_n_and_tops_up(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data_dir = tmp_path / "demo"
    assert main(["--data-dir", str(data_dir), "demo", "--residents", "150"]) == 0
    assert "新增演示居民 150 人" in capsys.readouterr().out
    first = _names(data_dir)
    assert len(first) == 150
    assert main(["--data-dir", str(data_dir), "demo", "--residents", "420"]) == 0
    rows = _rows(data_dir / DB_FILENAME, "SELECT count(*), count(DISTINCT record_no), count(DISTINCT id_number), "
                                         "count(id_number) FROM resident")
    assert rows == [(420, 420, rows[0][3], rows[0][3])]
    assert _names(data_dir)[:150] == first
    assert main(["--data-dir", str(data_dir), "demo", "--residents", "300"]) == 0  # never shrinks
    assert len(_names(data_dir)) == 420

    again = tmp_path / "again"  # the same seed gives the same people
    app = open_app(again)
    try:
        build_demo(app.db, residents=150)
    finally:
        app.close()
    assert _names(again) == first
