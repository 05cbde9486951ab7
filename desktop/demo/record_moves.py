"""Demo record moves: village doctors who met residents of other villages, and the branch's decisions.

Three requests through the service, as people make them: one approved, one refused with a note,
one still waiting on the home page of the clerk and the public-health doctors. A branch that
already has requests keeps them (topping the demo up adds none).
"""

from __future__ import annotations

import random

from sqlalchemy import select

from desktop.db import Database
from desktop.demo.steps import DemoContext, DemoStep
from desktop.models import Account, Household, Resident, ResidentTransfer
from desktop.services.auth import actor_of
from desktop.services.permissions import Actor, Role
from desktop.services.record_moves import approve_move, refuse_move, request_move

REASONS = ("已随子女住到本村", "在本村租房务工", "嫁到本村")


def _actors(db: Database) -> tuple[list[Actor], Actor | None]:
    """The village doctors (by user name) and the first clerk."""
    with db.read() as session:
        accounts = list(session.scalars(select(Account).where(Account.role.in_(
            (Role.VILLAGE_DOCTOR.value, Role.CLERK.value))).order_by(Account.username)))
        actors = [actor_of(account) for account in accounts]
    doctors = [actor for actor in actors if actor.role is Role.VILLAGE_DOCTOR and actor.village_ids]
    clerk = next((actor for actor in actors if actor.role is Role.CLERK), None)
    return doctors, clerk


def _movable(db: Database, doctor: Actor, rng: random.Random) -> str | None:
    """The ID number of an active resident outside the doctor's villages who is not a household head."""
    with db.read() as session:
        heads = select(Household.head_id).where(Household.head_id.is_not(None))
        candidates = list(session.scalars(
            select(Resident.id_number).where(
                Resident.village_id.not_in(doctor.village_ids), Resident.status == "active",
                Resident.id_number.is_not(None), Resident.deleted.is_(False), Resident.id.not_in(heads))
            .order_by(Resident.id).limit(200)))
        return rng.choice(candidates) if candidates else None


def add_demo_moves(db: Database, rng: random.Random) -> int:
    """One approved, one refused and one pending request; returns how many were made."""
    with db.read() as session:
        if session.scalar(select(ResidentTransfer.id).limit(1)) is not None:
            return 0
    doctors, clerk = _actors(db)
    made = 0
    for doctor, outcome in zip(doctors[1:4], ("approve", "refuse", "pending"), strict=False):
        id_number = _movable(db, doctor, rng)
        if id_number is None or clerk is None:
            continue
        asked = request_move(db, doctor, id_number=id_number, to_village_id=min(doctor.village_ids),
                             reason=rng.choice(REASONS))
        if outcome == "approve":
            approve_move(db, clerk, asked.id, note="已电话核实")
        elif outcome == "refuse":
            refuse_move(db, clerk, asked.id, note="经核实该居民仍在原村居住")
        made += 1
    return made


def record_moves_step(db: Database, rng: random.Random, context: DemoContext) -> None:
    """A few record-move requests and their decisions."""
    context.made["record_moves"] = add_demo_moves(db, rng)


STEP = DemoStep("record_moves", "正在生成档案迁村申请……", record_moves_step, weight=0.02)
