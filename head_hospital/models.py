"""The head hospital's tables (SQLAlchemy 2), the same on SQLite and PostgreSQL.

Times are stored as timezone-aware UTC; SQLite hands them back naive, so readers go through
`as_utc`. Record bodies are kept as the JSON text that arrived, next to the sha256 of the
record's canonical line, so duplicates are told from changed content without parsing.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SITE_PENDING, SITE_APPROVED, SITE_REVOKED = "pending", "approved", "revoked"
CHANNEL_NETWORK, CHANNEL_USB = "network", "usb"
RESULTS = ("applied", "duplicate", "stale", "not_owner", "invalid")


def utc_now() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """A stored time as aware UTC (SQLite returns naive values)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso(value: datetime | None) -> str | None:
    aware = as_utc(value)
    return aware.isoformat(timespec="seconds").replace("+00:00", "Z") if aware else None


class Base(DeclarativeBase):
    pass


Stamp = DateTime(timezone=True)


class ServerKey(Base):
    """The head hospital's own key pair and name (one row)."""

    __tablename__ = "server_key"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    keys_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(Stamp, default=utc_now)


class Site(Base):
    """An installation of the branch app that enrolled with its public keys."""

    __tablename__ = "site"
    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    county_code: Mapped[str] = mapped_column(String(12), default="")
    township_code: Mapped[str] = mapped_column(String(12), default="")
    sign_public: Mapped[str] = mapped_column(String(64))
    box_public: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(16), index=True)
    fingerprint: Mapped[str] = mapped_column(String(48))
    status: Mapped[str] = mapped_column(String(10), default=SITE_PENDING)
    enrolled_at: Mapped[datetime] = mapped_column(Stamp, default=utc_now)
    approved_at: Mapped[datetime | None] = mapped_column(Stamp)
    revoked_at: Mapped[datetime | None] = mapped_column(Stamp)
    last_contact: Mapped[datetime | None] = mapped_column(Stamp)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class Record(Base):
    """The latest version of one site-owned record as the head hospital holds it."""

    __tablename__ = "record"
    uuid: Mapped[str] = mapped_column(String(36), primary_key=True)
    type: Mapped[str] = mapped_column(String(40))
    site_id: Mapped[str] = mapped_column(ForeignKey("site.site_id"))
    version: Mapped[int] = mapped_column(BigInteger)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[str] = mapped_column(Text)
    package_id: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(Stamp)

    __table_args__ = (Index("ix_record_site_type", "site_id", "type"),)


class Package(Base):
    """One applied package and the exact signed receipt that answered it."""

    __tablename__ = "package"
    package_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("site.site_id"), index=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    channel: Mapped[str] = mapped_column(String(10))
    received_at: Mapped[datetime] = mapped_column(Stamp)
    applied: Mapped[int] = mapped_column(Integer, default=0)
    duplicate: Mapped[int] = mapped_column(Integer, default=0)
    stale: Mapped[int] = mapped_column(Integer, default=0)
    not_owner: Mapped[int] = mapped_column(Integer, default=0)
    invalid: Mapped[int] = mapped_column(Integer, default=0)
    receipt: Mapped[bytes] = mapped_column(LargeBinary)


class Upload(Base):
    """A resumable upload in progress; its bytes live in `upload_chunk` rows."""

    __tablename__ = "upload"
    package_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("site.site_id"), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    received: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(Stamp, default=utc_now)


class UploadChunk(Base):
    __tablename__ = "upload_chunk"
    package_id: Mapped[str] = mapped_column(ForeignKey("upload.package_id", ondelete="CASCADE"), primary_key=True)
    offset: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class RecordRejection(Base):
    """A record of an applied package that was not taken (stale, not_owner, invalid) and why."""

    __tablename__ = "record_rejection"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    package_id: Mapped[str] = mapped_column(String(64), index=True)
    site_id: Mapped[str] = mapped_column(String(64), index=True)
    uuid: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(BigInteger)
    result: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(Text)


class Report(Base):
    """A site's statistics for a period; the one from the highest package seq wins."""

    __tablename__ = "report"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("site.site_id"))
    period: Mapped[str] = mapped_column(String(10))
    figures: Mapped[str] = mapped_column(Text)
    workbook: Mapped[bytes | None] = mapped_column(LargeBinary)
    package_id: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (UniqueConstraint("site_id", "period", name="uq_report_site_period"),)


class FeedEntry(Base):
    """One row of the downward feed; `site_id` NULL means every site."""

    __tablename__ = "feed_entry"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[str | None] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(Stamp, default=utc_now)


class Catalogue(Base):
    """A signed catalogue snapshot; versions only go up."""

    __tablename__ = "catalogue"
    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    envelope: Mapped[bytes] = mapped_column(LargeBinary)
    published_at: Mapped[datetime] = mapped_column(Stamp, default=utc_now)


class EventLog(Base):
    """What happened, refusals above all, for the admin to read back."""

    __tablename__ = "event_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(Stamp, default=utc_now)
    site_id: Mapped[str | None] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(40))
    package_id: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text, default="")


class AuditAnchor(Base):
    """A site's audit chain as one package named it: its last entry, and the hash it then held at an earlier seq."""

    __tablename__ = "audit_anchor"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("site.site_id"))
    package_id: Mapped[str] = mapped_column(String(64))
    package_seq: Mapped[int] = mapped_column(BigInteger)
    seq: Mapped[int] = mapped_column(BigInteger)
    entry_hash: Mapped[str] = mapped_column(String(64))
    entries: Mapped[int] = mapped_column(BigInteger)
    keyed_from: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[str] = mapped_column(String(32))  # the site's own clock, as it wrote it
    since_seq: Mapped[int | None] = mapped_column(BigInteger)
    since_hash: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(Stamp)

    __table_args__ = (Index("ix_audit_anchor_site", "site_id", "package_seq"),)


class RequestNonce(Base):
    """The one-time value of a signed request, kept until the request's timestamp can no longer pass."""

    __tablename__ = "request_nonce"
    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(32), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(Stamp, index=True)
