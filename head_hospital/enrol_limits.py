"""Limits on enrolment, the one request anyone may send: per client address, and sites waiting at once.

Each client address may send `per_address` enrolments in `window_seconds` (repeats count: a
branch enrols a handful of times in its life); beyond that the answer is 429 with a Chinese
message and Retry-After. While `max_pending` sites wait for approval a new site id is refused
too (`head_hospital.sites`). The counters live in the service's memory: a restart clears them.
Behind a reverse proxy every request comes from the proxy's address, so raise `per_address`.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

from head_hospital.errors import Refused
from head_hospital.sites import CODE_RATE_LIMITED

MAX_TRACKED_ADDRESSES = 10_000


@dataclass(frozen=True)
class EnrolLimits:
    """How many enrolments one address may send in a window, and how many sites may wait at once."""

    per_address: int = 20
    window_seconds: float = 3600.0
    max_pending: int = 100


class EnrolGate:
    """Counts enrolment requests per client address over a sliding window."""

    def __init__(self, limits: EnrolLimits, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits, self._clock = limits, clock
        self._lock = threading.Lock()
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()
        self._logged: dict[str, float] = {}  # the last refusal written to the event log, per address

    def admit(self, address: str) -> None:
        """Count one enrolment from `address`; `Refused` (429) when it has used up its window."""
        now = self._clock()
        with self._lock:
            times = self._seen.pop(address, None) or deque()
            while times and times[0] <= now - self.limits.window_seconds:
                times.popleft()
            self._seen[address] = times
            while len(self._seen) > MAX_TRACKED_ADDRESSES:
                self._seen.popitem(last=False)
            if len(times) >= self.limits.per_address:
                wait = max(1, math.ceil(times[0] + self.limits.window_seconds - now))
                refused = Refused(f"登记请求过于频繁：同一地址每 {_window_text(self.limits.window_seconds)}最多登记 "
                                  f"{self.limits.per_address} 次，请约 {_minutes(wait)} 分钟后再试。",
                                  code=CODE_RATE_LIMITED, status=429, extra={"retry_after": wait})
                refused.logged = not self._log_once(address, now)
                raise refused
            times.append(now)

    def _log_once(self, address: str, now: float) -> bool:
        """Whether this refusal is the first for `address` in its window (a flood is logged once, not per request)."""
        last = self._logged.get(address)
        if last is not None and now - last < self.limits.window_seconds:
            return False
        if len(self._logged) >= MAX_TRACKED_ADDRESSES:
            self._logged.clear()
        self._logged[address] = now
        return True


def _window_text(seconds: float) -> str:
    return f"{seconds / 3600:g} 小时" if seconds >= 3600 else f"{seconds / 60:g} 分钟"


def _minutes(seconds: int) -> int:
    return max(1, math.ceil(seconds / 60))
