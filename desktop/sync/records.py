"""The branch's syncable tables, bound to their wire types, and their canonical JSON.

A record travels as its own columns minus the local bookkeeping (row id, sync state,
timestamps); a foreign key to another syncable table travels as the parent's uuid under
`<name>_uuid`, so ids never leave the database. Everything here is generic over the
bindings: a later area binds its model and gets packages, receipts and recovery for free.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Date, DateTime, Select, Table, select
from sqlalchemy.orm import Session

from desktop.models import (
    ChronicEnrolment,
    FollowupVisit,
    HealthCheck,
    Household,
    Resident,
    ResidentCondition,
    Staff,
    SyncMixin,
    Village,
    VillageClinic,
)
from township_wire.package import SyncRecord
from township_wire.types import RecordTypeSpec, record_types, type_spec

LOCAL_ONLY = frozenset({"id", "sync_state", "sync_error", "created_at", "updated_at",
                        "uuid", "version", "deleted", "owner_site"})


@dataclass(frozen=True)
class ParentLink:
    """A foreign key to another syncable table, sent as the parent's uuid."""

    column: str
    wire_name: str
    parent: Table


@dataclass(frozen=True)
class Binding:
    """One wire type bound to its table."""

    spec: RecordTypeSpec
    table: Table
    plain: tuple[str, ...]
    links: tuple[ParentLink, ...]
    date_columns: frozenset[str]
    datetime_columns: frozenset[str]

    @property
    def name(self) -> str:
        return self.spec.name


_BINDINGS: dict[str, Binding] = {}


def bind_model(type_name: str, model: type[SyncMixin]) -> Binding:
    """Bind a registered wire type to its model; its parents must be bound first."""
    spec = type_spec(type_name)
    if spec is None:
        raise ValueError(f"record type {type_name} is not registered")
    table: Table = model.__table__  # type: ignore[assignment]
    plain: list[str] = []
    links: list[ParentLink] = []
    for column in table.columns:
        if column.name in LOCAL_ONLY:
            continue
        parent = _parent_table(column)
        if parent is None:
            plain.append(column.name)
        else:
            links.append(ParentLink(column.name, column.name.removesuffix("_id") + "_uuid", parent))
    binding = Binding(spec, table, tuple(plain), tuple(links),
                      frozenset(c.name for c in table.columns if isinstance(c.type, Date)),
                      frozenset(c.name for c in table.columns if isinstance(c.type, DateTime)))
    _BINDINGS[type_name] = binding
    return binding


def _parent_table(column: Column) -> Table | None:
    for foreign_key in column.foreign_keys:
        parent = foreign_key.column.table
        if "uuid" not in parent.columns:
            raise ValueError(f"{column.table.name}.{column.name} points at {parent.name}, which does not sync")
        return parent  # type: ignore[return-value]
    return None


def bindings() -> list[Binding]:
    """Every bound type in the registry's order: parents before children."""
    order = {spec.name: index for index, spec in enumerate(record_types())}
    return sorted(_BINDINGS.values(), key=lambda bound: order[bound.name])


def binding(type_name: str) -> Binding | None:
    return _BINDINGS.get(type_name)


def select_records(bound: Binding, *, where: Any = None, limit: int | None = None) -> Select:
    """The type's rows with each parent's uuid joined in (one query, no id leaves the database)."""
    table = bound.table
    columns: list[Any] = [table.c.uuid, table.c.version, table.c.deleted, table.c.owner_site]
    columns += [table.c[name] for name in bound.plain]
    query_from: Any = table
    for link in bound.links:
        parent = link.parent.alias(f"parent_{link.column}")
        columns.append(parent.c.uuid.label(link.wire_name))
        query_from = query_from.outerjoin(parent, parent.c.id == table.c[link.column])
    query = select(*columns).select_from(query_from).order_by(table.c.id).limit(limit)
    return query if where is None else query.where(where)


def read_records(session: Session, bound: Binding, *, where: Any = None,
                 limit: int | None = None) -> Iterator[SyncRecord]:
    """The type's rows as wire records, in insertion order."""
    names = list(bound.plain) + [link.wire_name for link in bound.links]
    temporal = bound.date_columns | bound.datetime_columns
    as_text = [(index, name) for index, name in enumerate(names) if name in temporal]
    for row in session.execute(select_records(bound, where=where, limit=limit)):
        uuid, version, deleted, owner_site, *values = row
        for index, name in as_text:
            value = values[index]
            if value is not None:
                values[index] = value.isoformat(timespec="seconds") if name in bound.datetime_columns \
                    else value.isoformat()
        yield SyncRecord(type=bound.name, uuid=uuid, version=version, deleted=bool(deleted), owner_site=owner_site,
                         data=dict(zip(names, values, strict=True)))


def _local_value(bound: Binding, name: str, value: Any) -> Any:
    if value is None or not isinstance(value, str):
        return value
    if name in bound.datetime_columns:
        return datetime.fromisoformat(value)
    if name in bound.date_columns:
        return date.fromisoformat(value)
    return value


def local_row(bound: Binding, record: SyncRecord, parent_ids: dict[tuple[str, str], int | None]) -> dict[str, Any]:
    """Column values for a wire record; parents resolved through `parent_ids[(table, uuid)]`.

    Only the fields the record carries: a column it does not know (sent by an older version)
    keeps its value on an update and its default on an insert.
    """
    data = record.data
    row = {name: _local_value(bound, name, data[name]) for name in bound.plain if name in data}
    for link in bound.links:
        if link.wire_name in data:
            parent_uuid = data[link.wire_name]
            row[link.column] = None if parent_uuid is None else parent_ids.get((link.parent.name, parent_uuid))
    row.update(uuid=record.uuid, version=record.version, deleted=record.deleted, owner_site=record.owner_site)
    return row


def parent_uuids(bound: Binding, records: Iterable[SyncRecord]) -> dict[str, set[str]]:
    """Per parent table, the uuids these records point at."""
    wanted: dict[str, set[str]] = {}
    for record in records:
        for link in bound.links:
            value = record.data.get(link.wire_name)
            if value is not None:
                wanted.setdefault(link.parent.name, set()).add(value)
    return wanted


for _name, _model in (
    ("village", Village),
    ("village_clinic", VillageClinic),
    ("staff", Staff),
    ("resident", Resident),
    ("household", Household),
    ("resident_condition", ResidentCondition),
    ("chronic_enrolment", ChronicEnrolment),
    ("followup_visit", FollowupVisit),
    ("health_check", HealthCheck),
):
    bind_model(_name, _model)
