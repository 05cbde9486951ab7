"""Every bound record type, one by one, on the demo branch: package round trip, version bump, audited edit.

A new record type is covered as soon as it is bound; only the audited edit needs a line here,
naming the service that edits it (or, for now, saying it has none).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date

import pytest
from core_support import actor_for
from sqlalchemy import Date, String, Text, select

from desktop.errors import PermissionDenied
from desktop.models import AuditEntry, SyncState
from desktop.rules.population import ResidentStatus
from desktop.services.branch import rename_village
from desktop.services.check_corrections import correct_health_check, stored_check, void_health_check
from desktop.services.chronic import end_enrolment
from desktop.services.households import set_head
from desktop.services.permissions import Permission
from desktop.services.record_moves import approve_move
from desktop.services.residents import set_status
from desktop.services.visit_corrections import correct_visit, stored_visit, void_visit
from desktop.sync.records import Binding, binding, bindings, read_records
from desktop.sync.site import require_enrolment
from township_wire.package import PackageHeader, build_package, read_package
from township_wire.types import record_problem

TYPES = [bound.name for bound in bindings()]


def _first_record(app, bound: Binding):
    with app.db.read() as session:
        return next(read_records(session, bound, limit=1))


@pytest.mark.parametrize("type_name", TYPES)
def test_a_record_survives_a_package_round_trip_and_the_head_hospital_accepts_it(enrolled_app, type_name) -> None:
    bound = binding(type_name)
    record = _first_record(enrolled_app, bound)
    with enrolled_app.db.read() as session:
        enrolment = require_enrolment(session)
    header = PackageHeader(package_id="00000000-0000-4000-8000-000000000001", site_id=enrolment.site_id, seq=1,
                           created_at="2026-11-23T10:00:00", recipient_key_id=enrolment.head_keys.key_id, checkpoint=0)
    content = build_package(header, [record], enrolment.site_keys)
    package = read_package(content, lambda key_id: enrolment.site_keys.public,
                           recipient_key_id=enrolment.head_keys.key_id)
    assert package.records == [record]
    assert not set(record.data) & set(bound.local)
    assert record_problem(record.type, record.uuid, record.version, record.data) is None


def _editable_column(bound: Binding) -> str:
    """A column any record of the type can take another value in: free text first, else an optional date."""
    unique = {column.name for index in bound.table.indexes if index.unique for column in index.columns}
    unique |= {column.name for constraint in bound.table.constraints if constraint.__class__.__name__ ==
               "UniqueConstraint" for column in constraint.columns}
    unique |= {column.name for column in bound.table.columns if column.unique}
    columns = [bound.table.c[name] for name in bound.plain if name not in unique]
    texts = [c for c in columns if isinstance(c.type, String | Text) and (c.type.length or 999) >= 20]
    dates = [c for c in columns if isinstance(c.type, Date) and c.nullable]
    ordered = sorted(texts, key=lambda c: not c.nullable) + dates
    assert ordered, f"{bound.name} has no column this test knows how to edit"
    return ordered[0].name


@pytest.mark.parametrize("type_name", TYPES)
def test_an_edit_bumps_the_version_and_sets_the_record_pending(enrolled_app, type_name) -> None:
    bound = binding(type_name)
    table, column = bound.table, _editable_column(bound)
    with enrolled_app.db.write() as session:
        row_id, version = session.execute(select(table.c.id, table.c.version).limit(1)).one()
        session.execute(table.update().where(table.c.id == row_id).values(sync_state=SyncState.SYNCED.value))
    with enrolled_app.db.write() as session:
        obj = session.get(bound.model, row_id)
        value = date(2020, 1, 1) if isinstance(table.c[column].type, Date) else "核对修改"
        setattr(obj, column, value)
    with enrolled_app.db.read() as session:
        after = session.execute(select(table.c.version, table.c.sync_state).where(table.c.id == row_id)).one()
    assert tuple(after) == (version + 1, SyncState.PENDING.value)


def _edit_village(app, actor) -> tuple[str, int]:
    village_id = _first_id(app, "village")
    rename_village(app.db, actor, village_id, "核对村")
    return "village", village_id


def _first_id(app, type_name: str, where=None) -> int:
    table = binding(type_name).table
    with app.db.read() as session:
        query = select(table.c.id).order_by(table.c.id).limit(1)
        return session.execute(query if where is None else query.where(where)).scalar_one()


def _edit_resident(app, actor) -> tuple[str, int]:
    table = binding("resident").table
    resident_id = _first_id(app, "resident", table.c.status == ResidentStatus.ACTIVE.value)
    set_status(app.db, actor, resident_id, ResidentStatus.ACTIVE, on=None, note="核对无误")
    return "resident", resident_id


def _edit_household(app, actor) -> tuple[str, int]:
    residents = binding("resident").table
    households = binding("household").table
    with app.db.read() as session:
        household_id, member_id = session.execute(
            select(households.c.id, residents.c.id).join(residents, residents.c.household_id == households.c.id)
            .where(residents.c.id != households.c.head_id).order_by(households.c.id).limit(1)).one()
    set_head(app.db, actor, household_id=household_id, resident_id=member_id)
    return "household", household_id


def _edit_enrolment(app, actor) -> tuple[str, int]:
    table = binding("chronic_enrolment").table
    enrolment_id = _first_id(app, "chronic_enrolment", table.c.ended_on.is_(None))
    end_enrolment(app.db, actor, enrolment_id, on=date.today(), reason="迁出本辖区")
    return "chronic_enrolment", enrolment_id


def _latest_visit_id(app) -> int:
    table = binding("followup_visit").table
    with app.db.read() as session:
        return session.execute(select(table.c.id).where(table.c.deleted.is_(False))
                               .order_by(table.c.visit_date.desc(), table.c.id.desc()).limit(1)).scalar_one()


def _edit_visit(app, actor) -> tuple[str, int]:
    visit_id = _latest_visit_id(app)
    opened = stored_visit(app.db, actor, visit_id)
    correct_visit(app.db, actor, visit_id, replace(opened.data, doctor_name="核对医生"), reason="随访医生填错",
                  expected_version=opened.version)
    return "followup_visit", visit_id


def _edit_check(app, actor) -> tuple[str, int]:
    check_id = _first_id(app, "health_check")
    opened = stored_check(app.db, actor, check_id)
    correct_health_check(app.db, actor, check_id, replace(opened.data, doctor_name="核对医生"),
                         reason="责任医生填错", expected_version=opened.version)
    return "health_check", check_id


def _edit_transfer(app, actor) -> tuple[str, int]:
    table = binding("resident_transfer").table
    transfer_id = _first_id(app, "resident_transfer", table.c.status == "pending")
    approve_move(app.db, actor, transfer_id, note="已核实")
    return "resident_transfer", transfer_id


# type -> (who edits it, the edit through its service: returns the entity type audited and the row id)
SERVICE_EDITS: dict[str, tuple[str, Callable]] = {
    "village": ("admin", _edit_village),
    "resident": ("gongwei1", _edit_resident),
    "household": ("gongwei1", _edit_household),
    "chronic_enrolment": ("gongwei1", _edit_enrolment),
    "followup_visit": ("gongwei1", _edit_visit),
    "health_check": ("gongwei1", _edit_check),
    "resident_transfer": ("luru1", _edit_transfer),
}
# Types no service edits yet (records are created, audited, and then only travel); when one gains
# an edit service it moves to SERVICE_EDITS.
NO_EDIT_SERVICE = {"village_clinic", "staff", "resident_condition"}


def test_every_type_says_how_it_is_edited() -> None:
    assert set(SERVICE_EDITS) | NO_EDIT_SERVICE == set(TYPES)
    assert not set(SERVICE_EDITS) & NO_EDIT_SERVICE


@pytest.mark.parametrize("type_name", sorted(SERVICE_EDITS))
def test_an_edit_through_its_service_is_audited_and_pending(enrolled_app, type_name) -> None:
    username, edit = SERVICE_EDITS[type_name]
    table = binding(type_name).table
    with enrolled_app.db.write() as session:
        session.execute(table.update().values(sync_state=SyncState.SYNCED.value))
    with enrolled_app.db.read() as session:
        versions = dict(session.execute(select(table.c.id, table.c.version)).all())
        last_seq = session.scalar(select(AuditEntry.seq).order_by(AuditEntry.seq.desc()).limit(1))
    edited_type, row_id = edit(enrolled_app, actor_for(enrolled_app.db, username))
    with enrolled_app.db.read() as session:
        uuid, version, state = session.execute(select(table.c.uuid, table.c.version, table.c.sync_state)
                                               .where(table.c.id == row_id)).one()
        entries = session.execute(select(AuditEntry.actor, AuditEntry.entity_type, AuditEntry.entity_id)
                                  .where(AuditEntry.seq > last_seq)).all()
    assert (version, state) == (versions[row_id] + 1, SyncState.PENDING.value)
    assert (username, edited_type, uuid) in [tuple(entry) for entry in entries]


def _outside(app, type_name: str, village_ids) -> int:
    """A row of the type whose resident (or household) lives outside `village_ids`."""
    table, residents = binding(type_name).table, binding("resident").table
    village = table.c.village_id if "village_id" in table.c else residents.c.village_id
    query = select(table.c.id).where(village.not_in(village_ids)).order_by(table.c.id).limit(1)
    if "resident_id" in table.c:
        query = query.join(residents, residents.c.id == table.c.resident_id)
    with app.db.read() as session:
        return session.execute(query).scalar_one()


def _head_change(app, household_id: int) -> dict:
    residents = binding("resident").table
    with app.db.read() as session:
        member = session.execute(select(residents.c.id).where(residents.c.household_id == household_id)
                                 .order_by(residents.c.id.desc()).limit(1)).scalar_one()
    return {"household_id": household_id, "resident_id": member}


# type -> the edit a village doctor tries on a record outside their villages
OUT_OF_SCOPE_EDITS: dict[str, Callable] = {
    "resident": lambda app, actor, row_id: set_status(app.db, actor, row_id, ResidentStatus.ACTIVE, on=None,
                                                      note="核对"),
    "household": lambda app, actor, row_id: set_head(app.db, actor, **_head_change(app, row_id)),
    "chronic_enrolment": lambda app, actor, row_id: end_enrolment(app.db, actor, row_id, on=date.today(),
                                                                  reason="迁出本辖区"),
    "followup_visit": lambda app, actor, row_id: void_visit(app.db, actor, row_id, reason="核对", expected_version=1),
    "health_check": lambda app, actor, row_id: void_health_check(app.db, actor, row_id, reason="核对",
                                                                 expected_version=1),
}


@pytest.mark.parametrize("type_name", sorted(OUT_OF_SCOPE_EDITS))
def test_a_village_doctor_cannot_edit_a_record_of_another_village(enrolled_app, type_name) -> None:
    doctor = actor_for(enrolled_app.db, "cunyi001")
    assert doctor.village_ids and doctor.can(Permission.EDIT_RESIDENTS) and doctor.can(Permission.EDIT_FOLLOWUPS)
    row_id = _outside(enrolled_app, type_name, doctor.village_ids)
    table = binding(type_name).table
    with enrolled_app.db.read() as session:
        before = session.execute(select(table).where(table.c.id == row_id)).one()
    with pytest.raises(PermissionDenied):
        OUT_OF_SCOPE_EDITS[type_name](enrolled_app, doctor, row_id)
    with enrolled_app.db.read() as session:
        assert session.execute(select(table).where(table.c.id == row_id)).one() == before


@pytest.mark.parametrize("type_name", TYPES)
def test_every_type_is_named_in_chinese_where_people_see_it(type_name) -> None:
    from desktop.services.audit_labels import entity_label
    from township_wire.types import type_label

    label = type_label(type_name)
    assert label != type_name and any("\u4e00" <= ch <= "\u9fff" for ch in label)
    assert entity_label(type_name) == label
