"""The head hospital installs on a server without Qt: its own pyproject, the wire package, no desktop.

The wire format (`township_wire`) imports nothing of either application, and the head hospital
imports nothing of the branch app (`desktop`). Imports inside functions count too.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

import head_hospital
import township_wire

from server_support import free_port

PROJECT_ROOT = Path(township_wire.__file__).resolve().parent.parent
FORBIDDEN = {"township_wire": ("desktop", "head_hospital"), "head_hospital": ("desktop",)}


def imported_roots(source: str) -> list[str]:
    """The top-level package of every absolute import in the source, at any depth."""
    roots: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            roots += [alias.name.split(".")[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.append(node.module.split(".")[0])
    return roots


def forbidden_imports(package: str) -> dict[str, list[str]]:
    """Files of `package` that import a package it must not, with what they import."""
    root = PROJECT_ROOT / package
    found: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*.py")):
        bad = [name for name in imported_roots(path.read_text(encoding="utf-8")) if name in FORBIDDEN[package]]
        if bad:
            found[str(path.relative_to(PROJECT_ROOT))] = bad
    return found


def test_the_detector_sees_imports_inside_functions() -> None:
    source = "import os\ndef later():\n    from desktop.errors import UserFacingError\n    import desktop.sync\n"
    assert imported_roots(source) == ["os", "desktop", "desktop"]


def test_both_packages_live_at_the_project_root() -> None:
    assert Path(head_hospital.__file__).resolve().parent == PROJECT_ROOT / "head_hospital"
    assert len(list((PROJECT_ROOT / "township_wire").glob("*.py"))) >= 7


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_import_crosses_into_the_branch_app(package: str) -> None:
    assert forbidden_imports(package) == {}


def _copy_tree(target: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
    for package in ("head_hospital", "township_wire"):
        shutil.copytree(PROJECT_ROOT / package, target / package, ignore=ignore)
    return target / "head_hospital"


def _wait_for_status_page(url: str, process: subprocess.Popen, log: Path) -> httpx.Response:
    for _ in range(600):
        if process.poll() is not None:
            pytest.fail(f"head-hospital serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            return httpx.get(url, timeout=5)
        except httpx.TransportError:
            time.sleep(0.2)
    pytest.fail(f"head-hospital serve did not answer:\n{log.read_text()}")


@pytest.mark.slow
def test_pip_install_head_hospital_serves_without_qt(tmp_path: Path) -> None:
    source = _copy_tree(tmp_path / "src")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python, script = venv / "bin" / "python", venv / "bin" / "head-hospital"
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    installed = subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(source)],
                               capture_output=True, text=True, env=env, timeout=900, check=False)
    assert installed.returncode == 0, installed.stderr
    probe = subprocess.run([str(python), "-c", "import PySide6"], capture_output=True, text=True,
                           cwd=tmp_path, env=env, timeout=60, check=False)
    assert probe.returncode != 0 and "No module named 'PySide6'" in probe.stderr
    port, log = free_port(), tmp_path / "serve.log"
    with open(log, "wb") as log_stream:
        process = subprocess.Popen([str(script), "serve", "--db", str(tmp_path / "tmp.sqlite"),
                                    "--host", "127.0.0.1", "--port", str(port)],
                                   cwd=tmp_path, env=env, stdout=log_stream, stderr=subprocess.STDOUT)
        try:
            answer = _wait_for_status_page(f"http://127.0.0.1:{port}/", process, log)
        finally:
            process.terminate()
            process.wait(timeout=30)
    assert answer.status_code == 200
    assert "<html" in answer.text.lower()
