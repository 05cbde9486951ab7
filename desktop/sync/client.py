"""One sync with the head hospital: handshake, recovery if needed, upload, feed.

Each step commits on its own, so a cut at any point leaves a state the next sync resumes
from: a built package is sent again under the same id, an upload resumes from the server's
offset, a receipt that was lost is fetched again by re-committing (the server answers with
the stored receipt, byte for byte).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update

from desktop.clock import now
from desktop.db import Database
from desktop.models import SyncPackage
from desktop.services.permissions import Actor, Permission, require
from desktop.sync.feed import apply_feed_page
from desktop.sync.labels import LogEvent
from desktop.sync.outbox import (
    BuiltPackage,
    Channel,
    PackageState,
    build_next,
    log_event,
    log_refusal,
    open_network_package,
)
from desktop.sync.receipts import ReceiptOutcome, apply_receipt
from desktop.sync.recovery import last_acknowledged_seq, recover_from_head, resend_what_head_lost
from desktop.sync.reports import due_reports
from desktop.sync.site import (
    LAST_ATTEMPT_KEY,
    LAST_SUCCESS_KEY,
    Enrolment,
    checkpoint,
    get_value,
    last_seq,
    require_enrolment,
    set_value,
)
from desktop.sync.transport import (
    AWAITING_APPROVAL_TEXT,
    AwaitingApproval,
    Offline,
    RetryPolicy,
    ServerRefused,
    Transport,
)
from desktop.sync.wire import sealed_for_network, warn_if_plain_http
from township_wire.api import (
    CHUNK_BYTES,
    CODE_HASH_MISMATCH,
    CODE_NOT_APPROVED,
    CODE_OFFSET,
    CODE_REJECTED,
    CODE_SUPERSEDED,
    CODE_TOO_LARGE,
    HEADER_CHUNK_SHA,
    HEADER_OFFSET,
)
from township_wire.crypto import SignatureInvalid
from township_wire.envelope import EnvelopeKind, open_envelope
from township_wire.package import sha256_hex

log = logging.getLogger("township_desk.sync")
ProgressFn = Callable[[float, str], None]
_MAX_ROUNDS = 1000


@dataclass
class SyncOutcome:
    sent: int = 0
    applied: int = 0
    rejected: int = 0
    received: int = 0
    recovered: int = 0

    def line(self) -> str:
        return f"sent {self.sent}, applied {self.applied}, rejected {self.rejected}, received {self.received}"

    def message(self) -> str:
        text = f"已发送 {self.sent} 条，总院接收 {self.applied} 条，退回 {self.rejected} 条，收到下发 {self.received} 条"
        return text + (f"，从总院恢复 {self.recovered} 条" if self.recovered else "")


def _enrolment(db: Database) -> Enrolment:
    with db.read() as session:
        return require_enrolment(session)


def _note_awaiting_approval(db: Database) -> None:
    """Remember the attempt; the log says 等待总院批准 once, not at every automatic try."""
    with db.read() as session:
        waiting = (get_value(session, LAST_ATTEMPT_KEY, {}) or {}).get("awaiting_approval")
    _note_attempt(db, online=True, message=AWAITING_APPROVAL_TEXT, awaiting_approval=True)
    if not waiting:
        with db.write() as session:
            log_event(session, LogEvent.AWAITING_APPROVAL, AWAITING_APPROVAL_TEXT)


def _note_attempt(db: Database, online: bool, message: str, *, succeeded: bool = False,
                  awaiting_approval: bool = False) -> None:
    stamp = now().isoformat(timespec="seconds")
    attempt: dict[str, object] = {"at": stamp, "online": online, "message": message}
    if awaiting_approval:
        attempt["awaiting_approval"] = True
    with db.write() as session:
        set_value(session, LAST_ATTEMPT_KEY, attempt)
        if succeeded:
            set_value(session, LAST_SUCCESS_KEY, stamp)


def sync_now(db: Database, actor: Actor, *, server_url: str | None = None, retry: RetryPolicy | None = None,
             abort: threading.Event | None = None, progress: ProgressFn | None = None,
             clock: Callable[[], datetime] | None = None) -> SyncOutcome:
    """Send everything not acknowledged, take what the head hospital sends down.

    `clock` stamps the signed requests (this PC's clock by default; tests skew it).
    """
    require(actor, Permission.SYNC)
    enrolment = _enrolment(db)
    transport = Transport.for_enrolment(enrolment, server_url=server_url, retry=retry, abort=abort)
    if clock is not None:
        transport.clock = clock
    progress = progress or (lambda fraction, message: None)
    outcome = SyncOutcome()
    warning = warn_if_plain_http(db, transport.base_url)
    try:
        progress(0.05, f"{warning}正在连接总院……" if warning else "正在连接总院……")
        state = handshake(transport, enrolment)
        head_seq = int(state.get("last_seq", 0))
        if head_seq > _local_seq(db):
            progress(0.1, "本机数据早于总院记录（可能恢复过备份），正在从总院恢复……")
            outcome.recovered = recover_from_head(db, transport, enrolment, head_seq)
        elif head_seq < last_acknowledged_seq(db):
            progress(0.1, "总院数据早于本分院已确认的记录（总院可能恢复过备份），正在核对……")
            resend_what_head_lost(db, transport, enrolment, head_seq)
        _send_all(db, transport, outcome, abort, progress)
        progress(0.85, "正在接收总院下发的数据……")
        outcome.received = pull_feed(db, transport)
    except ServerRefused as error:
        if error.code != CODE_NOT_APPROVED:
            _note_attempt(db, online=True, message=error.message)
            log_refusal(db, f"总院拒绝：{error.message}")
            raise
        _note_awaiting_approval(db)
        raise AwaitingApproval(error) from error
    except (Offline, SignatureInvalid) as error:
        _note_attempt(db, online=not isinstance(error, Offline), message=error.message)
        if isinstance(error, SignatureInvalid):  # a state or records page not signed by the pinned head hospital
            log_refusal(db, f"拒收总院应答：{error.message}")
        raise
    finally:
        transport.close()
    _note_attempt(db, online=True, message=outcome.message(), succeeded=True)
    progress(1.0, outcome.message())
    return outcome


def _local_seq(db: Database) -> int:
    with db.read() as session:
        return last_seq(session)


def handshake(transport: Transport, enrolment: Enrolment) -> dict:
    response = transport.request("GET", "/state")
    state = open_envelope(EnvelopeKind.STATE, response.content, enrolment.head_keys)
    if state.get("site_id") != enrolment.site_id:
        raise ServerRefused("总院返回的状态不是本分院的，已停止同步。", status=response.status_code, code="wrong_site")
    return state


def _send_all(db: Database, transport: Transport, outcome: SyncOutcome, abort: threading.Event | None,
              progress: ProgressFn) -> None:
    for _ in range(_MAX_ROUNDS):  # a round per package: the records beyond one package's cap go next
        if abort is not None and abort.is_set():
            return
        package = _next_package(db)
        if package is None:
            return
        progress(0.2, f"正在发送数据包 #{package.seq}（{package.record_count} 条记录）……")
        receipt = send_package(db, transport, package)
        if receipt is None:
            continue
        outcome.sent += receipt.sent
        outcome.applied += receipt.applied
        outcome.rejected += receipt.rejected


def _next_package(db: Database) -> BuiltPackage | None:
    with db.read() as session:
        package = open_network_package(session)
    if package is not None:
        return package
    with db.read() as session:
        reports = due_reports(db, session)
    return build_next(db, Channel.NETWORK, reports)


def send_package(db: Database, transport: Transport, package: BuiltPackage) -> ReceiptOutcome | None:
    """Upload (resuming where the server stands) and commit; None when the package was set aside.

    What travels is the package sealed to the head hospital's key, as on a USB stick.
    """
    content, package_sha256 = sealed_for_network(db, package, transport.head_keys)
    path = f"/uploads/{package.package_id}"
    try:
        started = transport.request("POST", "/uploads", ok=(200, 201), body=json.dumps(
            {"package_id": package.package_id, "size": len(content), "sha256": sha256_hex(content),
             "package_sha256": package_sha256}).encode())
        if started.status_code == 200:
            return apply_receipt(db, started.content)
        _upload_from(transport, path, content, int(started.json().get("offset", 0)))
        committed = transport.request("POST", f"{path}/commit")
    except ServerRefused as error:
        if error.code in (CODE_SUPERSEDED, CODE_HASH_MISMATCH):
            _set_aside(db, package, error.message)
            return None
        if error.code in (CODE_REJECTED, CODE_TOO_LARGE):  # the next sync builds afresh instead of resending
            _set_aside(db, package, error.message, state=PackageState.REFUSED)
        raise
    return apply_receipt(db, committed.content)


def _upload_from(transport: Transport, path: str, content: bytes, offset: int) -> None:
    while offset < len(content):
        chunk = content[offset:offset + CHUNK_BYTES]
        try:
            response = transport.request("PATCH", path, body=chunk, ok=(200, 204), headers={
                HEADER_OFFSET: str(offset), HEADER_CHUNK_SHA: sha256_hex(chunk),
                "Content-Type": "application/offset+octet-stream"})
            offset = int(response.json()["offset"]) if response.content else offset + len(chunk)
        except ServerRefused as error:
            if error.code != CODE_OFFSET:
                raise
            offset = int(error.body.get("offset", 0))
        except Offline:
            offset = int(transport.request("GET", path).json()["offset"])


def _set_aside(db: Database, package: BuiltPackage, message: str, *, state: str = PackageState.SUPERSEDED) -> None:
    """The head hospital will not take this package; its records go in the next one."""
    with db.write() as session:
        session.execute(update(SyncPackage).where(SyncPackage.package_id == package.package_id)
                        .values(state=state, content=None, message=message))
        log_event(session, "superseded", f"数据包 #{package.seq} 未被总院接收：{message}；其中记录将随下一个数据包发送。",
                  package.package_id)


def pull_feed(db: Database, transport: Transport) -> int:
    """Apply feed pages until the head hospital has nothing newer; returns entries applied."""
    received = 0
    while True:
        with db.read() as session:
            after = checkpoint(session)
        response = transport.request("GET", f"/feed?after={after}&limit=500")
        outcome = apply_feed_page(db, response.content)
        received += outcome.received
        if outcome.checkpoint <= after:
            return received
