"""Signing in: passwords, identical failure messages, lockout, forced change, disabled accounts."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from core_support import ADMIN_PASSWORD, DEMO_PASSWORD, actor_for
from sqlalchemy import select

from desktop.app import App
from desktop.errors import AccountLocked, AuthenticationFailed, ValidationError
from desktop.models import Account, AuditEntry
from desktop.services.accounts import AccountInput, create_account, update_account
from desktop.services.audit import Action, verify_chain
from desktop.services.auth import (
    LOCKOUT,
    MAX_FAILED_ATTEMPTS,
    change_password,
    confirm_identity,
    record_sign_out,
    sign_in,
)
from desktop.services.permissions import Role

T0 = datetime(2026, 3, 2, 8, 30, 0)


def _audit(app: App) -> list[tuple[str, str, str]]:
    """(actor, action, summary) of every audit entry, oldest first."""
    query = select(AuditEntry.actor, AuditEntry.action, AuditEntry.summary).order_by(AuditEntry.seq)
    with app.db.read() as session:
        return [tuple(row) for row in session.execute(query)]


def _account(app: App, username: str) -> dict[str, object]:
    with app.db.read() as session:
        account = session.scalars(select(Account).where(Account.username == username)).one()
        keys = ("failed_attempts", "locked_until", "last_sign_in_at", "must_change_password")
        return {key: getattr(account, key) for key in keys}


def test_right_password_signs_in_and_is_audited(demo_app: App) -> None:
    result = sign_in(demo_app.db, "yuanzhang", DEMO_PASSWORD, at=T0)
    assert result.actor.username == "yuanzhang" and result.actor.role is Role.DIRECTOR
    assert result.must_change_password is False
    assert _audit(demo_app)[-1][:2] == ("yuanzhang", Action.SIGN_IN.value)
    assert _account(demo_app, "yuanzhang")["last_sign_in_at"] == T0


def test_user_name_is_matched_without_case_or_surrounding_spaces(demo_app: App) -> None:
    assert sign_in(demo_app.db, "  YuanZhang ", DEMO_PASSWORD).actor.username == "yuanzhang"


def test_village_doctor_actor_carries_their_villages(demo_app: App) -> None:
    actor = sign_in(demo_app.db, "cunyi001", DEMO_PASSWORD).actor
    assert actor.is_village_bound and len(actor.village_ids) == 2


def test_wrong_password_and_unknown_user_fail_identically(demo_app: App) -> None:
    with pytest.raises(AuthenticationFailed) as wrong_password:
        sign_in(demo_app.db, "yuanzhang", "Wrong#2026")
    with pytest.raises(AuthenticationFailed) as unknown_user:
        sign_in(demo_app.db, "nobody", DEMO_PASSWORD)
    assert wrong_password.value.message == unknown_user.value.message == "用户名或密码错误，或账户已停用。"
    assert str(wrong_password.value) == str(unknown_user.value)
    assert type(wrong_password.value) is type(unknown_user.value)


def test_failures_are_audited_and_committed_although_the_call_raised(demo_app: App) -> None:
    before = len(_audit(demo_app))
    with pytest.raises(AuthenticationFailed):
        sign_in(demo_app.db, "yuanzhang", "Wrong#2026")
    with pytest.raises(AuthenticationFailed):
        sign_in(demo_app.db, "nobody", "Wrong#2026")
    entries = _audit(demo_app)
    assert len(entries) == before + 2
    assert entries[-2][:2] == ("yuanzhang", Action.SIGN_IN_FAILED.value) and "第 1 次" in entries[-2][2]
    assert entries[-1][:2] == ("nobody", Action.SIGN_IN_FAILED.value)
    assert _account(demo_app, "yuanzhang")["failed_attempts"] == 1
    assert verify_chain(demo_app.db).intact


def test_five_wrong_passwords_lock_the_account(demo_app: App) -> None:
    for attempt in range(1, MAX_FAILED_ATTEMPTS):
        with pytest.raises(AuthenticationFailed):
            sign_in(demo_app.db, "luru1", f"Wrong#{attempt}xx", at=T0 + timedelta(seconds=attempt))
    last_try = T0 + timedelta(seconds=MAX_FAILED_ATTEMPTS)
    with pytest.raises(AccountLocked) as locked:
        sign_in(demo_app.db, "luru1", "Wrong#5xx", at=last_try)

    until = locked.value.until
    # 15 minutes, rounded up to the whole minute the message names: 08:30:05 -> 08:46
    assert last_try + LOCKOUT <= until < last_try + LOCKOUT + timedelta(minutes=1)
    assert until == datetime(2026, 3, 2, 8, 46) and until.second == 0
    assert f"{until:%Y-%m-%d %H:%M}" in locked.value.message
    assert _account(demo_app, "luru1")["locked_until"] == until

    with pytest.raises(AccountLocked):  # the right password does not help while locked
        sign_in(demo_app.db, "luru1", DEMO_PASSWORD, at=until - timedelta(minutes=1))
    assert _audit(demo_app)[-1][:2] == ("luru1", Action.SIGN_IN_FAILED.value)

    result = sign_in(demo_app.db, "luru1", DEMO_PASSWORD, at=until + timedelta(seconds=1))
    assert result.actor.username == "luru1"
    assert _account(demo_app, "luru1") | {"last_sign_in_at": None} == {
        "failed_attempts": 0, "locked_until": None, "last_sign_in_at": None, "must_change_password": False}


def test_a_success_resets_the_failure_count(demo_app: App) -> None:
    for _ in range(MAX_FAILED_ATTEMPTS - 1):
        with pytest.raises(AuthenticationFailed):
            sign_in(demo_app.db, "kaohe1", "Wrong#2026")
    sign_in(demo_app.db, "kaohe1", DEMO_PASSWORD)
    with pytest.raises(AuthenticationFailed):  # a fresh count: one more failure does not lock
        sign_in(demo_app.db, "kaohe1", "Wrong#2026")
    assert _account(demo_app, "kaohe1")["failed_attempts"] == 1


def test_a_new_account_must_change_its_initial_password(demo_app: App) -> None:
    admin = actor_for(demo_app.db, "admin")
    create_account(demo_app.db, admin, AccountInput("wangwu", "王五", Role.CLERK), "Initial#2026")
    first = sign_in(demo_app.db, "wangwu", "Initial#2026")
    assert first.must_change_password is True

    change_password(demo_app.db, first.actor, "Initial#2026", "Changed#2026")
    assert _audit(demo_app)[-1][:2] == ("wangwu", Action.PASSWORD_CHANGE.value)
    with pytest.raises(AuthenticationFailed):
        sign_in(demo_app.db, "wangwu", "Initial#2026")
    assert sign_in(demo_app.db, "wangwu", "Changed#2026").must_change_password is False


def test_a_set_up_branch_admin_must_change_the_password(real_app: App) -> None:
    assert sign_in(real_app.db, "admin", ADMIN_PASSWORD).must_change_password is True


@pytest.mark.parametrize(
    ("new_password", "message"),
    [
        ("Ab#1", "至少 8 位"),
        ("abcdefgh1", "至少三类"),
        ("Xyuanzhang#1", "用户名"),
        (DEMO_PASSWORD, "不能与原密码相同"),
    ],
)
def test_change_password_enforces_the_policy(demo_app: App, new_password: str, message: str) -> None:
    director = actor_for(demo_app.db, "yuanzhang")
    with pytest.raises(ValidationError) as refused:
        change_password(demo_app.db, director, DEMO_PASSWORD, new_password)
    assert list(refused.value.errors) == ["new_password"]
    assert message in refused.value.errors["new_password"]


def test_change_password_with_a_wrong_old_password_names_old_password(demo_app: App) -> None:
    director = actor_for(demo_app.db, "yuanzhang")
    with pytest.raises(ValidationError) as refused:
        change_password(demo_app.db, director, "NotMine#2026", "Brand#New2026")
    assert refused.value.errors == {"old_password": "原密码不正确。"}
    assert sign_in(demo_app.db, "yuanzhang", DEMO_PASSWORD).actor.username == "yuanzhang"


def test_a_disabled_account_is_refused(demo_app: App) -> None:
    admin = actor_for(demo_app.db, "admin")
    target = actor_for(demo_app.db, "jiating1")
    update_account(demo_app.db, admin, target.account_id,
                   AccountInput("jiating1", target.display_name, Role.FAMILY_DOCTOR, active=False))
    with pytest.raises(AuthenticationFailed, match="停用"):
        sign_in(demo_app.db, "jiating1", DEMO_PASSWORD)
    assert _audit(demo_app)[-1][:2] == ("jiating1", Action.SIGN_IN_FAILED.value)
    assert "账户已停用" in _audit(demo_app)[-1][2]


def test_confirm_identity_for_the_same_actor(demo_app: App) -> None:
    director = actor_for(demo_app.db, "yuanzhang")
    confirm_identity(demo_app.db, director, DEMO_PASSWORD)
    with pytest.raises(AuthenticationFailed):
        confirm_identity(demo_app.db, director, "Wrong#2026")
    assert _account(demo_app, "yuanzhang")["failed_attempts"] == 1


def test_confirm_identity_refuses_another_account_under_the_same_name(demo_app: App) -> None:
    admin = actor_for(demo_app.db, "admin")
    old = actor_for(demo_app.db, "luru2")
    update_account(demo_app.db, admin, old.account_id,
                   AccountInput("luru2-old", old.display_name, Role.CLERK))
    update_account(demo_app.db, admin, actor_for(demo_app.db, "luru1").account_id,
                   AccountInput("luru2", "黄小燕", Role.CLERK))
    with pytest.raises(AuthenticationFailed):
        confirm_identity(demo_app.db, old, DEMO_PASSWORD)


def test_sign_out_and_screen_lock_are_audited(demo_app: App) -> None:
    director = actor_for(demo_app.db, "yuanzhang")
    record_sign_out(demo_app.db, director, reason="idle")
    record_sign_out(demo_app.db, director)
    assert [entry[1] for entry in _audit(demo_app)[-2:]] == [Action.SCREEN_LOCK.value, Action.SIGN_OUT.value]
