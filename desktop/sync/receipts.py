"""Receipts: verify the head hospital's signature, then mark records in ONE transaction.

A record becomes synced only when the receipt's version equals its local version and it is
still in flight; a record edited meanwhile stays pending and goes in the next package.
Rejected records go to `error` with the head hospital's reason and wait for an edit.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, select, update
from sqlalchemy.orm import Session

from desktop.clock import now
from desktop.db import Database
from desktop.errors import UserFacingError
from desktop.models import SyncPackage, SyncState
from desktop.sync.outbox import PackageState, log_event, log_refusal
from desktop.sync.records import binding
from desktop.sync.reports import remember_sent
from desktop.sync.site import LAST_SUCCESS_KEY, require_enrolment, set_value
from township_wire.crypto import SignatureInvalid
from township_wire.envelope import EnvelopeKind, open_envelope

ACCEPTED = frozenset({"applied", "duplicate"})


class ReceiptRefused(UserFacingError):
    """A receipt that does not belong to a package this site sent, or is not genuine."""


@dataclass(frozen=True)
class ReceiptOutcome:
    package_id: str
    seq: int
    sent: int
    applied: int
    duplicate: int
    rejected: int
    already: bool = False


def apply_receipt(db: Database, envelope: bytes | dict[str, Any]) -> ReceiptOutcome:
    """Check a receipt and mark its records; a second copy of the same receipt changes nothing."""
    try:
        return _apply_receipt(db, envelope)
    except ReceiptRefused as error:
        log_refusal(db, f"拒收回执：{error.message}")
        raise


def _apply_receipt(db: Database, envelope: bytes | dict[str, Any]) -> ReceiptOutcome:
    with db.write() as session:
        enrolment = require_enrolment(session)
        try:
            body = open_envelope(EnvelopeKind.RECEIPT, envelope, enrolment.head_keys)
        except SignatureInvalid as error:
            raise ReceiptRefused(error.message) from error
        package = _matching_package(session, body, enrolment.site_id)
        if package.state == PackageState.ACKNOWLEDGED:
            return _outcome(package, already=True)
        rejected = _mark_records(session, body["results"])
        totals = body.get("totals", {})
        package.state = PackageState.ACKNOWLEDGED
        package.acknowledged_at = now()
        package.applied = int(totals.get("applied", 0))
        package.duplicate = int(totals.get("duplicate", 0))
        package.rejected = rejected
        package.content = None
        remember_sent(session, package.report_periods)
        set_value(session, LAST_SUCCESS_KEY, now().isoformat(timespec="seconds"))
        log_event(session, "receipt", f"数据包 #{package.seq} 已被总院接收：新增或更新 {package.applied}，"
                                      f"重复 {package.duplicate}，退回 {rejected}", package.package_id)
        return _outcome(package)


def _outcome(package: SyncPackage, *, already: bool = False) -> ReceiptOutcome:
    return ReceiptOutcome(package.package_id, package.seq, package.record_count, package.applied,
                          package.duplicate, package.rejected, already)


def _matching_package(session: Session, body: dict[str, Any], site_id: str) -> SyncPackage:
    package = session.scalars(select(SyncPackage).where(SyncPackage.package_id == body.get("package_id"))).first()
    if body.get("site_id") != site_id or package is None:
        raise ReceiptRefused("回执不是本分院发出的数据包的回执，已拒收。")
    if body.get("package_sha256") != package.sha256:
        raise ReceiptRefused("回执与本分院发出的数据包内容不符，已拒收。")
    return package


def _mark_records(session: Session, results: list[dict[str, Any]]) -> int:
    """Mark synced or error per result; returns how many were rejected."""
    accepted: dict[str, list[dict[str, Any]]] = defaultdict(list)
    refused: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for result in results:
        params = {"u": result["uuid"], "v": int(result["version"])}
        if result["result"] in ACCEPTED:
            accepted[result["type"]].append(params)
        else:
            reason = f"{_RESULT_WORDS.get(result['result'], result['result'])}：{result.get('reason') or ''}"
            refused[result["type"]].append(params | {"reason": reason.rstrip("：")[:500]})
    for type_name, rows in accepted.items():
        _update(session, type_name, rows, sync_state=SyncState.SYNCED.value, sync_error=None)
    for type_name, rows in refused.items():
        _update(session, type_name, rows, sync_state=SyncState.ERROR.value, sync_error=bindparam("reason"))
    return sum(len(rows) for rows in refused.values())


_RESULT_WORDS = {"stale": "总院已有更新的版本", "not_owner": "该记录不属于本分院", "invalid": "总院判定记录无效"}


def _update(session: Session, type_name: str, rows: list[dict[str, Any]], **values: Any) -> None:
    bound = binding(type_name)
    if bound is None:
        return
    table = bound.table
    statement = (update(table)
                 .where(and_(table.c.uuid == bindparam("u"), table.c.version == bindparam("v"),
                             table.c.sync_state == SyncState.IN_FLIGHT.value))
                 .values(**values))
    session.connection().execute(statement, rows)
