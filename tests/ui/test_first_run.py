"""First run: the open (backup, migration) and the demo build run on the database thread behind a
progress window while the GUI thread keeps processing events, with the same result as building directly."""

from __future__ import annotations

import threading
from pathlib import Path

from data_templates import copy_database, open_database
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QProgressDialog

import desktop.demo
from desktop.paths import DB_FILENAME, DataPaths
from desktop.ui.main import DEMO_LABEL, Shell, first_run
from desktop.ui.tasks import TaskManager


def table_counts(database: Path) -> dict[str, int]:
    """Rows per table of a data file, read through the keyed driver."""
    connection = open_database(database)
    try:
        tables = [name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {name: connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in tables}
    finally:
        connection.close()


class Watcher:
    """Ticks on the GUI thread: counts the ticks that land while the demo builds, notes progress windows."""

    def __init__(self) -> None:
        self.building = threading.Event()
        self.build_threads: list[str] = []
        self.ticks_while_building = 0
        self.progress_labels: set[str] = set()
        self.timer = QTimer()
        self.timer.timeout.connect(self.tick)

    def tick(self) -> None:
        if self.building.is_set():
            self.ticks_while_building += 1
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, QProgressDialog) and widget.isVisible():
                self.progress_labels.add(widget.labelText())

    def wrap(self, build):
        def recording_build(db, **options):
            self.build_threads.append(threading.current_thread().name)
            self.building.set()
            try:
                return build(db, **options)
            finally:
                self.building.clear()
        return recording_build


def test_the_first_run_demo_builds_off_the_gui_thread_behind_a_progress_window(
        qtbot, themed, tmp_path, monkeypatch, demo_template, capsys):
    watcher = Watcher()
    monkeypatch.setattr(desktop.demo, "build_demo", watcher.wrap(desktop.demo.build_demo))
    tasks = TaskManager(progress_delay_ms=0)
    shell = Shell(DataPaths(tmp_path / "data"), tasks)
    watcher.timer.start(5)
    try:
        started = first_run(shell, demo_if_empty=True)
    finally:
        watcher.timer.stop()
        tasks.shutdown()
        shell.close()
    assert started is not None
    branch, hint = started
    assert branch.is_demo and branch.name == "青山镇卫生院"
    assert "演示账户（密码均为 Demo#2026）" in hint and hint in capsys.readouterr().out
    assert watcher.build_threads and all(name.startswith("township-db") for name in watcher.build_threads)
    assert watcher.ticks_while_building > 0
    assert any(label.startswith(DEMO_LABEL) for label in watcher.progress_labels), watcher.progress_labels
    assert table_counts(tmp_path / "data" / DB_FILENAME) == table_counts(demo_template)


def test_an_existing_demo_branch_is_opened_on_the_database_thread(qtbot, themed, tmp_path, demo_template):
    data = tmp_path / "data"
    copy_database(demo_template, data / DB_FILENAME)
    tasks = TaskManager(progress_delay_ms=0)
    shell = Shell(DataPaths(data), tasks)
    try:
        started = first_run(shell, demo_if_empty=False)
    finally:
        tasks.shutdown()
        shell.close()
    assert started is not None and started[0].name == "青山镇卫生院" and "演示账户" in started[1]
