"""How to reach the people on a work list: phone (masked per role), address, sex, age, responsible doctor.

Lists are computed first (due items, indicator verdicts) and then given their contacts here,
in one indexed look-up by resident id, so the computation itself stays unchanged. The phone is
masked as on the residents list: in full only for roles that may see ID and phone numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop.db import Database
from desktop.models import Resident, Staff
from desktop.rules.phones import mask_phone
from desktop.services.indicator_base import PersonVerdict
from desktop.services.permissions import Actor, Permission, village_scope

CHUNK = 900  # ids per IN (...) — below SQLite's bound-parameter limit


@dataclass(frozen=True)
class Contact:
    """One listed resident's contact details as the viewer may see them."""

    resident_id: int
    sex: str
    birth_date: date
    phone: str
    address: str
    doctor_id: int | None
    doctor_name: str


def shown_phone(phone: str | None, *, full: bool) -> str:
    """The phone as the viewer may see it (138****8000 unless the role may see numbers in full)."""
    return "" if not phone else phone if full else mask_phone(phone)


def contacts_for(session: Session, actor: Actor, ids: Iterable[int]) -> dict[int, Contact]:
    """resident id -> contact, for the ids the actor may see (others are left out)."""
    full = actor.can(Permission.VIEW_IDENTITY)
    wanted = sorted(set(ids))
    found: dict[int, Contact] = {}
    for start in range(0, len(wanted), CHUNK):
        rows = session.execute(
            select(Resident.id, Resident.sex, Resident.birth_date, Resident.phone, Resident.address,
                   Resident.responsible_doctor_id, Staff.name)
            .outerjoin(Staff, Staff.id == Resident.responsible_doctor_id)
            .where(Resident.id.in_(wanted[start:start + CHUNK]), village_scope(actor, Resident.village_id)))
        for rid, sex, born, phone, address, doctor_id, doctor in rows:
            found[rid] = Contact(rid, sex, born, shown_phone(phone, full=full), address or "", doctor_id, doctor or "")
    return found


def lookup_contacts(db: Database, actor: Actor, ids: Iterable[int]) -> dict[int, Contact]:
    """`contacts_for` in its own read."""
    with db.read() as session:
        return contacts_for(session, actor, ids)


def verdicts_with_contacts(db: Database, actor: Actor,
                           verdicts: Sequence[PersonVerdict]) -> tuple[PersonVerdict, ...]:
    """The indicator verdicts with each person's phone (masked per role) and address filled in."""
    contacts = lookup_contacts(db, actor, (v.resident_id for v in verdicts))
    return tuple(v._replace(phone=c.phone, address=c.address) if (c := contacts.get(v.resident_id)) else v
                 for v in verdicts)
