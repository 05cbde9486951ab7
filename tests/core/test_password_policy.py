"""Guessable passwords are refused wherever a password is set: common ones (dressed up or not),
keyboard walks, and the pinyin of the branch's own names and the person's name."""

from __future__ import annotations

import pytest
from core_support import DEMO_PASSWORD, actor_for

from desktop.app import App
from desktop.demo.org import DEMO_STAFF, DEMO_VILLAGES, VILLAGE_DOCTOR_NAMES
from desktop.errors import ValidationError
from desktop.rules.passwords import COMMON, KEYBOARD, NAMES, common_passwords, password_problem
from desktop.services.accounts import AccountInput, create_account, reset_password
from desktop.services.auth import change_password, sign_in
from desktop.services.permissions import Role

DEMO_NAMES = ("青山镇卫生院", "青山县人民医院", *(name for _, name in DEMO_VILLAGES))

WEAK = [
    "Password1", "P@ssw0rd", "Qwer1234", "Passw0rd!", "Admin@123", "Abcd@1234", "Aa123456", "Woaini@1314",
    "Woaini1314!", "Iloveyou#1", "Summer#2026", "Monkey!23", "Dr@gon2026", "Zhangwei@1990", "Qq123456!",
    "Asdf#2026", "!QAZ2wsx", "1Qaz2wsx!", "Zaq1@WSX", "1q2w3e4R!", "Qwerty!2026", "Zxcvbnm#1", "P@55w0rd!",
    "5unsh1ne#2026",
]


@pytest.mark.parametrize("password", WEAK)
def test_common_and_keyboard_passwords_are_refused(password: str) -> None:
    problem = password_problem(password)
    assert problem in (COMMON, KEYBOARD)
    assert password not in problem and password.lower() not in problem


@pytest.mark.parametrize(
    "password",
    [
        "Qingshan#2026",  # the township
        "Q1ngsh@n2026",  # ... with look-alikes
        "Qingshanzhen#1",
        "QSZWSY@2026",  # initials of 青山镇卫生院
        "Qs@20262026",  # initials of 青山
        "Liushu#2026",  # 柳树村
        "Lijiawan#88",  # 李家湾村
        "Baiguocun!1",  # 白果村 in full
        "MrZhaolei#85",  # the person, 赵磊
        "ZL#19850612",
    ],
)
def test_the_branchs_and_the_persons_pinyin_is_refused(password: str) -> None:
    problem = password_problem(password, username="admin", names=(*DEMO_NAMES, "赵磊"))
    assert problem == NAMES
    assert password not in problem


@pytest.mark.parametrize("password", ["Kestrel#2026", "Bamboo#Gate2026", "Long passphrase 2026", DEMO_PASSWORD])
def test_uncommon_passwords_pass(password: str) -> None:
    assert password_problem(password, username="admin", names=(*DEMO_NAMES, "赵磊")) is None


def test_the_shipped_lists_hold_thousands_lower_case() -> None:
    words = common_passwords()
    assert len(words) > 5000 and {"password", "123456", "woaini1314", "1qaz2wsx", "aa123456"} <= words
    assert all(word == word.lower() for word in words)


def test_the_demo_password_passes_for_every_demo_account() -> None:
    people = [(username, name) for username, name, *_ in DEMO_STAFF]
    people += [(f"cunyi{code}", name) for (code, _), name in zip(DEMO_VILLAGES, VILLAGE_DOCTOR_NAMES, strict=True)]
    for username, name in [("admin", "赵磊"), *people]:
        assert password_problem(DEMO_PASSWORD, username=username, names=(*DEMO_NAMES, name)) is None


@pytest.mark.parametrize(("password", "message"), [("P@ssw0rd2026", COMMON), ("Qingshan#2026", NAMES),
                                                   ("Chenjianguo#1", NAMES), ("Qwer1234!", KEYBOARD)])
def test_changing_ones_password_applies_the_rule(demo_app: App, password: str, message: str) -> None:
    director = actor_for(demo_app.db, "yuanzhang")  # 陈建国
    with pytest.raises(ValidationError) as refused:
        change_password(demo_app.db, director, DEMO_PASSWORD, password)
    assert refused.value.errors == {"new_password": message}


def test_creating_and_resetting_accounts_apply_the_rule(demo_app: App) -> None:
    admin = actor_for(demo_app.db, "admin")
    for initial in ("Password1!", "Taoyuan@2026", "Fengchunsheng#1"):  # common; 桃园村; the new person
        with pytest.raises(ValidationError) as refused:
            create_account(demo_app.db, admin, AccountInput("fengcs", "冯春生", Role.CLERK), initial)
        assert list(refused.value.errors) == ["initial_password"]
    clerk = actor_for(demo_app.db, "luru1")  # 黄小燕
    for initial in ("Qwer1234!", "Huangxiaoyan#1", "Shiqiao#2026"):
        with pytest.raises(ValidationError) as reset:
            reset_password(demo_app.db, admin, clerk.account_id, initial)
        assert list(reset.value.errors) == ["initial_password"]
    assert sign_in(demo_app.db, "luru1", DEMO_PASSWORD).actor.username == "luru1"
