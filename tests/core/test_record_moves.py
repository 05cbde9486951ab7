"""Record moves between villages: the village doctor asks without seeing the record, the branch decides."""

from __future__ import annotations

import pytest
from core_support import actor_for, person
from sqlalchemy import select

from desktop.app import App
from desktop.errors import PermissionDenied, UserFacingError, ValidationError
from desktop.models import AuditEntry, Household, Resident, ResidentTransfer, Village
from desktop.services.due import due_list
from desktop.services.households import join_household, start_household
from desktop.services.record_moves import (
    MoveDueKind,
    MoveStatus,
    approve_move,
    decision_for,
    decision_text,
    my_move_requests,
    pending_moves,
    refuse_move,
    request_move,
)
from desktop.services.resident_query import get_resident
from desktop.services.residents import DuplicateElsewhere, DuplicateResident, create_resident

NAME = "钱二"


def _village(app: App, code: str) -> int:
    with app.db.read() as session:
        return session.scalar(select(Village.id).where(Village.code == code))


def _registered_in_101(app: App) -> tuple[int, str, str]:
    """(resident id, ID number, record number) of 钱二, registered in village 101 by the clerk."""
    data = person(NAME, "1970-05-06", sequence=13, village="101")
    saved = create_resident(app.db, actor_for(app.db, "luru1"), data)
    return saved.resident_id, data.id_number, saved.record_no


def test_a_village_doctor_meeting_anothers_resident_is_not_shown_their_name_or_record_number(
    registry_app: App,
) -> None:
    _, number, record_no = _registered_in_101(registry_app)
    doctor = actor_for(registry_app.db, "cunyi102")
    with pytest.raises(DuplicateElsewhere) as caught:
        create_resident(registry_app.db, doctor, person(NAME, "1970-05-06", sequence=13, village="102"))
    message = caught.value.errors["id_number"]
    assert NAME not in message and record_no not in message and "申请把档案迁入本村" in message
    assert caught.value.id_number == number
    with pytest.raises(DuplicateResident) as shown:  # the branch, which sees every village, is pointed to it
        create_resident(registry_app.db, actor_for(registry_app.db, "luru2"),
                        person(NAME, "1970-05-06", sequence=13, village="102"))
    assert NAME in shown.value.errors["id_number"] and record_no in shown.value.errors["id_number"]


def test_a_request_approved_by_the_branch_moves_the_record_into_the_village(registry_app: App) -> None:
    resident_id, number, record_no = _registered_in_101(registry_app)
    doctor, clerk = actor_for(registry_app.db, "cunyi102"), actor_for(registry_app.db, "luru1")
    asked = request_move(registry_app.db, doctor, id_number=number, to_village_id=_village(registry_app, "102"),
                         reason="已随女儿住到本村")
    assert (asked.status, asked.resident_id, asked.resident_name) == (MoveStatus.PENDING, None, "")
    assert asked.id_number_masked.endswith(number[-4:]) and "*" in asked.id_number_masked
    with pytest.raises(UserFacingError, match="已有一份待审批"):
        request_move(registry_app.db, doctor, id_number=number, to_village_id=_village(registry_app, "102"))
    [pending] = pending_moves(registry_app.db, clerk)
    assert (pending.name, pending.record_no, pending.from_village, pending.reason) == (
        NAME, record_no, "柳树村", "已随女儿住到本村")
    due = due_list(registry_app.db, clerk, on=pending.requested_at.date())
    assert [(i.resident_id, i.kind) for i in due.items if i.kind == MoveDueKind.PENDING] == [
        (resident_id, MoveDueKind.PENDING)]
    assert not [i for i in due_list(registry_app.db, doctor, on=pending.requested_at.date()).items
                if i.kind == MoveDueKind.PENDING]
    with pytest.raises(PermissionDenied):
        get_resident(registry_app.db, doctor, resident_id)
    approve_move(registry_app.db, clerk, pending.id)
    with registry_app.db.read() as session:
        stored = session.get(Resident, resident_id)
        staff_id = doctor.staff_id
        assert (stored.village_id, stored.record_no, stored.responsible_doctor_id) == (
            _village(registry_app, "102"), record_no, staff_id)
        summaries = list(session.scalars(select(AuditEntry.summary).order_by(AuditEntry.seq.desc()).limit(2)))
    detail = get_resident(registry_app.db, doctor, resident_id)
    assert detail.name == NAME and pending_moves(registry_app.db, clerk) == []
    assert summaries == [f"同意 {NAME}（{record_no}）迁入桃园村", f"{record_no} 迁入桃园村"]
    [outcome] = my_move_requests(registry_app.db, doctor)
    assert (outcome.status, outcome.resident_id, outcome.resident_name) == (MoveStatus.APPROVED, resident_id, NAME)
    notices = [i for i in due_list(registry_app.db, doctor, on=pending.requested_at.date()).items
               if i.kind == MoveDueKind.DECIDED]
    assert [(i.name, i.record_no, i.village_name) for i in notices] == [(NAME, record_no, "桃园村（已同意）")]
    with pytest.raises(UserFacingError, match="已处理"):
        approve_move(registry_app.db, clerk, pending.id)


def test_a_refusal_needs_a_reason_and_the_requester_reads_it_without_the_name(registry_app: App) -> None:
    resident_id, number, _ = _registered_in_101(registry_app)
    doctor, public_health = actor_for(registry_app.db, "cunyi102"), actor_for(registry_app.db, "gongwei1")
    asked = request_move(registry_app.db, doctor, id_number=number, to_village_id=_village(registry_app, "102"))
    with pytest.raises(ValidationError) as caught:
        refuse_move(registry_app.db, public_health, asked.id, note=" ")
    assert "理由" in caught.value.errors["decision_note"]
    refuse_move(registry_app.db, public_health, asked.id, note="经核实仍住柳树村")
    [outcome] = my_move_requests(registry_app.db, doctor)
    assert (outcome.status, outcome.decision_note, outcome.resident_id, outcome.resident_name) == (
        MoveStatus.REFUSED, "经核实仍住柳树村", None, "")
    [notice] = [i for i in due_list(registry_app.db, doctor, on=outcome.decided_at.date()).items
                if i.kind == MoveDueKind.DECIDED]
    assert (notice.name, notice.record_no, notice.village_name) == (
        f"身份证号 {outcome.id_number_masked}", "", "桃园村（未同意）")
    assert NAME not in decision_text(decision_for(registry_app.db, doctor, resident_id))
    assert decision_for(registry_app.db, doctor, resident_id).decision_note == "经核实仍住柳树村"
    with registry_app.db.read() as session:
        assert session.get(Resident, resident_id).village_id == _village(registry_app, "101")


def test_requests_and_decisions_outside_ones_role_or_villages_are_refused(registry_app: App) -> None:
    _, number, _ = _registered_in_101(registry_app)
    doctor = actor_for(registry_app.db, "cunyi102")
    with pytest.raises(PermissionDenied):  # into a village the doctor does not serve
        request_move(registry_app.db, doctor, id_number=number, to_village_id=_village(registry_app, "001"))
    with pytest.raises(PermissionDenied):  # the branch changes the village itself
        request_move(registry_app.db, actor_for(registry_app.db, "jiating1"), id_number=number,
                     to_village_id=_village(registry_app, "102"))
    with pytest.raises(UserFacingError, match="在您负责的村"):  # cunyi001 serves 001 and 101
        request_move(registry_app.db, actor_for(registry_app.db, "cunyi001"), id_number=number,
                     to_village_id=_village(registry_app, "001"))
    with pytest.raises(ValidationError, match="没有身份证号为"):
        request_move(registry_app.db, doctor, id_number="110101199003070011",
                     to_village_id=_village(registry_app, "102"))
    asked = request_move(registry_app.db, doctor, id_number=number, to_village_id=_village(registry_app, "102"))
    for who in ("cunyi102", "jiating1", "kaohe1"):
        with pytest.raises(PermissionDenied):
            approve_move(registry_app.db, actor_for(registry_app.db, who), asked.id)
        with pytest.raises(PermissionDenied):
            pending_moves(registry_app.db, actor_for(registry_app.db, who))
    with registry_app.db.read() as session:
        assert session.get(ResidentTransfer, asked.id).status == MoveStatus.PENDING.value


def test_the_resident_moves_alone_and_a_head_with_family_at_home_hands_on_first(registry_app: App) -> None:
    clerk = actor_for(registry_app.db, "luru1")
    head_id, number, _ = _registered_in_101(registry_app)
    spouse = create_resident(registry_app.db, clerk, person("钱妻", "1972-01-01", sequence=14, village="101"))
    start_household(registry_app.db, clerk, head_id)
    with registry_app.db.read() as session:
        household_id = session.get(Resident, head_id).household_id
    join_household(registry_app.db, clerk, resident_id=spouse.resident_id, household_id=household_id, relation="10")
    asked = request_move(registry_app.db, actor_for(registry_app.db, "cunyi102"), id_number=number,
                         to_village_id=_village(registry_app, "102"))
    with pytest.raises(UserFacingError, match="是户主，户内还有其他成员"):
        approve_move(registry_app.db, clerk, asked.id)
    from desktop.services.households import set_head

    set_head(registry_app.db, clerk, household_id=household_id, resident_id=spouse.resident_id)
    approve_move(registry_app.db, clerk, asked.id)
    with registry_app.db.read() as session:
        moved, stayed = session.get(Resident, head_id), session.get(Resident, spouse.resident_id)
        household = session.get(Household, household_id)
        assert (moved.household_id, moved.relation_to_head) == (None, None)
        assert (stayed.household_id, stayed.village_id, household.head_id, household.deleted) == (
            household_id, _village(registry_app, "101"), spouse.resident_id, False)
