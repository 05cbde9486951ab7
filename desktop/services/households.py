"""Households (户): who lives with whom, and who is the head (户主).

A household belongs to one village; every member has a relation to the head (GB/T 4761).
Each change is scoped, audited and bumps the records' versions in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop.changes import Changes
from desktop.db import Database
from desktop.errors import UserFacingError, ValidationError
from desktop.models import Household, Resident, Village
from desktop.rules.idnumbers import mask_id
from desktop.rules.population import HEAD_OF_HOUSEHOLD, RELATIONS
from desktop.services import audit
from desktop.services.audit import Action
from desktop.services.permissions import Actor, Permission, ensure_in_scope, require
from desktop.services.residents import load_for_write

OTHER_RELATION = "99"


@dataclass(frozen=True)
class Member:
    resident_id: int
    record_no: str
    name: str
    sex: str
    birth_date: date
    relation: str
    id_number: str
    status: str

    @property
    def relation_label(self) -> str:
        return RELATIONS.get(self.relation, "未填")


@dataclass(frozen=True)
class HouseholdView:
    """A household and its members, the head first."""

    id: int
    village_name: str
    address: str
    head_id: int | None
    members: tuple[Member, ...]


def household_of(db: Database, actor: Actor, resident_id: int) -> HouseholdView | None:
    """The household the resident belongs to, or None if they are in none."""
    require(actor, Permission.VIEW_RESIDENTS)
    full = actor.can(Permission.VIEW_IDENTITY)
    with db.read() as session:
        resident = session.get(Resident, resident_id)
        if resident is None or resident.deleted:
            raise UserFacingError("该档案不存在，请刷新后重试。")
        ensure_in_scope(actor, resident.village_id)
        if resident.household_id is None:
            return None
        return _view(session, session.get(Household, resident.household_id), full=full)


def _view(session: Session, household: Household, *, full: bool) -> HouseholdView:
    village = session.get(Village, household.village_id)
    rows = session.scalars(select(Resident).where(Resident.household_id == household.id,
                                                  Resident.deleted.is_(False))).all()
    members = sorted(
        (Member(r.id, r.record_no, r.name, r.sex, r.birth_date, r.relation_to_head or "",
                (r.id_number if full else mask_id(r.id_number)) if r.id_number else "", r.status)
         for r in rows),
        key=lambda m: (m.resident_id != household.head_id, m.relation, m.birth_date),
    )
    return HouseholdView(household.id, village.name if village else "", household.address,
                         household.head_id, tuple(members))


def start_household(db: Database, actor: Actor, head_id: int, *, expected_version: int | None = None) -> Changes:
    """Make the resident the head of a new household in their village (leaving any other)."""
    require(actor, Permission.EDIT_RESIDENTS)
    with db.write() as session:
        head = load_for_write(session, actor, head_id, expected_version=expected_version)
        if head.household_id is not None:
            _leave(session, head)
        household = Household(village_id=head.village_id, address=head.address)
        session.add(household)
        session.flush()
        head.household_id, head.relation_to_head = household.id, HEAD_OF_HOUSEHOLD
        household.head_id = head.id
        audit.record(session, actor, Action.CREATE, entity_type="household", entity_id=household.uuid,
                     summary=f"新建户，户主 {head.name}（{head.record_no}）")
        return Changes(residents=True, audit=True)


def join_household(db: Database, actor: Actor, *, resident_id: int, household_id: int, relation: str) -> Changes:
    """Put the resident into a household with the given relation to its head."""
    require(actor, Permission.EDIT_RESIDENTS)
    if relation not in RELATIONS or relation == HEAD_OF_HOUSEHOLD:
        raise ValidationError.single("relation_to_head", "请选择与户主的关系（设为户主请用“设为户主”）。")
    with db.write() as session:
        resident = load_for_write(session, actor, resident_id, expected_version=None)
        household = _household(session, actor, household_id)
        if household.village_id != resident.village_id:
            raise ValidationError.single("household", "同一户的成员应属于同一个村，请先修改该居民的所属村。")
        if household.head_id == resident.id:
            raise ValidationError.single("relation_to_head", f"{resident.name}是该户户主。要换户主，请用“设为户主”。")
        if resident.household_id not in (None, household.id):
            _leave(session, resident)
        resident.household_id, resident.relation_to_head = household.id, relation
        audit.record(session, actor, Action.UPDATE, entity_type="household", entity_id=household.uuid,
                     summary=f"{resident.name}（{resident.record_no}）入户，关系：{RELATIONS[relation]}")
        return Changes(residents=True, audit=True)


def leave_household(db: Database, actor: Actor, resident_id: int) -> Changes:
    """Take the resident out of their household (a head may leave only as the last member)."""
    require(actor, Permission.EDIT_RESIDENTS)
    with db.write() as session:
        resident = load_for_write(session, actor, resident_id, expected_version=None)
        if resident.household_id is None:
            raise UserFacingError("该居民不在任何户中。")
        household = session.get(Household, resident.household_id)
        _leave(session, resident)
        audit.record(session, actor, Action.UPDATE, entity_type="household", entity_id=household.uuid,
                     summary=f"{resident.name}（{resident.record_no}）出户")
        return Changes(residents=True, audit=True)


def set_head(db: Database, actor: Actor, *, household_id: int, resident_id: int) -> Changes:
    """Make a member the head; the former head's relation becomes 其他 until someone corrects it."""
    require(actor, Permission.EDIT_RESIDENTS)
    with db.write() as session:
        household = _household(session, actor, household_id)
        new_head = load_for_write(session, actor, resident_id, expected_version=None)
        if new_head.household_id != household.id:
            raise ValidationError.single("household", f"{new_head.name}不是该户成员，不能设为户主。")
        if household.head_id is not None and household.head_id != new_head.id:
            former = session.get(Resident, household.head_id)
            if former is not None:
                former.relation_to_head = OTHER_RELATION
        household.head_id, new_head.relation_to_head = new_head.id, HEAD_OF_HOUSEHOLD
        audit.record(session, actor, Action.UPDATE, entity_type="household", entity_id=household.uuid,
                     summary=f"户主改为 {new_head.name}（{new_head.record_no}）")
        return Changes(residents=True, audit=True)


def _household(session: Session, actor: Actor, household_id: int) -> Household:
    household = session.get(Household, household_id)
    if household is None or household.deleted:
        raise UserFacingError("该户不存在，请刷新后重试。")
    ensure_in_scope(actor, household.village_id)
    return household


def _leave(session: Session, resident: Resident) -> None:
    household = session.get(Household, resident.household_id)
    others = session.scalar(select(Resident.id).where(Resident.household_id == household.id,
                                                      Resident.id != resident.id, Resident.deleted.is_(False)))
    if household.head_id == resident.id:
        if others is not None:
            raise UserFacingError(f"{resident.name}是户主，户内还有其他成员。请先把户主改为其他成员。")
        household.head_id = None
        household.deleted = True
    resident.household_id, resident.relation_to_head = None, None
