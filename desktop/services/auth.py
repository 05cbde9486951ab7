"""Signing in, lockout, password changes and the idle-lock check.

Nothing a sign-in answers tells whether a name exists or a password was right: a wrong
password, an unknown name and a disabled account (whatever password is typed) give the same
message, count towards the same lockout, and cost the same one argon2 hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop.clock import now
from desktop.db import Database
from desktop.errors import (
    AccountLocked,
    AuthenticationFailed,
    UserFacingError,
    ValidationError,
)
from desktop.models import Account, Branch, Village
from desktop.rules.passwords import password_problem
from desktop.services import audit, unknown_names
from desktop.services.audit import Action
from desktop.services.permissions import Actor, Role

if TYPE_CHECKING:
    from argon2 import PasswordHasher

MAX_FAILED_ATTEMPTS = 5
LOCKOUT = timedelta(minutes=15)


@cache
def _hasher() -> PasswordHasher:
    from argon2 import PasswordHasher

    return PasswordHasher()


@cache
def _dummy_hash() -> str:
    return _hasher().hash("township-desk-timing-equaliser")


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _hasher().hash(password)


def _password_matches(stored_hash: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _hasher().verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_new_password(
    password: str, *, username: str, names: tuple[str, ...] = (), field: str = "new_password"
) -> None:
    """Raise ValidationError naming `field` if the password breaks the policy.

    `names` are the branch's and the person's names whose pinyin a password may not use.
    """
    problem = password_problem(password, username=username, names=names)
    if problem:
        raise ValidationError.single(field, problem)


def branch_names(session: Session) -> tuple[str, ...]:
    """The branch's own names (branch, head hospital, every village) that passwords may not spell."""
    branch = session.get(Branch, 1)
    own = (branch.name, branch.head_hospital_name) if branch else ()
    return (*own, *session.scalars(select(Village.name).order_by(Village.code)))


def actor_of(account: Account) -> Actor:
    """The plain-data actor for an account row."""
    return Actor(
        account_id=account.id,
        username=account.username,
        display_name=account.display_name,
        role=Role(account.role),
        village_ids=frozenset(village.id for village in account.villages),
        staff_id=account.staff_id,
    )


@dataclass(frozen=True)
class SignIn:
    """A successful sign-in."""

    actor: Actor
    must_change_password: bool


def _find_account(session: Session, username: str) -> Account | None:
    return session.scalars(select(Account).where(Account.username == username.strip())).one_or_none()


def _next_full_minute(moment: datetime) -> datetime:
    """Round up to the minute, so "锁定至 HH:MM" is exactly when the lock ends."""
    floor = moment.replace(second=0, microsecond=0)
    return floor if floor == moment else floor + timedelta(minutes=1)


class FailureCount(Protocol):
    """An account, or a name without one: what lockout counts."""

    failed_attempts: int
    locked_until: datetime | None


def _audit_failure(session: Session, name: str, account: Account | None, summary: str) -> None:
    audit.record(session, name, Action.SIGN_IN_FAILED, entity_type="account" if account else "",
                 entity_id=account.id if account else "", summary=summary)


def _register_failure(
    session: Session, record: FailureCount, at: datetime, *, name: str, account: Account | None
) -> UserFacingError:
    reason = _failure_reason(account)
    record.failed_attempts += 1
    if record.failed_attempts >= MAX_FAILED_ATTEMPTS:
        record.locked_until = _next_full_minute(at + LOCKOUT)
        record.failed_attempts = 0
        _audit_failure(session, name, account,
                       f"{reason}，连续 {MAX_FAILED_ATTEMPTS} 次，锁定至 {record.locked_until:%H:%M}")
        return AccountLocked(record.locked_until)
    _audit_failure(session, name, account, f"{reason}（第 {record.failed_attempts} 次）")
    return AuthenticationFailed()


def _failure_reason(account: Account | None) -> str:
    if account is None:
        return "用户名不存在"
    return "账户已停用" if not account.active else "密码错误"


def _attempt(session: Session, username: str, password: str, at: datetime) -> SignIn | UserFacingError:
    account = _find_account(session, username)
    # One hash whatever follows, so that the time taken tells nothing either.
    password_right = _password_matches(account.password_hash if account else _dummy_hash(), password)
    record: FailureCount = account if account is not None else unknown_names.load(session, username)
    name = account.username if account is not None else username.strip()[:40] or "?"
    if record.locked_until and record.locked_until > at:
        _audit_failure(session, name, account, "锁定期间尝试登录")
        return AccountLocked(record.locked_until)
    if account is None or not account.active or not password_right:
        outcome = _register_failure(session, record, at, name=name, account=account)
        if isinstance(record, unknown_names.UnknownName):
            unknown_names.save(session, record)
        return outcome
    if _hasher().check_needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    account.failed_attempts, account.locked_until, account.last_sign_in_at = 0, None, at
    audit.record(session, account.username, Action.SIGN_IN, entity_type="account", entity_id=account.id,
                 summary="登录成功")
    return SignIn(actor=actor_of(account), must_change_password=account.must_change_password)


def sign_in(db: Database, username: str, password: str, *, at: datetime | None = None) -> SignIn:
    """Check the password; every attempt, good or bad, is audited and committed."""
    with db.write() as session:
        outcome = _attempt(session, username, password, at or now())
    if isinstance(outcome, UserFacingError):
        raise outcome
    return outcome


def confirm_identity(db: Database, actor: Actor, password: str) -> None:
    """Unlock the idle-locked screen: the same checks and lockout as signing in."""
    result = sign_in(db, actor.username, password)
    if result.actor.account_id != actor.account_id:
        raise AuthenticationFailed()


def change_password(db: Database, actor: Actor, old_password: str, new_password: str) -> None:
    """The account holder changes their own password (required after the initial one)."""
    with db.read() as session:
        names = (*branch_names(session), actor.display_name)
    check_new_password(new_password, username=actor.username, names=names)
    if new_password == old_password:
        raise ValidationError.single("new_password", "新密码不能与原密码相同。")
    with db.write() as session:
        account = session.get(Account, actor.account_id)
        if account is None or not _password_matches(account.password_hash, old_password):
            raise ValidationError.single("old_password", "原密码不正确。")
        account.password_hash = hash_password(new_password)
        account.must_change_password = False
        account.password_changed_at = now()
        audit.record(session, actor, Action.PASSWORD_CHANGE, entity_type="account", entity_id=account.id)


def record_sign_out(db: Database, actor: Actor, *, reason: str = "") -> None:
    """Audit a sign-out (or a screen lock when reason says so)."""
    with db.write() as session:
        action = Action.SCREEN_LOCK if reason == "idle" else Action.SIGN_OUT
        audit.record(session, actor, action, entity_type="account", entity_id=actor.account_id or "",
                     summary="空闲超时锁屏" if reason == "idle" else "")
