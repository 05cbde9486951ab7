"""居民档案 search as you type: every keystroke searches, only the newest search is shown; birth dates; the 在册 hint.

Runs against a copy of the demo township and the real background helper; expected lists come
from plain SQL on the same file or from the search service itself for the final text.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date

import pytest

from desktop.app import App
from desktop.rules.population import ResidentStatus
from desktop.services.resident_lookup import find_ids
from desktop.services.residents import set_status
from desktop.ui import form_dialog, household_view
from desktop.ui import tasks as tasks_module
from desktop.ui.pages.residents import ResidentsPage
from tests.ui.conftest import make_context, record_error_boxes, settle, sql

WAIT_MS = 10_000


@pytest.fixture(autouse=True)
def no_error_boxes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[BaseException]]:
    shown = record_error_boxes(monkeypatch, form_dialog, household_view, tasks_module)
    yield shown
    assert not shown, f"unexpected error boxes: {shown!r}"


def open_page(qtbot, app: App, tasks, username: str = "luru1") -> ResidentsPage:
    page = ResidentsPage(make_context(app, tasks, username))
    qtbot.addWidget(page)
    page.resize(1300, 700)
    page.show()
    page.activated()
    settle(qtbot, page.ctx)
    return page


def watch_lists(page: ResidentsPage) -> list[list[int]]:
    """Every id list the table is given from now on."""
    shown: list[list[int]] = []
    start = page.model.start

    def recording(ids, rows):
        shown.append(list(ids))
        start(ids, rows)

    page.model.start = recording
    return shown


def test_each_keystroke_searches_at_once_without_waiting(qtbot, themed, demo_app, tasks) -> None:
    page = open_page(qtbot, demo_app, tasks)
    shown = watch_lists(page)
    initials = sql(demo_app, "SELECT name_initials FROM resident WHERE deleted = 0 AND status = 'active' AND "
                             "length(name_initials) = 3 GROUP BY name_initials ORDER BY count(*) DESC LIMIT 1")[0][0]
    page.focus_search()
    for typed in range(1, len(initials) + 1):
        qtbot.keyClicks(page.search, initials[typed - 1])
        assert page.is_loading()  # the search started with the keystroke, no pause first
        qtbot.waitUntil(lambda: not page.is_loading(), timeout=WAIT_MS)
        flt = page.current_filter()
        assert flt.query == initials[:typed]
        assert shown[-1] == find_ids(demo_app.db, page.ctx.actor, flt)[:len(shown[-1])]
    assert len(shown) == len(initials)


def test_typing_fast_shows_only_the_newest_search(qtbot, themed, demo_app, tasks) -> None:
    """Keystrokes queued behind a busy database thread: the older searches are skipped, never shown."""
    page = open_page(qtbot, demo_app, tasks)
    shown = watch_lists(page)
    record_no = sql(demo_app, "SELECT record_no FROM resident WHERE deleted = 0 AND status = 'active' "
                              "ORDER BY id LIMIT 1 OFFSET 40")[0][0]
    typed = record_no[-8:]
    gate = threading.Event()
    tasks.run_db(gate.wait)  # the database thread is busy while the person types
    page.focus_search()
    qtbot.keyClicks(page.search, typed)
    assert page.is_loading() and shown == []
    gate.set()
    qtbot.waitUntil(lambda: not page.is_loading(), timeout=WAIT_MS)
    settle(qtbot, page.ctx)
    expected = find_ids(demo_app.db, page.ctx.actor, page.current_filter())
    assert shown == [expected]  # one list only: the newest text's
    assert record_no in [page.model.index(row, 0).data() for row in range(page.model.rowCount())]
    assert "按匹配程度排序" in page.count_label.text()


@pytest.mark.parametrize("written", ["{:%Y%m%d}", "{:%Y-%m-%d}", "{:%Y/%m/%d}"])
def test_a_birth_date_lists_everyone_born_that_day(qtbot, themed, demo_app, tasks, written: str) -> None:
    page = open_page(qtbot, demo_app, tasks)
    born, count = sql(demo_app, "SELECT birth_date, count(*) FROM resident WHERE deleted = 0 AND status = 'active' "
                                "GROUP BY birth_date HAVING count(*) >= 2 ORDER BY count(*) DESC LIMIT 1")[0]
    page.focus_search()
    qtbot.keyClicks(page.search, written.format(date.fromisoformat(born)))
    qtbot.waitUntil(lambda: not page.is_loading(), timeout=WAIT_MS)
    settle(qtbot, page.ctx)
    assert page.model.rowCount() == count
    assert {page.model.index(row, 3).data() for row in range(count)} == {born}


def test_an_empty_search_says_the_status_filter_hides_matches(qtbot, themed, demo_app, tasks) -> None:
    page = open_page(qtbot, demo_app, tasks)
    ids = [row[0] for row in sql(demo_app, "SELECT id FROM resident WHERE deleted = 0 AND status = 'active' "
                                           "AND id NOT IN (SELECT resident_id FROM followup_visit) "
                                           "AND id NOT IN (SELECT resident_id FROM health_check) "
                                           "ORDER BY id LIMIT 2 OFFSET 10")]  # nothing recorded after the date
    set_status(demo_app.db, page.ctx.actor, ids[0], ResidentStatus.DECEASED, on=date(2025, 3, 1))
    set_status(demo_app.db, page.ctx.actor, ids[1], ResidentStatus.MOVED_OUT, on=date(2025, 3, 1))
    record_no = sql(demo_app, "SELECT record_no FROM resident WHERE id = ?", ids[0])[0][0]
    page.focus_search()
    qtbot.keyClicks(page.search, record_no)
    qtbot.waitUntil(lambda: not page.is_loading(), timeout=WAIT_MS)
    assert page.model.rowCount() == 0
    assert page.count_label.text() == "在册居民中没有找到；另有 1 人死亡，选“全部”可见"
    page.status.setCurrentIndex(page.status.findText("全部"))
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=WAIT_MS)
    assert page.model.index(0, 0).data() == record_no and "共 1 人" in page.count_label.text()


def _search_audits(app: App) -> list[str]:
    return [row[0] for row in sql(app, "SELECT summary FROM audit_entry WHERE action = 'view' AND "
                                       "entity_type = 'people_list' AND entity_id = 'search' ORDER BY seq")]


def test_a_search_is_audited_once_when_the_box_settles_not_per_letter(qtbot, themed, demo_app, tasks) -> None:
    page = open_page(qtbot, demo_app, tasks)
    page.search_settled.setInterval(600_000)  # the pause is the test's to decide: no timing here
    initials = sql(demo_app, "SELECT name_initials FROM resident WHERE deleted = 0 AND status = 'active' AND "
                             "length(name_initials) = 3 GROUP BY name_initials ORDER BY count(*) DESC LIMIT 1")[0][0]
    page.focus_search()
    for letter in initials:
        qtbot.keyClicks(page.search, letter)
        qtbot.waitUntil(lambda: not page.is_loading(), timeout=WAIT_MS)
        assert page.search_settled.isActive()  # each shown list restarts the wait
    settle(qtbot, page.ctx)
    assert _search_audits(demo_app) == []  # nothing for the letters typed on the way
    page.search_settled.timeout.emit()  # the text stayed as it is
    settle(qtbot, page.ctx)
    assert len(_search_audits(demo_app)) == 1 and f"“{initials}”" in _search_audits(demo_app)[0]
    page.audit_search()  # Enter after the pause: the same list, nothing more
    settle(qtbot, page.ctx)
    assert len(_search_audits(demo_app)) == 1
