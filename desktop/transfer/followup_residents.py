"""Finding the resident each follow-up row is about: by 身份证号, else by 档案编号; 姓名 must agree."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop.models import Resident
from desktop.rules.text import clean_name
from desktop.services.permissions import OUT_OF_SCOPE, Actor, in_village_scope
from desktop.transfer.followup_rows import VisitRow

CHUNK = 500


@dataclass
class RowPeople:
    """Rows with their resident, and rows refused with (row, field, message)."""

    found: list[tuple[VisitRow, Resident]] = field(default_factory=list)
    problems: list[tuple[VisitRow, str, str]] = field(default_factory=list)


def _chunks(values: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]


def _load(session: Session, column, keys: Iterable[str]) -> dict[str, Resident]:
    found: dict[str, Resident] = {}
    for chunk in _chunks(sorted(set(keys))):
        for resident in session.scalars(select(Resident).where(column.in_(chunk))):
            found[getattr(resident, column.key)] = resident
    return found


def find_people(session: Session, actor: Actor, rows: list[VisitRow]) -> RowPeople:
    """Each row's resident (loaded in the caller's session), or why it has none the actor may use."""
    by_id = _load(session, Resident.id_number, (r.id_number for r in rows if r.id_number))
    by_record = _load(session, Resident.record_no, (r.record_no for r in rows if r.record_no))
    people = RowPeople()
    for row in rows:
        resident, field_name, problem = _match(row, by_id, by_record)
        if resident is not None and not in_village_scope(actor, resident.village_id):
            field_name, problem = "id_number" if row.id_number else "record_no", OUT_OF_SCOPE  # naming no one
        elif resident is not None and not problem:
            field_name, problem = _refusal(row, resident)
        if problem:
            people.problems.append((row, field_name, problem))
        else:
            people.found.append((row, resident))
    return people


def _match(row: VisitRow, by_id: dict[str, Resident],
           by_record: dict[str, Resident]) -> tuple[Resident | None, str, str]:
    if row.id_number:
        resident = by_id.get(row.id_number)
        if resident is None:
            return None, "id_number", "本分院没有该身份证号的居民档案。"
        if row.record_no and row.record_no != resident.record_no:
            return resident, "record_no", f"与该身份证号的档案编号 {resident.record_no} 不一致。"
        return resident, "", ""
    resident = by_record.get(row.record_no)
    if resident is None:
        return None, "record_no", f"本分院没有编号为 {row.record_no} 的居民档案。"
    return resident, "", ""


def _refusal(row: VisitRow, resident: Resident) -> tuple[str, str]:
    if row.name and clean_name(row.name) != resident.name:
        return "name", f"“{row.name}”与档案（{resident.record_no}）中的姓名“{resident.name}”不一致。"
    if resident.deleted:
        return "id_number" if row.id_number else "record_no", f"该居民的档案（{resident.record_no}）已删除。"
    return "", ""
