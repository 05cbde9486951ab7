"""Window tests: tasks, a themed application, signed-in contexts (the demo data comes from tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from data_templates import open_database

from desktop.app import App
from desktop.demo import DEMO_PASSWORD
from desktop.services.auth import sign_in
from desktop.ui.context import ChangeBus, UiContext

SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots" / "tmp"


@pytest.fixture
def themed(qapp):
    """The application with the house theme and bundled font."""
    from desktop.ui.theme import apply_theme

    apply_theme(qapp)
    return qapp


@pytest.fixture
def tasks(qtbot):
    from desktop.ui.tasks import TaskManager

    manager = TaskManager()
    yield manager
    manager.shutdown()


def make_context(app: App, tasks, username: str) -> UiContext:
    """A signed-in context for `username` of the demo."""
    actor = sign_in(app.db, username, DEMO_PASSWORD).actor
    return UiContext(app=app, tasks=tasks, actor=actor, branch=app.branch, bus=ChangeBus())


def screenshot(widget, name: str) -> Path:
    """Save what the widget shows, for a person to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    widget.grab().save(str(path))
    return path


def sql(app: App, query: str, *args: object) -> list[tuple]:
    """Read the data file directly, independently of the services under test."""
    connection = open_database(app.paths.database)
    try:
        return connection.execute(query, args).fetchall()
    finally:
        connection.close()


def settle(qtbot, ctx: UiContext, timeout_ms: int = 15_000) -> None:
    """Wait until the context's background work is done."""
    qtbot.waitUntil(lambda: not ctx.tasks.busy, timeout=timeout_ms)


def record_error_boxes(monkeypatch: pytest.MonkeyPatch, *modules) -> list[BaseException]:
    """Send what would open the modal error box in `modules` to a list instead."""
    shown: list[BaseException] = []
    for module in modules:
        monkeypatch.setattr(module, "show_error", lambda _parent, error: shown.append(error))
    return shown
