"""Resumable uploads kept in the database: declare, query the offset, append checked chunks, commit.

What travels is the package sealed to this head hospital's key, exactly as a USB file; `size`
and `sha256` describe those sealed bytes, `package_sha256` the signed package inside. The
package id is the idempotency key: declaring an applied package again (same `package_sha256`)
answers with its stored receipt, and a declared upload survives a restart of the service, so
a dropped connection costs at most the chunk in flight. The commit unseals, then ingests.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from head_hospital.db import HeadDatabase
from head_hospital.errors import Refused
from head_hospital.ingest import Ingested, ingest, stored_receipt, valid_package_id
from head_hospital.models import CHANNEL_NETWORK, Upload, UploadChunk, utc_now
from head_hospital.models import Package as PackageRow
from head_hospital.sealed import open_sealed_package
from township_wire import api
from township_wire.package import MAX_PACKAGE_BYTES

MAX_CHUNK_BYTES = 16 * api.CHUNK_BYTES
_SHA256_HEX = set("0123456789abcdef")


@dataclass(frozen=True)
class Declared:
    """The answer to declaring an upload: where to resume, or the receipt of an applied package."""

    offset: int
    receipt: bytes | None = None


def _check_declaration(package_id: str, size: Any, sha256: Any) -> None:
    if not valid_package_id(package_id):
        raise Refused("上传请求中的数据包编号（package_id）格式错误。", code=api.CODE_REJECTED)
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        raise Refused("上传请求中的大小（size）应为正整数。", code=api.CODE_REJECTED)
    if size > MAX_PACKAGE_BYTES:
        raise Refused(f"数据包过大（{size // 1048576} MB，上限 {MAX_PACKAGE_BYTES // 1048576} MB），已拒收。",
                      code=api.CODE_TOO_LARGE, status=413)
    if not isinstance(sha256, str) or len(sha256) != 64 or not set(sha256) <= _SHA256_HEX:
        raise Refused("上传请求中的校验值（sha256）应为 64 位小写十六进制。", code=api.CODE_REJECTED)


def _package_sha256(body: dict[str, Any]) -> str:
    """The hash of the signed package inside the sealed upload: its identity for the stored receipt."""
    value = body.get("package_sha256")
    if not isinstance(value, str) or len(value) != 64 or not set(value) <= _SHA256_HEX:
        raise Refused("上传请求中的数据包校验值（package_sha256）应为 64 位小写十六进制，请把分院软件升级到最新版本。",
                      code=api.CODE_REJECTED)
    return value


def declare(db: HeadDatabase, site_id: str, body: dict[str, Any]) -> Declared:
    """Start (or resume) the upload of a package; an applied package returns its receipt."""
    package_id, size, sha256 = body.get("package_id"), body.get("size"), body.get("sha256")
    _check_declaration(package_id, size, sha256)
    receipt = stored_receipt(db, package_id, _package_sha256(body), site_id=site_id)
    if receipt is not None:
        return Declared(offset=size, receipt=receipt)
    with db.session() as session:
        upload = session.get(Upload, package_id, with_for_update=True)
        if upload is not None and upload.site_id != site_id:
            raise Refused("该数据包编号已被其他站点使用。", code=api.CODE_REJECTED)
        if upload is not None and (upload.size, upload.sha256) == (size, sha256):
            return Declared(offset=upload.received)
        if upload is not None:  # rebuilt before it was ever applied: start again
            session.execute(delete(UploadChunk).where(UploadChunk.package_id == package_id))
            session.delete(upload)
            session.flush()
        session.add(Upload(package_id=package_id, site_id=site_id, size=size, sha256=sha256, received=0,
                           created_at=utc_now()))
    return Declared(offset=0)


def _own_upload(db: HeadDatabase, site_id: str, package_id: str) -> Upload:
    with db.read() as session:
        upload = session.get(Upload, package_id)
    if upload is None or upload.site_id != site_id:
        raise Refused(f"没有编号为 {package_id} 的上传，请重新开始上传。", code=api.CODE_REJECTED, status=404)
    return upload


def offset(db: HeadDatabase, site_id: str, package_id: str) -> dict[str, int]:
    """Where the upload stands: {offset, size}; an applied package counts as wholly received."""
    with db.read() as session:
        applied = session.execute(select(PackageRow.size).where(PackageRow.package_id == package_id,
                                                                PackageRow.site_id == site_id)).scalar()
    if applied is not None:
        return {"offset": applied, "size": applied}
    upload = _own_upload(db, site_id, package_id)
    return {"offset": upload.received, "size": upload.size}


def append_chunk(db: HeadDatabase, site_id: str, package_id: str, *, at: str | None, chunk_sha256: str | None,
                 chunk: bytes) -> int:
    """Store one chunk at the current offset after checking its hash; the new offset."""
    if not chunk or len(chunk) > MAX_CHUNK_BYTES:
        raise Refused(f"数据块大小应在 1 至 {MAX_CHUNK_BYTES} 字节之间。", code=api.CODE_TOO_LARGE, status=413)
    if (chunk_sha256 or "").lower() != hashlib.sha256(chunk).hexdigest():
        raise Refused("数据块校验值不符（传输中损坏），请重发该数据块。", code=api.CODE_HASH_MISMATCH, status=400)
    try:
        with db.session() as session:
            upload = session.get(Upload, package_id, with_for_update=True)
            if upload is None or upload.site_id != site_id:
                raise Refused(f"没有编号为 {package_id} 的上传，请重新开始上传。", code=api.CODE_REJECTED, status=404)
            _check_offset(upload, at, len(chunk))
            reached = upload.received + len(chunk)
            session.execute(insert(UploadChunk).values(package_id=package_id, offset=upload.received, data=chunk))
            session.execute(update(Upload).where(Upload.package_id == package_id).values(received=reached))
            return reached
    except IntegrityError as error:  # a concurrent chunk at the same offset won
        raise _offset_refusal(offset(db, site_id, package_id)["offset"]) from error


def _offset_refusal(at: int) -> Refused:
    return Refused(f"上传位置不符，服务器已收到 {at} 字节，请从该处继续。", code=api.CODE_OFFSET, status=409,
                   extra={"offset": at})


def _check_offset(upload: Upload, at: str | None, length: int) -> None:
    try:
        claimed = int(at or "")
    except ValueError as error:
        raise _offset_refusal(upload.received) from error
    if claimed != upload.received:
        raise _offset_refusal(upload.received)
    if upload.received + length > upload.size:
        raise Refused("数据块超出声明的数据包大小。", code=api.CODE_TOO_LARGE, status=413)


def _assembled(db: HeadDatabase, upload: Upload) -> bytes:
    with db.read() as session:
        parts = session.execute(select(UploadChunk.data).where(UploadChunk.package_id == upload.package_id)
                                .order_by(UploadChunk.offset)).scalars().all()
    return b"".join(parts)


def discard(db: HeadDatabase, package_id: str) -> None:
    with db.session() as session:
        session.execute(delete(UploadChunk).where(UploadChunk.package_id == package_id))
        session.execute(delete(Upload).where(Upload.package_id == package_id))


def commit(db: HeadDatabase, site_id: str, package_id: str) -> Ingested | bytes:
    """Assemble, check and ingest an upload; the stored receipt bytes if it was applied before."""
    try:
        upload = _own_upload(db, site_id, package_id)
    except Refused:
        receipt = _applied_receipt(db, site_id, package_id)
        if receipt is None:
            raise
        return receipt
    if upload.received != upload.size:
        raise _offset_refusal(upload.received)
    data = _assembled(db, upload)
    if len(data) != upload.size or hashlib.sha256(data).hexdigest() != upload.sha256:
        discard(db, package_id)
        refused = Refused("拼接后的数据包与声明的大小或校验值不符，请重新上传。", code=api.CODE_HASH_MISMATCH)
        raise db.refusal(refused, "upload_hash_mismatch", site_id=site_id, package_id=package_id)
    try:
        package = open_sealed_package(db, data, source="网络上传的数据包", event="package_sealed", site_id=site_id,
                                      package_id=package_id)
        return ingest(db, package, channel=CHANNEL_NETWORK, sender_site=site_id, package_id=package_id,
                      received_size=len(data))
    except Refused as error:
        if error.status == 422:
            discard(db, package_id)
        raise


def _applied_receipt(db: HeadDatabase, site_id: str, package_id: str) -> bytes | None:
    with db.read() as session:
        row = session.execute(select(PackageRow.site_id, PackageRow.receipt)
                              .where(PackageRow.package_id == package_id)).first()
    return row.receipt if row is not None and row.site_id == site_id else None
