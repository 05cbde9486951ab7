"""Writing records that come from the head hospital into the local tables.

Used for the head hospital's own records in the feed and for this site's records sent back
after a restored backup. A newer version replaces an older one; a local record that is
pending, in flight or in error is never overwritten. Parents are resolved by uuid; a link
to a parent that arrives later in the same batch (household <-> head) is filled in at the end.
The model's local columns (search keys) are derived again from what arrived.

Like any other write, what is written is audited in the same transaction: one entry per record
type and batch, by `SYNC_ACTOR` (no person writes these), naming how many records were added,
replaced or kept, with a digest of their uuids and versions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from desktop.models import SyncState
from desktop.services import audit
from desktop.services.audit import Action
from desktop.sync.records import Binding, binding, bindings, local_row, parent_uuids, with_local_columns
from desktop.sync.site import SYNC_ACTOR
from township_wire.package import SyncRecord

_CHUNK = 500


@dataclass
class TypeWrites:
    """What one batch wrote for one record type: (uuid, version) per row, by kind of write."""

    added: list[tuple[str, int]] = field(default_factory=list)
    replaced: list[tuple[str, int]] = field(default_factory=list)
    lifted: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class ApplyResult:
    applied: int = 0
    kept_local: int = 0
    skipped: list[str] = field(default_factory=list)
    writes: dict[str, TypeWrites] = field(default_factory=dict)


def _ids_by_uuid(session: Session, table_name: str, uuids: set[str]) -> dict[tuple[str, str], int]:
    table = next(bound.table for bound in bindings() if bound.table.name == table_name)
    found: dict[tuple[str, str], int] = {}
    items = sorted(uuids)
    for start in range(0, len(items), _CHUNK):
        chunk = items[start:start + _CHUNK]
        for uuid, row_id in session.execute(select(table.c.uuid, table.c.id).where(table.c.uuid.in_(chunk))):
            found[(table_name, uuid)] = row_id
    return found


def _existing(session: Session, bound: Binding, uuids: list[str]) -> dict[str, tuple[int, int, str]]:
    table = bound.table
    found: dict[str, tuple[int, int, str]] = {}
    for start in range(0, len(uuids), _CHUNK):
        chunk = uuids[start:start + _CHUNK]
        query = select(table.c.uuid, table.c.id, table.c.version, table.c.sync_state).where(table.c.uuid.in_(chunk))
        for uuid, row_id, version, state in session.execute(query):
            found[uuid] = (row_id, version, state)
    return found


def apply_records(session: Session, records: Iterable[SyncRecord], *, lift_local_edits: bool = False,
                  source: str = "总院下发") -> ApplyResult:
    """Insert or update the given records as synced, and audit them, inside the caller's transaction.

    With `lift_local_edits` (recovery after a restored backup), a local edit that is not newer
    than the head hospital's copy keeps its content and takes a version above it, so it is sent.
    `source` opens each audit entry's summary (where the records came from).
    """
    by_type: dict[str, list[SyncRecord]] = defaultdict(list)
    result = ApplyResult()
    for record in records:
        if binding(record.type) is None:
            result.skipped.append(f"未知的记录类型 {record.type}")
        else:
            by_type[record.type].append(record)
    late_links: list[tuple[Binding, str, str, str, str]] = []
    for bound in bindings():
        if bound.name in by_type:
            late_links += _apply_type(session, bound, by_type[bound.name], result, lift_local_edits)
    _fill_late_links(session, late_links, result)
    _audit_writes(session, result, source)
    return result


def _audit_writes(session: Session, result: ApplyResult, source: str) -> None:
    for bound in bindings():
        writes = result.writes.get(bound.name)
        if writes is None:
            continue
        rows = writes.added + writes.replaced + writes.lifted
        parts = [f"{label} {len(items)} 条" for label, items in
                 (("新增", writes.added), ("更新", writes.replaced), ("保留本机修改并重新发送", writes.lifted)) if items]
        audit.record(session, SYNC_ACTOR, Action.IMPORT, entity_type=bound.name,
                     entity_id=rows[0][0] if len(rows) == 1 else "",
                     summary=f"{source}：{bound.spec.label}{'，'.join(parts)}",
                     after={"added": writes.added, "replaced": writes.replaced, "lifted": writes.lifted})


def _apply_type(session: Session, bound: Binding, records: list[SyncRecord], result: ApplyResult,
                lift_local_edits: bool) -> list[tuple[Binding, str, str, str, str]]:
    existing = _existing(session, bound, [record.uuid for record in records])
    parents: dict[tuple[str, str], int | None] = {}
    for table_name, uuids in parent_uuids(bound, records).items():
        parents.update(_ids_by_uuid(session, table_name, uuids))
    late: list[tuple[Binding, str, str, str, str]] = []
    table = bound.table
    writes = TypeWrites()
    for record in records:
        current = existing.get(record.uuid)
        if current is not None and current[2] != SyncState.SYNCED.value:
            result.kept_local += 1
            if lift_local_edits and current[1] <= record.version:
                session.execute(update(table).where(table.c.id == current[0])
                                .values(version=record.version + 1, sync_state=SyncState.PENDING.value))
                writes.lifted.append((record.uuid, record.version + 1))
            continue
        if current is not None and current[1] >= record.version:
            continue
        row = local_row(bound, record, parents)
        for link in bound.links:
            wanted = record.data.get(link.wire_name)
            if wanted is not None and row.get(link.column) is None:
                if not table.c[link.column].nullable:
                    result.skipped.append(f"{bound.spec.label} {record.uuid}：找不到所属记录 {wanted}")
                    break
                late.append((bound, record.uuid, link.column, link.parent.name, wanted))
        else:
            row = with_local_columns(session, bound, row, None if current is None else current[0])
            row["sync_state"], row["sync_error"] = SyncState.SYNCED.value, None
            if current is None:
                session.execute(insert(table).values(**row))
                writes.added.append((record.uuid, record.version))
            else:
                session.execute(update(table).where(table.c.id == current[0]).values(**row))
                writes.replaced.append((record.uuid, record.version))
            result.applied += 1
    if writes.added or writes.replaced or writes.lifted:
        result.writes[bound.name] = writes
    return late


def _fill_late_links(session: Session, late: list[tuple[Binding, str, str, str, str]], result: ApplyResult) -> None:
    for bound, uuid, column, parent_table, parent_uuid in late:
        parent_id = _ids_by_uuid(session, parent_table, {parent_uuid}).get((parent_table, parent_uuid))
        if parent_id is None:
            result.skipped.append(f"{bound.spec.label} {uuid}：找不到所属记录 {parent_uuid}")
            continue
        table = bound.table
        session.execute(update(table).where(table.c.uuid == uuid).values({column: parent_id}))
