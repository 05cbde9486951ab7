"""What encryption at rest costs: the same work on a plain copy (as before) and on the SQLCipher database.

Search (the residents page's ranked lookup), the residents list's ids and a page of rows, the
year's indicators, an import of a roster, a verified backup and opening the database, each on a
plain copy and on the encrypted copy of the same cached demo branch, printed side by side with
the cost in per cent. Each measure runs plain, encrypted, plain, encrypted and keeps the better of
the two (the machine is shared; the first round also warms caches); the import runs once each.
BENCH_RESIDENTS chooses the size (default 20,000).
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_data import demo_branch, plain_app, private_copy  # noqa: E402

RESIDENTS = int(os.environ.get("BENCH_RESIDENTS", "20000"))
SEARCHES = int(os.environ.get("BENCH_SEARCHES", "300"))
IMPORT_ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "2000"))
RUNS = 5


def median_ms(fn: Callable[[], object], runs: int = RUNS) -> float:
    """The median wall time of `runs` calls, in ms."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def actor_named(app, username: str):
    from sqlalchemy import select

    from desktop.models import Account
    from desktop.services.auth import actor_of

    with app.db.read() as session:
        return actor_of(session.scalars(select(Account).where(Account.username == username)).one())


def search_texts(app, count: int) -> list[str]:
    """Names, name initials, ID number tails and record number tails of random residents."""
    from sqlalchemy import select

    from desktop.models import Resident

    with app.db.read() as session:
        rows = session.execute(select(Resident.name, Resident.name_initials, Resident.id_number,
                                      Resident.record_no)).all()
    rng, texts = random.Random(7), []
    while len(texts) < count:
        name, initials, id_number, record_no = rng.choice(rows)
        texts.append(rng.choice([name, initials or name, (id_number or record_no)[-6:], record_no[-5:]]))
    return texts


def search_p50(app, texts: list[str]) -> float:
    from desktop.services.resident_query import search

    actor = actor_named(app, "luru1")
    for text in texts[:20]:
        search(app.db, actor, text, limit=20)
    samples = []
    for text in texts:
        started = time.perf_counter()
        search(app.db, actor, text, limit=20)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def residents_list(app) -> float:
    from desktop.services.resident_query import ResidentFilter, list_ids, rows_for

    actor = actor_named(app, "luru1")
    return median_ms(lambda: rows_for(app.db, actor, list_ids(app.db, actor, ResidentFilter())[:200]))


def indicators(app) -> float:
    from desktop.clock import now
    from desktop.services.indicators import indicator_report

    actor = actor_named(app, "yuanzhang")
    return median_ms(lambda: indicator_report(app.db, actor, now().year - 1), runs=3)


def roster(folder: Path, app) -> Path:
    from residents_import import write_roster
    from sqlalchemy import select

    from desktop.models import Branch, Village

    with app.db.read() as session:
        county = session.get(Branch, 1).county_code
        villages = list(session.scalars(select(Village.name)))
    path = folder / "roster.xlsx"
    write_roster(path, IMPORT_ROWS, county=county, villages=villages)
    return path


def import_roster(app, path: Path) -> float:
    from desktop.jobs import no_progress
    from desktop.transfer.resident_import import ImportMode, ResidentImport

    job = ResidentImport(app.db, actor_named(app, "luru1"), path, ImportMode.VALID_ONLY)
    started = time.perf_counter()
    job(abort=threading.Event(), progress=no_progress)
    return (time.perf_counter() - started) * 1000


def backup(app, folder: Path) -> float:
    from desktop.backups import create_backup

    key = app.db.secrets.database_key
    return median_ms(lambda: create_backup(app.paths, out=folder / f"backup-{time.perf_counter_ns()}.sqlite", key=key),
                     runs=3)


def first_query(app) -> float:
    """A new connection (keyed for the encrypted one) and the branch read, as at start-up."""
    from desktop.dbfile import read_branch

    return median_ms(lambda: read_branch(app.paths.database, key=app.db.secrets.database_key))


def main() -> int:
    from desktop.app import open_app

    source = demo_branch(RESIDENTS)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        encrypted = open_app(private_copy(source, work / "encrypted"))
        plain = plain_app(source, work / "plain")
        texts = search_texts(plain, SEARCHES)
        path = roster(work, plain)
        warm = plain_app(source, work / "warm-up")  # the first import in a process also loads its libraries
        import_roster(warm, path)
        warm.close()
        scenarios: list[tuple[str, Callable[[object], float], int]] = [
            (f"search p50 ({SEARCHES} lookups)", lambda app: search_p50(app, texts), 2),
            ("residents list (ids + 200 rows)", residents_list, 2),
            ("indicators of last year", indicators, 2),
            (f"import {IMPORT_ROWS} roster rows", lambda app: import_roster(app, path), 1),
            ("verified backup", lambda app: backup(app, work), 2),
            ("open + read the branch", first_query, 2),
        ]
        print(f"encryption at rest, {RESIDENTS:,} demo residents: plain file vs SQLCipher (same data)")
        print(f"  {'':<34}{'plain':>10}{'SQLCipher':>12}{'cost':>9}")
        try:
            for name, measure, rounds in scenarios:
                pairs = [(measure(plain), measure(encrypted)) for _ in range(rounds)]
                before, after = min(p for p, _ in pairs), min(e for _, e in pairs)
                print(f"  {name:<34}{before:>8.1f} ms{after:>9.1f} ms{(after / before - 1) * 100:>+8.0f}%", flush=True)
        finally:
            plain.close()
            encrypted.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
