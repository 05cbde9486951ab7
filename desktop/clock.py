"""Time in one place: stored times are naive local wall-clock times of the branch PC.

Clerks and paper forms speak local time; the sync protocol never orders by clocks,
so local time is safe to store. Tests pass `now` explicitly where it matters.
"""

from __future__ import annotations

from datetime import datetime


def now() -> datetime:
    """The current local time, to the second."""
    return datetime.now().replace(microsecond=0)
