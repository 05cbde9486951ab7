"""Recovery when either database went back in time (a backup was restored).

Branch restored: the head hospital has seen a later package seq than this database remembers,
so records sent after the backup was taken exist only there. They are fetched back (verified
page by page), edits made since the restore are lifted above the head hospital's versions so
they are sent, the seq jumps past the head hospital's, and open packages are set aside.

Head hospital restored: its last seq is behind a package it once acknowledged, so records this
site counts as synced may be gone there. Every synced record the head hospital no longer holds
at its version goes back to pending and travels in the next package.
"""

from __future__ import annotations

from sqlalchemy import func, select, update

from desktop.db import Database
from desktop.models import SyncPackage, SyncState
from desktop.sync.apply import apply_records
from desktop.sync.outbox import PackageState, log_event
from desktop.sync.records import bindings
from desktop.sync.site import SEQ_KEY, Enrolment, last_seq, set_value
from desktop.sync.transport import ServerRefused, Transport
from township_wire.envelope import EnvelopeKind, open_envelope
from township_wire.package import SyncRecord

_PAGE = 2000
_PROBLEMS_LOGGED = 50


def head_records(transport: Transport, enrolment: Enrolment) -> list[SyncRecord]:
    """This site's records as the head hospital holds them, every page verified."""
    records: list[SyncRecord] = []
    cursor = ""
    while True:
        response = transport.request("GET", f"/own-records?after={cursor}&limit={_PAGE}")
        body = open_envelope(EnvelopeKind.RECORDS, response.content, enrolment.head_keys)
        for item in body.get("records", []):
            if item.get("owner_site") != enrolment.site_id:
                continue
            try:
                records.append(SyncRecord.from_json(item))
            except (KeyError, TypeError, ValueError) as error:
                raise ServerRefused("总院返回的存档记录格式错误，已停止恢复。", status=response.status_code,
                                    code="invalid") from error
        cursor = body.get("next") or ""
        if not cursor:
            return records


def recover_from_head(db: Database, transport: Transport, enrolment: Enrolment, head_seq: int) -> int:
    """Bring back this site's records from the head hospital; returns how many were written."""
    records = head_records(transport, enrolment)
    with db.write() as session:
        local = last_seq(session)
        result = apply_records(session, records, lift_local_edits=True, source="恢复：从总院取回本分院的记录")
        set_value(session, SEQ_KEY, max(local, head_seq))
        session.execute(update(SyncPackage).where(SyncPackage.state.in_(PackageState.OPEN))
                        .values(state=PackageState.SUPERSEDED, content=None))
        log_event(session, "recover", f"本机数据早于总院记录（数据包序号 {local} < {head_seq}，可能恢复过备份）："
                                      f"从总院取回 {result.applied} 条，保留本机修改 {result.kept_local} 条"
                                      f"{f'，{len(result.skipped)} 条无法放回' if result.skipped else ''}。")
        for problem in result.skipped[:_PROBLEMS_LOGGED]:
            log_event(session, "recover", f"无法放回：{problem}")
    return result.applied


def last_acknowledged_seq(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.max(SyncPackage.seq))
                                  .where(SyncPackage.state == PackageState.ACKNOWLEDGED)) or 0)


def resend_what_head_lost(db: Database, transport: Transport, enrolment: Enrolment, head_seq: int) -> int:
    """Mark pending every synced record the head hospital no longer holds at its version; how many."""
    held = {record.uuid: record.version for record in head_records(transport, enrolment)}
    marked = 0
    with db.write() as session:
        for bound in bindings():
            table = bound.table
            synced = session.execute(select(table.c.uuid, table.c.version).where(
                table.c.sync_state == SyncState.SYNCED.value, table.c.owner_site == enrolment.site_id)).all()
            lost = [uuid for uuid, version in synced if held.get(uuid, 0) < version]
            for start in range(0, len(lost), _PAGE):
                session.execute(update(table).where(table.c.uuid.in_(lost[start:start + _PAGE]))
                                .values(sync_state=SyncState.PENDING.value))
            marked += len(lost)
        log_event(session, "recover", f"总院数据早于本分院已确认的记录（总院序号 {head_seq}，可能恢复过备份）："
                                      f"{marked} 条记录将重新发送。")
    return marked
