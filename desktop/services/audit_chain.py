"""How an audit entry's hash is made: HMAC-SHA256 under the site's audit key, plain SHA-256 before it.

Entries numbered from `SiteSecrets.audit_keyed_from` on are keyed with `audit_key`, which is kept
outside the database file, so whoever holds only the file cannot recompute the chain after
rewriting it. Entries before that number were written by an older version with plain SHA-256 and
keep it; the first keyed entry chains to the last plain one, so rewriting the old part breaks
the keyed part.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from desktop.models import AuditEntry
from desktop.site_secrets import SiteSecrets

GENESIS_HASH = "0" * 64
_ANCHOR_CONTEXT = b"township-desk audit anchor v1"


def canonical_json(value: Any) -> str:
    """Stable JSON: sorted keys, no spaces, non-ASCII kept, dates as ISO text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def entry_key(secrets: SiteSecrets, seq: int) -> bytes | None:
    """The key that chains entry `seq`, or None for an entry from before the chain was keyed."""
    return secrets.audit_key if seq >= secrets.audit_keyed_from else None


def anchor_key(secrets: SiteSecrets) -> bytes:
    """The key that signs anchors, derived from the audit key (never the same bytes)."""
    return hmac.new(secrets.audit_key, _ANCHOR_CONTEXT, hashlib.sha256).digest()


def entry_hash(prev_hash: str, fields: Mapping[str, Any], *, key: bytes | None) -> str:
    """HMAC-SHA256 (or plain SHA-256 without a key) of the previous hash and the entry's canonical fields."""
    message = f"{prev_hash}\n{canonical_json(fields)}".encode()
    if key is None:
        return hashlib.sha256(message).hexdigest()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def hashed_fields(entry: AuditEntry) -> dict[str, Any]:
    """The fields an entry's hash covers, as they were when it was written."""
    fields = {
        "seq": entry.seq,
        "at": entry.at.isoformat(timespec="seconds"),
        "actor": entry.actor,
        "action": entry.action,
        "entity_type": entry.entity_type,
        "entity_id": entry.entity_id,
        "summary": entry.summary,
        "before": entry.before_digest,
        "after": entry.after_digest,
    }
    if entry.details is not None:  # entries written before details existed keep their original hash
        fields["details"] = entry.details
    return fields


def expected_hash(entry: AuditEntry, secrets: SiteSecrets) -> str:
    """The hash `entry` must carry given its stored `prev_hash`."""
    return entry_hash(entry.prev_hash, hashed_fields(entry), key=entry_key(secrets, entry.seq))


def hash_matches(entry: AuditEntry, secrets: SiteSecrets) -> bool:
    """True when the entry's stored hash is the one its fields and key give (compared in constant time)."""
    return hmac.compare_digest(entry.entry_hash or "", expected_hash(entry, secrets))
