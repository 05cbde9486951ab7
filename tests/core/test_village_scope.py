"""The one village-scope rule: a village doctor acts only on residents of their own villages."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select

from desktop.errors import PermissionDenied
from desktop.services.permissions import (
    OUT_OF_SCOPE,
    Actor,
    Role,
    ensure_in_scope,
    in_village_scope,
    village_scope,
)

VILLAGE_DOCTOR = Actor(account_id=7, username="li", display_name="李医生", role=Role.VILLAGE_DOCTOR,
                       village_ids=frozenset({1, 3}))
CLERK = Actor(account_id=8, username="wang", display_name="王", role=Role.CLERK)


def test_a_village_doctor_is_limited_to_their_villages_and_others_are_not() -> None:
    assert [in_village_scope(VILLAGE_DOCTOR, village) for village in (1, 2, 3, None)] == [True, False, True, False]
    assert all(in_village_scope(CLERK, village) for village in (1, 2, 3, None))
    ensure_in_scope(VILLAGE_DOCTOR, 3)
    ensure_in_scope(CLERK, 2)
    with pytest.raises(PermissionDenied) as refused:
        ensure_in_scope(VILLAGE_DOCTOR, 2)
    assert refused.value.message == OUT_OF_SCOPE


def test_the_query_condition_follows_the_same_rule() -> None:
    people = Table("people", MetaData(), Column("id", Integer, primary_key=True), Column("village_id", Integer))
    engine = create_engine("sqlite://")
    people.metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(people), [{"id": n, "village_id": n % 4} for n in range(1, 13)])
        for actor in (VILLAGE_DOCTOR, CLERK):
            found = connection.scalars(select(people.c.village_id).where(village_scope(actor, people.c.village_id)))
            assert sorted(set(found)) == sorted(v for v in range(4) if in_village_scope(actor, v))
