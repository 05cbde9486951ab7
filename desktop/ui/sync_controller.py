"""The window's side of sync: one guard for every sync operation, the automatic timer, the status.

Everything runs through the task helper: a network sync on the network pool (quietly when it is
automatic, with the progress dialog when a person pressed 立即同步), USB files and status reads on
the database thread. Automatic sync starts ~10 s after sign-in and then looks every 2 minutes:
it syncs when something is unsent, when the last attempt found no connection, or when the head
hospital has not been asked for a while. Failures back off (2, 4, 8 … 30 minutes, jittered) and a
success resets the pace. Only one sync operation runs at a time, whoever started it.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

from desktop.changes import Changes
from desktop.clock import now
from desktop.errors import UserFacingError
from desktop.services.permissions import Permission
from desktop.ui.errors import UNEXPECTED_MESSAGE, log_error, show_error

if TYPE_CHECKING:  # the sync modules (and their crypto) load on the worker threads, when first used
    from desktop.db import Database
    from desktop.sync.client import SyncOutcome
    from desktop.sync.status import SyncStatus
    from desktop.sync.transport import RetryPolicy
    from desktop.ui.context import UiContext
    from desktop.ui.tasks import TaskHandle

T = TypeVar("T")
SYNC_LABEL = "正在与总院同步……"


@dataclass(frozen=True)
class SyncTiming:
    """How often automatic sync looks and how far it backs off (milliseconds; tests shorten them)."""

    first_ms: int = 10_000
    interval_ms: int = 120_000
    max_backoff_ms: int = 30 * 60_000
    refresh_ms: int = 30_000
    pull_ms: int = 30 * 60_000  # ask for what the head hospital sends down at least this often
    settle_ms: int = 400  # one status read for a burst of changes


def backoff_ms(failures: int, timing: SyncTiming, rng: random.Random) -> int:
    """The wait before the next automatic attempt: the interval doubled per failure, capped, jittered."""
    if failures <= 0:
        return timing.interval_ms
    ceiling = min(timing.max_backoff_ms, timing.interval_ms * 2 ** min(failures - 1, 30))
    return max(1, round(ceiling * rng.uniform(0.8, 1.0)))


def wants_sync(status: SyncStatus, at: datetime, pull_ms: int) -> bool:
    """Whether an automatic attempt is worth making now."""
    if not status.enrolled:
        return False
    if status.unsent > 0 or status.online is False or not status.last_attempt:
        return True
    try:
        last = datetime.fromisoformat(str(status.last_attempt.get("at")))
    except ValueError:
        return True
    return (at - last).total_seconds() * 1000 >= pull_ms


def read_status(db: Database) -> SyncStatus:
    """The sync status (runs on the database thread)."""
    from desktop.sync.status import sync_status

    return sync_status(db)


def is_offline(error: BaseException) -> bool:
    """True for "the head hospital cannot be reached", as opposed to a refusal or a fault."""
    from desktop.sync.transport import Offline

    return isinstance(error, Offline)


def is_awaiting_approval(error: BaseException) -> bool:
    """True when the head hospital has the site's enrolment but has not approved it yet."""
    from desktop.sync.transport import AwaitingApproval

    return isinstance(error, AwaitingApproval)


@dataclass(frozen=True)
class SyncRun:
    """How the last sync operation of this session ended."""

    manual: bool
    ok: bool
    message: str
    offline: bool = False  # the head hospital could not be reached
    refused: bool = False  # reached, but the sync did not complete (a refusal or a fault)
    awaiting_approval: bool = False  # reached; the head hospital has not approved this site yet
    at: datetime = field(default_factory=now)


class SyncController(QObject):
    """Runs syncs for one signed-in session and keeps the latest `SyncStatus` for the window."""

    status_changed = Signal(object)  # SyncStatus
    busy_changed = Signal(bool)
    progress = Signal(float, str)
    finished = Signal(object)  # a SyncRun after a sync; None after a USB file or an enrolment

    def __init__(self, ctx: UiContext, parent: QWidget | None = None, *, timing: SyncTiming | None = None,
                 retry: Callable[[], RetryPolicy] | None = None, rng: random.Random | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.widget = parent
        self.timing = timing or SyncTiming()
        self.retry = retry
        self.rng = rng or random.Random()
        self.status: SyncStatus | None = None
        self.last_run: SyncRun | None = None
        self.failures = 0
        self.busy = False
        self.next_delay_ms: int | None = None
        self._handle: TaskHandle | None = None
        self._stopped = False
        self._reading = self._read_again = False
        self._auto = self._timer(single=True, slot=self._tick)
        self._periodic = self._timer(single=False, slot=self.refresh)
        self._settle = self._timer(single=True, slot=self.refresh)
        ctx.bus.changed.connect(self._on_changes)

    def _timer(self, *, single: bool, slot: Callable[[], None]) -> QTimer:
        timer = QTimer(self)
        timer.setSingleShot(single)
        timer.timeout.connect(slot)
        return timer

    @property
    def can_sync(self) -> bool:
        return self.ctx.actor.can(Permission.SYNC)

    def start(self) -> None:
        """Read the status now, re-read it periodically and, with the right to sync, sync automatically."""
        self._stopped = False
        self.refresh()
        self._periodic.start(self.timing.refresh_ms)
        self._schedule(self.timing.first_ms)

    def stop(self) -> None:
        """End of the session: no more timers; a running sync is asked to stop."""
        self._stopped = True
        for timer in (self._auto, self._periodic, self._settle):
            timer.stop()
        if self._handle is not None:
            self._handle.cancel()

    # ----- status

    def _closing(self) -> bool:
        """True when the task helper has shut down (the application is ending): stop quietly."""
        if not self.ctx.tasks.closed:
            return False
        self.stop()
        return True

    def refresh(self) -> None:
        """Read the sync status in the background (one read at a time; asks again if needed)."""
        if self._closing():
            return
        if self._reading:
            self._read_again = True
            return
        self._reading = True
        self.ctx.tasks.run_db(lambda: read_status(self.ctx.db), on_success=self._status_read,
                              on_failure=self._status_failed, parent=self.widget)

    def _status_read(self, status: SyncStatus) -> None:
        self._reading = False
        self._publish(status)
        if self._read_again:
            self._read_again = False
            self.refresh()

    def _publish(self, status: SyncStatus) -> None:
        self.status = status
        self.status_changed.emit(status)

    def _status_failed(self, error: BaseException) -> None:
        self._reading = self._read_again = False
        log_error(error)

    def _on_changes(self, changes: Changes) -> None:
        if not self._stopped:
            self._settle.start(self.timing.settle_ms)

    # ----- automatic sync

    def _schedule(self, delay_ms: int) -> None:
        if self._stopped or not self.can_sync:
            return
        self.next_delay_ms = delay_ms
        self._auto.start(delay_ms)

    def _tick(self) -> None:
        if self._closing():
            return
        if self.busy:
            self._schedule(self.timing.interval_ms)
            return
        self.ctx.tasks.run_db(lambda: read_status(self.ctx.db), on_success=self._decide,
                              on_failure=self._tick_failed, parent=self.widget)

    def _decide(self, status: SyncStatus) -> None:
        self._publish(status)
        if self._stopped:
            return
        if not self.busy and wants_sync(status, now(), self.timing.pull_ms):
            self.sync(manual=False)
        elif not self.busy:
            self._schedule(self.timing.interval_ms)

    def _tick_failed(self, error: BaseException) -> None:
        log_error(error)
        self._schedule(self.timing.interval_ms)

    # ----- running

    def sync(self, *, manual: bool) -> bool:
        """Sync now unless a sync operation is running (then False). Manual: progress dialog, errors shown."""
        if self.busy or self._closing() or (self._stopped and not manual):
            return False
        self._auto.stop()
        self._set_busy(True)
        ctx, retry = self.ctx, self.retry() if self.retry else None

        def job(*, abort: threading.Event, progress: Callable[[float, str], None]) -> SyncOutcome:
            from desktop.sync.client import sync_now

            return sync_now(ctx.db, ctx.actor, retry=retry, abort=abort, progress=progress)

        self._handle = ctx.tasks.run_job(
            job, label=SYNC_LABEL if manual else None, network=True, parent=self.widget,
            on_success=lambda outcome: self._synced(outcome, manual),
            on_failure=lambda error: self._sync_failed(error, manual),
            on_cancelled=lambda: self._end(SyncRun(manual, False, "同步已取消。"), self.timing.interval_ms),
            on_progress=self.progress.emit)
        return True

    def _synced(self, outcome: SyncOutcome, manual: bool) -> None:
        self.failures = 0
        self._end(SyncRun(manual, True, outcome.message() + "。"), self.timing.interval_ms)
        if outcome.received or outcome.recovered:
            self.ctx.bus.publish(Changes(sync=True))

    def _sync_failed(self, error: BaseException, manual: bool) -> None:
        if is_awaiting_approval(error):  # a step to wait for: no error box, keep looking at the usual pace
            self.failures = 0
            self._end(SyncRun(manual, False, error.message, awaiting_approval=True), self.timing.interval_ms)
            return
        self.failures += 1
        message = error.message if isinstance(error, UserFacingError) else UNEXPECTED_MESSAGE
        offline = is_offline(error)
        self._end(SyncRun(manual, False, message, offline=offline, refused=not offline),
                  backoff_ms(self.failures, self.timing, self.rng))
        if manual:
            show_error(self.widget, error)
        else:
            log_error(error)  # automatic: the status bar and the page say it, no box

    def _end(self, run: SyncRun, next_ms: int) -> None:
        self._handle = None
        self.last_run = run
        self._set_busy(False)
        self._schedule(next_ms)
        self.refresh()
        self.finished.emit(run)

    def run_exclusive(self, work: Callable[[], T], *, label: str, on_success: Callable[[T], None],
                      on_failure: Callable[[BaseException], None] | None = None, network: bool = False) -> bool:
        """Run another sync operation (USB file, enrolment) under the same guard; False when busy."""
        if self.busy or self._closing():
            return False
        self._set_busy(True)
        run = self.ctx.tasks.run_network if network else self.ctx.tasks.run_db
        run(work, label=label, parent=self.widget,
            on_success=lambda result: self._exclusive_done(on_success, result),
            on_failure=lambda error: self._exclusive_done(on_failure or self._show, error))
        return True

    def _exclusive_done(self, then: Callable[[Any], None], value: Any) -> None:
        self._set_busy(False)
        self.refresh()
        self.finished.emit(None)
        then(value)

    def _show(self, error: BaseException) -> None:
        show_error(self.widget, error)

    def enrolled(self) -> None:
        """After enrolment: look again soon, so an approved site starts sending on its own."""
        self.failures = 0
        self._schedule(self.timing.first_ms)

    def _set_busy(self, busy: bool) -> None:
        if busy != self.busy:
            self.busy = busy
            self.busy_changed.emit(busy)


def sync_controller(ctx: UiContext, parent: QWidget | None = None) -> SyncController:
    """The session's controller, made (not started) on first use; one made without a widget adopts `parent`."""
    controller = ctx.sync
    if not isinstance(controller, SyncController):
        controller = ctx.sync = SyncController(ctx, parent)
    elif controller.widget is None and parent is not None:
        controller.setParent(parent)
        controller.widget = parent
    return controller
