"""Deciding each record of a package (applied, duplicate, stale, not_owner, invalid) and writing them in bulk.

Stored versions are looked up in batches of uuids and the writes go out as executemany
inserts and updates, never one ORM object per row: a 20,000-record package is a few dozen
statements.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, insert, select, update

from head_hospital.models import Record, RecordRejection
from township_wire.envelope import canonical_bytes
from township_wire.package import Package, SyncRecord
from township_wire.types import Owner, record_problem, type_spec

LOOKUP_BATCH = 500
MAX_VERSION = 2**62
_TABLE = Record.__table__
_UPDATE = (update(_TABLE).where(_TABLE.c.uuid == bindparam("b_uuid"))
           .values(version=bindparam("b_version"), deleted=bindparam("b_deleted"), sha256=bindparam("b_sha256"),
                   data=bindparam("b_data"), package_id=bindparam("b_package_id"),
                   received_at=bindparam("b_received_at")))


class Held(NamedTuple):
    """What the head hospital holds for one uuid."""

    site_id: str
    type: str
    version: int
    sha256: str


def held_records(connection: Connection, uuids: Iterable[str]) -> dict[str, Held]:
    """The stored site, type, version and line hash for each uuid that is held."""
    wanted = sorted(set(uuids))
    held: dict[str, Held] = {}
    columns = (_TABLE.c.uuid, _TABLE.c.site_id, _TABLE.c.type, _TABLE.c.version, _TABLE.c.sha256)
    for start in range(0, len(wanted), LOOKUP_BATCH):
        batch = wanted[start:start + LOOKUP_BATCH]
        for row in connection.execute(select(*columns).where(_TABLE.c.uuid.in_(batch))):
            held[row[0]] = Held(row[1], row[2], int(row[3]), row[4])
    return held


def judge(record: SyncRecord, sha256: str, sender: str, stored: Held | None) -> tuple[str, str | None]:
    """The result for one record and, unless it is applied or a duplicate, the reason in Chinese."""
    problem = record_problem(record.type, record.uuid, record.version, record.data)
    if problem:
        return "invalid", problem
    if record.version > MAX_VERSION:
        return "invalid", f"版本号 {record.version} 超出范围"
    spec = type_spec(record.type)
    if spec is not None and spec.owner is Owner.HEAD:
        return "invalid", f"{spec.label}由总院维护，分院不能上报"
    if record.owner_site != sender:
        return "invalid", f"记录的所属站点 {record.owner_site} 与发送站点 {sender} 不符"
    if stored is None:
        return "applied", None
    if stored.site_id != sender:
        return "not_owner", f"该记录属于站点 {stored.site_id}，只有所属站点可以修改"
    if stored.type != record.type:
        return "invalid", f"该记录在总院是 {stored.type} 类型，不能改为 {record.type}"
    if record.version > stored.version:
        return "applied", None
    if record.version < stored.version:
        return "stale", f"总院已有更新的版本 {stored.version}"
    if sha256 == stored.sha256:
        return "duplicate", None
    return "stale", f"版本 {record.version} 相同但内容不同（总院保存的是先收到的内容）"


def apply_records(connection: Connection, package: Package, *, received_at: datetime) -> list[dict[str, Any]]:
    """Judge every record of the package, write the applied ones; the receipt's per-record results."""
    hashes = [entry["sha256"] for entry in package.manifest["records"]]
    stored = held_records(connection, (record.uuid for record in package.records))
    inserts: dict[str, dict[str, Any]] = {}
    updates: dict[str, dict[str, Any]] = {}
    results: list[dict[str, Any]] = []
    for record, sha256 in zip(package.records, hashes, strict=True):
        result, reason = judge(record, sha256, package.site_id, stored.get(record.uuid))
        row = _row(record, sha256, package.package_id, received_at) if result == "applied" else None
        if row is None and result == "applied":
            result, reason = "invalid", "记录内容含无法编码的字符"
        results.append(_result(record, result, reason))
        if row is None:
            continue
        if record.uuid in inserts or record.uuid not in stored:
            inserts[record.uuid] = row
        else:
            updates[record.uuid] = {f"b_{key}": value for key, value in row.items()}
        stored[record.uuid] = Held(package.site_id, record.type, record.version, sha256)
    if inserts:
        connection.execute(insert(_TABLE), list(inserts.values()))
    if updates:
        connection.execute(_UPDATE, list(updates.values()))
    return results


def _result(record: SyncRecord, result: str, reason: str | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"uuid": clean_text(record.uuid, 200), "type": clean_text(record.type, 200),
                             "version": record.version, "result": result}
    if reason:
        entry["reason"] = clean_text(reason, 2000)
    return entry


def _row(record: SyncRecord, sha256: str, package_id: str, received_at: datetime) -> dict[str, Any] | None:
    """The stored row, or None when the body cannot be stored as UTF-8 text (a lone surrogate)."""
    try:
        data = canonical_bytes(record.data).decode("utf-8")
    except UnicodeEncodeError:
        return None
    return {"uuid": record.uuid, "type": record.type, "site_id": record.owner_site, "version": record.version,
            "deleted": record.deleted, "sha256": sha256, "data": data, "package_id": package_id,
            "received_at": received_at}


def clean_text(text: str, limit: int) -> str:
    """Text safe for any backend's text column: valid UTF-8, no NUL, at most `limit` characters."""
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")[:limit]


def store_rejections(connection: Connection, package: Package, results: list[dict[str, Any]]) -> None:
    """One row per record that was not taken, with its reason, for the admin and the status page."""
    rows = [{"package_id": package.package_id, "site_id": package.site_id, "uuid": entry["uuid"],
             "type": entry["type"], "version": entry["version"], "result": entry["result"],
             "reason": entry.get("reason", "")}
            for entry in results if entry["result"] not in ("applied", "duplicate")]
    if rows:
        connection.execute(insert(RecordRejection), rows)
