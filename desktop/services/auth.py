"""Signing in, lockout, password changes and the idle-lock check.

Wrong user name and wrong password give the same message; an unknown name still costs
one hash so that timing does not tell the two apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop.clock import now
from desktop.db import Database
from desktop.errors import (
    AccountDisabled,
    AccountLocked,
    AuthenticationFailed,
    UserFacingError,
    ValidationError,
)
from desktop.models import Account
from desktop.rules.passwords import password_problem
from desktop.services import audit
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


def check_new_password(password: str, *, username: str, field: str = "new_password") -> None:
    """Raise ValidationError naming `field` if the password breaks the policy."""
    problem = password_problem(password, username=username)
    if problem:
        raise ValidationError.single(field, problem)


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


def _register_failure(session: Session, account: Account, at: datetime) -> UserFacingError:
    account.failed_attempts += 1
    if account.failed_attempts >= MAX_FAILED_ATTEMPTS:
        account.locked_until = _next_full_minute(at + LOCKOUT)
        account.failed_attempts = 0
        audit.record(session, account.username, Action.SIGN_IN_FAILED, entity_type="account",
                     entity_id=account.id, summary=f"密码错误，连续 {MAX_FAILED_ATTEMPTS} 次，账户锁定至 {account.locked_until:%H:%M}")
        return AccountLocked(account.locked_until)
    audit.record(session, account.username, Action.SIGN_IN_FAILED, entity_type="account",
                 entity_id=account.id, summary=f"密码错误（第 {account.failed_attempts} 次）")
    return AuthenticationFailed()


def _attempt(session: Session, username: str, password: str, at: datetime) -> SignIn | UserFacingError:
    account = _find_account(session, username)
    if account is None:
        _password_matches(_dummy_hash(), password)
        audit.record(session, username.strip()[:40] or "?", Action.SIGN_IN_FAILED, summary="用户名不存在")
        return AuthenticationFailed()
    if account.locked_until and account.locked_until > at:
        audit.record(session, account.username, Action.SIGN_IN_FAILED, entity_type="account",
                     entity_id=account.id, summary="账户锁定期间尝试登录")
        return AccountLocked(account.locked_until)
    if not _password_matches(account.password_hash, password):
        return _register_failure(session, account, at)
    if not account.active:
        audit.record(session, account.username, Action.SIGN_IN_FAILED, entity_type="account",
                     entity_id=account.id, summary="账户已停用")
        return AccountDisabled()
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
    check_new_password(new_password, username=actor.username)
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
