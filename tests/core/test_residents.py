"""Resident writes on real SQLite files: create, duplicates, record numbers, edits, status, scope."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from core_support import actor_for, person, register_counts
from sqlalchemy import select

from desktop.app import App
from desktop.errors import PermissionDenied, UserFacingError, ValidationError
from desktop.models import AuditEntry, RecordNumberCounter, Resident
from desktop.rules.population import KeyPopulation, ResidentStatus
from desktop.services.resident_query import get_resident, rows_for, search
from desktop.services.residents import DuplicateResident, create_resident, set_status, update_resident

PREFIX = "341522106"  # demo county + township


@pytest.fixture
def clerk(registry_app: App):
    return actor_for(registry_app.db, "luru1")


def _stored(app: App, resident_id: int) -> SimpleNamespace:
    """The stored columns of a resident, read back from the file."""
    with app.db.read() as session:
        resident = session.get(Resident, resident_id)
        return SimpleNamespace(**{c.key: getattr(resident, c.key) for c in Resident.__table__.columns})


def _village_ids(app: App) -> dict[str, int]:
    from desktop.models import Village

    with app.db.read() as session:
        return dict(session.execute(select(Village.code, Village.id)).all())


# --- create ------------------------------------------------------------------------------------------------


def test_create_stores_the_cleaned_record_with_search_keys_and_audit(registry_app: App, clerk) -> None:
    saved = create_resident(registry_app.db, clerk, person("张三丰", "1950-03-04", phone="138 0013 8000",
                                                           conditions=((KeyPopulation.HYPERTENSION, "2019-05-01"),)))
    stored = _stored(registry_app, saved.resident_id)
    assert (stored.name_initials, stored.name_pinyin, stored.name_rev) == ("zsf", "zhangsanfeng", "丰三张")
    assert stored.id_number_rev == stored.id_number[::-1] and stored.phone_rev == "00083100831"
    assert stored.record_no_rev == saved.record_no[::-1]
    assert (stored.sex, stored.birth_date, stored.registered_by, stored.status) == (
        "1", date(1950, 3, 4), "luru1", "active")
    assert stored.village_id == _village_ids(registry_app)["101"]
    with registry_app.db.read() as session:
        entry = session.execute(select(AuditEntry.action, AuditEntry.entity_id, AuditEntry.summary)
                                .order_by(AuditEntry.seq.desc()).limit(1)).one()
    assert tuple(entry) == ("create", stored.uuid, f"建档 {saved.record_no}")


@pytest.mark.parametrize(("changes", "field"), [
    ({"name": ""}, "name"),
    ({"phone": "1380013800"}, "phone"),
    ({"village_code": "199"}, "village_code"),
    ({"sex": "女"}, "sex"),
    ({"birth_date": "1950-03-05"}, "birth_date"),
    ({"consent_given_by": "张三丰"}, "consent_on"),
    ({"consent_on": "2025-01-01"}, "consent_given_by"),
])
def test_a_refused_create_saves_nothing(registry_app: App, clerk, changes: dict, field: str) -> None:
    from dataclasses import replace

    before = register_counts(registry_app.db)
    with pytest.raises(ValidationError) as caught:
        create_resident(registry_app.db, clerk, replace(person("张三丰", "1950-03-04"), **changes))
    assert field in caught.value.errors
    assert register_counts(registry_app.db) == before


def test_a_duplicate_id_points_to_the_existing_record(registry_app: App, clerk) -> None:
    first = create_resident(registry_app.db, clerk, person("王秀兰", "1950-03-04", sequence=12))
    before = register_counts(registry_app.db)
    again = person("王秀兰", "1950-03-04", sequence=12, village="102")
    with pytest.raises(DuplicateResident) as caught:
        create_resident(registry_app.db, clerk, again.__class__(**{**again.__dict__, "id_number": again.id_number.lower()}))
    assert caught.value.existing_id == first.resident_id
    assert first.record_no in caught.value.errors["id_number"] and "王秀兰" in caught.value.errors["id_number"]
    assert register_counts(registry_app.db) == before


def test_a_fifteen_digit_number_of_someone_on_record_is_a_duplicate(registry_app: App, clerk) -> None:
    from dataclasses import replace

    first = create_resident(registry_app.db, clerk, person("李四", "1949-12-31", sequence=13))
    number18 = _stored(registry_app, first.resident_id).id_number
    old = number18[:6] + number18[8:17]
    with pytest.raises(DuplicateResident):
        create_resident(registry_app.db, clerk, replace(person("李四", "1949-12-31"), id_number=old))


# --- record numbers ----------------------------------------------------------------------------------------


def test_record_numbers_are_county_township_village_serial(registry_app: App, clerk) -> None:
    a = create_resident(registry_app.db, clerk, person("甲一", "1960-01-01", sequence=11))
    b = create_resident(registry_app.db, clerk, person("乙二", "1960-01-02", sequence=11))
    c = create_resident(registry_app.db, clerk, person("丙三", "1960-01-03", sequence=11, village="001"))
    assert (a.record_no, b.record_no, c.record_no) == (
        f"{PREFIX}10100001", f"{PREFIX}10100002", f"{PREFIX}00100001")
    assert all(len(n) == 17 and n.isdigit() for n in (a.record_no, b.record_no, c.record_no))


def test_the_counter_keeps_rising_and_skips_numbers_in_use(registry_app: App, clerk) -> None:
    create_resident(registry_app.db, clerk, person("甲一", "1960-01-01", sequence=11))
    # an imported record already holds serial 3; a refused save issues nothing
    create_resident(registry_app.db, clerk, person("乙二", "1960-01-02", record_no=f"{PREFIX}10100003"))
    with pytest.raises(ValidationError):
        create_resident(registry_app.db, clerk, person("", "1960-01-04"))
    numbers = [create_resident(registry_app.db, clerk, person(name, f"1960-02-0{n}")).record_no[-5:]
               for n, name in ((1, "丙甲"), (2, "丙乙"))]
    assert numbers == ["00002", "00004"]
    # the counter, not the highest stored number, decides: raised by hand past the table's max
    with registry_app.db.write() as session:
        session.get(RecordNumberCounter, f"{PREFIX}101").last_serial = 50
    assert create_resident(registry_app.db, clerk, person("丁一", "1960-03-01")).record_no == f"{PREFIX}10100051"


def test_a_number_from_a_failed_transaction_is_not_stored_twice(registry_app: App, clerk) -> None:
    with pytest.raises(RuntimeError), registry_app.db.write() as session:
        from desktop.services.residents import next_record_no

        assert next_record_no(session, f"{PREFIX}101") == f"{PREFIX}10100001"
        raise RuntimeError("power cut")
    saved = create_resident(registry_app.db, clerk, person("甲一", "1960-01-01"))
    again = create_resident(registry_app.db, clerk, person("乙二", "1960-01-02"))
    assert (saved.record_no[-5:], again.record_no[-5:]) == ("00001", "00002")
    with registry_app.db.read() as session:
        assert session.get(RecordNumberCounter, f"{PREFIX}101").last_serial == 2


# --- edits and status ----------------------------------------------------------------------------------------


def test_an_edit_bumps_the_version_and_resets_sync_state(registry_app: App, clerk) -> None:
    from dataclasses import replace

    data = person("张三丰", "1950-03-04")
    saved = create_resident(registry_app.db, clerk, data)
    with registry_app.db.write() as session:
        session.get(Resident, saved.resident_id).sync_state = "synced"
    edited = update_resident(registry_app.db, clerk, saved.resident_id, replace(data, name="张三峰"),
                             expected_version=saved.version)
    stored = _stored(registry_app, saved.resident_id)
    assert (edited.version, stored.version, stored.sync_state) == (2, 2, "pending")
    assert (stored.name_pinyin, stored.name_rev, stored.record_no) == ("zhangsanfeng", "峰三张", saved.record_no)


def test_an_edit_of_the_conditions_alone_bumps_the_version(registry_app: App, clerk) -> None:
    from dataclasses import replace

    data = person("张三丰", "1950-03-04")
    saved = create_resident(registry_app.db, clerk, data)
    edited = update_resident(registry_app.db, clerk, saved.resident_id,
                             replace(data, conditions=((KeyPopulation.DIABETES, "2020-01-01"),)),
                             expected_version=saved.version)
    assert edited.version == saved.version + 1
    with pytest.raises(UserFacingError, match="刚被他人修改过"):
        update_resident(registry_app.db, clerk, saved.resident_id, data, expected_version=saved.version)


def test_a_stale_version_is_refused_and_nothing_changes(registry_app: App, clerk) -> None:
    from dataclasses import replace

    data = person("张三丰", "1950-03-04")
    saved = create_resident(registry_app.db, clerk, data)
    update_resident(registry_app.db, clerk, saved.resident_id, replace(data, address="一组"), expected_version=1)
    before = register_counts(registry_app.db)
    with pytest.raises(UserFacingError, match="刚被他人修改过"):
        update_resident(registry_app.db, clerk, saved.resident_id, replace(data, address="二组"), expected_version=1)
    assert register_counts(registry_app.db) == before and _stored(registry_app, saved.resident_id).address == "一组"


def test_set_status_records_the_date_and_refuses_impossible_ones(registry_app: App, clerk) -> None:
    saved = create_resident(registry_app.db, clerk, person("张三丰", "1950-03-04"))
    before = register_counts(registry_app.db)
    tomorrow = date.today() + timedelta(days=1)
    for on, fragment in ((tomorrow, "不能晚于今天"), (date(1950, 3, 3), "早于出生日期"), (None, "请填写死亡日期")):
        with pytest.raises(ValidationError) as caught:
            set_status(registry_app.db, clerk, saved.resident_id, ResidentStatus.DECEASED, on=on)
        assert fragment in caught.value.errors["status_date"]
    assert register_counts(registry_app.db) == before
    done = set_status(registry_app.db, clerk, saved.resident_id, ResidentStatus.MOVED_OUT, on=date(2025, 6, 1),
                      note=" 随子女进城 ")
    stored = _stored(registry_app, saved.resident_id)
    assert (stored.status, stored.status_date, stored.status_note, done.version) == (
        "moved_out", date(2025, 6, 1), "随子女进城", 2)
    set_status(registry_app.db, clerk, saved.resident_id, ResidentStatus.ACTIVE, on=None, note="误登记为迁出")
    assert (_stored(registry_app, saved.resident_id).status, _stored(registry_app, saved.resident_id).status_date) == (
        "active", None)


# --- scope, masking, audit --------------------------------------------------------------------------------------


@pytest.fixture
def three_villages(registry_app: App, clerk) -> dict[str, int]:
    """One resident each in villages 001, 101 and 102: code -> resident id."""
    return {code: create_resident(registry_app.db, clerk, person(name, "1970-05-06", sequence=seq, village=code,
                                                                 phone="13800138000")).resident_id
            for code, name, seq in (("001", "赵一", 11), ("101", "钱二", 13), ("102", "孙三", 15))}


def test_a_village_doctor_sees_only_their_villages(registry_app: App, three_villages: dict[str, int]) -> None:
    cunyi001 = actor_for(registry_app.db, "cunyi001")
    cunyi102 = actor_for(registry_app.db, "cunyi102")
    ids = list(three_villages.values())
    assert [r.name for r in rows_for(registry_app.db, cunyi001, ids)] == ["赵一", "钱二"]
    assert [r.name for r in rows_for(registry_app.db, cunyi102, ids)] == ["孙三"]
    assert [r.name for r in search(registry_app.db, cunyi102, "8000")] == ["孙三"]
    assert search(registry_app.db, cunyi102, "钱二") == []
    with pytest.raises(PermissionDenied):
        get_resident(registry_app.db, cunyi102, three_villages["101"])


def test_a_village_doctor_cannot_edit_or_create_outside_their_villages(
    registry_app: App, three_villages: dict[str, int],
) -> None:
    cunyi102 = actor_for(registry_app.db, "cunyi102")
    before = register_counts(registry_app.db)
    with pytest.raises(PermissionDenied):
        update_resident(registry_app.db, cunyi102, three_villages["101"], person("钱二", "1970-05-06", sequence=13),
                        expected_version=None)
    with pytest.raises(PermissionDenied):
        set_status(registry_app.db, cunyi102, three_villages["101"], ResidentStatus.MOVED_OUT, on=date(2025, 1, 1))
    with pytest.raises(ValidationError) as caught:
        create_resident(registry_app.db, cunyi102, person("周四", "1971-01-01", village="101"))
    assert "village_code" in caught.value.errors
    own = person("孙三", "1970-05-06", sequence=15, village="102")
    with pytest.raises(ValidationError):  # moving one's own resident to another doctor's village
        update_resident(registry_app.db, cunyi102, three_villages["102"], own.__class__(
            **{**own.__dict__, "village_code": "101"}), expected_version=None)
    assert register_counts(registry_app.db) == before
    assert create_resident(registry_app.db, cunyi102, person("周四", "1971-01-01", village="102")).record_no


@pytest.mark.parametrize(("username", "masked"), [
    ("yuanzhang", True), ("kaohe1", True), ("luru1", False), ("gongwei1", False), ("cunyi001", False),
])
def test_identity_is_masked_for_roles_that_do_not_need_it(
    registry_app: App, three_villages: dict[str, int], username: str, masked: bool,
) -> None:
    actor = actor_for(registry_app.db, username)
    row = rows_for(registry_app.db, actor, [three_villages["001"]])[0]
    detail = get_resident(registry_app.db, actor, three_villages["001"])
    number = _stored(registry_app, three_villages["001"]).id_number
    if masked:
        assert row.id_number == detail.id_number == number[:6] + "********" + number[-4:]
        assert row.phone == detail.phone == "138****8000" and detail.masked
    else:
        assert row.id_number == detail.id_number == number and row.phone == "13800138000"


def test_admin_cannot_see_residents(registry_app: App, three_villages: dict[str, int]) -> None:
    admin = actor_for(registry_app.db, "admin")
    for call in (lambda: search(registry_app.db, admin, "赵一"),
                 lambda: rows_for(registry_app.db, admin, list(three_villages.values())),
                 lambda: get_resident(registry_app.db, admin, three_villages["001"])):
        with pytest.raises(PermissionDenied):
            call()
    with pytest.raises(PermissionDenied):
        create_resident(registry_app.db, admin, person("周四", "1971-01-01"))


def test_opening_a_record_is_audited(registry_app: App, three_villages: dict[str, int]) -> None:
    actor = actor_for(registry_app.db, "kaohe1")
    detail = get_resident(registry_app.db, actor, three_villages["101"])
    with registry_app.db.read() as session:
        entry = session.execute(select(AuditEntry.action, AuditEntry.actor, AuditEntry.summary)
                                .order_by(AuditEntry.seq.desc()).limit(1)).one()
    assert tuple(entry) == ("view", "kaohe1", f"查看 {detail.record_no}")
