"""What the head hospital sends down: the per-site feed, signed catalogues, state and own-records pages.

The feed is ordered by a server sequence number, never by time; an entry with no site is for
every site. Each page is a signed envelope so a site can check it came from its head hospital.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, or_, select, text
from sqlalchemy.orm import Session

from head_hospital.db import HeadDatabase
from head_hospital.models import Catalogue, FeedEntry, Record, Site, iso, utc_now
from township_wire.envelope import EnvelopeKind, seal_envelope
from township_wire.errors import UserFacingError
from township_wire.package import count_and_digest
from township_wire.safe_json import JsonRefused, bounded_loads

FEED_LIMIT, FEED_MAX = 100, 1000
RECORDS_LIMIT, RECORDS_MAX = 500, 5000
CATALOGUE_NAME_LIMIT = 80


def _for_site(site_id: str):
    return or_(FeedEntry.site_id == site_id, FeedEntry.site_id.is_(None))


def feed_last_seq(session: Session, site_id: str) -> int:
    return int(session.scalar(select(func.max(FeedEntry.seq)).where(_for_site(site_id))) or 0)


def feed_body(session: Session, site_id: str, *, after: int, limit: int) -> dict[str, Any]:
    """One page of the site's feed after `after`; `last_seq` is the last entry's seq (or `after`)."""
    rows = session.execute(select(FeedEntry.seq, FeedEntry.kind, FeedEntry.payload)
                           .where(_for_site(site_id), FeedEntry.seq > after)
                           .order_by(FeedEntry.seq).limit(limit)).all()
    entries = [{"seq": row.seq, "kind": row.kind, "payload": json.loads(row.payload)} for row in rows]
    return {"site_id": site_id, "after": after, "last_seq": entries[-1]["seq"] if entries else after,
            "entries": entries}


def feed_envelope(db: HeadDatabase, site_id: str, *, after: int, limit: int = FEED_LIMIT) -> bytes:
    with db.read() as session:
        body = feed_body(session, site_id, after=after, limit=limit)
    return seal_envelope(EnvelopeKind.FEED, body, db.keys)


def catalogue_versions(session: Session) -> dict[str, int]:
    rows = session.execute(select(Catalogue.name, func.max(Catalogue.version)).group_by(Catalogue.name)).all()
    return {name: int(version) for name, version in rows}


def site_counts(session: Session, site_id: str) -> dict[str, dict[str, Any]]:
    """Per type: count and digest of every record the head hospital holds for the site (tombstones too)."""
    rows = session.execute(select(Record.type, Record.uuid, Record.version).where(Record.site_id == site_id))
    return count_and_digest((row[0], row[1], row[2]) for row in rows)


def state_envelope(db: HeadDatabase, site_id: str) -> bytes:
    with db.read() as session:
        site = session.get(Site, site_id)
        body = {"site_id": site_id, "status": site.status, "last_seq": site.last_seq,
                "counts": site_counts(session, site_id), "catalogues": catalogue_versions(session),
                "feed_last_seq": feed_last_seq(session, site_id), "server_time": iso(datetime.now(UTC))}
    return seal_envelope(EnvelopeKind.STATE, body, db.keys)


def own_records_envelope(db: HeadDatabase, site_id: str, *, after: str, limit: int) -> bytes:
    """A page of the site's own records in uuid order; `next` is the cursor for the following page."""
    with db.read() as session:
        rows = session.execute(select(Record.type, Record.uuid, Record.version, Record.deleted, Record.site_id,
                                      Record.data)
                               .where(Record.site_id == site_id, Record.uuid > after)
                               .order_by(Record.uuid).limit(limit + 1)).all()
    records = [{"type": row.type, "uuid": row.uuid, "version": row.version, "deleted": bool(row.deleted),
                "owner_site": row.site_id, "data": json.loads(row.data)} for row in rows[:limit]]
    following = records[-1]["uuid"] if len(rows) > limit else None
    body = {"site_id": site_id, "records": records, "next": following}
    return seal_envelope(EnvelopeKind.RECORDS, body, db.keys)


def read_catalogue_file(name: str, text: str) -> tuple[str, list[Any]]:
    """Title and items from a catalogue file: {"title", "items": [...]} or a bare list of items."""
    try:
        content = bounded_loads(text)
    except JsonRefused as error:
        raise UserFacingError(f"目录文件格式错误：{error}") from error
    if isinstance(content, list):
        return name, content
    if not isinstance(content, dict) or not isinstance(content.get("items"), list):
        raise UserFacingError("目录文件应为条目列表，或含 items 列表的对象。")
    title = content.get("title") or name
    if not isinstance(title, str):
        raise UserFacingError("目录文件中的 title 应为文字。")
    return title, content["items"]


_FEED_WRITER_LOCK = 0x7DE5_0002


def lock_feed_writers(session: Session) -> None:
    """One feed writer at a time, taken before reading versions or adding entries.

    A PostgreSQL sequence hands out numbers in call order, not commit order: without this, a
    site could read entry 11 and move its checkpoint past entry 10 still being committed. On
    SQLite every writer already holds the database lock (BEGIN IMMEDIATE).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _FEED_WRITER_LOCK})


def publish_catalogue(db: HeadDatabase, name: str, *, title: str, items: list[Any]) -> int:
    """Sign the next version of catalogue `name` and put it in every site's feed; the new version."""
    if not name or len(name) > CATALOGUE_NAME_LIMIT or not name.replace("_", "").replace("-", "").isalnum():
        raise UserFacingError(f"目录名称 {name!r} 只能含字母、数字、横线和下划线（不超过 80 个字符）。")
    now = utc_now()
    with db.session() as session:
        lock_feed_writers(session)
        version = int(session.scalar(select(func.max(Catalogue.version)).where(Catalogue.name == name)) or 0) + 1
        body = {"name": name, "version": version, "title": title, "items": items, "published_at": iso(now)}
        envelope = seal_envelope(EnvelopeKind.CATALOGUE, body, db.keys)
        session.execute(insert(Catalogue).values(name=name, version=version, envelope=envelope, published_at=now))
        session.execute(insert(FeedEntry).values(site_id=None, kind="catalogue", payload=envelope.decode("utf-8"),
                                                 created_at=now))
    db.log_event("catalogue_published", f"目录 {name} 第 {version} 版，{len(items)} 项")
    return version
