"""Declarative base and the mixins every table builds on."""

from __future__ import annotations

import uuid as uuid_module
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, DateTime, Index, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from desktop.clock import now

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every table; constraint names are fixed so migrations can refer to them."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class TimestampMixin:
    """Creation and last-change times."""

    created_at: Mapped[datetime] = mapped_column(DateTime, default=now, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=now, onupdate=now, nullable=False)


class SyncState(StrEnum):
    """Where a record stands with the head hospital (see sync-protocol.md)."""

    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    SYNCED = "synced"
    ERROR = "error"


class SyncMixin(TimestampMixin):
    """Columns of every record that travels to the head hospital.

    `version` is bumped and `sync_state` reset to pending on every edit by the
    `before_flush` hook in desktop.models.stamping, in the same transaction as the edit itself.
    Records are never deleted: `deleted` is a tombstone that travels like any edit.
    """

    uuid: Mapped[str] = mapped_column(
        String(36), unique=True, nullable=False, default=lambda: str(uuid_module.uuid4())
    )
    owner_site: Mapped[str] = mapped_column(String(36), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    deleted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    sync_state: Mapped[str] = mapped_column(String(12), nullable=False, default=SyncState.PENDING.value)
    sync_error: Mapped[str | None] = mapped_column(String(500))

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Index, ...]:  # noqa: N805 - declared_attr receives the class
        return (Index(f"ix_{cls.__tablename__}_sync_state", "sync_state"),)


SYNC_BOOKKEEPING = frozenset({"sync_state", "sync_error", "updated_at", "created_at"})
REMOTE_APPLY_FLAG = "applying_remote"
SITE_ID_KEY = "site_id"
