"""One-box resident search on 100,000 demo residents, beside the raw indexed SQLite query.

Builds (once, cached in the temp folder keyed by the count) a demo branch with
RESIDENTS residents, draws a realistic mix of queries from the stored residents, and
times `desktop.services.resident_query.search` for a village doctor (cunyi001) and a
clerk (luru1). Prints p50/p95/max in ms overall and per key kind (target p95 <= 20 ms),
and for each kind the same lookup as a hand-written sqlite3 query on the same index,
with the ratio (target <= 5x). The raw query is timed twice: on a connection opened per
lookup with the house pragmas (what the app does: one connection per operation) and on
a warm connection (printed for reference).
"""

from __future__ import annotations

import hashlib
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from desktop import sqlite_driver
from desktop.app import open_app
from desktop.backups import local_key
from desktop.dbfile import open_sqlite
from desktop.demo import build_demo
from desktop.models import Account
from desktop.paths import DB_FILENAME, DataPaths
from desktop.services.auth import actor_of
from desktop.services.permissions import Actor
from desktop.services.resident_query import search

RESIDENTS = int(os.environ.get("BENCH_RESIDENTS", "100000"))
PER_KIND = int(os.environ.get("BENCH_QUERIES_PER_KIND", "40"))
LIMIT = 20
ACTORS = ("cunyi001", "luru1")
COLUMNS = ("r.id, r.record_no, r.name, r.sex, r.birth_date, r.id_number, r.phone, v.code, v.name, r.address, "
           "r.status, r.version")

# kind -> (query text from a resident row, raw WHERE clause, its parameters from the query text)
KINDS: dict[str, tuple[Callable[[dict], str | None], str, Callable[[str], tuple]]] = {
    "name": (lambda r: r["name"], "r.name = ?", lambda q: (q,)),
    "partial name": (lambda r: r["name"][1:] if len(r["name"]) > 2 else None,
                     "r.name_rev >= ? AND r.name_rev < ?", lambda q: _range(q[::-1])),
    "initials": (lambda r: r["name_initials"], "r.name_initials = ?", lambda q: (q,)),
    "full pinyin": (lambda r: r["name_pinyin"], "r.name_pinyin = ?", lambda q: (q,)),
    "ID last 4": (lambda r: r["id_number"] and r["id_number"][-4:], "r.id_number_rev >= ? AND r.id_number_rev < ?",
                  lambda q: _range(q[::-1])),
    "full ID": (lambda r: r["id_number"], "r.id_number = ?", lambda q: (q,)),
    "record last 8": (lambda r: r["record_no"][-8:], "r.record_no_rev >= ? AND r.record_no_rev < ?",
                      lambda q: _range(q[::-1])),
    "phone last 4": (lambda r: r["phone"] and r["phone"][-4:], "r.phone_rev >= ? AND r.phone_rev < ?",
                     lambda q: _range(q[::-1])),
}


def _range(prefix: str) -> tuple[str, str]:
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


def data_dir(count: int) -> Path:
    """The cached demo data directory for `count` residents (and this schema), built on first use."""
    migrations = Path(__file__).resolve().parents[1] / "desktop" / "migrations" / "versions"
    schema = hashlib.sha256(b"".join(p.read_bytes() for p in sorted(migrations.glob("*.py")))).hexdigest()[:10]
    root = Path(tempfile.gettempdir()) / "township-desk-bench" / f"residents-{count}-{schema}-sqlcipher"
    marker = root / "complete"
    if not marker.exists():
        print(f"building a demo branch with {count} residents in {root} (once) ...", flush=True)
        started = time.perf_counter()
        app = open_app(root)
        try:
            build_demo(app.db, residents=count)
        finally:
            app.close()
        marker.write_text(str(count))
        print(f"  built in {time.perf_counter() - started:.1f} s", flush=True)
    return root


def actor_named(app, username: str) -> Actor:
    with app.db.read() as session:
        return actor_of(session.scalars(select(Account).where(Account.username == username)).one())


def sample_queries(path: Path, actor: Actor, rng: random.Random) -> list[tuple[str, str]]:
    """(kind, text) pairs drawn from residents the actor may see."""
    connection = open_sqlite(path, key=local_key(DataPaths(path.parent)))
    connection.row_factory = sqlite_driver.driver.Row
    where = f"WHERE village_id IN ({','.join(map(str, sorted(actor.village_ids)))})" if actor.is_village_bound else ""
    rows = connection.execute(f"SELECT * FROM resident {where} ORDER BY id").fetchall()
    connection.close()
    queries = []
    for kind, (make, _, _) in KINDS.items():
        picked = 0
        while picked < PER_KIND:
            text = make(dict(rng.choice(rows)))
            if text:
                queries.append((kind, text))
                picked += 1
    rng.shuffle(queries)
    return queries


def raw_lookup(connection, actor: Actor, kind: str, text: str) -> list:
    """The same key's lookup as plain SQL on the same index, with the listed columns."""
    _, clause, params = KINDS[kind]
    scope = ""
    if actor.is_village_bound:
        scope = f" AND +r.village_id IN ({','.join(map(str, sorted(actor.village_ids)))})"
    sql = (f"SELECT {COLUMNS} FROM resident r JOIN village v ON v.id = r.village_id "
           f"WHERE {clause} AND r.deleted = 0{scope} LIMIT {LIMIT}")
    return connection.execute(sql, params(text)).fetchall()


def cold_lookup(path: Path, actor: Actor, kind: str, text: str) -> None:
    """The raw lookup on a connection opened for it, as the app opens one per operation."""
    connection = open_sqlite(path, key=local_key(DataPaths(path.parent)))
    try:
        raw_lookup(connection, actor, kind, text)
    finally:
        connection.close()


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def run_actor(app, path: Path, username: str) -> bool:
    actor = actor_named(app, username)
    queries = sample_queries(path, actor, random.Random(7))
    for kind, text in queries[:20]:  # warm the OS cache and pypinyin
        search(app.db, actor, text, limit=LIMIT)
    app_ms: dict[str, list[float]] = {kind: [] for kind in KINDS}
    cold_ms: dict[str, list[float]] = {kind: [] for kind in KINDS}
    warm_ms: dict[str, list[float]] = {kind: [] for kind in KINDS}
    warm = open_sqlite(path, key=local_key(DataPaths(path.parent)))
    for kind, text in queries:
        app_ms[kind].append(timed(lambda q=text: search(app.db, actor, q, limit=LIMIT)))
        cold_ms[kind].append(timed(lambda k=kind, q=text: cold_lookup(path, actor, k, q)))
        warm_ms[kind].append(timed(lambda k=kind, q=text: raw_lookup(warm, actor, k, q)))
    warm.close()
    return report(username, actor, app_ms, cold_ms, warm_ms)


def report(username: str, actor: Actor, app_ms, cold_ms, warm_ms) -> bool:
    every = [ms for values in app_ms.values() for ms in values]
    p95 = percentile(every, 0.95)
    print(f"\n{username} ({actor.role.label}), {len(every)} searches: p50 {statistics.median(every):.2f} ms, "
          f"p95 {p95:.2f} ms, max {max(every):.2f} ms  [target p95 <= 20 ms: {'ok' if p95 <= 20 else 'MISSED'}]")
    print(f"  {'kind':<14}{'p50':>8}{'p95':>8}{'max':>8}{'raw p50':>10}{'ratio':>8}{'warm raw':>10}{'ratio':>8}")
    ratios_ok = True
    for kind in KINDS:
        app_p50, cold_p50, warm_p50 = (statistics.median(x[kind]) for x in (app_ms, cold_ms, warm_ms))
        ratio = app_p50 / cold_p50
        ratios_ok &= ratio <= 5
        print(f"  {kind:<14}{app_p50:8.2f}{percentile(app_ms[kind], 0.95):8.2f}{max(app_ms[kind]):8.2f}"
              f"{cold_p50:10.2f}{ratio:7.1f}x{warm_p50:10.3f}{app_p50 / warm_p50:7.0f}x")
    print(f"  ratio to the raw query (connection per lookup) <= 5x for every kind: {'ok' if ratios_ok else 'MISSED'}")
    return p95 <= 20 and ratios_ok


def main() -> int:
    root = data_dir(RESIDENTS)
    app = open_app(root)
    try:
        results = [run_actor(app, root / DB_FILENAME, username) for username in ACTORS]
    finally:
        app.close()
    print("\nall targets met" if all(results) else "\nsome targets missed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
