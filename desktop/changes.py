"""Writes say what changed; screens decide what to refresh."""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Changes:
    """Which areas a write touched. Later areas add their own flags here."""

    branch: bool = False
    accounts: bool = False
    audit: bool = False
    settings: bool = False
    residents: bool = False
    backups: bool = False
    followups: bool = False
    sync: bool = False  # records or catalogues arrived from the head hospital (feed, recovery, return file)

    def __or__(self, other: Changes) -> Changes:
        return Changes(**{f.name: getattr(self, f.name) or getattr(other, f.name) for f in fields(self)})

    def any(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))
