"""Failed sign-ins under names that have no account, counted and locked out like real accounts.

Without this, a name that never locks is a name that does not exist. Each unknown name keeps
one small `setting` row (`unknown_sign_in:<name>`); at most MAX_UNKNOWN_NAMES are kept, the
longest untouched going first, so a flood of invented names cannot grow the file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from desktop.models import Setting

KEY_PREFIX = "unknown_sign_in:"
MAX_NAME_LENGTH = 40  # as long as a user name can be
MAX_UNKNOWN_NAMES = 500


@dataclass
class UnknownName:
    """The failure count and lockout of one name that has no account."""

    key: str
    failed_attempts: int = 0
    locked_until: datetime | None = None


def name_key(username: str) -> str:
    """The setting key for a typed name: trimmed, lower-case (user names ignore case), bounded."""
    return KEY_PREFIX + (username.strip().lower()[:MAX_NAME_LENGTH] or "?")


def load(session: Session, username: str) -> UnknownName:
    """The record for a name (a fresh one when the name never failed before)."""
    key = name_key(username)
    row = session.get(Setting, key)
    if row is None:
        return UnknownName(key)
    stored = json.loads(row.value)
    until = stored.get("locked_until")
    return UnknownName(key, int(stored.get("failed_attempts", 0)), datetime.fromisoformat(until) if until else None)


def save(session: Session, record: UnknownName) -> None:
    """Store the record, dropping the least recently touched names beyond the bound."""
    value = json.dumps({
        "failed_attempts": record.failed_attempts,
        "locked_until": record.locked_until.isoformat() if record.locked_until else None,
    })
    row = session.get(Setting, record.key)
    if row is not None:
        row.value = value
        return
    _make_room(session)
    session.add(Setting(key=record.key, value=value))


def _make_room(session: Session) -> None:
    unknown = Setting.key.startswith(KEY_PREFIX, autoescape=True)
    count = session.scalar(select(func.count()).select_from(Setting).where(unknown)) or 0
    if count < MAX_UNKNOWN_NAMES:
        return
    oldest = select(Setting.key).where(unknown).order_by(Setting.updated_at, Setting.key)
    session.execute(delete(Setting).where(Setting.key.in_(oldest.limit(count - MAX_UNKNOWN_NAMES + 1))))

