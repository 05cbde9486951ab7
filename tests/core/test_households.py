"""Households: start, join, leave, change the head; scope and the one-head rule."""

from __future__ import annotations

import pytest
from core_support import actor_for, person, register_counts

from desktop.app import App
from desktop.errors import PermissionDenied, UserFacingError, ValidationError
from desktop.services.households import (
    household_of,
    join_household,
    leave_household,
    set_head,
    start_household,
)
from desktop.services.resident_query import get_resident
from desktop.services.residents import create_resident


@pytest.fixture
def family(registry_app: App) -> dict[str, int]:
    """Four residents of village 101 and one of 102: name -> id."""
    clerk = actor_for(registry_app.db, "luru1")
    people = (("王大山", "1960-01-01", 11, "101"), ("李秀兰", "1962-02-02", 12, "101"),
              ("王小军", "1988-03-03", 13, "101"), ("王小红", "1990-04-04", 14, "101"),
              ("赵外村", "1970-05-05", 15, "102"))
    return {name: create_resident(registry_app.db, clerk, person(name, birth, sequence=seq, village=v)).resident_id
            for name, birth, seq, v in people}


@pytest.fixture
def clerk(registry_app: App):
    return actor_for(registry_app.db, "luru1")


def _members(app: App, actor, resident_id: int) -> list[tuple[str, str]]:
    view = household_of(app.db, actor, resident_id)
    return [(m.name, m.relation_label) for m in view.members] if view else []


def test_start_and_join_make_a_household_with_the_head_first(registry_app: App, family, clerk) -> None:
    start_household(registry_app.db, clerk, family["王大山"])
    household_id = household_of(registry_app.db, clerk, family["王大山"]).id
    join_household(registry_app.db, clerk, resident_id=family["王小军"], household_id=household_id, relation="20")
    join_household(registry_app.db, clerk, resident_id=family["李秀兰"], household_id=household_id, relation="10")
    assert _members(registry_app, clerk, family["李秀兰"]) == [("王大山", "户主"), ("李秀兰", "配偶"), ("王小军", "子")]
    view = household_of(registry_app.db, clerk, family["王小军"])
    assert view.head_id == family["王大山"] and view.village_name == "柳树村"
    assert get_resident(registry_app.db, clerk, family["王大山"]).relation_to_head == "02"


def test_joining_across_villages_or_as_head_is_refused(registry_app: App, family, clerk) -> None:
    start_household(registry_app.db, clerk, family["王大山"])
    household_id = household_of(registry_app.db, clerk, family["王大山"]).id
    before = register_counts(registry_app.db)
    with pytest.raises(ValidationError) as caught:
        join_household(registry_app.db, clerk, resident_id=family["赵外村"], household_id=household_id, relation="99")
    assert "同一个村" in caught.value.errors["household"]
    with pytest.raises(ValidationError) as caught:
        join_household(registry_app.db, clerk, resident_id=family["王小红"], household_id=household_id, relation="02")
    assert "relation_to_head" in caught.value.errors
    with pytest.raises(ValidationError) as caught:  # the head cannot re-join their own household as a member
        join_household(registry_app.db, clerk, resident_id=family["王大山"], household_id=household_id, relation="10")
    assert "户主" in caught.value.errors["relation_to_head"]
    assert register_counts(registry_app.db) == before
    assert household_of(registry_app.db, clerk, family["王大山"]).head_id == family["王大山"]
    assert get_resident(registry_app.db, clerk, family["王大山"]).relation_to_head == "02"


def test_a_head_with_members_cannot_leave_until_the_head_changes(registry_app: App, family, clerk) -> None:
    start_household(registry_app.db, clerk, family["王大山"])
    household_id = household_of(registry_app.db, clerk, family["王大山"]).id
    join_household(registry_app.db, clerk, resident_id=family["李秀兰"], household_id=household_id, relation="10")
    with pytest.raises(UserFacingError, match="是户主，户内还有其他成员"):
        leave_household(registry_app.db, clerk, family["王大山"])
    with pytest.raises(UserFacingError, match="是户主"):  # nor start another household
        start_household(registry_app.db, clerk, family["王大山"])
    set_head(registry_app.db, clerk, household_id=household_id, resident_id=family["李秀兰"])
    assert _members(registry_app, clerk, family["王大山"]) == [("李秀兰", "户主"), ("王大山", "其他")]
    leave_household(registry_app.db, clerk, family["王大山"])
    assert household_of(registry_app.db, clerk, family["王大山"]) is None
    assert _members(registry_app, clerk, family["李秀兰"]) == [("李秀兰", "户主")]
    leave_household(registry_app.db, clerk, family["李秀兰"])  # the last member, the head, may leave
    with pytest.raises(UserFacingError, match="不在任何户中"):
        leave_household(registry_app.db, clerk, family["李秀兰"])


def test_set_head_needs_a_member(registry_app: App, family, clerk) -> None:
    start_household(registry_app.db, clerk, family["王大山"])
    household_id = household_of(registry_app.db, clerk, family["王大山"]).id
    with pytest.raises(ValidationError, match="不是该户成员"):
        set_head(registry_app.db, clerk, household_id=household_id, resident_id=family["王小红"])


def test_a_village_doctor_works_only_on_their_villages_households(registry_app: App, family, clerk) -> None:
    start_household(registry_app.db, clerk, family["王大山"])
    household_id = household_of(registry_app.db, clerk, family["王大山"]).id
    cunyi102 = actor_for(registry_app.db, "cunyi102")
    for call in (lambda: household_of(registry_app.db, cunyi102, family["王大山"]),
                 lambda: join_household(registry_app.db, cunyi102, resident_id=family["赵外村"],
                                        household_id=household_id, relation="99"),
                 lambda: start_household(registry_app.db, cunyi102, family["王小红"])):
        with pytest.raises(PermissionDenied):
            call()
    cunyi001 = actor_for(registry_app.db, "cunyi001")  # covers 001 and 101
    join_household(registry_app.db, cunyi001, resident_id=family["王小红"], household_id=household_id, relation="30")
    assert ("王小红", "女") in _members(registry_app, cunyi001, family["王大山"])
