"""Sync tests: the shared templates (tests/conftest.py), plus an enrolled copy of the demo branch.

The head hospital's keys here are real key pairs made for the test; the tests that talk to
the receiving service start the real one on loopback (tests/head_hospital/server_support.py).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent.parent
for folder in (TESTS / "core", TESTS / "head_hospital", TESTS):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from core_support import actor_for
from server_support import start_server
from sync_support import HeadKeys, enrol_offline


@pytest.fixture
def head() -> HeadKeys:
    return HeadKeys.generate()


@pytest.fixture
def enrolled_app(demo_app, head: HeadKeys) -> Iterator:
    """The demo branch enrolled with `head` (keys pinned as enrolment would)."""
    enrol_offline(demo_app.db, head, server_url="http://127.0.0.1:9")
    yield demo_app


@pytest.fixture
def server(tmp_path: Path):
    """The head hospital's receiving service, running on loopback."""
    running = start_server(tmp_path / "head")
    yield running
    running.stop()


@pytest.fixture
def admin(demo_app):
    """The demo branch's system administrator."""
    return actor_for(demo_app.db, "admin")
