"""Applying one verified package in one transaction, and the signed receipt that answers it.

The package is verified (signature, members, recipient) before anything is written. Then,
holding the site's row, the service records the package, applies each record that is newer
and owned by the sender, stores the rejections and reports, bumps the site's seq and stores
the exact receipt bytes, so a replay gets the same bytes back.

A package's seq must be newer than the site's last one and at most `SEQ_WINDOW` beyond it: a
branch takes a seq for every package it builds, and only packages that never arrive (a stick
not delivered, a package set aside) leave gaps, so a jump of a thousand is already years of
undelivered sticks. A larger jump is refused whole, so one forged or broken package with seq
30000 cannot push `last_seq` past every real package still to come.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from head_hospital.anchors import store_anchor
from head_hospital.db import HeadDatabase
from head_hospital.errors import Refused
from head_hospital.models import (
    RESULTS,
    SITE_APPROVED,
    SITE_REVOKED,
    Record,
    Site,
    Upload,
    iso,
    utc_now,
)
from head_hospital.models import (
    Package as PackageRow,
)
from head_hospital.records import apply_records, store_rejections
from head_hospital.reports import store_reports
from head_hospital.sites import STATUS_NAMES, site_keys, valid_site_id
from township_wire import api
from township_wire.crypto import PublicKeys
from township_wire.envelope import EnvelopeKind, seal_envelope
from township_wire.package import Package, PackageRejected, count_and_digest, read_package

SEQ_WINDOW = 1000


def valid_package_id(value: object) -> bool:
    """A package id has a site id's shape (a uuid, or a short name without paths), matched in full."""
    return valid_site_id(value)


_KEY_REFUSALS = {"revoked": (403, api.CODE_REVOKED), "not_approved": (403, api.CODE_NOT_APPROVED)}


@dataclass(frozen=True)
class Ingested:
    """What came of one package: the receipt bytes, and whether they were stored earlier."""

    package_id: str
    site_id: str
    receipt: bytes
    replay: bool
    checkpoint: int


class _PackageLocks:
    """One in-process lock per package id; the package table's primary key is the real guard."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._held: set[str] = set()

    @contextmanager
    def hold(self, package_id: str) -> Iterator[None]:
        with self._guard:
            if package_id in self._held:
                raise Refused("该数据包正在由另一请求处理，请稍后重试。", code=api.CODE_BUSY, status=409)
            self._held.add(package_id)
        try:
            yield
        finally:
            with self._guard:
                self._held.discard(package_id)


PACKAGE_LOCKS = _PackageLocks()


def _key_lookup(db: HeadDatabase, sender_site: str | None):
    def lookup(key_id: str) -> PublicKeys:
        with db.read() as session:
            site = session.scalar(select(Site).where(Site.key_id == key_id))
            if site is None:
                raise PackageRejected(f"数据包由未登记的密钥 {key_id} 签发，已拒收。", code="unknown_key")
            if sender_site is not None and site.site_id != sender_site:
                raise PackageRejected(f"数据包由其他站点（{site.site_id}）的密钥签发，已拒收。", code="wrong_sender")
            if site.status == SITE_REVOKED:
                raise PackageRejected(f"站点 {site.site_id} 的密钥已被吊销，数据包已拒收。", code="revoked")
            if site.status != SITE_APPROVED:
                raise PackageRejected(f"站点 {site.site_id} 尚未获总院批准，数据包已拒收。", code="not_approved")
            return site_keys(site)
    return lookup


def verify(db: HeadDatabase, data: bytes, *, sender_site: str | None = None,
           package_id: str | None = None) -> Package:
    """Read and verify a package; `Refused` (logged) names what is wrong with it."""
    try:
        package = read_package(data, _key_lookup(db, sender_site), recipient_key_id=db.keys.public.key_id)
        _check_identity(db, package, sender_site, package_id)
    except PackageRejected as error:
        status, code = _KEY_REFUSALS.get(error.code, (422, api.CODE_REJECTED))
        refused = Refused(error.message, code=code, status=status, extra={"reason": error.code})
        raise db.refusal(refused, f"package_{error.code}", site_id=sender_site, package_id=package_id) from error
    return package


def _check_identity(db: HeadDatabase, package: Package, sender_site: str | None, package_id: str | None) -> None:
    with db.read() as session:
        owner = session.scalar(select(Site.site_id).where(Site.key_id == package.manifest["sender_key"]))
    if not valid_package_id(package.package_id):
        raise PackageRejected("数据包编号格式错误，已拒收。", code="invalid")
    if package.site_id != owner:
        raise PackageRejected(f"数据包清单中的站点 {package.site_id} 与签名密钥的站点 {owner} 不符，已拒收。",
                              code="wrong_sender")
    if package_id is not None and package.package_id != package_id:
        raise PackageRejected(f"数据包编号 {package.package_id} 与上传编号 {package_id} 不符，已拒收。",
                              code="wrong_id")


def stored_receipt(db: HeadDatabase, package_id: str, sha256: str, *, site_id: str | None = None) -> bytes | None:
    """The receipt of an applied package with this hash; `Refused` for the same id with other content."""
    with db.read() as session:
        row = session.execute(select(PackageRow.site_id, PackageRow.sha256, PackageRow.receipt)
                              .where(PackageRow.package_id == package_id)).first()
    if row is None:
        return None
    if site_id is not None and row.site_id != site_id:
        refused = Refused(f"该数据包编号已被其他站点（{row.site_id}）使用，已拒收。", code=api.CODE_REJECTED)
        raise db.refusal(refused, "package_foreign_id", site_id=site_id, package_id=package_id)
    if row.sha256 != sha256:
        refused = Refused("同一数据包编号已收到过内容不同的数据包，本次未写入任何记录。", code=api.CODE_HASH_MISMATCH)
        raise db.refusal(refused, "hash_mismatch", site_id=row.site_id, package_id=package_id)
    return row.receipt


def ingest(db: HeadDatabase, data: bytes, *, channel: str, sender_site: str | None = None,
           package_id: str | None = None, received_size: int | None = None) -> Ingested:
    """Verify and apply one package (or return the stored receipt of a replay).

    `received_size` is how many bytes travelled (the sealed upload); the package's own size by default.
    """
    package = verify(db, data, sender_site=sender_site, package_id=package_id)
    checkpoint = int(package.manifest["checkpoint"])
    known = stored_receipt(db, package.package_id, package.sha256, site_id=package.site_id)
    if known is not None:
        return Ingested(package.package_id, package.site_id, known, replay=True, checkpoint=checkpoint)
    try:
        with PACKAGE_LOCKS.hold(package.package_id):
            receipt = _apply(db, package, channel=channel, size=received_size or len(data))
    except IntegrityError as error:
        refused = Refused("该数据包正在由另一请求处理，请稍后重试。", code=api.CODE_BUSY, status=409)
        raise db.refusal(refused, "busy", site_id=package.site_id, package_id=package.package_id) from error
    except Refused as error:
        raise db.refusal(error, error.code, site_id=package.site_id, package_id=package.package_id) from None
    if receipt is None:  # applied by a concurrent request while this one waited for the site row
        receipt = stored_receipt(db, package.package_id, package.sha256) or b""
        return Ingested(package.package_id, package.site_id, receipt, replay=True, checkpoint=checkpoint)
    db.log_event("applied", f"第 {package.seq} 号数据包，{len(package.records)} 条记录，经{channel}",
                 site_id=package.site_id, package_id=package.package_id)
    return Ingested(package.package_id, package.site_id, receipt, replay=False, checkpoint=checkpoint)


def _apply(db: HeadDatabase, package: Package, *, channel: str, size: int) -> bytes | None:
    with db.session() as session:
        site = _lock_site(session, package.site_id)
        if session.scalar(select(PackageRow.sha256).where(PackageRow.package_id == package.package_id)):
            return None
        if package.seq <= site.last_seq:
            raise Refused(f"数据包序号 {package.seq} 不比已收到的第 {site.last_seq} 号新，已拒收。"
                          "分院数据库可能从旧备份恢复过，请先按恢复流程处理。", code=api.CODE_SUPERSEDED)
        if package.seq > site.last_seq + SEQ_WINDOW:
            raise Refused(f"数据包序号 {package.seq} 比已收到的第 {site.last_seq} 号跳跃过大（每次最多前进 {SEQ_WINDOW}），"
                          "已拒收，以免挡住分院之后的真实数据包。", code=api.CODE_REJECTED, extra={"reason": "seq_jump"})
        received_at = utc_now()
        connection = session.connection()
        _insert_package_row(connection, package, channel=channel, size=size, received_at=received_at)
        results = apply_records(connection, package, received_at=received_at)
        store_rejections(connection, package, results)
        store_reports(connection, package)
        store_anchor(connection, package, received_at=received_at)
        site.last_seq, site.last_contact = package.seq, received_at
        receipt = _seal_receipt(db, connection, package, results, received_at)
        connection.execute(delete(Upload).where(Upload.package_id == package.package_id))
        return receipt


def _lock_site(session: Session, site_id: str) -> Site:
    site = session.get(Site, site_id, with_for_update=True, populate_existing=True)
    if site is None or site.status != SITE_APPROVED:
        code = api.CODE_REVOKED if site is not None and site.status == SITE_REVOKED else api.CODE_NOT_APPROVED
        state = STATUS_NAMES.get(site.status, site.status) if site is not None else "未登记"
        raise Refused(f"站点 {site_id} 当前不能上报数据（状态：{state}）。", code=code, status=403)
    return site


def _insert_package_row(connection: Connection, package: Package, *, channel: str, size: int,
                        received_at: datetime) -> None:
    connection.execute(insert(PackageRow).values(
        package_id=package.package_id, site_id=package.site_id, seq=package.seq, sha256=package.sha256,
        size=size, channel=channel, received_at=received_at, receipt=b""))


def _seal_receipt(db: HeadDatabase, connection: Connection, package: Package, results: list[dict[str, Any]],
                  received_at: datetime) -> bytes:
    totals = {name: 0 for name in RESULTS}
    for result in results:
        totals[result["result"]] += 1
    held = connection.execute(select(Record.type, Record.uuid, Record.version)
                              .where(Record.site_id == package.site_id)).all()
    body = {"package_id": package.package_id, "site_id": package.site_id, "seq": package.seq,
            "package_sha256": package.sha256, "received_at": iso(received_at), "results": results,
            "totals": totals, "counts": count_and_digest((row[0], row[1], row[2]) for row in held)}
    receipt = seal_envelope(EnvelopeKind.RECEIPT, body, db.keys)
    connection.execute(update(PackageRow).where(PackageRow.package_id == package.package_id)
                       .values(receipt=receipt, **totals))
    return receipt

