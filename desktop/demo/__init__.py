"""A realistic synthetic township for trying the app and for benchmarks.

Everything is invented: the township, its villages and its people. Later areas add
their own demo data (residents, follow-ups, contracts ...) through `build_demo`.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

from desktop.db import Database
from desktop.demo.followups import add_demo_followups
from desktop.demo.org import DEMO_PASSWORD, build_demo_org
from desktop.demo.residents import add_demo_residents
from desktop.errors import UserFacingError
from desktop.jobs import ProgressFn, no_progress, raise_if_aborted
from desktop.services.branch import get_branch

__all__ = ["DEFAULT_RESIDENTS", "DEMO_PASSWORD", "DemoResult", "build_demo"]

DEFAULT_RESIDENTS = 3000


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
) -> DemoResult:
    """Set up a demo branch, or top an existing demo branch up to `residents`. Refuses a real branch."""
    abort = abort or threading.Event()
    branch = get_branch(db)
    if branch is not None and not branch.is_demo:
        raise UserFacingError("该数据目录是正式分院的数据，不能写入演示数据。请用 --data-dir 指定另一个目录。")
    rng = random.Random(seed)
    raise_if_aborted(abort)
    progress(0.0, "正在创建演示分院……")
    created = branch is None
    accounts = build_demo_org(db, rng) if created else _demo_accounts(db)
    added = add_demo_residents(db, residents, rng=rng, abort=abort, progress=progress)
    add_demo_followups(db, rng=rng, abort=abort, progress=progress)
    progress(1.0, "演示数据已就绪")
    return DemoResult(created=created, accounts=accounts, residents_added=added)


def _demo_accounts(db: Database) -> tuple[tuple[str, str], ...]:
    from desktop.demo.org import demo_account_summary

    return demo_account_summary(db)
