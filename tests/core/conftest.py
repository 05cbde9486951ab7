"""Core tests: real SQLite files in tmp_path, no Qt.

The shared templates (schema, demo, registry) and their per-test copies come from tests/conftest.py;
here only the real (non-demo) branch, whose set-up is the core tests' own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from core_support import REAL_SETUP
from data_templates import build_template, opened_copy

from desktop.app import App
from desktop.services.branch import setup_branch


@pytest.fixture(scope="session")
def real_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real (non-demo) branch set up with REAL_SETUP; its admin must change the password."""
    return build_template(tmp_path_factory.mktemp("real-template"), lambda app: setup_branch(app.db, REAL_SETUP))


@pytest.fixture
def real_app(real_template: Path, tmp_path: Path) -> Iterator[App]:
    """An opened copy of a real branch."""
    yield from opened_copy(real_template, tmp_path / "data")
