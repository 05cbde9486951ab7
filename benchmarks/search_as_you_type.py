"""Search as you type in the real 居民档案 page over 100,000 demo residents: keystroke to list.

Uses the cached demo branch of `residents_search.py` (built once in the temp folder, keyed by
the count and the schema). Opens the real main window offscreen as the clerk luru1 with the
居民档案 page, then types queries drawn from the stored residents (Chinese names, pinyin
initials, full pinyin, ID and phone tails, record-number tails, birth dates) one key at a
time with QTest (a Chinese character is committed as an input method commits it). For every
keystroke it measures the time from the key press to the table holding the list for the text
typed so far (the model reset with its first rows in place and the count shown). Prints
p50/p95/max overall and per kind (target p95 <= 50 ms), with the process CPU time each
keystroke cost (what the wall time comes down to on a machine doing nothing else), beside the
search service alone and the machine's load average.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from PySide6.QtGui import QInputMethodEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from residents_list import wait_for
from residents_search import RESIDENTS, actor_named, data_dir, percentile, sample_queries, timed

from desktop.app import open_app
from desktop.services.resident_lookup import find_ids
from desktop.ui.context import ChangeBus, UiContext
from desktop.ui.main_window import MainWindow
from desktop.ui.pages.residents import ResidentsPage
from desktop.ui.tasks import TaskManager
from desktop.ui.theme import apply_theme

TARGET_P95_MS = 50
QUERIES_PER_KIND = int(os.environ.get("BENCH_TYPED_PER_KIND", "12"))
SEED = 20261203


def typed_queries(path: Path, page: ResidentsPage, rng: random.Random) -> list[tuple[str, str]]:
    """(kind, text) to type: the search benchmark's kinds, a few of each, plus birth dates."""
    drawn = sample_queries(path, page.ctx.actor, rng)
    picked: dict[str, list[str]] = {}
    for kind, text in drawn:
        if kind != "full ID" and len(picked.setdefault(kind, [])) < QUERIES_PER_KIND:
            picked[kind].append(text)
    births = [f"{row:%Y-%m-%d}" for row in _birth_dates(page, rng)]
    picked["birth date"] = births
    return [(kind, text) for kind, texts in picked.items() for text in texts]


def _birth_dates(page: ResidentsPage, rng: random.Random) -> list:
    from desktop.services.resident_query import rows_for

    ids = rng.sample(page.model.ids(), QUERIES_PER_KIND)
    return [row.birth_date for row in rows_for(page.ctx.db, page.ctx.actor, ids)]


def press(page: ResidentsPage, char: str) -> None:
    """One key: an ASCII key click, or a Chinese character committed as an input method commits it."""
    if char.isascii():
        QTest.keyClicks(page.search, char)
        return
    event = QInputMethodEvent("", [])
    event.setCommitString(char)
    QApplication.sendEvent(page.search, event)


def type_one(app: QApplication, page: ResidentsPage, text: str) -> list[tuple[float, float]]:
    """Type `text` key by key into the empty search box; (wall, CPU) ms from each key press to its list.

    The CPU time is the whole process's (the window's thread, the database thread and this
    loop's polling): the work a keystroke costs whatever else the machine is doing.
    """
    samples = []
    for char in text:
        generation = page.model.generation
        started, cpu = time.perf_counter(), time.process_time()
        press(page, char)
        wait_for(app, lambda: page.model.generation != generation and not page.is_loading())
        samples.append(((time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000))
    return samples


def clear(app: QApplication, page: ResidentsPage) -> None:
    page.search.clear()
    wait_for(app, lambda: not page.is_loading() and not page.ctx.tasks.busy)


def report(name: str, samples: list[tuple[float, float]]) -> None:
    wall, cpu = [s[0] for s in samples], [s[1] for s in samples]
    print(f"  {name:<16} {len(samples):>4} keys   p50 {statistics.median(wall):6.1f}   p95 {percentile(wall, 0.95):6.1f}"
          f"   max {max(wall):6.1f} ms   (CPU p50 {statistics.median(cpu):5.1f}, p95 {percentile(cpu, 0.95):5.1f} ms)")


def main() -> int:
    root = data_dir(RESIDENTS)
    qt = QApplication([])
    apply_theme(qt)
    opened = open_app(root)
    tasks = TaskManager()
    ctx = UiContext(app=opened, tasks=tasks, actor=actor_named(opened, "luru1"), branch=opened.branch, bus=ChangeBus())
    window = MainWindow(ctx)
    window.resize(1366, 768)
    window.show()
    page = window.page("residents")
    assert isinstance(page, ResidentsPage)
    wait_for(qt, lambda: not page.is_loading() and not tasks.busy and page.model.rowCount() > 0)
    rng = random.Random(SEED)
    queries = typed_queries(opened.paths.database, page, rng)
    print(f"search as you type, {RESIDENTS:,} demo residents, clerk luru1, {len(queries)} queries typed key by key "
          f"(target p95 <= {TARGET_P95_MS} ms from key press to list)")
    per_kind: dict[str, list[tuple[float, float]]] = {}
    service: list[float] = []
    page.focus_search()
    for kind, text in queries:
        clear(qt, page)
        per_kind.setdefault(kind, []).extend(type_one(qt, page, text))
        flt = page.current_filter()
        service.append(timed(lambda: find_ids(opened.db, ctx.actor, flt)))
    clear(qt, page)
    everything = [ms for samples in per_kind.values() for ms in samples]
    report("all keystrokes", everything)
    for kind, samples in per_kind.items():
        report(kind, samples)
    print(f"  search service alone for the whole typed texts: p50 {statistics.median(service):.1f} ms, "
          f"p95 {percentile(service, 0.95):.1f} ms")
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"  machine: {os.cpu_count()} CPUs, load average {load} (1, 5, 15 min) at the end of the run")
    met = percentile([wall for wall, _ in everything], 0.95) <= TARGET_P95_MS
    print("target met" if met else "target missed")
    tasks.shutdown()
    opened.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
