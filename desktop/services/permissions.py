"""Roles, permissions and the actor (who is doing something). Checked in every service."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from desktop.errors import PermissionDenied


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


_EVERYONE = {Permission.VIEW_BRANCH}
_RESIDENT_WORK = {
    Permission.VIEW_RESIDENTS, Permission.EDIT_RESIDENTS, Permission.EXPORT_RESIDENTS, Permission.VIEW_IDENTITY,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(
        _EVERYONE
        | {
            Permission.MANAGE_ACCOUNTS,
            Permission.MANAGE_BRANCH,
            Permission.VIEW_AUDIT,
            Permission.BACKUP,
            Permission.RESTORE,
        }
    ),
    Role.DIRECTOR: frozenset(
        _EVERYONE | {Permission.VIEW_AUDIT, Permission.BACKUP, Permission.VIEW_RESIDENTS, Permission.EXPORT_RESIDENTS}
    ),
    Role.PUBLIC_HEALTH_DOCTOR: frozenset(_EVERYONE | _RESIDENT_WORK | {Permission.BACKUP, Permission.IMPORT_RESIDENTS}),
    Role.FAMILY_DOCTOR: frozenset(_EVERYONE | _RESIDENT_WORK),
    Role.VILLAGE_DOCTOR: frozenset(_EVERYONE | _RESIDENT_WORK),
    Role.CLERK: frozenset(_EVERYONE | _RESIDENT_WORK | {Permission.BACKUP, Permission.IMPORT_RESIDENTS}),
    Role.ASSESSOR: frozenset(_EVERYONE | {Permission.VIEW_RESIDENTS}),
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
}


@dataclass(frozen=True)
class Actor:
    """The signed-in person an operation runs for, as plain data safe across threads."""

    account_id: int | None
    username: str
    display_name: str
    role: Role
    village_ids: frozenset[int] = field(default_factory=frozenset)

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]

    @property
    def is_village_bound(self) -> bool:
        """Village doctors see only their own villages' records."""
        return self.role is Role.VILLAGE_DOCTOR


SYSTEM = Actor(account_id=None, username="system", display_name="系统", role=Role.ADMIN)


def require(actor: Actor, permission: Permission) -> None:
    """Raise PermissionDenied unless the actor's role grants the permission."""
    if not actor.can(permission):
        raise PermissionDenied(
            f"当前账户（{actor.role.label}）无权{PERMISSION_LABELS[permission]}。"
        )
