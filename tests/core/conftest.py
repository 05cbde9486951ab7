"""Shared set-up for the core tests: real SQLite files in tmp_path, no Qt.

Building a branch costs argon2 hashes (~50-200 ms each), so each kind of database is
built once per test session and copied into every test's own tmp_path.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from core_support import REAL_SETUP, data_dir_with

from desktop.app import App, open_app
from desktop.demo import build_demo
from desktop.paths import DB_FILENAME
from desktop.services.branch import setup_branch


def _template(tmp_path_factory: pytest.TempPathFactory, name: str, build) -> Path:
    root = tmp_path_factory.mktemp(name)
    app = open_app(root)
    try:
        build(app)
    finally:
        app.close()
    return root / DB_FILENAME


@pytest.fixture(scope="session")
def schema_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An upgraded database with no branch yet."""
    return _template(tmp_path_factory, "schema-template", lambda app: None)


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo branch (青山镇卫生院), built once."""
    return _template(tmp_path_factory, "demo-template", lambda app: build_demo(app.db))


@pytest.fixture(scope="session")
def real_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real (non-demo) branch set up with REAL_SETUP; its admin must change the password."""
    return _template(tmp_path_factory, "real-template", lambda app: setup_branch(app.db, REAL_SETUP))


def _opened(template: Path, root: Path) -> Iterator[App]:
    app = open_app(data_dir_with(template, root))
    try:
        yield app
    finally:
        app.close()


@pytest.fixture
def empty_app(schema_template: Path, tmp_path: Path) -> Iterator[App]:
    """An opened data directory whose database has the schema but no branch."""
    yield from _opened(schema_template, tmp_path / "data")


@pytest.fixture
def demo_app(demo_template: Path, tmp_path: Path) -> Iterator[App]:
    """An opened copy of the demo branch."""
    yield from _opened(demo_template, tmp_path / "data")


@pytest.fixture
def real_app(real_template: Path, tmp_path: Path) -> Iterator[App]:
    """An opened copy of a real branch."""
    yield from _opened(real_template, tmp_path / "data")


@pytest.fixture(scope="session")
def registry_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo branch (villages, accounts) with no residents, for registers built by hand."""
    return _template(tmp_path_factory, "registry-template", lambda app: build_demo(app.db, residents=0))


@pytest.fixture
def registry_app(registry_template: Path, tmp_path: Path) -> Iterator[App]:
    """An opened copy of the demo branch without residents."""
    yield from _opened(registry_template, tmp_path / "data")
