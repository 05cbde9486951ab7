"""Local settings stored as JSON values, with defaults."""

from __future__ import annotations

import json
from typing import Any

from desktop.changes import Changes
from desktop.db import Database
from desktop.errors import ValidationError
from desktop.models import Setting
from desktop.services import audit
from desktop.services.audit import Action
from desktop.services.permissions import Actor, Permission, require

IDLE_LOCK_MINUTES = "idle_lock_minutes"
DEFAULTS: dict[str, Any] = {IDLE_LOCK_MINUTES: 10}


def get_setting(db: Database, key: str) -> Any:
    """The stored value, or the default."""
    with db.read() as session:
        row = session.get(Setting, key)
        return json.loads(row.value) if row else DEFAULTS.get(key)


def set_idle_lock_minutes(db: Database, actor: Actor, minutes: int) -> Changes:
    """How long the window may stay untouched before it locks (1–120 minutes)."""
    require(actor, Permission.MANAGE_BRANCH)
    if not 1 <= minutes <= 120:
        raise ValidationError.single(IDLE_LOCK_MINUTES, "空闲锁屏时间应在 1–120 分钟之间。")
    with db.write() as session:
        row = session.get(Setting, IDLE_LOCK_MINUTES)
        before = json.loads(row.value) if row else DEFAULTS[IDLE_LOCK_MINUTES]
        if row is None:
            session.add(Setting(key=IDLE_LOCK_MINUTES, value=json.dumps(minutes)))
        else:
            row.value = json.dumps(minutes)
        audit.record(session, actor, Action.UPDATE, entity_type="setting", entity_id=IDLE_LOCK_MINUTES,
                     summary=f"空闲锁屏时间 {before} → {minutes} 分钟")
    return Changes(settings=True, audit=True)
