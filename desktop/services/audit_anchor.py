"""Anchors of the audit chain outside its table: the signed anchor file, backups, packages.

An anchor names the chain's last entry (seq and hash) at a moment. The anchor file
`<data>/audit-anchor.json` is signed with a key derived from the audit key and rewritten after
every committed transaction that added audit entries, never before the commit. It only moves
forward along the chain: when a transaction's entries do not continue from the anchor (entries
deleted or rewritten behind the app's back, or the file deleted), the anchor is held where it
was, so `audit verify` still sees what the chain held. A backup is a copy of the database, so its
newest keyed entry is an anchor too; a package carries the anchor to the head hospital.
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
from contextlib import closing
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from desktop import sqlite_driver
from desktop.clock import now
from desktop.dbfile import open_sqlite
from desktop.models import AuditEntry, Branch
from desktop.paths import AUDIT_ANCHOR_FILENAME, DataPaths
from desktop.services.audit_chain import anchor_key, canonical_json, hash_matches
from desktop.site_secrets import SiteSecrets, write_private

log = logging.getLogger("township_desk.audit")

ANCHOR_VERSION = 1
PENDING_KEY = "audit_anchor_pending"
DATABASE_PATH_KEY = "database_path"  # set by `Database` on its sessions
_WRITE_LOCK = threading.Lock()
_SITE_IDS: dict[Path, str] = {}


@dataclass(frozen=True)
class Anchor:
    """The chain's last entry at a moment, and where this anchor was seen."""

    site: str
    seq: int
    entry_hash: str
    entries: int
    keyed_from: int
    at: str  # ISO time, seconds
    source: str = "file"  # "file", "backup:<file name>" or "head" (not part of what is signed)

    def body(self) -> dict[str, Any]:
        """What is signed (and what a package carries)."""
        fields = asdict(self)
        fields.pop("source")
        return {"version": ANCHOR_VERSION, **fields}

    @classmethod
    def from_body(cls, value: dict[str, Any], *, source: str) -> Anchor:
        return cls(site=str(value["site"]), seq=int(value["seq"]), entry_hash=str(value["entry_hash"]),
                   entries=int(value["entries"]), keyed_from=int(value["keyed_from"]), at=str(value["at"]),
                   source=source)

    def describe(self) -> str:
        """Where and when, in words: 锚点文件第 N 条，记于 时间."""
        where = "锚点文件" if self.source == "file" else (
            f"备份 {self.source.removeprefix('backup:')}" if self.source.startswith("backup:") else "总院回执")
        return f"{where}第 {self.seq} 条，记于 {self.at.replace('T', ' ')}"


class AnchorFileState(StrEnum):
    OK = "ok"
    MISSING = "missing"
    FORGED = "forged"


@dataclass(frozen=True)
class AnchorFile:
    """The anchor file as read: its state, and the anchor when the signature holds."""

    path: Path
    state: AnchorFileState
    anchor: Anchor | None = None


def anchor_path(database_path: Path) -> Path:
    """The anchor file beside the database (the data directory)."""
    return Path(database_path).parent / AUDIT_ANCHOR_FILENAME


def _mac(secrets: SiteSecrets, body: dict[str, Any]) -> str:
    return hmac.new(anchor_key(secrets), canonical_json(body).encode("utf-8"), "sha256").hexdigest()


def write_anchor_file(path: Path, anchor: Anchor, secrets: SiteSecrets) -> None:
    """Sign and write the anchor file (0600, replaced atomically)."""
    body = anchor.body()
    document = {"anchor": body, "mac": _mac(secrets, body)}
    with _WRITE_LOCK:
        write_private(path, json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8"))


def read_anchor_file(path: Path, secrets: SiteSecrets) -> AnchorFile:
    """The anchor file and whether its signature holds under this site's key."""
    try:
        document = json.loads(path.read_bytes())
        body, mac = document["anchor"], str(document["mac"])
        if not hmac.compare_digest(mac, _mac(secrets, body)):
            return AnchorFile(path, AnchorFileState.FORGED)
        return AnchorFile(path, AnchorFileState.OK, Anchor.from_body(body, source="file"))
    except FileNotFoundError:
        return AnchorFile(path, AnchorFileState.MISSING)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return AnchorFile(path, AnchorFileState.FORGED)


# ----- keeping the anchor file after every committed write that added entries


@dataclass
class _Pending:
    """What one transaction added to the chain (kept in the session's info until commit)."""

    prev_seq: int
    prev_hash: str
    last: AuditEntry
    anchor: Anchor | None = None


def remember(session: Session, entry: AuditEntry) -> None:
    """Note an entry just written, for the anchor written after the commit (no query)."""
    pending = session.info.get(PENDING_KEY)
    if pending is None:
        session.info[PENDING_KEY] = _Pending(prev_seq=entry.seq - 1, prev_hash=entry.prev_hash, last=entry)
    else:
        pending.last = entry


def _site_id(session: Session, database_path: Path) -> str:
    site_id = _SITE_IDS.get(database_path)
    if site_id is None:
        site_id = session.execute(Branch.site_id_query()).scalar_one_or_none() or ""
        if site_id:
            _SITE_IDS[database_path] = site_id
    return site_id


def _continues(session: Session, current: AnchorFile, pending: _Pending, secrets: SiteSecrets) -> bool:
    """True when this transaction's entries extend the chain the anchor names."""
    if current.state is AnchorFileState.MISSING:
        return pending.prev_seq < secrets.audit_keyed_from  # no keyed entry yet: the first anchor
    anchor = current.anchor
    if anchor is None or anchor.seq > pending.prev_seq:
        return False
    if anchor.seq == pending.prev_seq:
        return hmac.compare_digest(anchor.entry_hash, pending.prev_hash)
    held = session.scalar(select(AuditEntry.entry_hash).where(AuditEntry.seq == anchor.seq))
    return held is not None and hmac.compare_digest(held, anchor.entry_hash)


def _next_anchor(session: Session, pending: _Pending) -> Anchor | None:
    state = inspect(pending.last)
    database_path = session.info.get(DATABASE_PATH_KEY)
    secrets = session.info.get("secrets")
    if state.transient or state.deleted or database_path is None or not isinstance(secrets, SiteSecrets):
        return None  # the last entry went with a rolled-back savepoint: the next write anchors
    path = anchor_path(database_path)
    current = read_anchor_file(path, secrets)
    if not _continues(session, current, pending, secrets):
        log.warning("audit anchor held at %s: the chain no longer continues from it (%s)", path, current.state)
        return None
    entry = pending.last
    return Anchor(site=_site_id(session, Path(database_path)), seq=entry.seq, entry_hash=entry.entry_hash,
                  entries=entry.seq, keyed_from=secrets.audit_keyed_from, at=now().isoformat(timespec="seconds"))


@event.listens_for(Session, "before_commit")
def _anchor_before_commit(session: Session) -> None:
    """Decide, still inside the transaction, whether the anchor may move to the new last entry."""
    pending = session.info.get(PENDING_KEY)
    if pending is None or session.in_nested_transaction():
        return
    try:
        pending.anchor = _next_anchor(session, pending)
    except (OSError, sqlite_driver.Error) as error:
        log.warning("audit anchor not prepared: %s", error)


@event.listens_for(Session, "after_commit")
def _anchor_after_commit(session: Session) -> None:
    """Write the anchor once the entries are committed; a failure is logged, never raised."""
    if session.in_nested_transaction():
        return
    pending = session.info.pop(PENDING_KEY, None)
    if pending is None or pending.anchor is None:
        return
    try:
        write_anchor_file(anchor_path(session.info[DATABASE_PATH_KEY]), pending.anchor, session.info["secrets"])
    except OSError as error:
        log.warning("audit anchor not written: %s", error)


@event.listens_for(Session, "after_rollback")
def _anchor_after_rollback(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(PENDING_KEY, None)


# ----- anchors read from the database itself, its backups, and for a package


def latest_anchor(session: Session, *, site: str, keyed_from: int) -> Anchor | None:
    """The chain's last entry as an anchor (for a package or after a restore); None when the chain is empty."""
    row = session.execute(select(AuditEntry.seq, AuditEntry.entry_hash)
                          .order_by(AuditEntry.seq.desc()).limit(1)).first()
    if row is None:
        return None
    return Anchor(site=site, seq=row.seq, entry_hash=row.entry_hash, entries=row.seq, keyed_from=keyed_from,
                  at=now().isoformat(timespec="seconds"))


def _newest_entry(path: Path, key: bytes | None) -> AuditEntry | None:
    with closing(open_sqlite(path, key=key, readonly=True)) as connection:
        connection.row_factory = sqlite_driver.Row
        row = connection.execute("SELECT * FROM audit_entry ORDER BY seq DESC LIMIT 1").fetchone()
    if row is None:
        return None
    values = dict(row)
    values["at"] = datetime.fromisoformat(str(values["at"]))
    values["details"] = json.loads(values["details"]) if values.get("details") is not None else None
    return AuditEntry(**values)


def backup_anchor(path: Path, secrets: SiteSecrets) -> Anchor | None:
    """A backup's newest entry as an anchor, when it is keyed and its hash holds under this site's key."""
    try:
        entry = _newest_entry(path, secrets.database_key)
    except (sqlite_driver.Error, OSError, ValueError, TypeError):
        return None
    if entry is None or entry.seq < secrets.audit_keyed_from or not hash_matches(entry, secrets):
        return None
    return Anchor(site="", seq=entry.seq, entry_hash=entry.entry_hash, entries=entry.seq,
                  keyed_from=secrets.audit_keyed_from, at=entry.at.isoformat(timespec="seconds"),
                  source=f"backup:{path.name}")


def backup_anchors(paths: DataPaths, secrets: SiteSecrets) -> list[Anchor]:
    """The anchors the backups folder holds (each backup's newest keyed entry)."""
    if not paths.backups.is_dir():
        return []
    found = (backup_anchor(file, secrets) for file in sorted(paths.backups.glob("*.sqlite")))
    return [anchor for anchor in found if anchor is not None]


def reanchor(session: Session, database_path: Path, secrets: SiteSecrets) -> Anchor | None:
    """Write the anchor file for the chain as it now stands (after an audited restore replaced the database)."""
    anchor = latest_anchor(session, site=_site_id(session, Path(database_path)), keyed_from=secrets.audit_keyed_from)
    if anchor is not None:
        write_anchor_file(anchor_path(database_path), anchor, secrets)
    return anchor
