"""Finding residents: the one-box search, filtered lists for the lazy table, details.

Every query is limited to the actor's villages when the actor is a village doctor, and
ID and phone numbers are masked unless the role may see them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, func, null, select
from sqlalchemy.orm import Session

from desktop.clock import now
from desktop.db import Database
from desktop.errors import UserFacingError
from desktop.models import Resident, ResidentCondition, Village
from desktop.rules.dates import age_on
from desktop.rules.idnumbers import mask_id, normalise_id, upgrade_15
from desktop.rules.phones import mask_phone
from desktop.rules.population import KeyPopulation, ResidentStatus, birth_range_for_age_group
from desktop.rules.profile import Profile, profile_of
from desktop.rules.text import clean_name, squeeze
from desktop.services.access_audit import list_shown, refusals_audited, search_words
from desktop.services.people_names import display_name
from desktop.services.permissions import Actor, Permission, ensure_in_scope, require, village_scope

EXACT, PREFIX, PARTIAL = 0, 1, 2
MIDDLE = 3  # a name containing the text neither at its start nor its end: looked for only when nothing else matched
_CJK = re.compile(r"[\u3400-\u9fff]")
_LETTERS = re.compile(r"[a-z]+", re.ASCII)
_BIRTH_DATE = re.compile(r"((?:19|20)\d\d)(?:([-/.])(\d{1,2})\2(\d{1,2})|(\d\d)(\d\d))", re.ASCII)


@dataclass(frozen=True)
class ResidentRow:
    """One line of a resident list, masked for the viewer's role."""

    id: int
    record_no: str
    name: str
    sex: str
    birth_date: date
    age: int
    id_number: str
    phone: str
    village_code: str
    village_name: str
    address: str
    status: str
    version: int


def scoped(query: Select[Any], actor: Actor) -> Select[Any]:
    """Limit a resident query to the actor's villages (village doctors only)."""
    return query.where(village_scope(actor, Resident.village_id))


def _prefix(column: Any, value: str) -> Any:
    """An index-friendly 'starts with' (a range, not LIKE)."""
    upper = value[:-1] + chr(ord(value[-1]) + 1)
    return and_(column >= value, column < upper)


@dataclass(frozen=True)
class StartsWith:
    """A key starting with `value`: one indexed range, read in key order, exact matches ranked first."""

    column: Any
    value: str


def search_conditions(query: str) -> list[tuple[int, Any]]:
    """(rank, condition) pairs for what the text in the search box can mean (see `StartsWith`)."""
    text = squeeze(query)
    if not text:
        return []
    if _CJK.search(text):
        name = clean_name(text)
        return [(PREFIX, StartsWith(Resident.name, name)),
                (PARTIAL, _prefix(Resident.name_rev, name[::-1])),
                (MIDDLE, _name_contains(name))]
    lowered = text.lower()
    if _LETTERS.fullmatch(lowered):
        return [(PREFIX, StartsWith(Resident.name_initials, lowered)), (PREFIX, StartsWith(Resident.name_pinyin, lowered))]
    born = birth_date_of(text)
    if born is not None and not text.isdigit():
        return [(EXACT, Resident.birth_date == born)]
    found = [(EXACT, Resident.birth_date == born)] if born is not None else []
    return found + _number_conditions(normalise_id(text).replace("-", ""))


def birth_date_of(text: str) -> date | None:
    """The day a search text names as a birth date: 19841021, 1984-10-21, 1984/10/21 or 1984.10.21."""
    match = _BIRTH_DATE.fullmatch(text)
    if match is None:
        return None
    year, _sep, month, day, compact_month, compact_day = match.groups()
    try:
        return date(int(year), int(month or compact_month), int(day or compact_day))
    except ValueError:
        return None


def _name_contains(name: str) -> Any:
    """Names containing `name` anywhere: a scan of the name index only (not of the wide resident rows)."""
    return Resident.id.in_(select(Resident.id).where(Resident.name.contains(name, autoescape=True)))


def _number_conditions(number: str) -> list[tuple[int, Any]]:
    if not re.fullmatch(r"\d+X?", number, re.ASCII):
        return []
    found: list[tuple[int, Any]] = []
    length = len(number)
    if length == 18:
        found.append((EXACT, Resident.id_number == number))
    if length == 17 and number.isdigit():
        found.append((EXACT, Resident.record_no == number))
    if length == 15 and number.isdigit():
        found.append((EXACT, Resident.id_number == upgrade_15(number)))
    if length == 11 and number.startswith("1"):
        found.append((EXACT, Resident.phone == number))
    tail = number[::-1]
    if 4 <= length <= 6:
        found.append((PREFIX, _prefix(Resident.id_number_rev, tail)))
    if 4 <= length <= 8 and number.isdigit():
        found.append((PREFIX, _prefix(Resident.record_no_rev, tail)))
    if length == 4:
        found.append((PREFIX, _prefix(Resident.phone_rev, tail)))
    return found


def _statement(condition: Any) -> Select[Any]:
    if isinstance(condition, StartsWith):
        return (select(Resident.id, Resident.name_pinyin, condition.column)
                .where(_prefix(condition.column, condition.value), Resident.deleted.is_(False))
                .order_by(condition.column))
    return select(Resident.id, Resident.name_pinyin, null()).where(condition, Resident.deleted.is_(False))


def ranked_ids(session: Session, actor: Actor, query: str, *, limit: int, extra: Any = None) -> list[int]:
    """Resident ids matching the search text: exact before prefix before partial, then by pinyin.

    A name part is looked for at the start and at the end of names (both indexed); anywhere
    inside a name (a scan of the register) only when nothing else matched.
    """
    best: dict[int, tuple[int, str]] = {}
    for rank, condition in search_conditions(query):
        if (rank == PARTIAL and len(best) >= limit) or (rank == MIDDLE and best):
            break
        statement = _statement(condition)
        # "+ 0": the key's index, not the village's, drives the lookup
        statement = statement.where(village_scope(actor, Resident.village_id + 0))
        if extra is not None:
            statement = statement.where(extra)
        for resident_id, pinyin, key in session.execute(statement.limit(limit)):
            found = EXACT if isinstance(condition, StartsWith) and key == condition.value else rank
            if resident_id not in best or best[resident_id][0] > found:
                best[resident_id] = (found, pinyin)
    ordered = sorted(best.items(), key=lambda item: (item[1][0], item[1][1], item[0]))
    return [resident_id for resident_id, _ in ordered[:limit]]


@dataclass(frozen=True)
class ResidentFilter:
    """What the list page asks for; empty fields do not filter."""

    query: str = ""
    village_id: int | None = None
    status: ResidentStatus | None = ResidentStatus.ACTIVE
    key_population: KeyPopulation | None = None
    on: date | None = None


SORT_COLUMNS = {
    "record_no": Resident.record_no, "name": Resident.name_pinyin, "sex": Resident.sex,
    "birth_date": Resident.birth_date, "village": Resident.village_id, "status": Resident.status,
}


def filter_conditions(flt: ResidentFilter) -> list[Any]:
    conditions: list[Any] = [Resident.deleted.is_(False)]
    if flt.village_id is not None:
        conditions.append(Resident.village_id == flt.village_id)
    if flt.status is not None:
        conditions.append(Resident.status == flt.status.value)
    group = flt.key_population
    if group is not None and group.is_age_based:
        earliest, latest = birth_range_for_age_group(group, flt.on or now().date())
        if earliest:
            conditions.append(Resident.birth_date >= earliest)
        if latest:
            conditions.append(Resident.birth_date <= latest)
    elif group is not None:
        conditions.append(Resident.id.in_(select(ResidentCondition.resident_id).where(
            ResidentCondition.kind == group.value, ResidentCondition.deleted.is_(False))))
    return conditions


def list_ids(db: Database, actor: Actor, flt: ResidentFilter, *, sort: str = "record_no",
             descending: bool = False, search_limit: int = 1000) -> list[int]:
    """Ids of the residents the list shows, in order (search ranking when there is a query)."""
    require(actor, Permission.VIEW_RESIDENTS)
    conditions = filter_conditions(flt)
    with db.read() as session:
        if squeeze(flt.query):
            return ranked_ids(session, actor, flt.query, limit=search_limit, extra=and_(*conditions))
        column = SORT_COLUMNS.get(sort, Resident.record_no)
        order = [column.desc() if descending else column, Resident.id]
        return list(session.scalars(scoped(select(Resident.id).where(*conditions), actor).order_by(*order)))


_ROW_COLUMNS = (Resident.id, Resident.record_no, Resident.name, Resident.sex, Resident.birth_date, Resident.id_number,
                Resident.phone, Village.code, Village.name, Resident.address, Resident.status, Resident.version)


def _row(values: Any, *, full: bool, today: date) -> ResidentRow:
    rid, record_no, name, sex, birth, id_number, phone, code, village_name, address, status, version = values
    id_number, phone = id_number or "", phone or ""
    return ResidentRow(
        id=rid, record_no=record_no, name=name, sex=sex, birth_date=birth, age=age_on(birth, today),
        id_number=id_number if full else mask_id(id_number) if id_number else "",
        phone=phone if full else mask_phone(phone) if phone else "",
        village_code=code, village_name=village_name, address=address, status=status, version=version,
    )


def _rows(session: Session, actor: Actor, ids: list[int]) -> list[ResidentRow]:
    full, today = actor.can(Permission.VIEW_IDENTITY), now().date()
    statement = scoped(select(*_ROW_COLUMNS).join(Village, Resident.village_id == Village.id)
                       .where(Resident.id.in_(ids)), actor)
    by_id = {values[0]: _row(values, full=full, today=today) for values in session.execute(statement)}
    return [by_id[i] for i in ids if i in by_id]


def rows_for(db: Database, actor: Actor, ids: list[int]) -> list[ResidentRow]:
    """The rows for `ids`, in the same order (ids outside the actor's villages are skipped)."""
    require(actor, Permission.VIEW_RESIDENTS)
    with db.read() as session:
        return _rows(session, actor, ids)


def search(db: Database, actor: Actor, query: str, *, limit: int = 20) -> list[ResidentRow]:
    """The one-box search: names, pinyin initials or full pinyin, ID/phone/record-number tails."""
    require(actor, Permission.VIEW_RESIDENTS)
    with db.read() as session:
        return _rows(session, actor, ranked_ids(session, actor, query, limit=limit))


def search_shown(db: Database, actor: Actor, query: str, *, count: int) -> bool:
    """Audit a search's results as shown (one entry per search, see `access_audit`); True when written.

    The window calls it when the search box settles or on Enter, never per letter typed; the
    command line after each search. The same search within minutes is not audited again.
    """
    require(actor, Permission.VIEW_RESIDENTS)
    return list_shown(db, actor, kind="search", params=squeeze(query).lower(), count=count,
                      summary=f"查找居民“{search_words(query)}”")


def count_residents(db: Database, actor: Actor, flt: ResidentFilter = ResidentFilter()) -> int:
    """How many residents the filter (without a query) matches."""
    require(actor, Permission.VIEW_RESIDENTS)
    with db.read() as session:
        statement = scoped(select(func.count()).select_from(Resident).where(*filter_conditions(flt)), actor)
        return session.scalar(statement) or 0


def resident_village(db: Database, actor: Actor, resident_id: int) -> int:
    """The village of a resident, after checking the actor may see it."""
    with db.read() as session:
        village_id = session.scalar(select(Resident.village_id).where(Resident.id == resident_id))
    if village_id is None:
        raise UserFacingError("该档案不存在。")
    ensure_in_scope(actor, village_id)
    return village_id


@dataclass(frozen=True)
class ResidentDetail:
    """Everything the form shows for one resident (unmasked only for roles that may see it)."""

    id: int
    version: int
    record_no: str
    name: str
    sex: str
    birth_date: date
    id_number: str
    ethnicity: str
    phone: str
    address: str
    village_id: int
    village_code: str
    household_id: int | None
    relation_to_head: str | None
    insurance_type: str | None
    registered_on: date
    registered_by: str
    responsible_doctor_id: int | None
    status: str
    status_date: date | None
    status_note: str | None
    conditions: tuple[tuple[str, date | None], ...]
    consent_given_by: str | None
    consent_on: date | None
    consent_notice_version: str | None
    masked: bool
    registered_by_name: str = ""  # 建档人 as people see it (the account's display name)
    profile: Profile = field(default_factory=Profile)


def get_resident(db: Database, actor: Actor, resident_id: int) -> ResidentDetail:
    """One resident's record; opening it is audited (health information is sensitive), and so is a refusal."""
    from desktop.services import audit
    from desktop.services.audit import Action

    require(actor, Permission.VIEW_RESIDENTS)
    full = actor.can(Permission.VIEW_IDENTITY)
    with refusals_audited(db, actor, "查看档案"), db.write() as session:
        resident = session.get(Resident, resident_id)
        if resident is None or resident.deleted:
            raise UserFacingError("该档案不存在，请刷新后重试。")
        ensure_in_scope(actor, resident.village_id)
        village = session.get(Village, resident.village_id)
        audit.record(session, actor, Action.VIEW, entity_type="resident", entity_id=resident.uuid,
                     summary=f"查看 {resident.record_no}")
        return replace(_detail(resident, village, full=full),
                       registered_by_name=display_name(session, resident.registered_by))


def _detail(resident: Resident, village: Village, *, full: bool) -> ResidentDetail:
    id_number, phone = resident.id_number or "", resident.phone or ""
    return ResidentDetail(
        id=resident.id, version=resident.version, record_no=resident.record_no, name=resident.name,
        sex=resident.sex, birth_date=resident.birth_date,
        id_number=id_number if full or not id_number else mask_id(id_number),
        ethnicity=resident.ethnicity, phone=phone if full or not phone else mask_phone(phone),
        address=resident.address, village_id=resident.village_id, village_code=village.code,
        household_id=resident.household_id, relation_to_head=resident.relation_to_head,
        insurance_type=resident.insurance_type, registered_on=resident.registered_on,
        registered_by=resident.registered_by, responsible_doctor_id=resident.responsible_doctor_id,
        status=resident.status, status_date=resident.status_date, status_note=resident.status_note,
        conditions=tuple((c.kind, c.since) for c in resident.conditions if not c.deleted),
        consent_given_by=resident.consent_given_by, consent_on=resident.consent_on,
        consent_notice_version=resident.consent_notice_version, masked=not full, profile=_profile(resident, full=full),
    )


def _profile(resident: Resident, *, full: bool) -> Profile:
    """The 个人基本信息表, the contact's phone masked like the resident's own."""
    profile = profile_of(resident)
    if full or not profile.contact_phone:
        return profile
    return replace(profile, contact_phone=mask_phone(profile.contact_phone))
