"""The contract every long job shares: `run(*, abort, progress)`, failure by raising.

Imports, exports, batch printing, demo building and package upload all take an
`abort` event and a `progress(fraction, message)` callback, so the window shows one
progress bar with a cancel button for each and the command line prints one progress line.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Protocol, TypeVar

from desktop.errors import Cancelled

T_co = TypeVar("T_co", covariant=True)

ProgressFn = Callable[[float, str], None]


class Job(Protocol[T_co]):
    """A long job: checks `abort` between steps, reports `progress`, raises on failure."""

    def __call__(self, *, abort: threading.Event, progress: ProgressFn) -> T_co: ...


def raise_if_aborted(abort: threading.Event) -> None:
    """Raise `Cancelled` once the user asked to stop."""
    if abort.is_set():
        raise Cancelled()


def no_progress(fraction: float, message: str) -> None:
    """A progress callback that reports nothing."""


def print_progress(fraction: float, message: str) -> None:
    """Progress for the command line: one rewritten line on stderr."""
    sys.stderr.write(f"\r{fraction * 100:5.1f}% {message}\033[K")
    if fraction >= 1.0:
        sys.stderr.write("\n")
    sys.stderr.flush()
