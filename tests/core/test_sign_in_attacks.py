"""Sign-in answers tell nothing: unknown names lock like real ones, disabled accounts say the same
whatever the password, and every path costs one password hash."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from core_support import DEMO_PASSWORD, actor_for
from sqlalchemy import select

from desktop.app import App
from desktop.errors import AccountLocked, AuthenticationFailed, UserFacingError
from desktop.models import AuditEntry, Setting
from desktop.services import auth, unknown_names
from desktop.services.accounts import AccountInput, update_account
from desktop.services.audit import Action, verify_chain
from desktop.services.auth import LOCKOUT, MAX_FAILED_ATTEMPTS, sign_in
from desktop.services.permissions import Role

T0 = datetime(2026, 3, 2, 8, 30, 0)


def _answers(app: App, username: str, password: str, attempts: int) -> list[tuple[str, str]]:
    """(error type, message) for each of `attempts` sign-ins a second apart."""
    answers = []
    for attempt in range(attempts):
        with pytest.raises(UserFacingError) as refused:
            sign_in(app.db, username, password, at=T0 + timedelta(seconds=attempt))
        answers.append((type(refused.value).__name__, refused.value.message))
    return answers


def _disable(app: App, username: str) -> None:
    target = actor_for(app.db, username)
    update_account(app.db, actor_for(app.db, "admin"), target.account_id,
                   AccountInput(username, target.display_name, target.role, active=False))


def test_an_unknown_name_locks_after_as_many_failures_as_a_real_one(demo_app: App) -> None:
    attempts = MAX_FAILED_ATTEMPTS + 2
    real = _answers(demo_app, "luru1", "Wrong#2026x", attempts)
    unknown = _answers(demo_app, "zhangsan9", "Wrong#2026x", attempts)
    assert real == unknown
    assert [kind for kind, _ in real] == ["AuthenticationFailed"] * (MAX_FAILED_ATTEMPTS - 1) + ["AccountLocked"] * 3
    assert "已锁定" in unknown[-1][1] and f"{T0 + LOCKOUT + timedelta(minutes=1):%H:%M}" in unknown[-1][1]
    assert verify_chain(demo_app.db).intact


def test_an_unknown_name_stays_locked_until_the_lock_runs_out(demo_app: App) -> None:
    _answers(demo_app, "Nobody", "Wrong#2026x", MAX_FAILED_ATTEMPTS)
    with pytest.raises(AccountLocked) as locked:  # the name is matched without case, as real ones are
        sign_in(demo_app.db, "  nobody ", DEMO_PASSWORD, at=T0 + timedelta(minutes=5))
    after = locked.value.until + timedelta(seconds=1)
    with pytest.raises(AuthenticationFailed):
        sign_in(demo_app.db, "nobody", "Wrong#2026x", at=after)


def test_failures_under_unknown_names_are_audited_without_an_account(demo_app: App) -> None:
    _answers(demo_app, "ghost", "Wrong#2026x", MAX_FAILED_ATTEMPTS)
    with demo_app.db.read() as session:
        rows = session.execute(select(AuditEntry.actor, AuditEntry.action, AuditEntry.entity_type, AuditEntry.summary)
                               .where(AuditEntry.actor == "ghost").order_by(AuditEntry.seq)).all()
    assert [row.action for row in rows] == [Action.SIGN_IN_FAILED.value] * MAX_FAILED_ATTEMPTS
    assert {row.entity_type for row in rows} == {""}
    assert "用户名不存在（第 1 次）" == rows[0].summary and "锁定至" in rows[-1].summary


def test_the_record_of_unknown_names_is_bounded(demo_app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(unknown_names, "MAX_UNKNOWN_NAMES", 3)
    for index in range(8):
        _answers(demo_app, f"invented{index}", "Wrong#2026x", 1)
    with demo_app.db.read() as session:
        keys = set(session.scalars(select(Setting.key).where(Setting.key.like("unknown_sign_in:%"))))
    assert keys == {f"unknown_sign_in:invented{index}" for index in (5, 6, 7)}


def test_a_long_name_is_kept_no_longer_than_a_user_name(demo_app: App) -> None:
    _answers(demo_app, "x" * 5000, "Wrong#2026x", 1)
    with demo_app.db.read() as session:
        key = session.scalar(select(Setting.key).where(Setting.key.like("unknown_sign_in:x%")))
    assert key == "unknown_sign_in:" + "x" * 40


def test_a_disabled_account_answers_the_same_whatever_the_password(demo_app: App) -> None:
    _disable(demo_app, "jiating1")
    right = _answers(demo_app, "jiating1", DEMO_PASSWORD, 1)
    wrong = _answers(demo_app, "jiating1", "Wrong#2026x", 1)
    unknown = _answers(demo_app, "jiating9", "Wrong#2026x", 1)
    assert right == wrong == unknown == [("AuthenticationFailed", "用户名或密码错误，或账户已停用。")]


def test_a_disabled_account_locks_like_any_other_even_with_the_right_password(demo_app: App) -> None:
    _disable(demo_app, "jiating2")
    answers = _answers(demo_app, "jiating2", DEMO_PASSWORD, MAX_FAILED_ATTEMPTS + 1)
    assert answers == _answers(demo_app, "gongwei1", "Wrong#2026x", MAX_FAILED_ATTEMPTS + 1)
    assert answers[-1][0] == "AccountLocked"


def test_every_answer_costs_exactly_one_password_hash(demo_app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    checked: list[str] = []
    real_check = auth._password_matches
    monkeypatch.setattr(auth, "_password_matches", lambda stored, password: checked.append(password)
                        or real_check(stored, password))
    _disable(demo_app, "jiating3")
    _answers(demo_app, "kaohe1", "Wrong#2026x", MAX_FAILED_ATTEMPTS + 1)  # the last one while locked
    _answers(demo_app, "nobody", "Wrong#2026x", MAX_FAILED_ATTEMPTS + 1)
    _answers(demo_app, "jiating3", DEMO_PASSWORD, 1)
    sign_in(demo_app.db, "yuanzhang", DEMO_PASSWORD)
    assert len(checked) == 2 * (MAX_FAILED_ATTEMPTS + 1) + 2


def test_an_enabled_account_signs_in_again_after_being_re_enabled(demo_app: App) -> None:
    _disable(demo_app, "luru2")
    _answers(demo_app, "luru2", DEMO_PASSWORD, 2)
    target = actor_for(demo_app.db, "luru2")
    update_account(demo_app.db, actor_for(demo_app.db, "admin"), target.account_id,
                   AccountInput("luru2", target.display_name, Role.CLERK, active=True))
    assert sign_in(demo_app.db, "luru2", DEMO_PASSWORD).actor.username == "luru2"
