"""Helpers for the sync tests: a head hospital's key pair, offline enrolment, signed receipts."""

from __future__ import annotations

from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from data_templates import open_database

from desktop.db import Database
from desktop.services.branch import get_branch
from desktop.sync.site import CONFIG_KEY, Enrolment, set_value
from township_wire.crypto import KeyPair
from township_wire.envelope import EnvelopeKind, seal_envelope
from township_wire.package import Package, read_package


@dataclass(frozen=True)
class HeadKeys:
    keys: KeyPair
    name: str = "青山县人民医院"

    @classmethod
    def generate(cls) -> HeadKeys:
        return cls(KeyPair.generate())

    def receipt(self, package: Package, results: list[dict[str, Any]], **overrides: Any) -> bytes:
        totals: dict[str, int] = {}
        for result in results:
            totals[result["result"]] = totals.get(result["result"], 0) + 1
        body = {"package_id": package.package_id, "site_id": package.site_id, "seq": package.seq,
                "package_sha256": package.sha256, "received_at": "2026-11-23T10:00:00", "results": results,
                "totals": totals, "counts": {}} | overrides
        return seal_envelope(EnvelopeKind.RECEIPT, body, self.keys)

    def accept_all(self, package: Package) -> bytes:
        return self.receipt(package, [{"uuid": r.uuid, "type": r.type, "version": r.version, "result": "applied"}
                                      for r in package.records])


def enrol_offline(db: Database, head: HeadKeys, *, server_url: str) -> Enrolment:
    """Pin `head`'s keys and make this site's keys, as a successful enrolment would."""
    branch = get_branch(db)
    enrolment = Enrolment(site_id=branch.site_id, server_url=server_url, head_name=head.name,
                          head_keys=head.keys.public, site_keys=KeyPair.generate(), enrolled_at="2026-11-23T09:00:00")
    with db.write() as session:
        set_value(session, CONFIG_KEY, enrolment.to_json())
    return enrolment


def open_package(content: bytes, enrolment: Enrolment, head: HeadKeys) -> Package:
    return read_package(content, lambda key_id: enrolment.site_keys.public,
                        recipient_key_id=head.keys.public.key_id)


def states(path: Path, table: str) -> dict[str, int]:
    with closing(open_database(path)) as connection:
        return dict(connection.execute(f"SELECT sync_state, count(*) FROM {table} GROUP BY sync_state").fetchall())
