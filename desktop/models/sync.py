"""The branch's side of sync: packages sent (the outbox and its history), the sync log,
catalogues received from the head hospital. Sync settings (keys, seq, checkpoint) live in `setting`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from desktop.clock import now
from desktop.models.base import Base


class SyncPackage(Base):
    """A package built for the head hospital. Its bytes are kept until a receipt acknowledges it,
    so a retry sends exactly the same package under the same id."""

    __tablename__ = "sync_package"
    __table_args__ = (Index("ix_sync_package_state", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    package_id: Mapped[str] = mapped_column(String(36), nullable=False, unique=True)
    seq: Mapped[int] = mapped_column(Integer, nullable=False, unique=True)
    channel: Mapped[str] = mapped_column(String(10), nullable=False)
    state: Mapped[str] = mapped_column(String(15), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=now)
    record_count: Mapped[int] = mapped_column(Integer, nullable=False)
    report_periods: Mapped[list[Any]] = mapped_column(JSON, nullable=False, default=list)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime)
    applied: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    duplicate: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rejected: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    message: Mapped[str | None] = mapped_column(Text)


class SyncLogEntry(Base):
    """What happened in sync, including every refusal, for the clerk and the admin."""

    __tablename__ = "sync_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=now, index=True)
    event: Mapped[str] = mapped_column(String(20), nullable=False)
    package_id: Mapped[str | None] = mapped_column(String(36))
    message: Mapped[str] = mapped_column(Text, nullable=False)


class Catalogue(Base):
    """A catalogue or template the head hospital published, as its signed snapshot."""

    __tablename__ = "catalogue"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    items: Mapped[list[Any]] = mapped_column(JSON, nullable=False, default=list)
    envelope: Mapped[str] = mapped_column(Text, nullable=False)
    received_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=now)
