"""The suite runs whole: nothing in the settings, the conftests or the run scripts deselects `slow` tests."""

from __future__ import annotations

import tomllib
from pathlib import Path

TESTS = Path(__file__).resolve().parent
PROJECT = TESTS.parent


def test_slow_tests_are_not_deselected() -> None:
    settings = tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"]["ini_options"]
    assert "slow" in " ".join(settings["markers"])
    assert "-m" not in settings["addopts"].split() and "--deselect" not in settings["addopts"]
    for conftest in TESTS.rglob("conftest.py"):
        text = conftest.read_text(encoding="utf-8")
        assert not any(hook in text for hook in ("pytest_collection_modifyitems", "--deselect", "markexpr")), conftest
    for script in (PROJECT / "run", PROJECT / ".ci" / "run"):
        test_lines = [line.replace("-m pytest", "") for line in script.read_text(encoding="utf-8").splitlines()
                      if "pytest" in line or "run test" in line]
        assert test_lines and not any(" -m " in line or "--deselect" in line for line in test_lines), script
