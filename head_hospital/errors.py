"""Refusals the service gives, each with the API code and HTTP status it travels with."""

from __future__ import annotations

from typing import Any

from township_wire.errors import UserFacingError


class Refused(UserFacingError):
    """A request or package the head hospital will not take; `code` is one of township_wire.api.CODE_*."""

    def __init__(self, message: str, *, code: str, status: int = 422, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.extra = dict(extra or {})
        self.logged = False

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.extra}
