"""The audit log: append entries in the caller's transaction, verify the chain, list entries."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desktop.clock import now
from desktop.db import Database
from desktop.models import AuditEntry
from desktop.services import audit_anchor
from desktop.services.audit_chain import GENESIS_HASH, canonical_json, entry_key, hash_matches, hashed_fields
from desktop.services.audit_chain import entry_hash as chain_hash
from desktop.services.people_names import display_names
from desktop.services.permissions import Actor, Permission, require
from desktop.site_secrets import SiteSecrets

__all__ = ["GENESIS_HASH", "canonical_json"]  # re-exported: the chain's rules live in audit_chain

VERIFY_BATCH = 2000


class Action(StrEnum):
    """Audited actions. The value is stored; `label` is shown in the viewer."""

    SIGN_IN = "sign_in"
    SIGN_IN_FAILED = "sign_in_failed"
    SIGN_OUT = "sign_out"
    SCREEN_LOCK = "screen_lock"
    SETUP = "setup"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    VIEW = "view"
    PRINT = "print"
    EXPORT = "export"
    IMPORT = "import"
    ACCOUNT_CREATE = "account_create"
    ACCOUNT_UPDATE = "account_update"
    PASSWORD_CHANGE = "password_change"
    PASSWORD_RESET = "password_reset"
    ACCOUNT_UNLOCK = "account_unlock"
    BACKUP = "backup"
    RESTORE = "restore"
    VOID = "void"
    REFUSED = "refused"

    @property
    def label(self) -> str:
        return ACTION_LABELS.get(self, OTHER_ACTION)


OTHER_ACTION = "其他操作"  # an action this version does not know (written by a newer one)
ACTION_LABELS = {
    Action.SIGN_IN: "登录",
    Action.SIGN_IN_FAILED: "登录失败",
    Action.SIGN_OUT: "退出登录",
    Action.SCREEN_LOCK: "锁屏",
    Action.SETUP: "初始设置",
    Action.CREATE: "新增",
    Action.UPDATE: "修改",
    Action.DELETE: "删除",
    Action.VIEW: "查看",
    Action.PRINT: "打印",
    Action.EXPORT: "导出",
    Action.IMPORT: "导入",
    Action.ACCOUNT_CREATE: "新建账户",
    Action.ACCOUNT_UPDATE: "修改账户",
    Action.PASSWORD_CHANGE: "修改密码",
    Action.PASSWORD_RESET: "重置密码",
    Action.ACCOUNT_UNLOCK: "解锁账户",
    Action.BACKUP: "备份",
    Action.RESTORE: "恢复备份",
    Action.VOID: "作废",
    Action.REFUSED: "拒绝越权操作",
}


def digest(value: Mapping[str, Any] | None) -> str | None:
    """sha256 of a record's canonical JSON (the audit keeps digests, not contents)."""
    if value is None:
        return None
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Names of the fields whose values differ."""
    return sorted(key for key in before.keys() | after.keys() if before.get(key) != after.get(key))


def json_safe(value: Any) -> Any:
    """A value as JSON keeps it: dates and times as ISO text, tuples as lists, mappings with text keys."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): json_safe(item) for key, item in value.items()}
    return value


def field_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list]:
    """field -> [before, after] (JSON-safe) for every field whose value differs, for `record(details=...)`."""
    return {name: [json_safe(before.get(name)), json_safe(after.get(name))] for name in changed_fields(before, after)}


def session_secrets(session: Session) -> SiteSecrets:
    """The site's secrets every session of `Database` carries (the audit chain's key)."""
    secrets = session.info.get("secrets")
    if not isinstance(secrets, SiteSecrets):
        raise RuntimeError("audit entries are written only through Database sessions, which carry the site's secrets")
    return secrets


def record(
    session: Session,
    actor: Actor | str,
    action: Action,
    *,
    entity_type: str = "",
    entity_id: object = "",
    summary: str = "",
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    details: Mapping[str, list] | None = None,
) -> AuditEntry:
    """Append one entry inside the caller's write transaction (so it commits with the change).

    `details` (field -> [before, after], JSON-safe) is stored whole, for a record's history of corrections.
    """
    last = session.execute(
        select(AuditEntry.seq, AuditEntry.entry_hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
    entry = AuditEntry(
        seq=seq,
        at=now(),
        actor=actor if isinstance(actor, str) else actor.username,
        action=action.value,
        entity_type=entity_type,
        entity_id=str(entity_id),
        summary=summary,
        before_digest=digest(before),
        after_digest=digest(after),
        prev_hash=prev_hash,
    )
    if details is not None:  # left unset otherwise, so the column holds SQL NULL rather than JSON null
        entry.details = json_safe(dict(details))
    entry.entry_hash = chain_hash(prev_hash, hashed_fields(entry), key=entry_key(session_secrets(session), seq))
    session.add(entry)
    session.flush()
    audit_anchor.remember(session, entry)
    return entry


@dataclass(frozen=True)
class ChainReport:
    """Result of checking the audit chain."""

    checked: int
    first_bad_seq: int | None = None
    problem: str = ""

    @property
    def intact(self) -> bool:
        return self.first_bad_seq is None


def _entries_in_order(session: Session) -> Iterator[AuditEntry]:
    after = 0
    while True:
        batch = session.scalars(
            select(AuditEntry).where(AuditEntry.seq > after).order_by(AuditEntry.seq).limit(VERIFY_BATCH)
        ).all()
        if not batch:
            return
        yield from batch
        after = batch[-1].seq
        session.expunge_all()


def _entry_problem(entry: AuditEntry, expected_seq: int, prev_hash: str, secrets: SiteSecrets) -> str:
    if entry.seq != expected_seq:
        return f"编号 {expected_seq} 的审计记录缺失（下一条是 {entry.seq}），记录被删除。"
    if entry.prev_hash != prev_hash:
        return f"第 {entry.seq} 条审计记录与前一条不衔接，记录被删除、插入或替换。"
    if not hash_matches(entry, secrets):
        return f"第 {entry.seq} 条审计记录的内容被修改。"
    return ""


@dataclass(frozen=True)
class ChainWalk:
    """The whole chain read once: its first break, its last entry, and the hash it holds at one seq."""

    report: ChainReport
    last_seq: int = 0
    last_hash: str = GENESIS_HASH
    hashes: dict[int, str] = field(default_factory=dict)  # seq -> stored hash, for the seqs asked to watch
    last_restore: datetime | None = None  # when the newest restore entry was written


def walk_chain(db: Database, *, watch: frozenset[int] = frozenset()) -> ChainWalk:
    """Check every link (keyed from `audit_keyed_from` on) and read on past a break to the last entry."""
    expected_seq, prev_hash, checked = 1, GENESIS_HASH, 0
    report: ChainReport | None = None
    watched: dict[int, str] = {}
    last_restore: datetime | None = None
    with db.read() as session:
        secrets = session_secrets(session)
        for entry in _entries_in_order(session):
            if report is None:
                problem = _entry_problem(entry, expected_seq, prev_hash, secrets)
                if problem:
                    report = ChainReport(checked=checked, first_bad_seq=min(entry.seq, expected_seq), problem=problem)
                else:
                    checked += 1
            if entry.seq in watch:
                watched[entry.seq] = entry.entry_hash
            if entry.action == Action.RESTORE.value:
                last_restore = entry.at
            expected_seq, prev_hash = entry.seq + 1, entry.entry_hash
    return ChainWalk(report=report or ChainReport(checked=checked), last_seq=expected_seq - 1, last_hash=prev_hash,
                     hashes=watched, last_restore=last_restore)


def verify_chain(db: Database) -> ChainReport:
    """Walk the chain from the first entry; report the first entry that breaks it."""
    return walk_chain(db).report


@dataclass(frozen=True)
class AuditRow:
    """One audit entry as plain data for the viewer."""

    seq: int
    at: datetime
    actor: str
    action: str
    action_label: str
    entity_type: str
    entity_id: str
    summary: str
    before_digest: str | None
    after_digest: str | None
    details: dict[str, list] | None = None
    actor_name: str = ""  # who acted as people see it: the account's display name, or a system actor's name


@dataclass(frozen=True)
class AuditFilter:
    """What the viewer asks for; empty fields do not filter."""

    since: datetime | None = None
    until: datetime | None = None
    actor: str = ""
    action: str = ""
    text: str = ""


def _filtered(query: Any, flt: AuditFilter) -> Any:
    if flt.since:
        query = query.where(AuditEntry.at >= flt.since)
    if flt.until:
        query = query.where(AuditEntry.at < flt.until)
    if flt.actor:
        query = query.where(AuditEntry.actor == flt.actor)
    if flt.action:
        query = query.where(AuditEntry.action == flt.action)
    if flt.text:
        query = query.where(AuditEntry.summary.contains(flt.text))
    return query


def _as_row(entry: AuditEntry) -> AuditRow:
    try:
        label = Action(entry.action).label
    except ValueError:
        label = OTHER_ACTION
    return AuditRow(
        seq=entry.seq,
        at=entry.at,
        actor=entry.actor,
        action=entry.action,
        action_label=label,
        entity_type=entry.entity_type,
        entity_id=entry.entity_id,
        summary=entry.summary,
        before_digest=entry.before_digest,
        after_digest=entry.after_digest,
        details=entry.details,
    )


def list_entries(
    db: Database, actor: Actor, flt: AuditFilter = AuditFilter(), *, limit: int = 500, before_seq: int | None = None
) -> list[AuditRow]:
    """Newest first, keyset-paged by `before_seq`."""
    require(actor, Permission.VIEW_AUDIT)
    query = _filtered(select(AuditEntry), flt)
    if before_seq is not None:
        query = query.where(AuditEntry.seq < before_seq)
    with db.read() as session:
        entries = session.scalars(query.order_by(AuditEntry.seq.desc()).limit(limit)).all()
        names = display_names(session, {entry.actor for entry in entries})
        return [replace(_as_row(entry), actor_name=names.get(entry.actor, entry.actor)) for entry in entries]


def entries_about(session: Session, *, entity_type: str, entity_id: str) -> list[AuditRow]:
    """Every entry about one record, oldest first (the caller checks who may see them)."""
    entries = session.scalars(select(AuditEntry).where(
        AuditEntry.entity_type == entity_type, AuditEntry.entity_id == entity_id).order_by(AuditEntry.seq))
    return [_as_row(entry) for entry in entries]


def count_entries(db: Database, actor: Actor, flt: AuditFilter = AuditFilter()) -> int:
    """How many entries match the filter."""
    require(actor, Permission.VIEW_AUDIT)
    with db.read() as session:
        return session.scalar(_filtered(select(func.count()).select_from(AuditEntry), flt)) or 0


def actor_choices(db: Database, actor: Actor) -> list[tuple[str, str]]:
    """(user name, the name people see) of everyone in the log, for the viewer's filter, by shown name."""
    require(actor, Permission.VIEW_AUDIT)
    with db.read() as session:
        usernames = list(session.scalars(select(AuditEntry.actor).distinct()))
        names = display_names(session, usernames)
    return sorted(((name, names.get(name, name)) for name in usernames), key=lambda pair: (pair[1], pair[0]))


def actor_names(db: Database, actor: Actor) -> list[str]:
    """Every user name that appears in the log (for the viewer's filter)."""
    require(actor, Permission.VIEW_AUDIT)
    with db.read() as session:
        return list(session.scalars(select(AuditEntry.actor).distinct().order_by(AuditEntry.actor)))
