"""The one error hierarchy.

`UserFacingError` carries a Chinese message meant for the person at the desk;
`ValidationError` maps field names to messages so forms can mark the field;
`Cancelled` is silent. Any other exception is a bug: logged and shown with details.
"""

from __future__ import annotations

from datetime import datetime

# The root of the hierarchy lives with the wire format so the head hospital shares it.
from township_wire.errors import TownshipError, UserFacingError  # noqa: F401 - re-exported


class ValidationError(UserFacingError):
    """Input that breaks a rule; `errors` maps a field name to its message."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("；".join(self.errors.values()))

    @classmethod
    def single(cls, field: str, message: str) -> ValidationError:
        return cls({field: message})


class PermissionDenied(UserFacingError):
    """The signed-in account's role does not allow the action."""


class AuthenticationFailed(UserFacingError):
    """Wrong user name or password, or a disabled account; deliberately does not say which."""

    def __init__(self) -> None:
        super().__init__("用户名或密码错误，或账户已停用。")


class AccountLocked(UserFacingError):
    """Too many failed sign-ins: the account is locked until `until` (local time)."""

    def __init__(self, until: datetime) -> None:
        self.until = until
        super().__init__(f"账户因多次密码错误已锁定，请于 {until:%Y-%m-%d %H:%M} 后再试，或请管理员解锁。")


class NotSetUp(UserFacingError):
    """The data directory holds no branch yet."""

    def __init__(self) -> None:
        super().__init__("尚未设置分院信息，请先完成初始设置（township-desk init 或启动程序后按向导设置）。")


class AlreadySetUp(UserFacingError):
    """Setup was asked for a data directory that already holds a branch."""

    def __init__(self) -> None:
        super().__init__("该数据目录已设置分院，不会覆盖现有数据。")


class DatabaseProblem(UserFacingError):
    """The database file cannot be used as it is."""


class DatabaseCorrupt(DatabaseProblem):
    """The file is damaged or not a database; restoring a backup is the way out."""


class DatabaseTooNew(DatabaseProblem):
    """The file was written by a newer version of the application."""


class DiskFull(DatabaseProblem):
    """The disk (or the database's size limit) is full; the write was rolled back."""

    def __init__(self, details: str = "") -> None:
        super().__init__("磁盘空间不足，本次保存未完成，已保存的数据未受影响。请清理磁盘后重试。", details=details)


class Cancelled(TownshipError):
    """The user cancelled a long job; nothing to show."""
