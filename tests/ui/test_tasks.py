"""The background helper: GUI-thread delivery, one DB worker, failures, cancellation, progress."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication, QPushButton, QWidget

from desktop.errors import Cancelled, UserFacingError
from desktop.ui import tasks as tasks_module
from desktop.ui.tasks import CANCEL_TEXT, TaskManager


@pytest.fixture
def manager(qapp: QApplication) -> Iterator[TaskManager]:
    """A task manager shut down after each test."""
    mgr = TaskManager()
    yield mgr
    mgr.shutdown(wait=True)


def wait_for_job(qtbot, handle) -> None:
    """Wait until the job's outcome has been delivered on the GUI thread."""
    qtbot.waitUntil(lambda: handle.finished, timeout=3000)


def test_result_is_delivered_on_the_gui_thread(qtbot, qapp, manager) -> None:
    seen: dict[str, object] = {}

    def work() -> int:
        seen["worker_is_gui"] = QThread.currentThread() is qapp.thread()
        return 42

    def done(value: int) -> None:
        seen["value"] = value
        seen["callback_is_gui"] = QThread.currentThread() is qapp.thread()

    manager.run_db(work, on_success=done)
    qtbot.waitUntil(lambda: "value" in seen, timeout=2000)
    assert seen == {"worker_is_gui": False, "value": 42, "callback_is_gui": True}


def test_db_tasks_run_one_at_a_time_in_order(qtbot, manager) -> None:
    lock = threading.Lock()
    state = {"running": 0, "max": 0}
    order: list[int] = []
    threads: set[int] = set()

    def work(index: int) -> int:
        with lock:
            state["running"] += 1
            state["max"] = max(state["max"], state["running"])
        threads.add(threading.get_ident())
        time.sleep(0.01)
        with lock:
            state["running"] -= 1
        return index

    for index in range(6):
        manager.run_db(lambda index=index: work(index), on_success=order.append)
    assert manager.pending_count == 6 and manager.busy
    qtbot.waitUntil(lambda: len(order) == 6, timeout=2000)
    assert state["max"] == 1
    assert order == list(range(6))
    assert len(threads) == 1
    assert manager.pending_count == 0 and not manager.busy


def test_network_pool_runs_two_tasks_at_once(qtbot, manager) -> None:
    barrier = threading.Barrier(2, timeout=2)
    results: list[int] = []
    for index in range(2):
        manager.run_network(lambda index=index: (barrier.wait(), index)[1], on_success=results.append)
    qtbot.waitUntil(lambda: len(results) == 2, timeout=3000)
    assert sorted(results) == [0, 1]


def test_failure_goes_to_on_failure(qtbot, manager) -> None:
    failures: list[BaseException] = []
    successes: list[object] = []
    problem = UserFacingError("保存失败")

    def work() -> None:
        raise problem

    manager.run_db(work, on_success=successes.append, on_failure=failures.append)
    qtbot.waitUntil(lambda: bool(failures), timeout=2000)
    assert failures == [problem] and successes == []


def test_default_failure_handler_is_show_error(qtbot, manager, monkeypatch) -> None:
    shown: list[tuple[object, BaseException]] = []
    monkeypatch.setattr(tasks_module, "show_error", lambda parent, exc: shown.append((parent, exc)))
    parent = QWidget()
    qtbot.addWidget(parent)

    def work() -> None:
        raise ValueError("bug")

    manager.run_db(work, parent=parent)
    qtbot.waitUntil(lambda: bool(shown), timeout=2000)
    assert shown[0][0] is parent and isinstance(shown[0][1], ValueError)


def test_cancelled_is_silent(qtbot, manager, monkeypatch) -> None:
    shown: list[BaseException] = []
    monkeypatch.setattr(tasks_module, "show_error", lambda parent, exc: shown.append(exc))
    failures: list[BaseException] = []
    cancelled: list[bool] = []

    def job(*, abort, progress) -> None:
        raise Cancelled()

    handle = manager.run_job(
        job, label="正在导入…", on_failure=failures.append, on_cancelled=lambda: cancelled.append(True)
    )
    wait_for_job(qtbot, handle)
    assert cancelled == [True] and failures == [] and shown == []


def test_quick_job_shows_no_progress_dialog(qtbot, manager) -> None:
    results: list[str] = []

    def job(*, abort, progress) -> str:
        progress(1.0, "完成")
        return "ok"

    handle = manager.run_job(job, label="正在导出…", on_success=results.append)
    wait_for_job(qtbot, handle)
    qtbot.wait(manager.progress_delay_ms + 100)
    assert results == ["ok"] and handle.dialog is None


def test_slow_job_shows_dialog_and_cancel_button_sets_abort(qtbot, manager) -> None:
    failures: list[BaseException] = []
    cancelled: list[bool] = []

    def job(*, abort: threading.Event, progress) -> None:
        progress(0.25, "第 1 批")
        if not abort.wait(timeout=3):
            raise AssertionError("abort was never set")
        raise Cancelled()

    handle = manager.run_job(
        job, label="正在打印…", on_failure=failures.append, on_cancelled=lambda: cancelled.append(True)
    )
    qtbot.wait(200)
    assert handle.dialog is None  # not yet: the job has run for under half a second
    qtbot.waitUntil(lambda: handle.dialog is not None and handle.dialog.isVisible(), timeout=2000)
    assert "正在打印…" in handle.dialog.labelText() and "第 1 批" in handle.dialog.labelText()
    buttons = [b for b in handle.dialog.findChildren(QPushButton) if b.text() == CANCEL_TEXT]
    assert len(buttons) == 1
    buttons[0].click()
    assert handle.abort.is_set()
    wait_for_job(qtbot, handle)
    assert cancelled == [True] and failures == [] and handle.dialog is None


def test_progress_is_marshalled_to_gui_thread(qtbot, qapp, manager) -> None:
    reports: list[tuple[float, str, bool]] = []

    def job(*, abort, progress) -> None:
        for step in range(1, 5):
            progress(step / 4, f"第 {step} 步")

    def on_progress(fraction: float, message: str) -> None:
        reports.append((fraction, message, QThread.currentThread() is qapp.thread()))

    handle = manager.run_job(job, label="正在计算…", on_progress=on_progress)
    wait_for_job(qtbot, handle)
    assert reports and all(on_gui for _, _, on_gui in reports)
    assert reports[-1][:2] == (1.0, "第 4 步")  # coalesced, but the last report always arrives


def test_shutdown_aborts_running_job_and_refuses_new_work(qtbot, qapp) -> None:
    manager = TaskManager()
    started = threading.Event()

    def job(*, abort: threading.Event, progress) -> None:
        started.set()
        abort.wait(timeout=3)
        raise Cancelled()

    handle = manager.run_job(job, label="正在上传…", network=True)
    assert started.wait(timeout=2)
    manager.shutdown(wait=True)
    assert handle.abort.is_set() and handle.future.done()
    with pytest.raises(RuntimeError):
        manager.run_db(lambda: None)


def test_slow_labelled_db_task_shows_busy_dialog_without_cancel(qtbot, manager) -> None:
    release = threading.Event()
    results: list[str] = []
    manager.run_db(lambda: (release.wait(timeout=3), "done")[1], on_success=results.append, label="正在保存…")
    (handle,) = manager.active
    qtbot.waitUntil(lambda: handle.dialog is not None and handle.dialog.isVisible(), timeout=2000)
    assert not [b for b in handle.dialog.findChildren(QPushButton) if b.text() == CANCEL_TEXT]
    release.set()
    qtbot.waitUntil(lambda: results == ["done"], timeout=2000)
    assert handle.dialog is None
