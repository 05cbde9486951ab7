"""Something other than the pinned head hospital answers on loopback: nothing is pinned or sent, and it is logged."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from core_support import actor_for
from sqlalchemy import func, select

from desktop.errors import UserFacingError
from desktop.models import SyncLogEntry, SyncPackage
from desktop.sync.client import sync_now
from desktop.sync.enrolment import enrol
from desktop.sync.site import enrolment, require_enrolment
from desktop.sync.status import sync_status
from desktop.sync.transport import RetryPolicy
from township_wire.crypto import KeyPair, SignatureInvalid
from township_wire.envelope import EnvelopeKind, seal_envelope

ONE_TRY = RetryPolicy(attempts=1)


@contextmanager
def _answering(body: bytes, content_type: str = "application/json") -> Iterator[str]:
    """A real HTTP server on loopback that answers every request with `body` and status 200."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def _refusals(app) -> list[str]:
    with app.db.read() as session:
        return list(session.scalars(select(SyncLogEntry.message).where(SyncLogEntry.event == "refused")))


@pytest.mark.parametrize("forgery", ["signed_by_a_stranger", "a_receipt_passed_off_as_state"])
def test_a_state_not_from_the_pinned_head_hospital_is_refused_logged_and_nothing_sent(enrolled_app, head,
                                                                                      forgery) -> None:
    with enrolled_app.db.read() as session:
        site_id = require_enrolment(session).site_id
    body = {"site_id": site_id, "status": "approved", "last_seq": 0, "counts": {}, "catalogues": {},
            "feed_last_seq": 0, "server_time": "2026-11-23T10:00:00Z"}
    envelope = (seal_envelope(EnvelopeKind.STATE, body, KeyPair.generate()) if forgery == "signed_by_a_stranger"
                else seal_envelope(EnvelopeKind.RECEIPT, body, head.keys))
    unsent = sync_status(enrolled_app.db).unsent
    with _answering(envelope) as url, pytest.raises(SignatureInvalid) as refused:
        sync_now(enrolled_app.db, actor_for(enrolled_app.db, "luru1"), server_url=url, retry=ONE_TRY)
    assert [message for message in _refusals(enrolled_app) if refused.value.message in message]
    assert "总院状态" in refused.value.message
    status = sync_status(enrolled_app.db)
    assert status.unsent == unsent and status.last_attempt["message"] == refused.value.message
    with enrolled_app.db.read() as session:
        assert session.scalar(select(func.count()).select_from(SyncPackage)) == 0


@pytest.mark.parametrize(("answer", "content_type"), [
    (b"<html><body>It works!</body></html>", "text/html"),
    (b'{"status": "ok"}', "application/json"),
    (b"[]", "application/json"),
])
def test_enrolling_with_something_that_is_not_a_head_hospital_pins_nothing(demo_app, answer, content_type) -> None:
    with _answering(answer, content_type) as url, pytest.raises(UserFacingError) as refused:
        enrol(demo_app.db, actor_for(demo_app.db, "admin"), url, retry=ONE_TRY)
    assert url in refused.value.message and "不是总院接收服务" in refused.value.message
    with demo_app.db.read() as session:
        assert enrolment(session) is None
