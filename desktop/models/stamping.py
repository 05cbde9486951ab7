"""Stamps every synced record at flush: the owning site on new records, a version bump on edits.

It sits above base.py and org.py because it needs both: the mixin it stamps and the branch row that
names this installation's site.
"""

from __future__ import annotations

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from desktop.models.base import REMOTE_APPLY_FLAG, SITE_ID_KEY, SYNC_BOOKKEEPING, SyncMixin, SyncState
from desktop.models.org import Branch


def owner_site(session: Session) -> str:
    """The site id of this installation, read once per session."""
    site_id = session.info.get(SITE_ID_KEY)
    if site_id is None:
        site_id = session.execute(Branch.site_id_query()).scalar_one_or_none()
        if site_id is None:
            raise RuntimeError("branch is not set up: no site id for a new record")
        session.info[SITE_ID_KEY] = site_id
    return site_id


def _changed_columns(obj: SyncMixin) -> set[str]:
    """Names of the mapped columns whose value changed since load."""
    state = inspect(obj)
    columns = state.mapper.column_attrs.keys()
    return {key for key in columns if state.attrs[key].history.has_changes()}


@event.listens_for(Session, "before_flush")
def stamp_sync_records(session: Session, flush_context: object, instances: object) -> None:
    """Give new records their owner, and bump edited records' version back to pending."""
    if session.info.get(REMOTE_APPLY_FLAG):
        return
    for obj in session.new:
        if isinstance(obj, SyncMixin) and not obj.owner_site:
            obj.owner_site = owner_site(session)
    for obj in session.dirty:
        if not isinstance(obj, SyncMixin):
            continue
        if _changed_columns(obj) - SYNC_BOOKKEEPING - {"version"}:
            obj.version = (obj.version or 0) + 1
            obj.sync_state = SyncState.PENDING.value
            obj.sync_error = None
