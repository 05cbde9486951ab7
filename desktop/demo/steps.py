"""Demo steps: each area adds its part of the synthetic township as one step.

A step is a key, a label shown while it runs and a function `(db, rng, context)`. The steps run
in the order of `desktop.demo.DEMO_STEPS` with one seeded generator, so the same seed always
builds the same township; a new area writes its step module and adds one line to that list.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from desktop.db import Database
from desktop.jobs import ProgressFn, no_progress

HISTORY_YEARS = 4  # the demo's records span this many years up to today
PROGRAMME_START = date(2009, 1, 1)  # 国家基本公共卫生服务项目: nobody is managed before it existed


@dataclass
class DemoContext:
    """What the steps share: the request, the job's controls and what earlier steps made."""

    target_residents: int
    created: bool
    abort: threading.Event = field(default_factory=threading.Event)
    progress: ProgressFn = no_progress
    accounts: tuple[tuple[str, str], ...] = ()
    residents_added: int = 0
    made: dict[str, object] = field(default_factory=dict)  # later areas' own results, by step key


StepFn = Callable[[Database, random.Random, DemoContext], None]


@dataclass(frozen=True)
class DemoStep:
    """One area's part of the demo; `weight` is its share of the progress bar."""

    key: str
    label: str
    run: StepFn
    weight: float = 1.0


def scaled_progress(progress: ProgressFn, *, start: float, span: float) -> ProgressFn:
    """A progress callback that maps a step's 0-1 onto its slice of the whole bar."""
    def report(fraction: float, message: str) -> None:
        progress(start + span * min(1.0, max(0.0, fraction)), message)
    return report
