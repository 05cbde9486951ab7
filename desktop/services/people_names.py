"""Who did something, as people see it: an account's display name (赵磊), never its user name (admin).

Records keep the user name (it is what the audit chain and the sync carry); screens and printouts
resolve it here. A system actor reads as its registered Chinese name (`audit_labels.actor_label`);
a user name no account has any more reads as itself.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desktop.models import Account
from desktop.services.audit_labels import actor_label


def display_names(session: Session, usernames: Iterable[str]) -> dict[str, str]:
    """user name -> the name to show for each of `usernames` (one query)."""
    wanted = {name for name in usernames if name}
    if not wanted:
        return {}
    lowered = {name.lower() for name in wanted}
    found = {username.lower(): display for username, display in session.execute(
        select(Account.username, Account.display_name).where(func.lower(Account.username).in_(lowered)))}
    return {name: found.get(name.lower()) or actor_label(name) for name in wanted}


def display_name(session: Session, username: str | None) -> str:
    """The name to show for one user name ('' for none)."""
    return display_names(session, [username or ""]).get(username or "", "")
