"""Something other than the pinned head hospital answers on loopback: nothing is pinned or sent, and it is logged."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
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
from township_wire import api
from township_wire.answer import request_line, seal_answer
from township_wire.crypto import KeyPair, SignatureInvalid
from township_wire.envelope import EnvelopeKind, seal_envelope

ONE_TRY = RetryPolicy(attempts=1)


Answering = bytes | Callable[[str, str, str], bytes]  # the body, or one made from (method, path, nonce)


@contextmanager
def _answering(answer: Answering, content_type: str = "application/json") -> Iterator[str]:
    """A real HTTP server on loopback that answers every request with status 200 and `answer`."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = answer if isinstance(answer, bytes) else answer(
                self.command, self.path, self.headers.get(api.HEADER_NONCE) or "")
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


@pytest.mark.parametrize(("forgery", "named"), [
    ("signed_by_a_stranger", "总院应答不是由登记的总院密钥签发"),
    ("a_receipt_passed_off_as_state", "总院状态类型不符"),
    ("a_state_in_clear", "总院的应答未加密封装"),
])
def test_a_state_not_from_the_pinned_head_hospital_is_refused_logged_and_nothing_sent(enrolled_app, head,
                                                                                      forgery, named) -> None:
    with enrolled_app.db.read() as session:
        enrolment = require_enrolment(session)
    body = {"site_id": enrolment.site_id, "status": "approved", "last_seq": 0, "counts": {}, "catalogues": {},
            "feed_last_seq": 0, "server_time": "2026-11-23T10:00:00Z"}
    signer = KeyPair.generate() if forgery == "signed_by_a_stranger" else head.keys
    envelope = seal_envelope(EnvelopeKind.RECEIPT if forgery == "a_receipt_passed_off_as_state"
                             else EnvelopeKind.STATE, body, signer)

    def answer(method: str, path: str, nonce: str) -> bytes:  # sealed to the site and echoing its nonce
        return seal_answer(envelope, nonce=nonce, request=request_line(method, path), status=200, head_keys=signer,
                           site=enrolment.site_keys.public)

    unsent = sync_status(enrolled_app.db).unsent
    with (_answering(envelope if forgery == "a_state_in_clear" else answer) as url,
          pytest.raises(SignatureInvalid) as refused):
        sync_now(enrolled_app.db, actor_for(enrolled_app.db, "luru1"), server_url=url, retry=ONE_TRY)
    assert [message for message in _refusals(enrolled_app) if refused.value.message in message]
    assert named in refused.value.message
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
