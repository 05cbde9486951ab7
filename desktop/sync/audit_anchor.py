"""The audit anchor a package carries to the head hospital, signed with the manifest.

It names the chain's last entry when the package is built and, under `since`, the hash the chain
now holds at the seq the previous package named. The head hospital keeps every site's anchors, so
a tail deleted or a history rewritten after a package left shows there as the same seq with two
hashes or a seq going back, even when every local trace was removed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop.models import AuditEntry
from desktop.services.audit import session_secrets
from desktop.services.audit_anchor import latest_anchor
from desktop.sync.site import get_value, set_value

SENT_ANCHOR_KEY = "sync.audit_anchor_seq"


def package_anchor(session: Session, site_id: str) -> dict[str, Any] | None:
    """The anchor for the package being built (None while the chain is empty); remembers its seq for the next."""
    anchor = latest_anchor(session, site=site_id, keyed_from=session_secrets(session).audit_keyed_from)
    if anchor is None:
        return None
    body = anchor.body()
    previous = get_value(session, SENT_ANCHOR_KEY)
    if previous:
        held = session.scalar(select(AuditEntry.entry_hash).where(AuditEntry.seq == int(previous)))
        body["since"] = {"seq": int(previous), "entry_hash": held or ""}
    set_value(session, SENT_ANCHOR_KEY, anchor.seq)
    return body
