"""The branch as plain data (kept free of the ORM so start-up can read it cheaply)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BranchInfo:
    """The branch of this installation."""

    site_id: str
    county_code: str
    township_code: str
    name: str
    head_hospital_name: str
    is_demo: bool

    @property
    def record_prefix(self) -> str:
        """The first 9 digits of every record number issued here."""
        return self.county_code + self.township_code
