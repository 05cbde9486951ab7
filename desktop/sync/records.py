"""The branch's syncable tables, bound to their wire types, and their canonical JSON.

Every ORM model with the sync mixin is bound to the wire type of the same name as its table
(`township_wire.types`); a model without a type, or a type without a model, stops the import
with a message naming it. Parents come before children, in the order their foreign keys give.

A record travels as its own columns minus the local bookkeeping (row id, sync state,
timestamps) and minus the model's local columns (search keys and other derived values,
recomputed on arrival); a foreign key to another syncable table travels as the parent's uuid
under `<name>_uuid`, so ids never leave the database.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Date, DateTime, Select, Table, select
from sqlalchemy.orm import Session

from desktop.models import Base, SyncMixin
from desktop.models.sync_columns import derive_local, derived_from, is_local_column
from township_wire.package import SyncRecord
from township_wire.types import RecordTypeSpec, record_types

LOCAL_ONLY = frozenset({"id", "sync_state", "sync_error", "created_at", "updated_at",
                        "uuid", "version", "deleted", "owner_site"})


class BindingMismatch(RuntimeError):
    """The synced models and the registered wire types do not match one to one."""


@dataclass(frozen=True)
class ParentLink:
    """A foreign key to another syncable table, sent as the parent's uuid."""

    column: str
    wire_name: str
    parent: Table


@dataclass(frozen=True)
class Binding:
    """One wire type bound to its model and table."""

    spec: RecordTypeSpec
    model: type[SyncMixin]
    table: Table
    plain: tuple[str, ...]
    links: tuple[ParentLink, ...]
    local: tuple[str, ...]
    date_columns: frozenset[str]
    datetime_columns: frozenset[str]

    @property
    def name(self) -> str:
        return self.spec.name


def synced_models() -> list[type[SyncMixin]]:
    """Every mapped model with the sync mixin, by table name."""
    found = [mapper.class_ for mapper in Base.registry.mappers if issubclass(mapper.class_, SyncMixin)]
    return sorted(found, key=lambda model: model.__tablename__)


def bind_all(models: Sequence[type[SyncMixin]], specs: Sequence[RecordTypeSpec]) -> list[Binding]:
    """Bind each model to the type named like its table, parents first; raise BindingMismatch on a gap."""
    by_name = {spec.name: spec for spec in specs}
    tables = {model.__tablename__: model for model in models}
    without_type = sorted(set(tables) - set(by_name))
    without_model = sorted(set(by_name) - set(tables))
    problems = [f"model {tables[name].__name__} (table {name}) has no wire type of that name in "
                f"township_wire/types.py" for name in without_type]
    problems += [f"wire type {name} has no model with the sync mixin and __tablename__ = {name!r}"
                 for name in without_model]
    if problems:
        raise BindingMismatch("; ".join(problems))
    return [_bind(by_name[name], tables[name]) for name in parent_first(list(tables.values()))]


def parent_first(models: Sequence[type[SyncMixin]]) -> list[str]:
    """Table names ordered so every parent comes before its children (ties by name).

    A foreign key created after both tables (`use_alter`, as household -> its head) does not
    order them: it is filled in once both rows exist.
    """
    names = {model.__tablename__ for model in models}
    parents: dict[str, set[str]] = {name: set() for name in names}
    for model in models:
        for foreign_key in model.__table__.foreign_keys:  # type: ignore[attr-defined]
            parent = foreign_key.column.table.name
            if parent in names and parent != model.__tablename__ and not foreign_key.use_alter:
                parents[model.__tablename__].add(parent)
    ready = [name for name, wanted in parents.items() if not wanted]
    heapq.heapify(ready)
    ordered: list[str] = []
    while ready:
        name = heapq.heappop(ready)
        ordered.append(name)
        for child, wanted in parents.items():
            if name in wanted:
                wanted.discard(name)
                if not wanted:
                    heapq.heappush(ready, child)
    if len(ordered) < len(names):
        raise BindingMismatch(f"foreign keys go round in a circle among {sorted(names - set(ordered))}; "
                              "mark one of them use_alter=True")
    return ordered


def _bind(spec: RecordTypeSpec, model: type[SyncMixin]) -> Binding:
    table: Table = model.__table__  # type: ignore[assignment]
    plain: list[str] = []
    links: list[ParentLink] = []
    local: list[str] = []
    for column in table.columns:
        if column.name in LOCAL_ONLY:
            continue
        if is_local_column(column):
            local.append(column.name)
            continue
        parent = _parent_table(column)
        if parent is None:
            plain.append(column.name)
        else:
            links.append(ParentLink(column.name, column.name.removesuffix("_id") + "_uuid", parent))
    if local and not derived_from(model):
        raise BindingMismatch(f"model {model.__name__} marks {local} local but names no derived_from to compute them")
    unlisted = sorted((set(plain) | {link.wire_name for link in links}) - spec.fields)
    if unlisted:
        raise BindingMismatch(f"model {model.__name__} sends {unlisted}, which wire type {spec.name} does not list "
                              "in township_wire/types.py (the head hospital refuses unknown fields)")
    return Binding(spec, model, table, tuple(plain), tuple(links), tuple(local),
                   frozenset(c.name for c in table.columns if isinstance(c.type, Date)),
                   frozenset(c.name for c in table.columns if isinstance(c.type, DateTime)))


def _parent_table(column: Column) -> Table | None:
    for foreign_key in column.foreign_keys:
        parent = foreign_key.column.table
        if "uuid" not in parent.columns:
            raise BindingMismatch(f"{column.table.name}.{column.name} points at {parent.name}, which does not sync")
        return parent  # type: ignore[return-value]
    return None


_BINDINGS: dict[str, Binding] = {bound.name: bound for bound in bind_all(synced_models(), record_types())}


def bindings() -> list[Binding]:
    """Every bound type, parents before children."""
    return list(_BINDINGS.values())


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


def with_local_columns(session: Session, bound: Binding, row: dict[str, Any], row_id: int | None) -> dict[str, Any]:
    """The row with the model's local columns derived from it (stored values fill what the row lacks)."""
    sources = derived_from(bound.model)
    if not bound.local or not sources:
        return row
    values = dict(row)
    missing = [name for name in sources if name not in row]
    if missing:
        if row_id is None:
            return row
        stored = session.execute(select(*(bound.table.c[name] for name in missing))
                                 .where(bound.table.c.id == row_id)).one()
        values.update(zip(missing, stored, strict=True))
    return {**row, **derive_local(bound.model, values)}


def parent_uuids(bound: Binding, records: Iterable[SyncRecord]) -> dict[str, set[str]]:
    """Per parent table, the uuids these records point at."""
    wanted: dict[str, set[str]] = {}
    for record in records:
        for link in bound.links:
            value = record.data.get(link.wire_name)
            if value is not None:
                wanted.setdefault(link.parent.name, set()).add(value)
    return wanted

