"""The root of the one error hierarchy, shared by the branch app and the head hospital.

`UserFacingError` carries a Chinese message meant for the person who reads it and optional
details for a support person; `desktop.errors` builds the branch app's errors on it.
"""

from __future__ import annotations


class TownshipError(Exception):
    """Base of every error either side raises on purpose."""


class UserFacingError(TownshipError):
    """An error whose message is written for the user, in Chinese."""

    def __init__(self, message: str, *, details: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.details = details
