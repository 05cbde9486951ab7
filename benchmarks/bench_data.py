"""Demo branches for the benchmarks, built once and cached under the temp folder.

A cache folder is keyed by the resident count and a digest of the migrations, built in a
private folder and renamed into place, so two benchmarks building at once never share a
half-built database. Benchmarks work on private copies; the cache is never written.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import tempfile
import time
from contextlib import closing
from pathlib import Path


def schema_key() -> str:
    migrations = Path(__file__).resolve().parents[1] / "desktop" / "migrations" / "versions"
    return hashlib.sha256(b"".join(p.read_bytes() for p in sorted(migrations.glob("*.py")))).hexdigest()[:10]


def demo_branch(count: int) -> Path:
    """The cached demo data directory with `count` residents and their follow-ups."""
    from desktop.app import open_app
    from desktop.demo import build_demo

    parent = Path(tempfile.gettempdir()) / "township-desk-bench"
    root = parent / f"followups-{count}-{schema_key()}"
    if (root / "complete").exists():
        return root
    parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{root.name}.", dir=parent))
    print(f"building a demo branch with {count} residents and their follow-ups in {root} (once) ...", flush=True)
    started = time.perf_counter()
    app = open_app(building)
    try:
        build_demo(app.db, residents=count)
    finally:
        app.close()
    (building / "complete").write_text(str(count))
    try:
        building.rename(root)
    except OSError:  # another run finished first: use its folder
        shutil.rmtree(building, ignore_errors=True)
    print(f"  built in {time.perf_counter() - started:.1f} s", flush=True)
    return root


def private_copy(source: Path, target: Path) -> Path:
    """A copy of the cached data directory's database to work on."""
    from desktop.paths import DB_FILENAME

    target.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(source / DB_FILENAME)) as src, closing(sqlite3.connect(target / DB_FILENAME)) as dst:
        src.backup(dst)
    return target
