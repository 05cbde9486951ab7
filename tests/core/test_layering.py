"""House rules 1 and 9: only desktop/ui imports Qt, and heavy libraries are imported lazily."""

from __future__ import annotations

import ast
import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import desktop
import desktop.services

PACKAGE_ROOT = Path(desktop.__file__).resolve().parent
PROJECT_ROOT = PACKAGE_ROOT.parent
UI_ROOT = PACKAGE_ROOT / "ui"
HEAVY = ("PySide6", "reportlab", "openpyxl", "pypinyin", "cryptography", "httpx")  # rule 9 names these


def imported_modules(tree: ast.AST) -> list[str]:
    """Every absolute module name an Import or ImportFrom in the tree names, anywhere in the file."""
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


def qt_imports(source: str) -> list[str]:
    return [name for name in imported_modules(ast.parse(source)) if name.split(".")[0] == "PySide6"]


def test_the_detector_sees_every_form_of_qt_import() -> None:
    source = "\n".join([
        "import PySide6",
        "import os, PySide6.QtCore as core",
        "from PySide6.QtWidgets import QWidget",
        "def later():",
        "    from PySide6 import QtGui",
        "if TYPE_CHECKING:",
        "    from PySide6.QtCore import QObject",
        "from . import PySide6ish",
        "import PySide6ish_helpers",
    ])
    expected = ["PySide6", "PySide6.QtCore", "PySide6.QtWidgets", "PySide6", "PySide6.QtCore"]
    assert qt_imports(source) == expected


def test_only_desktop_ui_imports_pyside6() -> None:
    core_files = [path for path in sorted(PACKAGE_ROOT.rglob("*.py")) if UI_ROOT not in path.parents]
    assert len(core_files) > 20 and PACKAGE_ROOT / "cli" / "__init__.py" in core_files
    offenders = {
        str(path.relative_to(PROJECT_ROOT)): found
        for path in core_files
        if (found := qt_imports(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}, f"Qt imported outside desktop/ui: {offenders}"


def test_importing_the_core_pulls_in_no_heavy_library() -> None:
    services = sorted(f"desktop.services.{m.name}" for m in pkgutil.iter_modules(desktop.services.__path__))
    assert {"desktop.services.auth", "desktop.services.accounts", "desktop.services.audit"} <= set(services)
    modules = ["desktop.app", "desktop.cli", "desktop.db", "desktop.backups", "desktop.demo",
               "desktop.models", "desktop.rules.codes", "desktop.rules.passwords", "desktop.sync.status",
               "desktop.sync.client", "desktop.sync.usb", *services]
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"print(json.dumps({{lib: lib in sys.modules for lib in {list(HEAVY)!r}}}))\n"
    )
    env = {key: value for key, value in os.environ.items() if key != "TOWNSHIP_DESK_DATA"}
    completed = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, env=env,
                               capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout.strip().splitlines()[-1]) == {lib: False for lib in HEAVY}
