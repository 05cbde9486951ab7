"""Helpers for models with the sync mixin: table args, local (derived) columns, bulk-insert rows.

- `sync_table_args(*extra)`: `__table_args__` for a synced model with its own indexes or
  constraints; the mixin's sync-state index is kept.
- `local_column(...)`: a column that stays on this computer (a search key or another value
  computed from other columns). It is not sent to the head hospital; a model with local columns
  names the columns they come from in `derived_from` and computes them in `derive_local`, which
  sync calls when a record arrives.
- `new_sync_rows(session, model, rows)`: rows for `session.execute(insert(model), rows)` with the
  owner site, uuid, version, sync state, times and missing local columns filled.
"""

from __future__ import annotations

import uuid as uuid_module
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Column, Index
from sqlalchemy.orm import MappedColumn, Session, declared_attr, mapped_column

from desktop.clock import now
from desktop.models.base import SyncMixin, SyncState
from desktop.models.stamping import owner_site

SYNC_INFO_KEY = "sync"


def sync_table_args(*extra: Any) -> Any:
    """`__table_args__` = `extra` plus the sync-state index every synced table has.

    Use as `__table_args__ = sync_table_args(Index(...), UniqueConstraint(...))`.
    """

    @declared_attr.directive
    def table_args(cls: type) -> tuple[Any, ...]:
        return (*extra, Index(f"ix_{cls.__tablename__}_sync_state", "sync_state"))  # type: ignore[attr-defined]

    return table_args


def local_column(*args: Any, **kwargs: Any) -> MappedColumn[Any]:
    """A mapped column kept on this computer only; see the module's docstring."""
    return mapped_column(*args, info={SYNC_INFO_KEY: False}, **kwargs)


def is_local_column(column: Column[Any]) -> bool:
    """Whether the column was declared with `local_column`."""
    return column.info.get(SYNC_INFO_KEY, True) is False


def local_columns(model: type[SyncMixin]) -> frozenset[str]:
    """Names of the model's local columns."""
    return frozenset(column.name for column in model.__table__.columns  # type: ignore[attr-defined]
                     if is_local_column(column))


def derived_from(model: type[SyncMixin]) -> tuple[str, ...]:
    """The columns a model's local columns are computed from (none for most models)."""
    return tuple(getattr(model, "derived_from", ()))


def derive_local(model: type[SyncMixin], values: Mapping[str, Any]) -> dict[str, Any]:
    """The model's local columns computed from `values` (which hold every `derived_from` column)."""
    derive = getattr(model, "derive_local", None)
    return dict(derive(values)) if derive is not None else {}


def new_sync_rows(session: Session, model: type[SyncMixin], rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows with owner site, uuid, version, state, times and missing local columns filled.

    Values a row already holds are kept.
    """
    site, stamp = owner_site(session), now()
    local = local_columns(model)
    filled: list[dict[str, Any]] = []
    for row in rows:
        if local and not local <= row.keys():
            row = {**derive_local(model, row), **row}
        row.setdefault("uuid", str(uuid_module.uuid4()))
        row.setdefault("owner_site", site)
        row.setdefault("version", 1)
        row.setdefault("deleted", False)
        row.setdefault("sync_state", SyncState.PENDING.value)
        row.setdefault("created_at", stamp)
        row.setdefault("updated_at", stamp)
        filled.append(row)
    return filled
