"""Roles, permissions and the actor (who is doing something). Checked in every service."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, true

from desktop.errors import PermissionDenied
from desktop.services.audit_labels import register_actor_label


class Role(StrEnum):
    """Account roles. The value is stored; `label` is what people read."""

    ADMIN = "admin"
    DIRECTOR = "director"
    PUBLIC_HEALTH_DOCTOR = "public_health_doctor"
    FAMILY_DOCTOR = "family_doctor"
    VILLAGE_DOCTOR = "village_doctor"
    CLERK = "clerk"
    ASSESSOR = "assessor"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.ADMIN: "系统管理员",
    Role.DIRECTOR: "院长",
    Role.PUBLIC_HEALTH_DOCTOR: "公卫医生",
    Role.FAMILY_DOCTOR: "家庭医生",
    Role.VILLAGE_DOCTOR: "乡村医生",
    Role.CLERK: "信息录入员",
    Role.ASSESSOR: "考核员",
}


class Permission(StrEnum):
    """What an action needs. Later areas add theirs here and to ROLE_PERMISSIONS."""

    MANAGE_ACCOUNTS = "manage_accounts"
    MANAGE_BRANCH = "manage_branch"
    VIEW_AUDIT = "view_audit"
    BACKUP = "backup"
    RESTORE = "restore"
    VIEW_BRANCH = "view_branch"
    VIEW_RESIDENTS = "view_residents"
    EDIT_RESIDENTS = "edit_residents"
    IMPORT_RESIDENTS = "import_residents"
    EXPORT_RESIDENTS = "export_residents"
    VIEW_IDENTITY = "view_identity"
    VIEW_FOLLOWUPS = "view_followups"
    EDIT_FOLLOWUPS = "edit_followups"
    IMPORT_FOLLOWUPS = "import_followups"
    EXPORT_FOLLOWUPS = "export_followups"
    VIEW_INDICATORS = "view_indicators"
    SYNC = "sync"
    ENROL_SITE = "enrol_site"
    DECIDE_RECORD_MOVES = "decide_record_moves"


_EVERYONE = {Permission.VIEW_BRANCH}
_RESIDENT_WORK = {
    Permission.VIEW_RESIDENTS, Permission.EDIT_RESIDENTS, Permission.EXPORT_RESIDENTS, Permission.VIEW_IDENTITY,
    Permission.VIEW_FOLLOWUPS, Permission.EDIT_FOLLOWUPS, Permission.EXPORT_FOLLOWUPS, Permission.VIEW_INDICATORS,
}
_OVERSIGHT = {Permission.VIEW_RESIDENTS, Permission.VIEW_FOLLOWUPS, Permission.VIEW_INDICATORS}
_IMPORTS = {Permission.IMPORT_RESIDENTS, Permission.IMPORT_FOLLOWUPS}
_SYNC = {Permission.SYNC}
_BRANCH_RECORDS = {Permission.DECIDE_RECORD_MOVES}  # the branch keeps the register: moves between villages

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(
        _EVERYONE
        | {
            Permission.MANAGE_ACCOUNTS,
            Permission.MANAGE_BRANCH,
            Permission.VIEW_AUDIT,
            Permission.BACKUP,
            Permission.RESTORE,
            Permission.SYNC,
            Permission.ENROL_SITE,
        }
    ),
    Role.DIRECTOR: frozenset(
        _EVERYONE | _OVERSIGHT
        | {Permission.VIEW_AUDIT, Permission.BACKUP, Permission.EXPORT_RESIDENTS, Permission.EXPORT_FOLLOWUPS}
        | _SYNC
    ),
    Role.PUBLIC_HEALTH_DOCTOR: frozenset(
        _EVERYONE | _RESIDENT_WORK | _IMPORTS | _SYNC | _BRANCH_RECORDS | {Permission.BACKUP}),
    Role.FAMILY_DOCTOR: frozenset(_EVERYONE | _RESIDENT_WORK),
    Role.VILLAGE_DOCTOR: frozenset(_EVERYONE | _RESIDENT_WORK),
    Role.CLERK: frozenset(_EVERYONE | _RESIDENT_WORK | _IMPORTS | _SYNC | _BRANCH_RECORDS | {Permission.BACKUP}),
    Role.ASSESSOR: frozenset(_EVERYONE | _OVERSIGHT),
}

PERMISSION_LABELS = {
    Permission.MANAGE_ACCOUNTS: "管理账户",
    Permission.MANAGE_BRANCH: "维护分院、村和人员信息",
    Permission.VIEW_AUDIT: "查看审计日志",
    Permission.BACKUP: "备份数据库",
    Permission.RESTORE: "从备份恢复",
    Permission.VIEW_BRANCH: "查看分院信息",
    Permission.VIEW_RESIDENTS: "查看居民档案",
    Permission.EDIT_RESIDENTS: "建立或修改居民档案",
    Permission.IMPORT_RESIDENTS: "导入居民档案",
    Permission.EXPORT_RESIDENTS: "导出居民档案",
    Permission.VIEW_IDENTITY: "查看完整身份证号和电话",
    Permission.VIEW_FOLLOWUPS: "查看慢病管理和随访",
    Permission.EDIT_FOLLOWUPS: "登记慢病管理、随访和体检",
    Permission.IMPORT_FOLLOWUPS: "导入历史随访",
    Permission.EXPORT_FOLLOWUPS: "导出随访记录",
    Permission.VIEW_INDICATORS: "查看管理指标",
    Permission.SYNC: "与总院同步数据",
    Permission.ENROL_SITE: "向总院登记本分院",
    Permission.DECIDE_RECORD_MOVES: "审批档案迁村申请",
}


@dataclass(frozen=True)
class Actor:
    """The signed-in person an operation runs for, as plain data safe across threads."""

    account_id: int | None
    username: str
    display_name: str
    role: Role
    village_ids: frozenset[int] = field(default_factory=frozenset)
    staff_id: int | None = None

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]

    @property
    def is_village_bound(self) -> bool:
        """Village doctors see only their own villages' records."""
        return self.role is Role.VILLAGE_DOCTOR


SYSTEM = Actor(account_id=None, username="system", display_name="系统", role=Role.ADMIN)
register_actor_label(SYSTEM.username, SYSTEM.display_name)


def require(actor: Actor, permission: Permission) -> None:
    """Raise PermissionDenied unless the actor's role grants the permission."""
    if not actor.can(permission):
        raise PermissionDenied(
            f"当前账户（{actor.role.label}）无权{PERMISSION_LABELS[permission]}。"
        )


OUT_OF_SCOPE = "该居民不属于您负责的村。"


def in_village_scope(actor: Actor, village_id: int | None) -> bool:
    """True when the actor may act on a resident of this village (only village doctors are bound)."""
    return not actor.is_village_bound or village_id in actor.village_ids


def ensure_in_scope(actor: Actor, village_id: int | None) -> None:
    """Village doctors work only on their own villages' residents: raise PermissionDenied otherwise."""
    if not in_village_scope(actor, village_id):
        raise PermissionDenied(OUT_OF_SCOPE)


def village_scope(actor: Actor, village_column: ColumnElement[Any]) -> ColumnElement[bool]:
    """The same rule as a query condition on a village-id column (always true for roles not bound)."""
    if not actor.is_village_bound:
        return true()
    return village_column.in_(actor.village_ids)
