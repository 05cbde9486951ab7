"""What the status bar, the 数据同步 page and `sync status` show. Read-only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import defer

from desktop.db import Database
from desktop.models import SyncLogEntry, SyncPackage, SyncState
from desktop.sync.records import bindings
from desktop.sync.site import LAST_ATTEMPT_KEY, LAST_SUCCESS_KEY, checkpoint, enrolment, get_value, last_seq
from township_wire.package import count_and_digest


@dataclass(frozen=True)
class TypeCounts:
    type: str
    label: str
    pending: int
    in_flight: int
    error: int
    synced: int


@dataclass(frozen=True)
class SyncStatus:
    enrolled: bool
    site_id: str = ""
    fingerprint: str = ""
    server_url: str = ""
    head_name: str = ""
    types: tuple[TypeCounts, ...] = ()
    last_success: str | None = None
    last_attempt: dict[str, Any] = field(default_factory=dict)
    seq: int = 0
    checkpoint: int = 0

    @property
    def unsent(self) -> int:
        return sum(item.pending + item.in_flight for item in self.types)

    @property
    def errors(self) -> int:
        return sum(item.error for item in self.types)

    @property
    def online(self) -> bool | None:
        return self.last_attempt.get("online") if self.last_attempt else None

    @property
    def awaiting_approval(self) -> bool:
        """True when the head hospital's last answer was that this site is not approved yet."""
        return bool(self.last_attempt.get("awaiting_approval")) if self.last_attempt else False

    def to_json(self) -> dict[str, Any]:
        return {"enrolled": self.enrolled, "site_id": self.site_id, "fingerprint": self.fingerprint,
                "server_url": self.server_url, "head_name": self.head_name, "unsent": self.unsent,
                "errors": self.errors, "online": self.online, "last_success": self.last_success,
                "last_attempt": self.last_attempt, "seq": self.seq, "checkpoint": self.checkpoint,
                "types": [item.__dict__ for item in self.types]}


def sync_status(db: Database) -> SyncStatus:
    with db.read() as session:
        pinned = enrolment(session)
        types = []
        for bound in bindings():
            table = bound.table
            counts = dict(session.execute(select(table.c.sync_state, func.count())
                                          .group_by(table.c.sync_state)).all())
            types.append(TypeCounts(bound.name, bound.spec.label, counts.get(SyncState.PENDING.value, 0),
                                    counts.get(SyncState.IN_FLIGHT.value, 0), counts.get(SyncState.ERROR.value, 0),
                                    counts.get(SyncState.SYNCED.value, 0)))
        if pinned is None:
            return SyncStatus(enrolled=False, types=tuple(types))
        return SyncStatus(enrolled=True, site_id=pinned.site_id, fingerprint=pinned.site_keys.public.fingerprint,
                          server_url=pinned.server_url, head_name=pinned.head_name, types=tuple(types),
                          last_success=get_value(session, LAST_SUCCESS_KEY),
                          last_attempt=get_value(session, LAST_ATTEMPT_KEY, {}) or {},
                          seq=last_seq(session), checkpoint=checkpoint(session))


@dataclass(frozen=True)
class RejectedRecord:
    type_label: str
    uuid: str
    version: int
    reason: str
    updated_at: datetime


def rejected_records(db: Database, limit: int = 500) -> list[RejectedRecord]:
    """Records the head hospital sent back, with its reason; they wait for an edit."""
    found: list[RejectedRecord] = []
    with db.read() as session:
        for bound in bindings():
            table = bound.table
            query = (select(table.c.uuid, table.c.version, table.c.sync_error, table.c.updated_at)
                     .where(table.c.sync_state == SyncState.ERROR.value).limit(limit))
            found += [RejectedRecord(bound.spec.label, uuid, version, reason or "", updated)
                      for uuid, version, reason, updated in session.execute(query)]
    return found[:limit]


def package_history(db: Database, limit: int = 100) -> list[SyncPackage]:
    """The latest packages, newest first (detached: safe to read after the session ends)."""
    with db.read() as session:
        packages = list(session.scalars(select(SyncPackage).options(defer(SyncPackage.content))
                                        .order_by(SyncPackage.seq.desc()).limit(limit)))
        session.expunge_all()
        return packages


def sync_log(db: Database, limit: int = 200) -> list[SyncLogEntry]:
    """The latest sync log entries, newest first (detached)."""
    with db.read() as session:
        entries = list(session.scalars(select(SyncLogEntry).order_by(SyncLogEntry.id.desc()).limit(limit)))
        session.expunge_all()
        return entries


def local_counts(db: Database, site_id: str) -> dict[str, dict[str, Any]]:
    """Per type, count and digest of this site's records: equal to the head hospital's when in step."""
    with db.read() as session:
        entries: list[tuple[str, str, int]] = []
        for bound in bindings():
            table = bound.table
            query = select(table.c.uuid, table.c.version).where(table.c.owner_site == site_id)
            entries += [(bound.name, uuid, version) for uuid, version in session.execute(query)]
    return count_and_digest(entries)
