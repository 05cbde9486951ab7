"""The one helper for background work (after Anki's QueryOp/taskman and Electrum's TaskThread).

Threading contract
------------------
* Create the `TaskManager` on the GUI thread and call every public method from there.
* Database work (`run_db`, and `run_job` by default) runs on ONE worker thread, strictly one
  task at a time and in submission order: one writer, no lock fights. Network work
  (`run_network`, `run_job(network=True)`) runs on a separate pool of two threads.
* The background callable must not touch any widget or Qt GUI object. It receives no arguments
  (long jobs receive `abort` and `progress`) and returns plain data, never live ORM objects.
* Every callback (`on_success`, `on_failure`, `on_cancelled`, `on_progress`) runs on the GUI
  thread: results travel back through a queued Qt signal. Progress reports from the worker are
  coalesced, so a job may report as often as it likes.
* A failure goes to `on_failure(exc)`, or by default to `show_error(parent, exc)`.
  `desktop.errors.Cancelled` is silent: only `on_cancelled()` is called.
* A labelled task still running after ~0.5 s shows a window-modal progress dialog; a long job's
  dialog has a 取消 button that sets the job's `abort` event. An unlabelled job shows nothing.
* If `parent` has been deleted by the time the result arrives, the callbacks are skipped (an
  unexpected failure is still logged).
* `run_db_and_wait` / `run_job_and_wait` are for steps that cannot go on without the result (the
  first-run open, migration, backup and demo build; a wizard's last page): the work still runs on
  the database thread, and the GUI thread waits in a local event loop, so windows keep painting
  and the progress dialog shows. The result is returned, or the task's error raised.
* Call `shutdown()` at exit: it aborts running jobs, drops queued work and joins the workers.
* Where only the newest request matters (search as you type), `Latest` lets a queued, outdated
  request skip its work (it raises `Cancelled`) and lets the caller drop an outdated answer.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from PySide6.QtCore import QEventLoop, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QProgressBar, QProgressDialog, QWidget
from shiboken6 import isValid

from desktop.errors import Cancelled
from desktop.jobs import Job
from desktop.ui.errors import log_error, show_error

T = TypeVar("T")

log = logging.getLogger("township_desk")

PROGRESS_DELAY_MS = 500
PROGRESS_STEPS = 1000
CANCEL_TEXT = "取消"
DIALOG_TITLE = "请稍候"
NETWORK_WORKERS = 2

SuccessFn = Callable[[Any], None]
FailureFn = Callable[[BaseException], None]


class TaskHandle:
    """One background task as the GUI sees it: its abort event, progress and dialog."""

    def __init__(self, label: str | None, *, cancellable: bool) -> None:
        self.label = label
        self.cancellable = cancellable
        self.abort = threading.Event()
        self.future: Future[Any] | None = None
        self.dialog: QProgressDialog | None = None
        self.finished = False
        self.progress: tuple[float, str] = (0.0, "")
        self.has_progress = False
        self.on_progress: Callable[[float, str], None] | None = None
        self._timer: QTimer | None = None
        self._bar: QProgressBar | None = None
        self._lock = threading.Lock()
        self._latest: tuple[float, str] | None = None

    def cancel(self) -> None:
        """Ask the job to stop (it raises `Cancelled` at its next check)."""
        self.abort.set()

    def report(self, fraction: float, message: str, post: Callable[[Callable[[], None]], None]) -> None:
        """Worker side: remember the latest progress and post one GUI update if none is queued."""
        with self._lock:
            queued = self._latest is not None
            self._latest = (min(max(float(fraction), 0.0), 1.0), message)
        if not queued:
            post(self.apply_progress)

    def apply_progress(self) -> None:
        """GUI side: take the latest progress and show it."""
        with self._lock:
            latest, self._latest = self._latest, None
        if latest is None or self.finished:
            return
        self.progress, self.has_progress = latest, True
        self._update_dialog()
        if self.on_progress is not None:
            self.on_progress(*latest)

    def show_dialog(self, parent: QWidget | None) -> None:
        """Show the progress dialog (called once the task has run for ~0.5 s)."""
        if self.finished or self.dialog is not None or (parent is not None and not isValid(parent)):
            return
        self.dialog, self._bar = _build_progress_dialog(self.label or "", self.cancellable, parent)
        self.dialog.canceled.connect(self._on_dialog_cancelled)
        self._update_dialog()
        self.dialog.show()

    def close(self) -> None:
        """GUI side: the task is over; stop the timer and remove the dialog."""
        self.finished = True
        if self._timer is not None:
            self._timer.stop()
            self._timer.deleteLater()
            self._timer = None
        self._drop_dialog()

    def start_timer(self, owner: QObject, parent: QWidget | None, delay_ms: int) -> None:
        """Arrange for the dialog to appear if the task is still running after `delay_ms`."""
        self._timer = QTimer(owner)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(lambda: self.show_dialog(parent))
        self._timer.start(delay_ms)

    def _update_dialog(self) -> None:
        """Show the latest fraction and message in the dialog, if it is up."""
        if self.dialog is None or self._bar is None:
            return
        fraction, message = self.progress
        if self.has_progress:
            self._bar.setRange(0, PROGRESS_STEPS)
            self._bar.setValue(round(fraction * PROGRESS_STEPS))
        self.dialog.setLabelText(_label_text(self.label or "", message))

    def _on_dialog_cancelled(self) -> None:
        """The 取消 button (or closing the dialog): abort the job and drop the dialog."""
        if self.cancellable:
            self.abort.set()
            self._drop_dialog()

    def _drop_dialog(self) -> None:
        """Close and forget the dialog."""
        dialog, self.dialog, self._bar = self.dialog, None, None
        if dialog is not None and isValid(dialog):
            dialog.hide()
            dialog.deleteLater()


def _label_text(label: str, message: str) -> str:
    """The dialog text: the task's label, then the latest progress message."""
    return f"{label}\n{message}" if message and message != label else label


def _build_progress_dialog(
    label: str, cancellable: bool, parent: QWidget | None
) -> tuple[QProgressDialog, QProgressBar]:
    """A window-modal progress dialog, busy until the first progress report."""
    dialog = QProgressDialog(label, CANCEL_TEXT, 0, PROGRESS_STEPS, parent)
    bar = QProgressBar(dialog)
    bar.setRange(0, 0)  # a busy indicator until the job reports a fraction
    dialog.setBar(bar)  # updating our own bar avoids setValue()'s nested event processing
    dialog.setWindowTitle(DIALOG_TITLE)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setAutoClose(False)
    dialog.setAutoReset(False)
    dialog.setMinimumDuration(0)
    if not cancellable:
        dialog.setCancelButton(None)
        dialog.setWindowFlag(Qt.WindowType.WindowCloseButtonHint, False)
    return dialog, bar


class _Callbacks:
    """What to do on the GUI thread when a task ends."""

    def __init__(
        self,
        *,
        parent: QWidget | None,
        label: str | None,
        on_success: SuccessFn | None,
        on_failure: FailureFn | None,
        on_cancelled: Callable[[], None] | None = None,
    ) -> None:
        self.parent = parent
        self.label = label
        self.on_success = on_success
        self.on_failure = on_failure
        self.on_cancelled = on_cancelled

    def deliver(self, result: Any, exc: BaseException | None) -> None:
        """Call the matching callback; skip them all if the parent widget is gone."""
        if self.parent is not None and not isValid(self.parent):
            if exc is not None:
                log_error(exc)
            return
        if exc is None:
            if self.on_success is not None:
                self.on_success(result)
        elif isinstance(exc, Cancelled):
            if self.on_cancelled is not None:
                self.on_cancelled()
        elif self.on_failure is not None:
            self.on_failure(exc)
        else:
            show_error(self.parent, exc)


class TaskManager(QObject):
    """Runs DB work on one thread and network work on a small pool; answers on the GUI thread."""

    busy_changed = Signal(bool)
    _posted = Signal(object)

    def __init__(self, parent: QObject | None = None, *, progress_delay_ms: int = PROGRESS_DELAY_MS) -> None:
        super().__init__(parent)
        self.progress_delay_ms = progress_delay_ms
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="township-db")
        self._network = ThreadPoolExecutor(max_workers=NETWORK_WORKERS, thread_name_prefix="township-net")
        self._pending = 0
        self._handles: set[TaskHandle] = set()
        self._closed = False
        self._waiting: list[QEventLoop] = []
        self._posted.connect(self._run_posted, Qt.ConnectionType.QueuedConnection)

    @property
    def pending_count(self) -> int:
        """How many submitted tasks have not yet delivered their result."""
        return self._pending

    @property
    def active(self) -> list[TaskHandle]:
        """The handles of tasks that have not yet delivered their result."""
        return list(self._handles)

    @property
    def closed(self) -> bool:
        """True once `shutdown()` was called: no new work is taken."""
        return self._closed

    @property
    def busy(self) -> bool:
        """True while any task is queued or running."""
        return self._pending > 0

    def run_db(
        self,
        fn: Callable[[], T],
        *,
        on_success: Callable[[T], None] | None = None,
        on_failure: FailureFn | None = None,
        parent: QWidget | None = None,
        label: str | None = None,
    ) -> Future[T]:
        """Run `fn()` on the database thread; a `label` shows a busy dialog after ~0.5 s."""
        callbacks = _Callbacks(parent=parent, label=label, on_success=on_success, on_failure=on_failure)
        return self._start(self._db, fn, callbacks, TaskHandle(label, cancellable=False)).future

    def run_network(
        self,
        fn: Callable[[], T],
        *,
        on_success: Callable[[T], None] | None = None,
        on_failure: FailureFn | None = None,
        parent: QWidget | None = None,
        label: str | None = None,
    ) -> Future[T]:
        """Run `fn()` on the network pool; a `label` shows a busy dialog after ~0.5 s."""
        callbacks = _Callbacks(parent=parent, label=label, on_success=on_success, on_failure=on_failure)
        return self._start(self._network, fn, callbacks, TaskHandle(label, cancellable=False)).future

    def run_job(
        self,
        job: Job[T],
        *,
        label: str | None,
        parent: QWidget | None = None,
        on_success: Callable[[T], None] | None = None,
        on_failure: FailureFn | None = None,
        on_cancelled: Callable[[], None] | None = None,
        on_progress: Callable[[float, str], None] | None = None,
        cancellable: bool = True,
        network: bool = False,
    ) -> TaskHandle:
        """Run a long job `job(abort=, progress=)` with a delayed progress dialog and 取消 button.

        `label=None` runs the job quietly (no dialog): for work the person did not start, such as
        an automatic sync, which reports through `on_progress` and stops through the handle's `cancel()`.
        """
        callbacks = _Callbacks(parent=parent, label=label, on_success=on_success, on_failure=on_failure)
        callbacks.on_cancelled = on_cancelled
        handle = TaskHandle(label, cancellable=cancellable)
        handle.on_progress = on_progress
        progress = partial(self._report, handle)
        fn = partial(job, abort=handle.abort, progress=progress)
        return self._start(self._network if network else self._db, fn, callbacks, handle)

    def run_db_and_wait(self, fn: Callable[[], T], *, label: str | None, parent: QWidget | None = None) -> T:
        """Run `fn()` on the database thread and wait in a local event loop; its result, or its error raised."""
        return self._wait(parent, lambda done, failed: self.run_db(fn, on_success=done, on_failure=failed,
                                                                  parent=parent, label=label))

    def run_job_and_wait(self, job: Job[T], *, label: str | None, parent: QWidget | None = None,
                         cancellable: bool = False) -> T:
        """Run a long job on the database thread behind its progress dialog and wait in a local event loop."""
        return self._wait(parent, lambda done, failed: self.run_job(
            job, label=label, parent=parent, on_success=done, on_failure=failed,
            on_cancelled=lambda: failed(Cancelled()), cancellable=cancellable))

    def _wait(self, parent: QWidget | None, start: Callable[[SuccessFn, FailureFn], object]) -> Any:
        """Start a task with the two callbacks and process events until one of them ran.

        Shutting the manager down or deleting `parent` meanwhile ends the wait with `Cancelled`.
        """
        loop = QEventLoop()
        outcome: list[tuple[Any, BaseException | None]] = []

        def settle(result: Any, exc: BaseException | None) -> None:
            outcome.append((result, exc))
            loop.quit()

        start(lambda result: settle(result, None), lambda exc: settle(None, exc))
        if not outcome:
            self._waiting.append(loop)
            if parent is not None:
                parent.destroyed.connect(loop.quit)
            try:
                loop.exec()
            finally:
                self._waiting.remove(loop)
        result, exc = outcome[0] if outcome else (None, Cancelled())
        if exc is not None:
            raise exc
        return result

    def shutdown(self, wait: bool = True) -> None:
        """Abort running jobs, drop queued work and (by default) wait for the workers to end."""
        self._closed = True
        for loop in self._waiting:
            loop.quit()
        for handle in list(self._handles):
            handle.abort.set()
            handle.close()
        self._db.shutdown(wait=wait, cancel_futures=True)
        self._network.shutdown(wait=wait, cancel_futures=True)

    def _start(
        self, executor: Executor, fn: Callable[[], Any], callbacks: _Callbacks, handle: TaskHandle
    ) -> TaskHandle:
        """Submit `fn` and, for a labelled task, arm the delayed progress dialog."""
        if self._closed:
            raise RuntimeError("TaskManager has been shut down")
        self._add_pending(1)
        self._handles.add(handle)
        if handle.label is not None:
            handle.start_timer(self, callbacks.parent, self.progress_delay_ms)
        handle.future = executor.submit(self._work, fn, callbacks, handle)
        return handle

    def _work(self, fn: Callable[[], Any], callbacks: _Callbacks, handle: TaskHandle) -> Any:
        """Worker side: run `fn` and post its outcome to the GUI thread."""
        try:
            result = fn()
        except BaseException as exc:
            self._post(partial(self._finish, callbacks, handle, None, exc))
            raise
        self._post(partial(self._finish, callbacks, handle, result, None))
        return result

    def _finish(
        self, callbacks: _Callbacks, handle: TaskHandle, result: Any, exc: BaseException | None
    ) -> None:
        """GUI side: close the task's dialog, then call its callbacks."""
        handle.apply_progress()
        handle.close()
        self._handles.discard(handle)
        self._add_pending(-1)
        if self._closed:
            if exc is not None:
                log_error(exc)
            return
        if exc is not None and not isinstance(exc, Cancelled):
            log.debug("task %r failed: %r", callbacks.label, exc)
        callbacks.deliver(result, exc)

    def _report(self, handle: TaskHandle, fraction: float, message: str) -> None:
        """Worker side: the job's `progress` callback."""
        handle.report(fraction, message, self._post)

    def _post(self, fn: Callable[[], None]) -> None:
        """Queue `fn` to run on the GUI thread (safe from any thread)."""
        self._posted.emit(fn)

    @Slot(object)
    def _run_posted(self, fn: Callable[[], None]) -> None:
        """GUI side: run a posted call."""
        fn()

    def _add_pending(self, delta: int) -> None:
        """Count tasks in flight and announce busy/idle changes."""
        was_busy = self.busy
        self._pending += delta
        if self.busy != was_busy:
            self.busy_changed.emit(self.busy)


class Latest:
    """The newest request's token, for work where only the latest request matters (search as you type).

    `renew()` on the GUI thread for each new request; the background function calls `check(token)`
    first, so a request still queued when a newer one started raises `Cancelled` (silent) instead
    of running; the caller drops an answer whose token is no longer `token`, so an outdated result
    is never shown.
    """

    def __init__(self) -> None:
        self.token: object = None

    def renew(self) -> object:
        """A token for a new request; every earlier one is outdated from now on."""
        self.token = object()
        return self.token

    def check(self, token: object) -> None:
        """Raise `Cancelled` if a newer request has started (called on the database thread)."""
        if token is not self.token:
            raise Cancelled()
