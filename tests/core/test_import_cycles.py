"""No circle of imports between the project's modules, function-level imports included.

Every module of every top-level package in the project (desktop, head_hospital, and any package
added beside them) is parsed with ast; every import of a project module anywhere in the file
(module level, inside a function, under TYPE_CHECKING) is an edge. A strongly connected component
of more than one module, or a module importing itself, fails the test with the circle named.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path

import desktop

PROJECT_ROOT = Path(desktop.__file__).resolve().parent.parent
NOT_SHIPPED = {"tests", "benchmarks", "installer", "resources", "build", "dist", "migrations", "node_modules"}
SEARCH_DEPTH = 3


def project_packages(root: Path) -> list[Path]:
    """The top-level packages of the project: folders with an __init__.py whose parent has none.

    Found anywhere up to a few levels down (a package may sit in its own distribution folder,
    such as `head_hospital/` with its own pyproject.toml), tests, tools and hidden folders aside.
    """
    found: list[Path] = []
    frontier = [root]
    for _ in range(SEARCH_DEPTH):
        below: list[Path] = []
        for folder in frontier:
            for path in sorted(folder.iterdir()):
                if not path.is_dir() or path.name in NOT_SHIPPED or path.name.startswith((".", "_")):
                    continue
                if (path / "__init__.py").is_file():
                    found.append(path)
                elif not path.name.endswith(".egg-info"):
                    below.append(path)
        frontier = below
    return found


def module_files(packages: Iterable[Path]) -> dict[str, Path]:
    """Dotted module name -> source file, for every module under the packages."""
    modules: dict[str, Path] = {}
    for package in packages:
        for path in sorted(package.rglob("*.py")):
            parts = list(path.relative_to(package.parent).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _base_package(module: str, *, is_package: bool, level: int) -> str:
    """The package a relative import of this level starts from."""
    parts = module.split(".") if is_package else module.split(".")[:-1]
    return ".".join(parts[: len(parts) - (level - 1)])


def imported_modules(tree: ast.AST, *, module: str, is_package: bool, known: set[str]) -> Iterator[str]:
    """The project modules each import in the tree loads (relative imports resolved).

    `from package import name` loads `package.name` when that is a module, else `package` itself.
    """
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name in known)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = _base_package(module, is_package=is_package, level=node.level)
                base = f"{package}.{base}" if base else package
            members = [f"{base}.{alias.name}" for alias in node.names]
            yield from (member for member in members if member in known)
            if base in known and any(member not in known for member in members):
                yield base


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the project modules it imports anywhere in its source."""
    known = set(modules)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        graph[name] = set(imported_modules(tree, module=name, is_package=path.name == "__init__.py", known=known))
    return graph


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components, iteratively (no recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            advanced = False
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = counter
                    counter += 1
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph.get(successor, ())))))
                    advanced = True
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def a_circle(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """One concrete circle through the component, as module names ending where it began."""
    members = set(component)
    start = component[0]
    paths: dict[str, list[str]] = {start: [start]}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for successor in sorted(graph[node] & members):
                if successor == start:
                    return paths[node] + [start]
                if successor not in paths:
                    paths[successor] = paths[node] + [successor]
                    following.append(successor)
        frontier = following
    return component


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every circle found: one per component of more than one module, and each self-import."""
    found = [a_circle(graph, component) for component in strongly_connected(graph) if len(component) > 1]
    found += [[name, name] for name, targets in sorted(graph.items()) if name in targets]
    return found


def _graph_of(sources: dict[str, str], tmp_path: Path) -> dict[str, set[str]]:
    for relative, text in sources.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return import_graph(module_files(project_packages(tmp_path)))


def test_the_graph_sees_function_level_relative_and_from_package_imports(tmp_path: Path) -> None:
    graph = _graph_of({
        "pkg/__init__.py": "",
        "pkg/a.py": "def later():\n    from pkg import b\n",
        "pkg/b.py": "from .sub import c\n",
        "pkg/sub/__init__.py": "from ..a import later\n",
        "pkg/sub/c.py": "import os\nfrom . import d as _d\nif False:\n    import pkg.a\n",
        "pkg/sub/d.py": "from pkg.sub.c import *\n",
        "tests/__init__.py": "import pkg.a\n",
        "server/pyproject.toml": "",
        "server/served/__init__.py": "from pkg import a\n",
    }, tmp_path)
    assert graph == {
        "pkg": set(),
        "pkg.a": {"pkg.b"},
        "pkg.b": {"pkg.sub.c"},
        "pkg.sub": {"pkg.a"},
        "pkg.sub.c": {"pkg.sub.d", "pkg.a"},
        "pkg.sub.d": {"pkg.sub.c"},
        "served": {"pkg.a"},
    }
    components = [c for c in strongly_connected(graph) if len(c) > 1]
    assert components == [["pkg.a", "pkg.b", "pkg.sub.c", "pkg.sub.d"]]
    assert cycles(graph) == [["pkg.a", "pkg.b", "pkg.sub.c", "pkg.a"]]


def test_a_self_import_and_a_two_module_circle_are_named(tmp_path: Path) -> None:
    graph = _graph_of({
        "one/__init__.py": "",
        "one/x.py": "from one import y\n",
        "one/y.py": "def f():\n    import one.x\n",
        "one/z.py": "from . import z\n",
    }, tmp_path)
    assert cycles(graph) == [["one.x", "one.y", "one.x"], ["one.z", "one.z"]]


def test_no_import_cycles_in_the_project() -> None:
    packages = project_packages(PROJECT_ROOT)
    assert {"desktop", "head_hospital"} <= {package.name for package in packages}
    graph = import_graph(module_files(packages))
    assert len(graph) > 100
    found = cycles(graph)
    assert not found, "import cycles:\n" + "\n".join(" -> ".join(circle) for circle in found)


def test_the_composition_root_sits_below_the_services() -> None:
    graph = import_graph(module_files(project_packages(PROJECT_ROOT)))
    upper = ("services", "transfer", "printing", "sync", "ui", "cli", "demo")
    assert "desktop.app" in graph
    reached = [name for name in graph["desktop.app"] if name.split(".")[1].removesuffix(".py") in upper
               or name.split(".")[1].startswith("cli_")]
    assert reached == []
