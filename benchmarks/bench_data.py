"""Demo branches for the benchmarks, built once and cached under the temp folder.

A cache folder is keyed by the resident count and a digest of the migrations, built in a
private folder and renamed into place, so two benchmarks building at once never share a
half-built database. Benchmarks work on private copies; the cache is never written.
Caches are encrypted (SQLCipher, the key file inside the folder); a folder name ends in
`-sqlcipher` so a plain cache left by an older version is never opened (that would encrypt it).
`plain_app` opens a plain copy of a data directory, as databases were before encryption,
so a benchmark can print what encryption costs.
"""

from __future__ import annotations

import hashlib
import shutil
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
    root = parent / f"followups-{count}-{schema_key()}-sqlcipher"
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
    """A copy of the cached data directory's database (with its key file and audit anchor) to work on."""
    from desktop.paths import AUDIT_ANCHOR_FILENAME, DB_FILENAME, SECRETS_FILENAME
    from desktop.site_secrets import load_secrets
    from desktop.sqlite_driver import connect

    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / SECRETS_FILENAME, target / SECRETS_FILENAME)
    if (source / AUDIT_ANCHOR_FILENAME).exists():
        shutil.copy2(source / AUDIT_ANCHOR_FILENAME, target / AUDIT_ANCHOR_FILENAME)
    key = load_secrets(source / SECRETS_FILENAME).database_key
    with closing(connect(source / DB_FILENAME, key=key)) as src, closing(connect(target / DB_FILENAME, key=key)) as dst:
        src.backup(dst)
    return target


def plain_app(source: Path, target: Path):  # -> App
    """An app over a plain (unencrypted) copy of `source`'s database, opened as before encryption."""
    from desktop.app import App
    from desktop.db import Database
    from desktop.paths import AUDIT_ANCHOR_FILENAME, DB_FILENAME, SECRETS_FILENAME, DataPaths
    from desktop.site_secrets import SiteSecrets, load_secrets
    from desktop.sqlite_driver import connect, export

    target.mkdir(parents=True, exist_ok=True)
    if (source / AUDIT_ANCHOR_FILENAME).exists():
        shutil.copy2(source / AUDIT_ANCHOR_FILENAME, target / AUDIT_ANCHOR_FILENAME)
    secrets = load_secrets(source / SECRETS_FILENAME)
    with closing(connect(source / DB_FILENAME, key=secrets.database_key)) as src:
        export(src, destination=target / DB_FILENAME, key=None)
    plain = SiteSecrets(database_key=None, audit_key=secrets.audit_key, audit_keyed_from=secrets.audit_keyed_from)
    return App(paths=DataPaths(target), db=Database(target / DB_FILENAME, plain))
