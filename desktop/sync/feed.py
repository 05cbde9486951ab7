"""The downward feed: what the head hospital sends this site, applied with its checkpoint.

A feed page is a signed envelope of entries with server sequence numbers. Every entry of a
page and the new checkpoint commit in one transaction; entries at or below the checkpoint
were applied before and are skipped. Kinds are handled by registered handlers: catalogues
and head-hospital records now; referral receipts and down-referrals register theirs later.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from desktop.db import Database
from desktop.errors import UserFacingError
from desktop.models import Catalogue
from desktop.sync.apply import apply_records
from desktop.sync.outbox import log_event, log_refusal
from desktop.sync.site import CHECKPOINT_KEY, Enrolment, checkpoint, require_enrolment, set_value
from township_wire.crypto import SignatureInvalid
from township_wire.envelope import EnvelopeKind, canonical_bytes, open_envelope
from township_wire.package import SyncRecord
from township_wire.types import Owner, type_spec


class FeedRefused(UserFacingError):
    """A feed page or entry that must not be applied; nothing of its page was written."""


FeedHandler = Callable[[Session, dict[str, Any], Enrolment], None]
_HANDLERS: dict[str, FeedHandler] = {}


def register_feed_handler(kind: str, handler: FeedHandler) -> None:
    _HANDLERS[kind] = handler


@dataclass(frozen=True)
class FeedOutcome:
    received: int
    checkpoint: int


def apply_feed_page(db: Database, envelope: bytes | dict[str, Any]) -> FeedOutcome:
    """Verify a feed page and apply its new entries and checkpoint together."""
    try:
        return _apply_feed_page(db, envelope)
    except FeedRefused as error:
        log_refusal(db, f"拒收下发数据：{error.message}")
        raise


def _apply_feed_page(db: Database, envelope: bytes | dict[str, Any]) -> FeedOutcome:
    with db.write() as session:
        enrolment = require_enrolment(session)
        try:
            body = open_envelope(EnvelopeKind.FEED, envelope, enrolment.head_keys)
        except SignatureInvalid as error:
            raise FeedRefused(error.message) from error
        current = checkpoint(session)
        if body.get("site_id") != enrolment.site_id:
            raise FeedRefused("下发数据不是发给本分院的，已拒收。")
        if int(body.get("after", 0)) > current:
            raise FeedRefused(f"下发数据不连续（从 {body.get('after')} 之后开始，本分院只收到 {current}），请重新同步。")
        received = 0
        for entry in sorted(body.get("entries", []), key=lambda item: item["seq"]):
            if entry["seq"] <= current:
                continue
            handler = _HANDLERS.get(entry["kind"])
            if handler is None:
                raise FeedRefused(f"下发数据中有本版本不认识的类型 {entry['kind']}，请升级软件后再同步。")
            handler(session, entry["payload"], enrolment)
            received += 1
        new_checkpoint = max(current, int(body.get("last_seq", current)))
        set_value(session, CHECKPOINT_KEY, new_checkpoint)
    return FeedOutcome(received, new_checkpoint)


def _apply_catalogue(session: Session, payload: dict[str, Any], enrolment: Enrolment) -> None:
    try:
        body = open_envelope(EnvelopeKind.CATALOGUE, payload, enrolment.head_keys)
    except SignatureInvalid as error:
        raise FeedRefused(f"目录签名不对，已拒收：{error.message}") from error
    name, version = str(body["name"]), int(body["version"])
    stored = session.get(Catalogue, name)
    if stored is not None and stored.version >= version:
        if stored.version > version:  # an older snapshot is refused; the page's other entries still apply
            log_event(session, "refused", f"拒收目录《{body.get('title') or name}》第 {version} 版：本分院已有第 "
                                          f"{stored.version} 版。")
        return
    if stored is None:
        stored = Catalogue(name=name)
        session.add(stored)
    stored.version, stored.title = version, str(body.get("title", ""))
    stored.items = list(body.get("items", []))
    stored.envelope = canonical_bytes(payload).decode("utf-8")
    session.flush()
    log_event(session, "catalogue", f"收到目录《{stored.title or name}》第 {version} 版（{len(stored.items)} 项）")


def _apply_head_record(session: Session, payload: dict[str, Any], enrolment: Enrolment) -> None:
    try:
        record = SyncRecord.from_json(payload)
    except (KeyError, TypeError, ValueError) as error:
        raise FeedRefused("下发数据中的记录格式错误，已拒收。") from error
    spec = type_spec(record.type)
    if spec is None or spec.owner is not Owner.HEAD:
        raise FeedRefused(f"下发数据中的记录类型 {record.type} 不应由总院下发，已拒收。")
    apply_records(session, [record])


register_feed_handler("catalogue", _apply_catalogue)
register_feed_handler("record", _apply_head_record)
