"""Building packages: everything not yet acknowledged, in one write transaction.

Reading the pending records, marking them in flight, taking the next seq and storing the
package's bytes all commit together, so a crash leaves either no package or a complete one
that the next attempt sends again under the same id.
"""

from __future__ import annotations

import uuid as uuid_module
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from desktop.clock import now
from desktop.db import Database
from desktop.models import SyncLogEntry, SyncPackage, SyncState
from desktop.sync.audit_anchor import package_anchor
from desktop.sync.records import bindings, read_records
from desktop.sync.reports import sent_digests
from desktop.sync.site import checkpoint, next_seq, require_enrolment
from township_wire.package import MAX_PACKAGE_RECORDS, PackageHeader, SyncRecord, build_package, sha256_hex

UNSENT = (SyncState.PENDING.value, SyncState.IN_FLIGHT.value)
NETWORK_PACKAGE_RECORDS = MAX_PACKAGE_RECORDS
_MARK_CHUNK = 500


class PackageState:
    BUILT = "built"  # waiting to be sent over the network
    EXPORTED = "exported"  # written to a USB file, waiting for its return file
    ACKNOWLEDGED = "acknowledged"
    SUPERSEDED = "superseded"  # a later package carries its records
    REFUSED = "refused"  # the head hospital refused the package as a whole

    OPEN = (BUILT, EXPORTED)


class Channel:
    NETWORK = "network"
    USB = "usb"


@dataclass(frozen=True)
class BuiltPackage:
    package_id: str
    seq: int
    record_count: int
    content: bytes
    type_counts: dict[str, int] = field(default_factory=dict)  # record type -> records in the package


def unsent_records(session: Session, site_id: str, limit: int | None = None) -> list[SyncRecord]:
    """This site's records that are pending or in flight, parents first (at most `limit`)."""
    records: list[SyncRecord] = []
    for bound in bindings():
        table = bound.table
        where = table.c.sync_state.in_(UNSENT) & (table.c.owner_site == site_id)
        remaining = None if limit is None else limit - len(records)
        if remaining == 0:
            break
        records.extend(read_records(session, bound, where=where, limit=remaining))
    return records


def _mark_in_flight(session: Session, records: list[SyncRecord]) -> None:
    by_type: dict[str, list[str]] = {}
    for record in records:
        by_type.setdefault(record.type, []).append(record.uuid)
    for bound in bindings():
        table, uuids = bound.table, by_type.get(bound.name, [])
        for start in range(0, len(uuids), _MARK_CHUNK):
            session.execute(update(table).where(table.c.uuid.in_(uuids[start:start + _MARK_CHUNK]),
                                                table.c.sync_state == SyncState.PENDING.value)
                            .values(sync_state=SyncState.IN_FLIGHT.value))


def open_network_package(session: Session) -> BuiltPackage | None:
    """The network package built earlier and not yet acknowledged, to be sent again as it is."""
    row = session.execute(select(SyncPackage.package_id, SyncPackage.seq, SyncPackage.record_count,
                                 SyncPackage.content)
                          .where(SyncPackage.state == PackageState.BUILT, SyncPackage.channel == Channel.NETWORK)
                          .order_by(SyncPackage.seq.desc()).limit(1)).first()
    return BuiltPackage(*row) if row is not None and row.content is not None else None


def build_next(db: Database, channel: str, reports: Mapping[str, bytes] | None = None,
               *, force: bool = False) -> BuiltPackage | None:
    """Build and store the next package; None when there is nothing to send (unless `force`).

    A network package holds at most NETWORK_PACKAGE_RECORDS records (the next round takes the
    rest), so memory and the cost of a refused package stay bounded; a USB package holds
    everything unacknowledged up to the head hospital's limit of MAX_PACKAGE_RECORDS, so any one
    stick that arrives is enough unless more than that waits (then each return file lets the
    next stick carry the next records).
    """
    limit = NETWORK_PACKAGE_RECORDS if channel == Channel.NETWORK else MAX_PACKAGE_RECORDS
    with db.write() as session:
        enrolment = require_enrolment(session)
        records = unsent_records(session, enrolment.site_id, limit)
        if not records and not reports and not force:
            return None
        header = PackageHeader(package_id=str(uuid_module.uuid4()), site_id=enrolment.site_id,
                               seq=next_seq(session), created_at=now().isoformat(timespec="seconds"),
                               recipient_key_id=enrolment.head_keys.key_id, checkpoint=checkpoint(session),
                               audit_anchor=package_anchor(session, enrolment.site_id))
        content = build_package(header, records, enrolment.site_keys, reports)
        _mark_in_flight(session, records)
        session.execute(update(SyncPackage).where(SyncPackage.state.in_(PackageState.OPEN))
                        .values(state=PackageState.SUPERSEDED, content=None))
        session.add(SyncPackage(package_id=header.package_id, seq=header.seq, channel=channel,
                                state=PackageState.BUILT if channel == Channel.NETWORK else PackageState.EXPORTED,
                                record_count=len(records), report_periods=sent_digests(reports or {}),
                                size=len(content), sha256=sha256_hex(content), content=content,
                                applied=0, duplicate=0, rejected=0))
        log_event(session, "build", f"生成数据包 #{header.seq}：{len(records)} 条记录", header.package_id)
    return BuiltPackage(header.package_id, header.seq, len(records), content,
                        dict(Counter(record.type for record in records)))


def log_event(session: Session, event: str, message: str, package_id: str | None = None) -> None:
    session.add(SyncLogEntry(at=now(), event=event, package_id=package_id, message=message))


def log_refusal(db: Database, message: str, package_id: str | None = None) -> None:
    """Log a refusal in its own transaction (the refused work itself is rolled back)."""
    with db.write() as session:
        log_event(session, "refused", message, package_id)
