"""The USB stick: the same package, sealed to the head hospital's key, and its return file.

An export is written to a temporary name, flushed to the stick, renamed, then read back and
compared byte for byte; only then is it "safe to remove". The return file the head hospital
writes is sealed to this site's key and holds a signed receipt and a signed feed page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from desktop.db import Database
from desktop.errors import UserFacingError
from desktop.services import audit
from desktop.services.audit import Action
from desktop.services.permissions import Actor, Permission, require
from desktop.sync.feed import apply_feed_page
from desktop.sync.outbox import BuiltPackage, Channel, build_next, log_event
from desktop.sync.receipts import ReceiptOutcome, apply_receipt
from desktop.sync.reports import due_reports
from desktop.sync.site import require_enrolment
from township_wire.crypto import SealBroken, is_sealed, seal
from township_wire.files import PACKAGE_SUFFIX, write_durably
from township_wire.package import sha256_hex
from township_wire.types import type_label

MAX_RETURN_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class UsbExport:
    path: Path
    seq: int
    records: int
    size: int
    verified: bool

    def message(self) -> str:
        return (f"已写入 {self.path}（数据包 #{self.seq}，{self.records} 条记录），已读回校验无误，可以安全拔出U盘。"
                if self.verified else f"写入 {self.path} 后读回校验不一致，请勿使用该文件，换一个U盘重试。")


@dataclass(frozen=True)
class UsbImport:
    receipt: ReceiptOutcome
    received: int

    def message(self) -> str:
        return (f"已导入总院回执：数据包 #{self.receipt.seq} 接收 {self.receipt.applied} 条，重复 {self.receipt.duplicate} 条，"
                f"退回 {self.receipt.rejected} 条；收到下发 {self.received} 条。")


def export_package(db: Database, actor: Actor, folder: Path) -> UsbExport:
    """Build a package of everything not acknowledged and write it, sealed, into `folder`."""
    require(actor, Permission.SYNC)
    folder = Path(folder)
    if not folder.is_dir():
        raise UserFacingError(f"找不到文件夹 {folder}，请检查U盘是否已插好。")
    with db.read() as session:
        enrolment = require_enrolment(session)
        reports = due_reports(db, session)
    built = build_next(db, Channel.USB, reports, force=True)
    assert built is not None
    sealed = seal(built.content, enrolment.head_keys)
    target = folder / f"{enrolment.site_id[:8]}-{built.seq:06d}{PACKAGE_SUFFIX}"
    try:
        write_durably(target, sealed)
    except OSError as error:
        raise UserFacingError(f"写入U盘失败：{error.strerror or error}。请检查U盘空间和写保护。") from error
    verified = sha256_hex(target.read_bytes()) == sha256_hex(sealed)
    with db.write() as session:
        log_event(session, "usb_export", f"数据包 #{built.seq} 写入 {target}，读回校验{'无误' if verified else '不一致'}",
                  built.package_id)
        _audit_export(session, actor, built, target, sealed)
    return UsbExport(target, built.seq, built.record_count, len(sealed), verified)


def _audit_export(session: Session, actor: Actor, built: BuiltPackage, target: Path, sealed: bytes) -> None:
    """Every record copied to the stick is a record that left this computer: one entry names them by type."""
    counts = "，".join(f"{type_label(name)} {count} 条" for name, count in built.type_counts.items())
    audit.record(session, actor, Action.EXPORT, entity_type="sync_package", entity_id=built.package_id,
                 summary=f"导出数据包 #{built.seq} 到U盘 {target}：共 {built.record_count} 条记录"
                         f"{f'（{counts}）' if counts else ''}",
                 after={"sha256": sha256_hex(sealed), "records": built.type_counts})


def import_return(db: Database, actor: Actor, path: Path) -> UsbImport:
    """Apply the head hospital's return file: its receipt, then its feed page."""
    require(actor, Permission.SYNC)
    path = Path(path)
    data = _read_return_file(db, path)
    with db.read() as session:
        enrolment = require_enrolment(session)
    if not is_sealed(data):
        raise _refused(db, path, "不是总院的回执文件（不是本系统的加密文件）。")
    try:
        content = json.loads(enrolment.site_keys.open_sealed(data))
        receipt, feed = content["receipt"], content["feed"]
    except (SealBroken, ValueError, KeyError, TypeError) as error:
        raise _refused(db, path, "无法解开：不是总院发给本分院的，或文件已损坏。") from error
    outcome = apply_receipt(db, receipt)
    received = apply_feed_page(db, feed).received
    return UsbImport(outcome, received)


def _read_return_file(db: Database, path: Path) -> bytes:
    try:
        too_large = path.stat().st_size > MAX_RETURN_BYTES
        data = b"" if too_large else path.read_bytes()
    except OSError as error:
        raise UserFacingError(f"无法读取 {path}：{error.strerror or error}") from error
    if too_large:
        raise _refused(db, path, "过大，不是总院的回执文件。")
    return data


def _refused(db: Database, path: Path, reason: str) -> UserFacingError:
    """Log a refused return file in the sync log; the error to raise for the clerk."""
    with db.write() as session:
        log_event(session, "refused", f"拒收回执文件 {path.name}：{reason}")
    return UserFacingError(f"{path.name} {reason}")
