"""The branch: first-run setup, villages and their sync bookkeeping, settings, the demo."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest
from core_support import DEMO_PASSWORD, REAL_SETUP, actor_for
from sqlalchemy import func, select

from desktop.app import App
from desktop.demo import build_demo
from desktop.errors import (
    AlreadySetUp,
    Cancelled,
    NotSetUp,
    PermissionDenied,
    UserFacingError,
    ValidationError,
)
from desktop.models import Account, AuditEntry, Branch, Staff, Village, VillageClinic
from desktop.services.accounts import list_accounts
from desktop.services.audit import Action, verify_chain
from desktop.services.branch import (
    VillageInput,
    add_village,
    get_branch,
    list_staff,
    list_villages,
    rename_village,
    require_branch,
    setup_branch,
)
from desktop.services.permissions import Role
from desktop.services.settings import IDLE_LOCK_MINUTES, get_setting, set_idle_lock_minutes


def _count(app: App, model) -> int:
    with app.db.read() as session:
        return session.scalar(select(func.count()).select_from(model))


def _village(app: App, code: str) -> dict[str, object]:
    with app.db.read() as session:
        village = session.scalars(select(Village).where(Village.code == code)).one()
        keys = ("id", "uuid", "name", "owner_site", "version", "sync_state")
        return {key: getattr(village, key) for key in keys}


def _refused(app: App, setup) -> dict[str, str]:
    with pytest.raises(ValidationError) as refused:
        setup_branch(app.db, setup)
    assert get_branch(app.db) is None and _count(app, Account) == 0
    return refused.value.errors


# --- setup -----------------------------------------------------------------------------------------


def test_setup_creates_branch_villages_admin_and_audit(empty_app: App) -> None:
    with pytest.raises(NotSetUp):
        require_branch(empty_app.db)
    branch = setup_branch(empty_app.db, replace(REAL_SETUP, county_code=" ５１３４２２ ", name=" 白水乡卫生院 "))
    assert (branch.county_code, branch.name, branch.is_demo) == ("513422", "白水乡卫生院", False)
    assert branch.record_prefix == "513422021" and len(branch.site_id) == 36
    assert require_branch(empty_app.db) == branch == empty_app.branch
    villages = list_villages(empty_app.db)
    assert [(v.code, v.name, v.clinic_names) for v in villages] == [
        ("001", "白水社区", ("白水社区卫生室",)), ("101", "上坝村", ("上坝村卫生室",)), ("102", "下坝村", ())]
    with empty_app.db.read() as session:
        admin = session.scalars(select(Account)).one()
        assert (admin.username, admin.role, admin.must_change_password) == ("admin", "admin", True)
        entry = session.scalars(select(AuditEntry)).one()
        assert (entry.actor, entry.action) == ("system", Action.SETUP.value)
    assert verify_chain(empty_app.db).intact


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        ({"county_code": "51342"}, "county_code", "6 位数字"),
        ({"county_code": "5134a2"}, "county_code", "6 位数字"),
        ({"county_code": "513400"}, "county_code", "00"),
        ({"township_code": "000"}, "township_code", "001–999"),
        ({"township_code": "21"}, "township_code", "3 位数字"),
        ({"name": "  "}, "name", "分院"),
        ({"head_hospital_name": ""}, "head_hospital_name", "总院"),
        ({"admin_username": "9admin"}, "admin_username", "字母开头"),
        ({"admin_password": "password"}, "admin_password", "至少三类"),
        ({"admin_password": "Admin#2026"}, "admin_password", "用户名"),
        ({"admin_password": "P@ssw0rd2026"}, "admin_password", "过于常见"),
        ({"admin_password": "Baishui#2026"}, "admin_password", "拼音"),  # 白水乡卫生院
        ({"admin_password": "Shangba@2026"}, "admin_password", "拼音"),  # 上坝村
        ({"admin_password": "LiQiang2Go!"}, "admin_password", "拼音"),  # the admin, 李强
        ({"villages": (VillageInput("100", "某村"),)}, "villages", "第 1 个村"),
        ({"villages": (VillageInput("101", "甲村"), VillageInput("200", "乙村"))}, "villages", "第 2 个村"),
        ({"villages": (VillageInput("901", "  "),)}, "villages", "村名"),
        ({"villages": (VillageInput("101", "甲村"), VillageInput("１０１", "乙村"))}, "villages", "101 重复"),
    ],
)
def test_setup_validates_each_field(empty_app: App, changes: dict, field: str, fragment: str) -> None:
    errors = _refused(empty_app, replace(REAL_SETUP, **changes))
    assert list(errors) == [field]
    assert fragment in errors[field]


def test_setup_reports_every_bad_field_at_once(empty_app: App) -> None:
    bad = replace(REAL_SETUP, county_code="1", township_code="x", name="", head_hospital_name="",
                  admin_username="", admin_password="1")
    errors = _refused(empty_app, bad)
    assert set(errors) == {"county_code", "township_code", "name", "head_hospital_name", "admin_username",
                           "admin_password"}


def test_second_setup_is_refused(real_app: App) -> None:
    before = get_branch(real_app.db)
    with pytest.raises(AlreadySetUp):
        setup_branch(real_app.db, replace(REAL_SETUP, name="另一个卫生院", admin_username="other"))
    assert get_branch(real_app.db) == before
    assert _count(real_app, Account) == 1


# --- villages and sync bookkeeping -----------------------------------------------------------------


def test_records_get_the_branch_site_as_owner(demo_app: App) -> None:
    site_id = demo_app.branch.site_id
    with demo_app.db.read() as session:
        for model in (Village, VillageClinic, Staff):
            owners = set(session.scalars(select(model.owner_site)))
            assert owners == {site_id}, model.__name__
        assert set(session.scalars(select(Village.version))) == {1}
        # the demo marks ECG machines on clinics after creating them: an edit, so version 2
        assert set(session.scalars(select(VillageClinic.version).where(VillageClinic.has_ecg))) == {2}
        assert set(session.scalars(select(VillageClinic.version).where(~VillageClinic.has_ecg))) == {1}


def test_add_village_is_pending_owned_and_audited(demo_app: App) -> None:
    admin = actor_for(demo_app.db, "admin")
    info, changes = add_village(demo_app.db, admin, VillageInput("９０１", "林场", "林场卫生室"))
    assert changes.branch and (info.code, info.name, info.clinic_names) == ("901", "林场", ("林场卫生室",))
    village = _village(demo_app, "901")
    assert village["owner_site"] == demo_app.branch.site_id
    assert (village["version"], village["sync_state"]) == (1, "pending")
    with demo_app.db.read() as session:
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
        assert (entry.action, entry.entity_type) == (Action.CREATE.value, "village")
        assert entry.entity_id == village["uuid"]


def test_add_village_is_validated(demo_app: App) -> None:
    admin = actor_for(demo_app.db, "admin")
    with pytest.raises(ValidationError) as duplicate:
        add_village(demo_app.db, admin, VillageInput("101", "又一个柳树村"))
    assert list(duplicate.value.errors) == ["code"] and "已存在" in duplicate.value.errors["code"]
    with pytest.raises(ValidationError) as bad:
        add_village(demo_app.db, admin, VillageInput("250", ""))
    assert set(bad.value.errors) == {"code", "name"}
    assert _count(demo_app, Village) == 13


def test_only_branch_managers_change_villages(demo_app: App) -> None:
    director = actor_for(demo_app.db, "yuanzhang")
    with pytest.raises(PermissionDenied):
        add_village(demo_app.db, director, VillageInput("113", "新村"))
    with pytest.raises(PermissionDenied):
        rename_village(demo_app.db, director, _village(demo_app, "101")["id"], "改名村")
    assert _village(demo_app, "101")["name"] == "柳树村"


def test_editing_a_village_bumps_its_version_and_makes_it_pending(demo_app: App) -> None:
    admin = actor_for(demo_app.db, "admin")
    village_id = _village(demo_app, "101")["id"]
    with demo_app.db.write() as session:  # as if the head hospital had acknowledged it
        session.get(Village, village_id).sync_state = "synced"
    synced = _village(demo_app, "101")
    assert (synced["version"], synced["sync_state"]) == (1, "synced")  # bookkeeping is not an edit

    rename_village(demo_app.db, admin, village_id, "柳树新村")
    edited = _village(demo_app, "101")
    assert (edited["name"], edited["version"], edited["sync_state"]) == ("柳树新村", 2, "pending")
    assert edited["uuid"] == synced["uuid"] and edited["owner_site"] == synced["owner_site"]

    rename_village(demo_app.db, admin, village_id, "柳树新村")  # no real change: no new version
    assert _village(demo_app, "101")["version"] == 2
    rename_village(demo_app.db, admin, village_id, "柳树村")
    assert _village(demo_app, "101")["version"] == 3


def test_rename_village_validates(demo_app: App) -> None:
    admin = actor_for(demo_app.db, "admin")
    with pytest.raises(ValidationError) as refused:
        rename_village(demo_app.db, admin, _village(demo_app, "101")["id"], "   ")
    assert list(refused.value.errors) == ["name"]
    with pytest.raises(UserFacingError, match="不存在"):
        rename_village(demo_app.db, admin, 99999, "某村")


def test_inactive_villages_are_hidden_unless_asked(demo_app: App) -> None:
    with demo_app.db.write() as session:
        session.scalars(select(Village).where(Village.code == "112")).one().active = False
    assert "112" not in [v.code for v in list_villages(demo_app.db)]
    assert "112" in [v.code for v in list_villages(demo_app.db, include_inactive=True)]


# --- settings --------------------------------------------------------------------------------------


def test_idle_lock_setting(demo_app: App) -> None:
    admin = actor_for(demo_app.db, "admin")
    assert get_setting(demo_app.db, IDLE_LOCK_MINUTES) == 10
    set_idle_lock_minutes(demo_app.db, admin, 5)
    assert get_setting(demo_app.db, IDLE_LOCK_MINUTES) == 5
    with pytest.raises(ValidationError) as refused:
        set_idle_lock_minutes(demo_app.db, admin, 0)
    assert list(refused.value.errors) == [IDLE_LOCK_MINUTES]
    with pytest.raises(PermissionDenied):
        set_idle_lock_minutes(demo_app.db, actor_for(demo_app.db, "luru1"), 30)
    assert get_setting(demo_app.db, IDLE_LOCK_MINUTES) == 5


# --- the demo --------------------------------------------------------------------------------------


def test_the_demo_has_accounts_in_every_role(demo_app: App) -> None:
    branch = demo_app.branch
    assert branch.is_demo and branch.name == "青山镇卫生院"
    accounts = list_accounts(demo_app.db, actor_for(demo_app.db, "admin"))
    assert {account.role for account in accounts} == set(Role)
    assert all(account.village_ids for account in accounts if account.role is Role.VILLAGE_DOCTOR)
    assert not any(account.must_change_password for account in accounts)
    assert len(list_villages(demo_app.db)) == 13
    assert len(list_staff(demo_app.db)) == 22
    assert verify_chain(demo_app.db).intact


def test_the_demo_is_idempotent(demo_app: App) -> None:
    counts = {model: _count(demo_app, model) for model in (Account, Village, Staff, AuditEntry)}
    again = build_demo(demo_app.db)
    assert again.created is False
    assert len(again.accounts) == len(Role) and again.accounts[0][0] == "admin"
    assert {model: _count(demo_app, model) for model in counts} == counts
    text = again.sign_in_text()
    assert DEMO_PASSWORD in text and "admin" in text and "cunyi001" in text


def test_a_new_demo_reports_its_sign_in(empty_app: App) -> None:
    result = build_demo(empty_app.db)
    assert result.created and result.password == DEMO_PASSWORD
    assert [username for username, _ in result.accounts] == [
        "admin", "yuanzhang", "gongwei1", "jiating1", "luru1", "kaohe1", "cunyi001"]


def test_the_demo_refuses_a_real_branch(real_app: App) -> None:
    with pytest.raises(UserFacingError, match="正式分院"):
        build_demo(real_app.db)
    assert _count(real_app, Account) == 1 and not real_app.branch.is_demo


def test_the_demo_can_be_cancelled_before_it_starts(empty_app: App) -> None:
    abort = threading.Event()
    abort.set()
    with pytest.raises(Cancelled):
        build_demo(empty_app.db, abort=abort)
    assert get_branch(empty_app.db) is None
    with empty_app.db.read() as session:
        assert session.get(Branch, 1) is None
