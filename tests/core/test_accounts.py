"""Account administration: admin only, validated, audited, never without an admin."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime

import pytest
from core_support import actor_for
from sqlalchemy import select

from desktop.app import App
from desktop.errors import PermissionDenied, UserFacingError, ValidationError
from desktop.models import Account, AuditEntry, Village
from desktop.services import audit
from desktop.services.accounts import (
    AccountInfo,
    AccountInput,
    create_account,
    list_accounts,
    reset_password,
    unlock_account,
    update_account,
)
from desktop.services.audit import Action
from desktop.services.permissions import ROLE_PERMISSIONS, Actor, Permission, Role, require

INITIAL = "Initial#2026"


def _last_audit(app: App) -> AuditEntry:
    with app.db.read() as session:
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
        session.expunge(entry)
        return entry


def _audit_count(app: App) -> int:
    with app.db.read() as session:
        return len(session.scalars(select(AuditEntry.seq)).all())


def _village_ids(app: App, *codes: str) -> tuple[int, ...]:
    with app.db.read() as session:
        query = select(Village.id).where(Village.code.in_(codes)).order_by(Village.code)
        return tuple(session.scalars(query))


def _by_name(app: App) -> dict[str, AccountInfo]:
    return {info.username: info for info in list_accounts(app.db, actor_for(app.db, "admin"))}


def test_only_the_admin_role_manages_accounts() -> None:
    managers = {role for role, granted in ROLE_PERMISSIONS.items() if Permission.MANAGE_ACCOUNTS in granted}
    assert managers == {Role.ADMIN}
    assert set(ROLE_PERMISSIONS) == set(Role)


@pytest.mark.parametrize("username", ["yuanzhang", "luru1", "cunyi101"])
def test_non_admins_are_refused_by_the_services(demo_app: App, username: str) -> None:
    actor = actor_for(demo_app.db, username)
    target = actor_for(demo_app.db, "kaohe1").account_id
    before = _audit_count(demo_app)
    with pytest.raises(PermissionDenied, match="无权管理账户"):
        list_accounts(demo_app.db, actor)
    with pytest.raises(PermissionDenied):
        create_account(demo_app.db, actor, AccountInput("sneaky", "某人", Role.ADMIN), INITIAL)
    with pytest.raises(PermissionDenied):
        update_account(demo_app.db, actor, target, AccountInput("kaohe1", "杨秀英", Role.ADMIN))
    with pytest.raises(PermissionDenied):
        reset_password(demo_app.db, actor, target, INITIAL)
    with pytest.raises(PermissionDenied):
        unlock_account(demo_app.db, actor, target)
    accounts = _by_name(demo_app)
    assert "sneaky" not in accounts and accounts["kaohe1"].role is Role.ASSESSOR
    assert _audit_count(demo_app) == before


def test_require_names_the_role_and_the_permission() -> None:
    clerk = Actor(account_id=9, username="x", display_name="x", role=Role.CLERK)
    with pytest.raises(PermissionDenied) as refused:
        require(clerk, Permission.RESTORE)
    assert "信息录入员" in refused.value.message and "从备份恢复" in refused.value.message


def test_create_account_is_audited(demo_app: App) -> None:
    admin = actor_for(demo_app.db, "admin")
    villages = _village_ids(demo_app, "104", "105")
    data = AccountInput("cunyi_new", "新村医", Role.VILLAGE_DOCTOR, village_ids=villages)
    info, changes = create_account(demo_app.db, admin, data, INITIAL)
    assert changes.accounts and changes.audit
    assert info.role is Role.VILLAGE_DOCTOR and info.village_ids == villages
    assert info.village_names == ("王庄村", "李家湾村") and info.must_change_password
    entry = _last_audit(demo_app)
    assert (entry.actor, entry.action, entry.entity_type, entry.entity_id) == (
        "admin", Action.ACCOUNT_CREATE.value, "account", str(info.id))
    assert entry.after_digest == audit.digest({"username": "cunyi_new", "display_name": "新村医",
                                               "role": "village_doctor", "villages": sorted(villages),
                                               "active": True})
    assert _by_name(demo_app)["cunyi_new"] == info


def test_account_info_never_carries_the_password_hash() -> None:
    assert not [f.name for f in fields(AccountInfo) if "password_hash" in f.name or f.name == "password"]


def test_a_village_doctor_needs_a_village(demo_app: App) -> None:
    admin = actor_for(demo_app.db, "admin")
    with pytest.raises(ValidationError) as refused:
        create_account(demo_app.db, admin, AccountInput("cunyi_x", "某村医", Role.VILLAGE_DOCTOR), INITIAL)
    assert list(refused.value.errors) == ["village_ids"]
    assert "至少要负责一个村" in refused.value.errors["village_ids"]
    with pytest.raises(ValidationError) as unknown:
        create_account(demo_app.db, admin,
                       AccountInput("cunyi_x", "某村医", Role.VILLAGE_DOCTOR, village_ids=(9999,)), INITIAL)
    assert list(unknown.value.errors) == ["village_ids"]
    assert "cunyi_x" not in _by_name(demo_app)


def test_other_roles_keep_no_villages(demo_app: App) -> None:
    admin = actor_for(demo_app.db, "admin")
    doctor = actor_for(demo_app.db, "cunyi101")
    data = AccountInput("cunyi101", "李秀兰", Role.FAMILY_DOCTOR, village_ids=doctor.village_ids)
    info, _ = update_account(demo_app.db, admin, doctor.account_id, data)
    assert info.role is Role.FAMILY_DOCTOR and info.village_ids == ()


@pytest.mark.parametrize("username", ["yuanzhang", "YuanZhang"])
def test_a_duplicate_user_name_is_refused_naming_the_field(demo_app: App, username: str) -> None:
    admin = actor_for(demo_app.db, "admin")
    with pytest.raises(ValidationError) as refused:
        create_account(demo_app.db, admin, AccountInput(username, "另一个院长", Role.DIRECTOR), INITIAL)
    assert list(refused.value.errors) == ["username"]
    assert "已被使用" in refused.value.errors["username"]
    kaohe = actor_for(demo_app.db, "kaohe1")
    with pytest.raises(ValidationError) as renamed:
        update_account(demo_app.db, admin, kaohe.account_id, AccountInput(username, "杨秀英", Role.ASSESSOR))
    assert list(renamed.value.errors) == ["username"]


def test_keeping_ones_own_user_name_is_not_a_duplicate(demo_app: App) -> None:
    admin = actor_for(demo_app.db, "admin")
    kaohe = actor_for(demo_app.db, "kaohe1")
    data = AccountInput("kaohe1", "杨秀英（科长）", Role.ASSESSOR)
    info, _ = update_account(demo_app.db, admin, kaohe.account_id, data)
    assert info.display_name == "杨秀英（科长）"


def test_input_fields_are_validated_together(demo_app: App) -> None:
    admin = actor_for(demo_app.db, "admin")
    with pytest.raises(ValidationError) as refused:
        create_account(demo_app.db, admin, AccountInput("1bad name", "  ", Role.CLERK), INITIAL)
    assert set(refused.value.errors) == {"username", "display_name"}


def test_a_weak_initial_password_is_refused(demo_app: App) -> None:
    admin = actor_for(demo_app.db, "admin")
    with pytest.raises(ValidationError) as refused:
        create_account(demo_app.db, admin, AccountInput("zhaoliu", "赵六", Role.CLERK), "zhaoliu#2026A")
    assert list(refused.value.errors) == ["initial_password"]
    with pytest.raises(ValidationError) as reset:
        reset_password(demo_app.db, admin, actor_for(demo_app.db, "luru1").account_id, "short")
    assert list(reset.value.errors) == ["initial_password"]


def test_the_last_admin_cannot_be_demoted_or_disabled(demo_app: App) -> None:
    admin = actor_for(demo_app.db, "admin")
    before = _audit_count(demo_app)
    with pytest.raises(UserFacingError, match="至少要保留一个启用的系统管理员"):
        update_account(demo_app.db, admin, admin.account_id, AccountInput("admin", "赵磊", Role.DIRECTOR))
    with pytest.raises(UserFacingError, match="至少要保留一个启用的系统管理员"):
        update_account(demo_app.db, admin, admin.account_id,
                       AccountInput("admin", "赵磊", Role.ADMIN, active=False))
    info = _by_name(demo_app)["admin"]
    assert info.role is Role.ADMIN and info.active
    assert _audit_count(demo_app) == before


def test_an_admin_may_step_down_once_another_admin_exists(demo_app: App) -> None:
    admin = actor_for(demo_app.db, "admin")
    director = actor_for(demo_app.db, "yuanzhang")
    update_account(demo_app.db, admin, director.account_id, AccountInput("yuanzhang", "陈建国", Role.ADMIN))
    info, _ = update_account(demo_app.db, admin, admin.account_id, AccountInput("admin", "赵磊", Role.DIRECTOR))
    assert info.role is Role.DIRECTOR


def test_an_update_is_audited_with_the_changed_fields(demo_app: App) -> None:
    admin = actor_for(demo_app.db, "admin")
    clerk = actor_for(demo_app.db, "luru2")
    data = AccountInput("luru2", "马俊", Role.PUBLIC_HEALTH_DOCTOR, active=False)
    update_account(demo_app.db, admin, clerk.account_id, data)
    entry = _last_audit(demo_app)
    assert (entry.actor, entry.action) == ("admin", Action.ACCOUNT_UPDATE.value)
    assert entry.entity_id == str(clerk.account_id)
    assert "active" in entry.summary and "role" in entry.summary and "display_name" not in entry.summary
    assert entry.before_digest != entry.after_digest
    assert entry.before_digest == audit.digest({"username": "luru2", "display_name": "马俊", "role": "clerk",
                                                "villages": [], "active": True})


def test_reset_password_forces_a_change_and_is_audited(demo_app: App) -> None:
    admin = actor_for(demo_app.db, "admin")
    clerk = actor_for(demo_app.db, "luru1")
    with demo_app.db.write() as session:
        account = session.get(Account, clerk.account_id)
        account.failed_attempts, account.locked_until = 3, datetime(2099, 1, 1)
    reset_password(demo_app.db, admin, clerk.account_id, INITIAL)
    info = _by_name(demo_app)["luru1"]
    assert info.must_change_password and info.locked_until is None
    entry = _last_audit(demo_app)
    assert (entry.action, entry.entity_id) == (Action.PASSWORD_RESET.value, str(clerk.account_id))


def test_unlock_lifts_a_lockout_and_is_audited(demo_app: App) -> None:
    admin = actor_for(demo_app.db, "admin")
    clerk = actor_for(demo_app.db, "luru1")
    with demo_app.db.write() as session:
        session.get(Account, clerk.account_id).locked_until = datetime(2099, 1, 1)
    assert _by_name(demo_app)["luru1"].is_locked()
    unlock_account(demo_app.db, admin, clerk.account_id)
    assert not _by_name(demo_app)["luru1"].is_locked()
    entry = _last_audit(demo_app)
    assert (entry.action, entry.entity_id) == (Action.ACCOUNT_UNLOCK.value, str(clerk.account_id))


def test_changing_a_missing_account_is_a_clear_error(demo_app: App) -> None:
    admin = actor_for(demo_app.db, "admin")
    with pytest.raises(UserFacingError, match="不存在"):
        unlock_account(demo_app.db, admin, 99999)
