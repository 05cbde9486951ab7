"""The branch itself: first-run setup, villages and their clinics, staff."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from desktop.branch_info import BranchInfo
from desktop.changes import Changes
from desktop.db import Database
from desktop.errors import AlreadySetUp, NotSetUp, UserFacingError, ValidationError
from desktop.models import Branch, Staff, Village, VillageClinic
from desktop.rules.codes import (
    county_code_problem,
    normalise_code,
    township_code_problem,
    village_code_problem,
)
from desktop.services import audit
from desktop.services.accounts import USERNAME_PATTERN, AccountInput, add_account
from desktop.services.audit import Action
from desktop.services.audit_labels import register_entity_label
from desktop.services.auth import check_new_password
from desktop.services.permissions import SYSTEM, Actor, Permission, Role, require
from township_wire.text import looks_like_formula, safe_text_problem

register_entity_label("branch", "分院")
register_entity_label("demo", "演示数据")


@dataclass(frozen=True)
class VillageInput:
    """A village as entered: code, name and the name of its clinic."""

    code: str
    name: str
    clinic_name: str = ""


@dataclass(frozen=True)
class VillageInfo:
    """A village with its clinics, as plain data."""

    id: int
    code: str
    name: str
    active: bool
    clinic_names: tuple[str, ...]


@dataclass(frozen=True)
class BranchSetup:
    """Everything first-run setup needs."""

    county_code: str
    township_code: str
    name: str
    head_hospital_name: str
    admin_username: str
    admin_display_name: str
    admin_password: str
    villages: tuple[VillageInput, ...] = field(default_factory=tuple)


def _branch_info(branch: Branch) -> BranchInfo:
    return BranchInfo(
        site_id=branch.site_id,
        county_code=branch.county_code,
        township_code=branch.township_code,
        name=branch.name,
        head_hospital_name=branch.head_hospital_name,
        is_demo=branch.is_demo,
    )


def get_branch(db: Database) -> BranchInfo | None:
    """The branch of this data directory, or None before setup."""
    with db.read() as session:
        branch = session.get(Branch, 1)
        return _branch_info(branch) if branch else None


def require_branch(db: Database) -> BranchInfo:
    """The branch, or NotSetUp."""
    branch = get_branch(db)
    if branch is None:
        raise NotSetUp()
    return branch


def _setup_errors(setup: BranchSetup) -> dict[str, str]:
    errors: dict[str, str] = {}
    for key, problem in (
        ("county_code", county_code_problem(setup.county_code)),
        ("township_code", township_code_problem(setup.township_code)),
    ):
        if problem:
            errors[key] = problem
    if not setup.name.strip():
        errors["name"] = "请填写分院（乡镇卫生院）名称。"
    if not setup.head_hospital_name.strip():
        errors["head_hospital_name"] = "请填写总院（牵头医院）名称。"
    for key, label in (("name", "分院名称"), ("head_hospital_name", "总院名称")):
        if key not in errors and (problem := name_text_problem(getattr(setup, key), label)):
            errors[key] = problem
    if not USERNAME_PATTERN.fullmatch(setup.admin_username):
        errors["admin_username"] = "用户名须以字母开头，2–40 位字母、数字、下划线、点或连字符。"
    return errors


def validate_village(data: VillageInput) -> dict[str, str]:
    """Field errors of one village as entered."""
    errors: dict[str, str] = {}
    problem = village_code_problem(normalise_code(data.code))
    if problem:
        errors["code"] = problem
    if not data.name.strip():
        errors["name"] = "请填写村名。"
    for key, label in (("name", "村名"), ("clinic_name", "村卫生室名称")):
        if key not in errors and (problem := name_text_problem(getattr(data, key), label)):
            errors[key] = problem
    return errors


def name_text_problem(value: str, label: str) -> str | None:
    """Why a place's name (a branch, a village, a clinic) may not be stored, naming the field; or None."""
    if problem := safe_text_problem(value):
        return f"{label}{problem}"
    if looks_like_formula(value.strip()):
        return f"{label}“{value.strip()}”不能以 = + - @ 开头。"
    return None


def _validate_villages(villages: tuple[VillageInput, ...]) -> dict[str, str]:
    seen: set[str] = set()
    for row, village in enumerate(villages, start=1):
        problems = validate_village(village)
        code = normalise_code(village.code)
        if not problems and code in seen:
            problems = {"code": f"村代码 {code} 重复。"}
        if problems:
            return {"villages": f"第 {row} 个村：" + "；".join(problems.values())}
        seen.add(code)
    return {}


def setup_names(setup: BranchSetup) -> tuple[str, ...]:
    """The names a password set up with this branch may not spell: branch, head hospital, villages, admin."""
    villages = tuple(village.name for village in setup.villages)
    return (setup.name, setup.head_hospital_name, *villages, setup.admin_display_name)


def setup_branch(db: Database, setup: BranchSetup, *, is_demo: bool = False) -> BranchInfo:
    """Create the branch, its villages and the first admin account. Refuses to overwrite."""
    setup = _normalised(setup)
    errors = _setup_errors(setup) | _validate_villages(setup.villages)
    try:
        check_new_password(setup.admin_password, username=setup.admin_username, field="admin_password",
                           names=setup_names(setup))
    except ValidationError as error:
        errors |= error.errors
    if errors:
        raise ValidationError(errors)
    with db.write() as session:
        if session.get(Branch, 1) is not None:
            raise AlreadySetUp()
        branch = _insert_branch(session, setup, is_demo=is_demo)
        for village in setup.villages:
            _insert_village(session, village)
        admin = AccountInput(setup.admin_username, setup.admin_display_name or "系统管理员", Role.ADMIN)
        account = add_account(session, admin, initial_password=setup.admin_password, must_change=not is_demo)
        audit.record(session, SYSTEM, Action.SETUP, entity_type="branch", entity_id=branch.site_id,
                     summary=f"设置分院 {branch.name}（{branch.county_code}{branch.township_code}），"
                     f"{len(setup.villages)} 个村，管理员 {account.username}")
        return _branch_info(branch)


def _normalised(setup: BranchSetup) -> BranchSetup:
    return BranchSetup(
        county_code=normalise_code(setup.county_code),
        township_code=normalise_code(setup.township_code),
        name=setup.name.strip(),
        head_hospital_name=setup.head_hospital_name.strip(),
        admin_username=setup.admin_username.strip(),
        admin_display_name=setup.admin_display_name.strip(),
        admin_password=setup.admin_password,
        villages=setup.villages,
    )


def _insert_branch(session: Session, setup: BranchSetup, *, is_demo: bool) -> Branch:
    branch = Branch(
        id=1,
        site_id=str(uuid.uuid4()),
        county_code=setup.county_code,
        township_code=setup.township_code,
        name=setup.name,
        head_hospital_name=setup.head_hospital_name,
        is_demo=is_demo,
    )
    session.add(branch)
    session.flush()
    return branch


def _insert_village(session: Session, data: VillageInput) -> Village:
    village = Village(code=normalise_code(data.code), name=data.name.strip())
    if data.clinic_name.strip():
        village.clinics.append(VillageClinic(name=data.clinic_name.strip()))
    session.add(village)
    session.flush()
    return village


def _village_info(village: Village) -> VillageInfo:
    return VillageInfo(
        id=village.id,
        code=village.code,
        name=village.name,
        active=village.active,
        clinic_names=tuple(c.name for c in village.clinics if not c.deleted),
    )


def list_villages(db: Database, *, include_inactive: bool = False) -> list[VillageInfo]:
    """The branch's villages by code."""
    query = select(Village).options(selectinload(Village.clinics)).where(Village.deleted.is_(False))
    if not include_inactive:
        query = query.where(Village.active)
    with db.read() as session:
        return [_village_info(v) for v in session.scalars(query.order_by(Village.code))]


def add_village(db: Database, actor: Actor, data: VillageInput) -> tuple[VillageInfo, Changes]:
    """Add a village (and its clinic) to the branch."""
    require(actor, Permission.MANAGE_BRANCH)
    errors = validate_village(data)
    if errors:
        raise ValidationError(errors)
    with db.write() as session:
        code = normalise_code(data.code)
        if session.scalar(select(Village.id).where(Village.code == code)) is not None:
            raise ValidationError.single("code", f"村代码 {code} 已存在。")
        village = _insert_village(session, data)
        audit.record(session, actor, Action.CREATE, entity_type="village", entity_id=village.uuid,
                     summary=f"新增村 {village.code} {village.name}")
        return _village_info(village), Changes(branch=True, audit=True)


def rename_village(db: Database, actor: Actor, village_id: int, name: str) -> Changes:
    """Correct a village's name (its code never changes: record numbers hold it)."""
    require(actor, Permission.MANAGE_BRANCH)
    if not name.strip():
        raise ValidationError.single("name", "请填写村名。")
    if problem := name_text_problem(name, "村名"):
        raise ValidationError.single("name", problem)
    with db.write() as session:
        village = session.get(Village, village_id)
        if village is None:
            raise UserFacingError("该村不存在，请刷新后重试。")
        before = {"name": village.name}
        village.name = name.strip()
        audit.record(session, actor, Action.UPDATE, entity_type="village", entity_id=village.uuid,
                     summary=f"村 {village.code} 改名为 {village.name}", before=before, after={"name": village.name})
    return Changes(branch=True, audit=True)


@dataclass(frozen=True)
class StaffInfo:
    """A member of staff as plain data."""

    id: int
    name: str
    post: str
    title: str
    deployment: str
    clinic_name: str


def list_staff(db: Database) -> list[StaffInfo]:
    """Active staff by name."""
    query = select(Staff).options(selectinload(Staff.clinic)).where(Staff.active, Staff.deleted.is_(False))
    with db.read() as session:
        return [
            StaffInfo(s.id, s.name, s.post, s.title or "", s.deployment, s.clinic.name if s.clinic else "")
            for s in session.scalars(query.order_by(Staff.id))
        ]
