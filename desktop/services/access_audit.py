"""Audit of reads and refusals: lists that show people, and attempts refused for scope or role.

Opening one record is audited where it is read (`resident_query.get_resident`). A list of people
(an indicator's drill-down, the due list, search results) is audited once per list shown, never
per row: `list_shown` writes one Action.VIEW entry, and the same list (same actor, same kind and
the same parameters or search text) shown again within `REPEAT_MINUTES` writes nothing, so the
home page's due list refreshing after every save does not flood the log. An empty list shows no
one and is not audited.

Search results in the window are audited when the search box settles (the text left unchanged
for a moment, or Enter), not for each letter typed; opening a result is audited as a view of
that record. On the command line every search is audited.

A print or export refused because the person or village is outside the actor's scope (or the
role lacks the permission) leaves an Action.REFUSED entry, written in its own transaction
because the refused operation's own transaction is rolled back.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from desktop.clock import now
from desktop.db import Database
from desktop.errors import PermissionDenied
from desktop.rules.idnumbers import mask_id
from desktop.services import audit
from desktop.services.audit import Action
from desktop.services.audit_labels import register_entity_label
from desktop.services.permissions import Actor

REPEAT_MINUTES = 10
REMEMBERED_LISTS = 1000
PEOPLE_LIST = register_entity_label("people_list", "人员名单")

_lock = threading.Lock()
_last_shown: weakref.WeakKeyDictionary[Database, dict[tuple[str, Hashable], datetime]] = weakref.WeakKeyDictionary()


def _first_time_in_a_while(db: Database, key: tuple[str, Hashable], at: datetime) -> bool:
    """True (and remembered) unless the same list was audited within REPEAT_MINUTES."""
    with _lock:
        shown = _last_shown.setdefault(db, {})
        last = shown.get(key)
        if last is not None and at - last < timedelta(minutes=REPEAT_MINUTES):
            return False
        if len(shown) >= REMEMBERED_LISTS:  # forget the lists shown longer ago than the window
            for old in [k for k, when in shown.items() if at - when >= timedelta(minutes=REPEAT_MINUTES)]:
                del shown[old]
        shown[key] = at
        return True


def list_shown(db: Database, actor: Actor, *, kind: str, params: Hashable, count: int, summary: str) -> bool:
    """Audit one list of `count` people shown to `actor` (Action.VIEW); True when an entry was written.

    `kind` names the list (due, indicator, search …) and `params` what was asked, so a list
    shown again with the same parameters within REPEAT_MINUTES is not audited twice.
    """
    if count <= 0 or not _first_time_in_a_while(db, (actor.username, (kind, params)), now()):
        return False
    with db.write() as session:
        audit.record(session, actor, Action.VIEW, entity_type=PEOPLE_LIST, entity_id=kind,
                     summary=f"{summary}（{count} 人）")
    return True


def record_refusal(db: Database, actor: Actor, *, summary: str, entity_type: str = "", entity_id: object = "") -> None:
    """Audit a refused attempt (Action.REFUSED) in its own transaction."""
    with db.write() as session:
        audit.record(session, actor, Action.REFUSED, entity_type=entity_type, entity_id=entity_id, summary=summary)


@contextmanager
def refusals_audited(db: Database, actor: Actor, what: str) -> Iterator[None]:
    """Run a print or export; a PermissionDenied inside leaves a REFUSED entry naming `what`, then goes on up."""
    try:
        yield
    except PermissionDenied as refused:
        if not getattr(refused, "audited", False):  # nested: the innermost names it once
            record_refusal(db, actor, summary=f"{what}被拒绝：{refused.message}")
            refused.audited = True
        raise


def search_words(query: str) -> str:
    """The search text as the audit keeps it: numbers masked like ID numbers (a name stays readable)."""
    text = query.strip()[:30]
    if sum(c.isdigit() for c in text) >= 6:
        return "*" * (len(text) - 4) + text[-4:]
    return text


def duplicate_elsewhere(db: Database, actor: Actor, *, id_number: str, attempt: str) -> None:
    """Audit a village doctor's attempt with an ID number registered in another village (masked)."""
    record_refusal(db, actor, entity_type="resident",
                   summary=f"{attempt}被拒绝：身份证号 {mask_id(id_number)} 已在本院其他村登记")
