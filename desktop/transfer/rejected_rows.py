"""A row an import did not take: shared by the import jobs and the writers below them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RejectedRow:
    """A row that was not imported: its Excel row number, why, and its values as found."""

    row: int
    reason: str
    values: tuple[Any, ...]
