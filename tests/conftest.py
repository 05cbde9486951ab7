"""Test-wide settings and the shared data fixtures.

Qt runs offscreen, and nothing touches the real user data folder. The demo branch (and an empty
schema, and the demo's organisation without residents) are built once per test session in a
temporary folder; every test that asks for one gets its own copy. Core, window and sync tests
all use these; tests marked `slow` run with the rest (no marker filter anywhere).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.pop("TOWNSHIP_DESK_DATA", None)
os.environ.pop("TOWNSHIP_DESK_PASSWORD", None)

from data_templates import build_template, opened_copy  # noqa: E402 - after the environment is settled

from desktop.app import App  # noqa: E402
from desktop.demo import build_demo  # noqa: E402


@pytest.fixture(scope="session")
def schema_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An upgraded database with no branch yet."""
    return build_template(tmp_path_factory.mktemp("schema-template"), lambda app: None)


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo branch (青山镇卫生院) with its residents and follow-ups, built once: its database file."""
    return build_template(tmp_path_factory.mktemp("demo-template"), lambda app: build_demo(app.db))


@pytest.fixture(scope="session")
def registry_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo branch (villages, accounts) with no residents, for registers built by hand."""
    return build_template(tmp_path_factory.mktemp("registry-template"), lambda app: build_demo(app.db, residents=0))


@pytest.fixture
def empty_app(schema_template: Path, tmp_path: Path) -> Iterator[App]:
    """An opened data directory whose database has the schema but no branch."""
    yield from opened_copy(schema_template, tmp_path / "data")


@pytest.fixture
def demo_app(demo_template: Path, tmp_path: Path) -> Iterator[App]:
    """An opened private copy of the demo branch."""
    yield from opened_copy(demo_template, tmp_path / "data")


@pytest.fixture
def registry_app(registry_template: Path, tmp_path: Path) -> Iterator[App]:
    """An opened private copy of the demo branch without residents."""
    yield from opened_copy(registry_template, tmp_path / "data")
