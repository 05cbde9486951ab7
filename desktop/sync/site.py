"""This site's sync settings, kept in the `setting` table so a backup carries them.

The enrolment (keys, the head hospital's pinned keys, its address), the last package seq,
the downward checkpoint and the outcome of the last attempt. Each is read and written inside
the caller's transaction, so a checkpoint moves together with what it stands for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from desktop.errors import UserFacingError
from desktop.models import Setting
from desktop.services.audit_labels import register_actor_label, register_entity_label
from township_wire.crypto import KeyPair, PublicKeys

register_entity_label("sync", "数据同步")
register_entity_label("sync_package", "同步数据包")
SYNC_ACTOR = register_actor_label("sync", "数据同步（自动）")  # the audit's actor when sync itself writes
CONFIG_KEY = "sync.enrolment"
SEQ_KEY = "sync.seq"
CHECKPOINT_KEY = "sync.checkpoint"
LAST_SUCCESS_KEY = "sync.last_success"
LAST_ATTEMPT_KEY = "sync.last_attempt"
REPORTS_SENT_KEY = "sync.reports_sent"


class NotEnrolled(UserFacingError):
    def __init__(self) -> None:
        super().__init__("本分院尚未向总院登记，请先由系统管理员在“数据同步”页登记。")


@dataclass(frozen=True)
class Enrolment:
    """What enrolment fixed: where the head hospital is, its pinned keys, and ours."""

    site_id: str
    server_url: str
    head_name: str
    head_keys: PublicKeys
    site_keys: KeyPair
    enrolled_at: str

    def to_json(self) -> dict[str, Any]:
        return {"site_id": self.site_id, "server_url": self.server_url, "head_name": self.head_name,
                "head_keys": self.head_keys.to_json(), "site_keys": self.site_keys.to_json(),
                "enrolled_at": self.enrolled_at}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Enrolment:
        return cls(site_id=value["site_id"], server_url=value["server_url"], head_name=value["head_name"],
                   head_keys=PublicKeys.from_json(value["head_keys"]),
                   site_keys=KeyPair.from_json(value["site_keys"]), enrolled_at=value["enrolled_at"])


def get_value(session: Session, key: str, default: Any = None) -> Any:
    row = session.get(Setting, key)
    return json.loads(row.value) if row else default


def set_value(session: Session, key: str, value: Any) -> None:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=text))
    else:
        row.value = text
    session.flush()


def enrolment(session: Session) -> Enrolment | None:
    value = get_value(session, CONFIG_KEY)
    return Enrolment.from_json(value) if value else None


def require_enrolment(session: Session) -> Enrolment:
    found = enrolment(session)
    if found is None:
        raise NotEnrolled()
    return found


def next_seq(session: Session) -> int:
    """Take the next package sequence number (only ever increases)."""
    seq = int(get_value(session, SEQ_KEY, 0)) + 1
    set_value(session, SEQ_KEY, seq)
    return seq


def last_seq(session: Session) -> int:
    return int(get_value(session, SEQ_KEY, 0))


def checkpoint(session: Session) -> int:
    return int(get_value(session, CHECKPOINT_KEY, 0))
