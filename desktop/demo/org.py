"""The demo township: 青山镇卫生院 with 13 villages, their clinics, staff and accounts."""

from __future__ import annotations

import random

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop.db import Database
from desktop.demo.steps import DemoContext, DemoStep
from desktop.models import Account, Staff, Village, VillageClinic
from desktop.services import audit
from desktop.services.accounts import AccountInput, add_account
from desktop.services.audit import Action
from desktop.services.auth import check_new_password, hash_password
from desktop.services.branch import BranchSetup, VillageInput, setup_branch, setup_names
from desktop.services.permissions import SYSTEM, Role

DEMO_PASSWORD = "Demo#2026"
DEMO_COUNTY_CODE = "341522"
DEMO_TOWNSHIP_CODE = "106"

DEMO_VILLAGES: tuple[tuple[str, str], ...] = (
    ("001", "青山社区"),
    ("101", "柳树村"),
    ("102", "桃园村"),
    ("103", "石桥村"),
    ("104", "王庄村"),
    ("105", "李家湾村"),
    ("106", "河东村"),
    ("107", "河西村"),
    ("108", "大坪村"),
    ("109", "小坪村"),
    ("110", "新华村"),
    ("111", "双塘村"),
    ("112", "白果村"),
)

# (username, name, sex, role, post, title, deployment)
DEMO_STAFF: tuple[tuple[str, str, str, Role, str, str, str], ...] = (
    ("yuanzhang", "陈建国", "1", Role.DIRECTOR, "院长", "副主任医师", "本院"),
    ("gongwei1", "刘晓梅", "2", Role.PUBLIC_HEALTH_DOCTOR, "公卫科医生", "主治医师", "本院"),
    ("gongwei2", "孙志强", "1", Role.PUBLIC_HEALTH_DOCTOR, "公卫科医生", "医师", "本院"),
    ("jiating1", "周文静", "2", Role.FAMILY_DOCTOR, "全科医生", "主治医师", "本院"),
    ("jiating2", "吴海涛", "1", Role.FAMILY_DOCTOR, "全科医生", "主治医师", "县聘乡用"),
    ("jiating3", "郑丽华", "2", Role.FAMILY_DOCTOR, "全科医生", "医师", "本院"),
    ("luru1", "黄小燕", "2", Role.CLERK, "公卫信息员", "", "本院"),
    ("luru2", "马俊", "1", Role.CLERK, "公卫信息员", "", "本院"),
    ("kaohe1", "杨秀英", "2", Role.ASSESSOR, "公卫科科长", "主管护师", "本院"),
)

VILLAGE_DOCTOR_NAMES = (
    "王德明", "李秀兰", "张卫东", "刘长青", "陈玉梅", "杨国强",
    "赵春华", "黄建军", "周桂芳", "吴志刚", "徐红霞", "孙明亮", "胡大勇",
)


def build_demo_org(db: Database, rng: random.Random) -> tuple[tuple[str, str], ...]:
    """Create the demo branch with every role; returns (username, description) pairs."""
    setup_branch(db, _demo_setup(), is_demo=True)
    _check_demo_password()
    shared_hash = hash_password(DEMO_PASSWORD)
    with db.write() as session:
        villages = list(session.scalars(select(Village).order_by(Village.code)))
        for village in villages:
            village.clinics[0].has_ecg = rng.random() < 0.6
        _add_branch_staff(session, rng, shared_hash)
        _add_village_doctors(session, villages, shared_hash)
        audit.record(session, SYSTEM, Action.CREATE, entity_type="demo", summary="创建演示人员和账户")
    return demo_account_summary(db)


def _demo_setup() -> BranchSetup:
    return BranchSetup(
        county_code=DEMO_COUNTY_CODE,
        township_code=DEMO_TOWNSHIP_CODE,
        name="青山镇卫生院",
        head_hospital_name="青山县人民医院",
        admin_username="admin",
        admin_display_name="赵磊",
        admin_password=DEMO_PASSWORD,
        villages=tuple(VillageInput(code, name, f"{name}卫生室") for code, name in DEMO_VILLAGES),
    )


def _check_demo_password() -> None:
    """The one demo password obeys the rule every password does, for each demo account's names."""
    branch_names = setup_names(_demo_setup())
    people = [(username, name) for username, name, *_ in DEMO_STAFF]
    people += [(f"cunyi{code}", name) for (code, _), name in zip(DEMO_VILLAGES, VILLAGE_DOCTOR_NAMES, strict=True)]
    for username, name in people:
        check_new_password(DEMO_PASSWORD, username=username, names=(*branch_names, name))


def _add_branch_staff(session: Session, rng: random.Random, password_hash: str) -> None:
    for username, name, sex, role, post, title, deployment in DEMO_STAFF:
        staff = Staff(name=name, sex=sex, post=post, title=title or None, deployment=deployment,
                      phone=f"139{rng.randrange(10**8):08d}")
        session.add(staff)
        session.flush()
        add_account(session, AccountInput(username, name, role, staff_id=staff.id),
                    password_hash=password_hash, must_change=False)


def _add_village_doctors(session: Session, villages: list[Village], password_hash: str) -> None:
    for index, (village, name) in enumerate(zip(villages, VILLAGE_DOCTOR_NAMES, strict=True)):
        clinic: VillageClinic = village.clinics[0]
        staff = Staff(name=name, sex="2" if name[-1] in "兰梅华芳霞" else "1", post="乡村医生",
                      deployment="乡聘村用" if index % 5 == 0 else "村医", clinic_id=clinic.id)
        session.add(staff)
        session.flush()
        covered = [village.id] if index != 0 else [village.id, villages[1].id]
        add_account(session, AccountInput(f"cunyi{village.code}", name, Role.VILLAGE_DOCTOR,
                                          village_ids=tuple(covered), staff_id=staff.id),
                    password_hash=password_hash, must_change=False)


def demo_account_summary(db: Database) -> tuple[tuple[str, str], ...]:
    """(username, '姓名 角色 [村]') for one account of each role and the first village doctor."""
    with db.read() as session:
        accounts = session.scalars(select(Account).order_by(Account.id)).all()
        shown: dict[str, tuple[str, str]] = {}
        for account in accounts:
            if account.role not in shown:
                villages = "、".join(v.name for v in account.villages)
                label = f"{account.display_name}（{Role(account.role).label}{'，' + villages if villages else ''}）"
                shown[account.role] = (account.username, label)
        return tuple(shown.values())


def org_step(db: Database, rng: random.Random, context: DemoContext) -> None:
    """A new demo branch gets its villages, staff and accounts; an existing one lists its accounts."""
    context.accounts = build_demo_org(db, rng) if context.created else demo_account_summary(db)


STEP = DemoStep("org", "正在创建演示分院……", org_step, weight=0.05)
