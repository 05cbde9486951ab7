"""The wire as an eavesdropper sees it, through the loopback fault proxy: nothing in clear, nothing replays.

The real head hospital runs on loopback; the proxy captures every byte both ways. A resident's ID
number never appears in the captured bytes; a captured request sent again is refused by the head
hospital; a captured answer handed to a later request is refused by the branch.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from contextlib import closing

import pytest
from netfault import FaultProxy, http_messages
from server_support import approve_site
from sqlalchemy import select

from desktop.errors import Cancelled
from desktop.models import Resident, SyncLogEntry
from desktop.sync.addresses import PLAIN_HTTP_WARNING, plain_http_warning
from desktop.sync.client import sync_now
from desktop.sync.enrolment import enrol
from desktop.sync.labels import LogEvent
from desktop.sync.recovery import head_records
from desktop.sync.site import require_enrolment
from desktop.sync.transport import RetryPolicy, Transport
from township_wire.answer import AnswerRefused

FAST = RetryPolicy(attempts=2, base=0.01, cap=0.05)


def _enrol(app, admin, server) -> str:
    site_id = enrol(app.db, admin, server.url, retry=FAST).site_id
    approve_site(server.db_url, site_id)
    return site_id


def _id_numbers(app, count: int = 200) -> list[str]:
    with app.db.read() as session:
        return list(session.scalars(select(Resident.id_number).where(Resident.id_number.is_not(None))
                                    .order_by(Resident.id).limit(count)))


def _head_events(server) -> list[tuple[str, str]]:
    with closing(sqlite3.connect(server.db_url.removeprefix("sqlite:///"))) as connection:
        return connection.execute("SELECT event, message FROM event_log ORDER BY id").fetchall()


def _status_and_body(answer: bytes) -> tuple[int, dict]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), json.loads(body)


def _sync_log(app, event: str) -> list[str]:
    with app.db.read() as session:
        return list(session.scalars(select(SyncLogEntry.message).where(SyncLogEntry.event == event)
                                    .order_by(SyncLogEntry.id)))


def test_no_id_number_travels_in_clear_either_way(demo_app, admin, server) -> None:
    _enrol(demo_app, admin, server)
    with FaultProxy(server.port) as proxy:
        proxy.capture()
        outcome = sync_now(demo_app.db, admin, server_url=proxy.url, retry=FAST)
        with demo_app.db.read() as session:
            enrolment = require_enrolment(session)
        transport = Transport.for_enrolment(enrolment, server_url=proxy.url, retry=FAST)
        try:  # the recovery pages: every record the head hospital holds for this site, ID numbers and all
            held = head_records(transport, enrolment)
        finally:
            transport.close()
        up, down = b"".join(proxy.captured("up")), b"".join(proxy.captured("down"))
    numbers = _id_numbers(demo_app)
    assert outcome.applied > 3000 and len(numbers) == 200
    travelled = {record.data.get("id_number") for record in held if record.type == "resident"}
    assert set(numbers) <= travelled, "the ID numbers went up in the package and came back down in the pages"
    assert len(up) > 1_000_000 and len(down) > 1_000_000
    for number in numbers:
        assert number.encode() not in up, f"ID number {number} in clear on the way up"
        assert number.encode() not in down, f"ID number {number} in clear on the way down"
    assert b"PK\x03\x04" not in up, "no package zip travels unsealed"
    assert b'"owner_site"' not in down and b'"entries"' not in down, "no record or feed page in clear"


def test_a_captured_request_sent_again_is_refused_as_a_replay(demo_app, admin, server) -> None:
    _enrol(demo_app, admin, server)
    with FaultProxy(server.port) as proxy:
        proxy.capture()
        sync_now(demo_app.db, admin, server_url=proxy.url, retry=FAST)
        requests = [message for stream in proxy.captured("up") for message in http_messages(stream)]
        state = next(message for message in requests if message.startswith(b"GET /v1/state "))
        declare = next(message for message in requests if message.startswith(b"POST /v1/uploads "))
        feed = next(message for message in requests if message.startswith(b"GET /v1/feed?"))
        for request in (state, declare, feed):
            status, body = _status_and_body(proxy.send_raw(request))
            assert (status, body["code"]) == (401, "replayed")
            assert "重放" in body["message"]
    replays = [message for event, message in _head_events(server) if event == "auth_replayed"]
    assert len(replays) == 3


def test_an_answer_captured_earlier_is_refused_by_the_branch(demo_app, admin, server) -> None:
    _enrol(demo_app, admin, server)
    with FaultProxy(server.port) as proxy:
        proxy.capture()
        sync_now(demo_app.db, admin, server_url=proxy.url, retry=FAST)
        first_answer = http_messages(proxy.captured("down")[0])[0]  # the head hospital's state, sealed and signed
        assert first_answer.startswith(b"HTTP/1.1 200")
        proxy.answer_next_with(first_answer)
        with pytest.raises(AnswerRefused) as refused:
            sync_now(demo_app.db, admin, server_url=proxy.url, retry=FAST)
        assert "一次性随机数不符" in refused.value.message
        assert any("一次性随机数不符" in message for message in _sync_log(demo_app, LogEvent.REFUSED))
        sync_now(demo_app.db, admin, server_url=proxy.url, retry=FAST)  # the honest answer is taken


@pytest.mark.parametrize(("url", "warns"), [
    ("http://10.0.0.5:8400", True), ("http://zongyuan.example:8400/", True), ("HTTP://192.168.1.20", True),
    ("https://10.0.0.5:8400", False), ("http://127.0.0.1:8400", False), ("http://127.8.9.1", False),
    ("http://localhost:8400", False), ("http://[::1]:8400", False), ("", False)])
def test_plain_http_warns_unless_the_address_is_this_computer(url: str, warns: bool) -> None:
    warning = plain_http_warning(url)
    assert (warning is not None) == warns
    if warns:
        assert warning.startswith(PLAIN_HTTP_WARNING)


def test_each_sync_over_plain_http_to_another_computer_says_so_in_the_log(demo_app, admin, caplog) -> None:
    from sync_support import HeadKeys, enrol_offline

    enrol_offline(demo_app.db, HeadKeys.generate(), server_url="http://10.0.0.5:8400")
    stopped = threading.Event()
    stopped.set()  # cancelled before the first request: nothing leaves this computer
    with caplog.at_level(logging.WARNING, logger="township_desk.sync"):
        for _ in range(2):
            with pytest.raises(Cancelled):
                sync_now(demo_app.db, admin, abort=stopped)
    logged = _sync_log(demo_app, LogEvent.INSECURE)
    assert len(logged) == 2 and all(PLAIN_HTTP_WARNING in message for message in logged)
    assert sum("plain http" in record.getMessage() for record in caplog.records) == 2
    with pytest.raises(Cancelled):
        sync_now(demo_app.db, admin, server_url="http://127.0.0.1:9", abort=stopped)
    assert len(_sync_log(demo_app, LogEvent.INSECURE)) == 2, "loopback stays quiet"
