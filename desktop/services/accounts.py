"""Account administration: create, change, reset password, unlock. Admin only, all audited."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from desktop.changes import Changes
from desktop.clock import now
from desktop.db import Database
from desktop.errors import UserFacingError, ValidationError
from desktop.models import Account, Village
from desktop.services import audit
from desktop.services.audit import Action
from desktop.services.audit_labels import register_entity_label
from desktop.services.auth import branch_names, check_new_password, hash_password
from desktop.services.permissions import Actor, Permission, Role, require

register_entity_label("account", "账户")
USERNAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{1,39}")


@dataclass(frozen=True)
class AccountInfo:
    """An account as plain data (never the password hash)."""

    id: int
    username: str
    display_name: str
    role: Role
    village_ids: tuple[int, ...]
    village_names: tuple[str, ...]
    active: bool
    must_change_password: bool
    locked_until: datetime | None
    last_sign_in_at: datetime | None

    def is_locked(self, at: datetime | None = None) -> bool:
        return self.locked_until is not None and self.locked_until > (at or now())


@dataclass(frozen=True)
class AccountInput:
    """What the admin enters for an account."""

    username: str
    display_name: str
    role: Role
    village_ids: tuple[int, ...] = field(default_factory=tuple)
    staff_id: int | None = None
    active: bool = True


def _info(account: Account) -> AccountInfo:
    return AccountInfo(
        id=account.id,
        username=account.username,
        display_name=account.display_name,
        role=Role(account.role),
        village_ids=tuple(v.id for v in account.villages),
        village_names=tuple(v.name for v in account.villages),
        active=account.active,
        must_change_password=account.must_change_password,
        locked_until=account.locked_until,
        last_sign_in_at=account.last_sign_in_at,
    )


def _snapshot(account: Account) -> dict[str, object]:
    return {
        "username": account.username,
        "display_name": account.display_name,
        "role": account.role,
        "villages": sorted(v.id for v in account.villages),
        "active": account.active,
    }


def list_accounts(db: Database, actor: Actor) -> list[AccountInfo]:
    """Every account, by user name."""
    require(actor, Permission.MANAGE_ACCOUNTS)
    with db.read() as session:
        rows = session.scalars(select(Account).options(selectinload(Account.villages)).order_by(Account.username))
        return [_info(account) for account in rows]


def _validate(session: Session, data: AccountInput, *, account_id: int | None) -> list[Village]:
    errors: dict[str, str] = {}
    if not USERNAME_PATTERN.fullmatch(data.username):
        errors["username"] = "用户名须以字母开头，2–40 位字母、数字、下划线、点或连字符。"
    else:
        clash = session.scalar(select(Account.id).where(Account.username == data.username))
        if clash is not None and clash != account_id:
            errors["username"] = f"用户名“{data.username}”已被使用。"
    if not data.display_name.strip():
        errors["display_name"] = "请填写姓名。"
    villages = list(session.scalars(select(Village).where(Village.id.in_(data.village_ids))))
    if len(villages) != len(set(data.village_ids)):
        errors["village_ids"] = "所选村不存在。"
    elif data.role is Role.VILLAGE_DOCTOR and not villages:
        errors["village_ids"] = "乡村医生至少要负责一个村。"
    if errors:
        raise ValidationError(errors)
    return villages if data.role is Role.VILLAGE_DOCTOR else []


def _ensure_an_admin_remains(session: Session) -> None:
    admins = session.scalar(
        select(func.count()).select_from(Account).where(Account.role == Role.ADMIN.value, Account.active)
    )
    if not admins:
        raise UserFacingError("至少要保留一个启用的系统管理员账户。")


def create_account(
    db: Database, actor: Actor, data: AccountInput, initial_password: str
) -> tuple[AccountInfo, Changes]:
    """A new account that must change its initial password at first sign-in."""
    require(actor, Permission.MANAGE_ACCOUNTS)
    with db.write() as session:
        check_new_password(initial_password, username=data.username, field="initial_password",
                           names=(*branch_names(session), data.display_name))
        account = add_account(session, data, initial_password=initial_password)
        audit.record(session, actor, Action.ACCOUNT_CREATE, entity_type="account", entity_id=account.id,
                     summary=f"新建账户 {account.username}（{data.role.label}）", after=_snapshot(account))
        return _info(account), Changes(accounts=True, audit=True)


def add_account(
    session: Session,
    data: AccountInput,
    *,
    initial_password: str = "",
    password_hash: str = "",
    must_change: bool = True,
) -> Account:
    """Insert a validated account in the caller's transaction (used by setup and demo too).

    Give either the initial password or its ready-made hash (the demo hashes once for all).
    """
    villages = _validate(session, data, account_id=None)
    account = Account(
        username=data.username,
        display_name=data.display_name.strip(),
        role=data.role.value,
        staff_id=data.staff_id,
        password_hash=password_hash or hash_password(initial_password),
        must_change_password=must_change,
        active=data.active,
        villages=villages,
    )
    session.add(account)
    session.flush()
    return account


def _load(session: Session, account_id: int) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise UserFacingError("该账户不存在，可能已被他人修改，请刷新后重试。")
    return account


def update_account(db: Database, actor: Actor, account_id: int, data: AccountInput) -> tuple[AccountInfo, Changes]:
    """Change name, role, villages or active flag."""
    require(actor, Permission.MANAGE_ACCOUNTS)
    with db.write() as session:
        account = _load(session, account_id)
        before = _snapshot(account)
        villages = _validate(session, data, account_id=account_id)
        account.username = data.username
        account.display_name = data.display_name.strip()
        account.role = data.role.value
        account.villages = villages
        account.active = data.active
        account.staff_id = data.staff_id
        session.flush()
        _ensure_an_admin_remains(session)
        after = _snapshot(account)
        audit.record(session, actor, Action.ACCOUNT_UPDATE, entity_type="account", entity_id=account.id,
                     summary=f"修改账户 {account.username}：{'、'.join(audit.changed_fields(before, after)) or '无变化'}",
                     before=before, after=after)
        return _info(account), Changes(accounts=True, audit=True)


def reset_password(db: Database, actor: Actor, account_id: int, initial_password: str) -> Changes:
    """Give an account a new initial password; it must be changed at the next sign-in."""
    require(actor, Permission.MANAGE_ACCOUNTS)
    with db.write() as session:
        account = _load(session, account_id)
        check_new_password(initial_password, username=account.username, field="initial_password",
                           names=(*branch_names(session), account.display_name))
        account.password_hash = hash_password(initial_password)
        account.must_change_password = True
        account.failed_attempts, account.locked_until = 0, None
        audit.record(session, actor, Action.PASSWORD_RESET, entity_type="account", entity_id=account.id,
                     summary=f"重置 {account.username} 的密码")
    return Changes(accounts=True, audit=True)


def unlock_account(db: Database, actor: Actor, account_id: int) -> Changes:
    """Lift a lockout before it runs out."""
    require(actor, Permission.MANAGE_ACCOUNTS)
    with db.write() as session:
        account = _load(session, account_id)
        account.failed_attempts, account.locked_until = 0, None
        audit.record(session, actor, Action.ACCOUNT_UNLOCK, entity_type="account", entity_id=account.id,
                     summary=f"解锁账户 {account.username}")
    return Changes(accounts=True, audit=True)
