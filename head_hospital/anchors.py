"""Each site's audit anchors, kept as packages bring them, and whether they agree with each other.

A branch's package names its audit chain's last entry (seq and hash) and the hash the chain then
held at the seq of the previous package's anchor. The head hospital stores each in the package's
own transaction. A site's anchors agree when the seq never goes back, the same seq never comes
with two hashes, and the seq where keyed hashing began stays the same; anything else means the
branch's audit log lost entries or was rewritten after a package left it.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from head_hospital.db import HeadDatabase
from head_hospital.errors import Refused
from head_hospital.models import AuditAnchor, Site, iso
from township_wire import api
from township_wire.package import Package

MANIFEST_FIELD = "audit_anchor"
_HASH = re.compile(r"[0-9a-f]{64}\Z")
_MAX_SEQ = 2**62


def _count(value: Any, *, least: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not least <= value < _MAX_SEQ:
        raise ValueError("count")
    return value


def _hash(value: Any, *, empty: bool = False) -> str:
    if not isinstance(value, str) or not (_HASH.match(value) or (empty and value == "")):
        raise ValueError("hash")
    return value


def _parse(value: Any, site_id: str) -> dict[str, Any]:
    """The manifest's anchor as columns; ValueError for anything malformed."""
    if not isinstance(value, dict) or value.get("site") != site_id:
        raise ValueError("anchor")
    at = value.get("at")
    if not isinstance(at, str) or not 0 < len(at) <= 32 or not at.isprintable():
        raise ValueError("at")
    columns = {"seq": _count(value.get("seq"), least=1), "entry_hash": _hash(value.get("entry_hash")),
               "entries": _count(value.get("entries"), least=0), "keyed_from": _count(value.get("keyed_from"), least=1),
               "at": at, "since_seq": None, "since_hash": None}
    since = value.get("since")
    if since is not None:
        if not isinstance(since, dict):
            raise ValueError("since")
        columns["since_seq"] = _count(since.get("seq"), least=1)
        columns["since_hash"] = _hash(since.get("entry_hash"), empty=True)
    return columns


def store_anchor(connection: Connection, package: Package, *, received_at: datetime) -> None:
    """Keep the package's audit anchor (if it carries one) in the package's own transaction."""
    value = package.manifest.get(MANIFEST_FIELD)
    if value is None:
        return
    try:
        columns = _parse(value, package.site_id)
    except ValueError as error:
        raise Refused("数据包中的审计锚点（audit_anchor）格式错误，已拒收。", code=api.CODE_REJECTED) from error
    connection.execute(insert(AuditAnchor).values(site_id=package.site_id, package_id=package.package_id,
                                                  package_seq=package.seq, received_at=received_at, **columns))


@dataclass(frozen=True)
class SiteAnchor:
    """One stored anchor as plain data."""

    package_seq: int
    package_id: str
    seq: int
    entry_hash: str
    entries: int
    keyed_from: int
    at: str
    since_seq: int | None
    since_hash: str | None
    received_at: str | None


def site_anchors(db: HeadDatabase, site_id: str) -> list[SiteAnchor]:
    """A site's anchors in the order its packages were numbered; `Refused` for an unknown site."""
    with db.read() as session:
        if session.get(Site, site_id) is None:
            raise Refused(f"没有登记编号为 {site_id} 的站点。", code=api.CODE_NOT_ENROLLED, status=404)
        rows = session.scalars(select(AuditAnchor).where(AuditAnchor.site_id == site_id)
                               .order_by(AuditAnchor.package_seq, AuditAnchor.id)).all()
    return [SiteAnchor(package_seq=row.package_seq, package_id=row.package_id, seq=row.seq,
                       entry_hash=row.entry_hash, entries=row.entries, keyed_from=row.keyed_from, at=row.at,
                       since_seq=row.since_seq, since_hash=row.since_hash, received_at=iso(row.received_at))
            for row in rows]


def _hash_problem(seen: dict[int, tuple[str, int]], seq: int, entry_hash: str, package_seq: int) -> str | None:
    earlier = seen.get(seq)
    if earlier is None:
        seen[seq] = (entry_hash, package_seq)
        return None
    if earlier[0] == entry_hash:
        return None
    if entry_hash == "":
        return f"第 {package_seq} 号数据包报告第 {seq} 条审计记录已不存在，而第 {earlier[1]} 号数据包曾报告过它。"
    return f"第 {seq} 条审计记录在第 {earlier[1]} 号与第 {package_seq} 号数据包中的校验值不同：历史被改写。"


def anchor_problems(anchors: list[SiteAnchor]) -> list[str]:
    """Where a site's anchors contradict each other, in words; [] when they agree."""
    problems: list[str] = []
    seen: dict[int, tuple[str, int]] = {}
    previous: SiteAnchor | None = None
    for anchor in anchors:
        if previous is not None and anchor.seq < previous.seq:
            problems.append(f"第 {anchor.package_seq} 号数据包的审计记录只到第 {anchor.seq} 条，"
                            f"少于之前第 {previous.package_seq} 号数据包的第 {previous.seq} 条：记录被删除。")
        if previous is not None and anchor.keyed_from != previous.keyed_from:
            problems.append(f"第 {anchor.package_seq} 号数据包的审计密钥起始编号（{anchor.keyed_from}）"
                            f"与之前（{previous.keyed_from}）不同：审计密钥被更换。")
        pairs = [(anchor.seq, anchor.entry_hash)]
        if anchor.since_seq is not None:
            pairs.insert(0, (anchor.since_seq, anchor.since_hash or ""))
        problems += [problem for seq, entry_hash in pairs
                     if (problem := _hash_problem(seen, seq, entry_hash, anchor.package_seq)) is not None]
        previous = anchor
    return problems


def site_audit(db: HeadDatabase, site_id: str) -> dict[str, Any]:
    """A site's anchors and whether they agree, as the command line prints it."""
    anchors = site_anchors(db, site_id)
    problems = anchor_problems(anchors)
    return {"site_id": site_id, "consistent": not problems, "problems": problems,
            "anchors": [asdict(anchor) for anchor in anchors]}
