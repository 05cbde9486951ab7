"""Demo record moves: village doctors who met residents of other villages, and the branch's decisions.

Three requests, as people make them: one approved (the resident now lives in the requester's
village, alone in a household of their own, and keeps their record number), one refused with a
note, one still waiting on the home page of the clerk and the public-health doctors. Like the
other steps it writes rows directly (no audit entries); a branch that already has requests keeps
them (topping the demo up adds none).
"""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from desktop.clock import now
from desktop.db import Database
from desktop.demo.steps import DemoContext, DemoStep
from desktop.models import Account, Household, Resident, ResidentTransfer
from desktop.models.sync_columns import new_sync_rows
from desktop.rules.population import HEAD_OF_HOUSEHOLD
from desktop.services.auth import actor_of
from desktop.services.permissions import Actor, Role
from desktop.services.record_moves import MoveStatus

REASONS = ("已随子女住到本村", "在本村租房务工", "嫁到本村")
OUTCOMES = (MoveStatus.APPROVED, MoveStatus.REFUSED, MoveStatus.PENDING)


def _actors(session: Session) -> tuple[list[Actor], Actor | None]:
    """The village doctors (by user name) and the first clerk."""
    accounts = session.scalars(select(Account).where(Account.role.in_(
        (Role.VILLAGE_DOCTOR.value, Role.CLERK.value))).order_by(Account.username))
    actors = [actor_of(account) for account in accounts]
    doctors = [actor for actor in actors if actor.role is Role.VILLAGE_DOCTOR and actor.village_ids]
    clerk = next((actor for actor in actors if actor.role is Role.CLERK), None)
    return doctors, clerk


def _movable(session: Session, doctor: Actor, rng: random.Random, taken: set[int]) -> Resident | None:
    """An active resident with an ID number outside the doctor's villages who is not a household head."""
    heads = select(Household.head_id).where(Household.head_id.is_not(None))
    candidates = [r for r in session.scalars(
        select(Resident).where(
            Resident.village_id.not_in(doctor.village_ids), Resident.status == "active",
            Resident.id_number.is_not(None), Resident.deleted.is_(False), Resident.id.not_in(heads))
        .order_by(Resident.id).limit(200)) if r.id not in taken]
    return rng.choice(candidates) if candidates else None


def _move_in(session: Session, resident: Resident, village_id: int, doctor: Actor) -> None:
    """The approved move: the resident heads a new household in the village, with the requester as doctor."""
    household = Household(village_id=village_id, address=resident.address)
    session.add(household)
    session.flush()
    household.head_id = resident.id
    resident.village_id, resident.household_id, resident.relation_to_head = village_id, household.id, HEAD_OF_HOUSEHOLD
    resident.responsible_doctor_id = doctor.staff_id or resident.responsible_doctor_id


def add_demo_moves(db: Database, rng: random.Random) -> int:
    """One approved, one refused and one pending request; returns how many were made."""
    with db.write() as session:
        if session.scalar(select(ResidentTransfer.id).limit(1)) is not None:
            return 0
        doctors, clerk = _actors(session)
        rows, taken, stamp = [], set(), now().replace(microsecond=0)
        for doctor, outcome in zip(doctors[1:4], OUTCOMES, strict=False):
            resident = _movable(session, doctor, rng, taken)
            if resident is None or clerk is None:
                continue
            taken.add(resident.id)
            to_village = min(doctor.village_ids)
            asked = stamp - timedelta(days=rng.randint(4, 9) if outcome is not MoveStatus.PENDING else 1)
            row = {"resident_id": resident.id, "from_village_id": resident.village_id, "to_village_id": to_village,
                   "reason": rng.choice(REASONS), "requested_by": doctor.username, "requested_at": asked,
                   "status": outcome.value}
            if outcome is not MoveStatus.PENDING:
                note = "已电话核实" if outcome is MoveStatus.APPROVED else "经核实该居民仍在原村居住"
                row |= {"decided_by": clerk.username, "decided_at": asked + timedelta(days=1), "decision_note": note}
            if outcome is MoveStatus.APPROVED:
                _move_in(session, resident, to_village, doctor)
            rows.append(row)
        if rows:
            session.execute(insert(ResidentTransfer), new_sync_rows(session, ResidentTransfer, rows))
        return len(rows)


def record_moves_step(db: Database, rng: random.Random, context: DemoContext) -> None:
    """A few record-move requests and their decisions."""
    context.made["record_moves"] = add_demo_moves(db, rng)


STEP = DemoStep("record_moves", "正在生成档案迁村申请……", record_moves_step, weight=0.02)
