"""A realistic synthetic township for trying the app and for benchmarks.

Everything is invented: the township, its villages and its people. Each area adds its own
demo data as a step (`desktop.demo.steps.DemoStep`) listed once in `DEMO_STEPS`, in the order
they run; `build_demo` runs them with one seeded generator.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from desktop.db import Database
from desktop.demo.followups import STEP as FOLLOWUPS_STEP
from desktop.demo.org import DEMO_PASSWORD
from desktop.demo.org import STEP as ORG_STEP
from desktop.demo.record_moves import STEP as RECORD_MOVES_STEP
from desktop.demo.residents import STEP as RESIDENTS_STEP
from desktop.demo.steps import DemoContext, DemoStep, scaled_progress
from desktop.errors import UserFacingError
from desktop.jobs import ProgressFn, no_progress, raise_if_aborted
from desktop.services.branch import get_branch

__all__ = ["DEFAULT_RESIDENTS", "DEMO_PASSWORD", "DEMO_STEPS", "DemoResult", "build_demo"]

DEFAULT_RESIDENTS = 3000
DEMO_STEPS: tuple[DemoStep, ...] = (
    ORG_STEP,
    RESIDENTS_STEP,
    FOLLOWUPS_STEP,
    RECORD_MOVES_STEP,
)


@dataclass(frozen=True)
class DemoResult:
    """What the demo holds and how to sign in."""

    created: bool
    accounts: tuple[tuple[str, str], ...]
    residents_added: int = 0
    password: str = DEMO_PASSWORD

    def sign_in_text(self) -> str:
        """The demo sign-in, as printed for the person who started it."""
        lines = [f"演示账户（密码均为 {self.password}）："]
        lines += [f"  {username:<12} {label}" for username, label in self.accounts]
        return "\n".join(lines)


def build_demo(
    db: Database,
    *,
    seed: int = 2026,
    residents: int = DEFAULT_RESIDENTS,
    abort: threading.Event | None = None,
    progress: ProgressFn = no_progress,
    steps: Sequence[DemoStep] = DEMO_STEPS,
) -> DemoResult:
    """Set up a demo branch, or top an existing demo branch up to `residents`. Refuses a real branch."""
    branch = get_branch(db)
    if branch is not None and not branch.is_demo:
        raise UserFacingError("该数据目录是正式分院的数据，不能写入演示数据。请用 --data-dir 指定另一个目录。")
    context = DemoContext(target_residents=residents, created=branch is None, abort=abort or threading.Event())
    run_steps(db, random.Random(seed), context, steps, progress=progress)
    progress(1.0, "演示数据已就绪")
    return DemoResult(created=context.created, accounts=context.accounts, residents_added=context.residents_added)


def run_steps(db: Database, rng: random.Random, context: DemoContext, steps: Sequence[DemoStep], *,
              progress: ProgressFn) -> None:
    """Run the steps in order, each reporting progress within its share of the bar."""
    total = sum(step.weight for step in steps) or 1.0
    done = 0.0
    for step in steps:
        raise_if_aborted(context.abort)
        start, span = done / total, step.weight / total
        progress(start, step.label)
        context.progress = scaled_progress(progress, start=start, span=span)
        step.run(db, rng, context)
        done += step.weight
