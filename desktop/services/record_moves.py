"""Moving a resident's record between villages (档案迁村): a village doctor asks, the branch decides.

A village doctor who meets a resident registered in a village they do not serve cannot see that
record; they ask, by the ID number they hold, for the record to move into one of their villages.
The clerk or public-health doctor (Permission.DECIDE_RECORD_MOVES) sees the pending requests with
the resident's name and approves or refuses them with a note; the requester sees the outcome.

On approval the resident moves alone: the person met in the new village is the one who moved, the
rest of the household stays. The resident leaves their household (a household left empty is
closed); a household head with members still at home must first hand the headship on (the branch
does that in the household panel). The record number stays: one person, one record. The
requesting doctor becomes the responsible doctor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from desktop.changes import Changes
from desktop.clock import now
from desktop.db import Database
from desktop.errors import PermissionDenied, UserFacingError, ValidationError
from desktop.models import Account, Household, Resident, ResidentTransfer, Village
from desktop.rules.idnumbers import mask_id, normalise_id
from desktop.services import audit
from desktop.services.audit import Action
from desktop.services.due_base import DueItem, DueKind, DueQuery, DueSource
from desktop.services.permissions import Actor, Permission, ensure_in_scope, in_village_scope, require
from desktop.services.residents import snapshot

ENTITY = "resident_transfer"  # a synced type: the audit viewer names it from the wire type (档案迁村申请)


class MoveStatus(StrEnum):
    """Where a request stands. The value is stored."""

    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"

    @property
    def label(self) -> str:
        return {"pending": "待审批", "approved": "已同意", "refused": "未同意"}[self.value]


@dataclass(frozen=True)
class MoveRequest:
    """A request as its requester sees it: the resident's name and id only once the record is theirs."""

    id: int
    id_number_masked: str
    to_village: str
    reason: str
    status: MoveStatus
    requested_at: datetime
    decided_at: datetime | None
    decision_note: str
    resident_id: int | None = None
    resident_name: str = ""


@dataclass(frozen=True)
class PendingMove:
    """A request as the branch decides it."""

    id: int
    resident_id: int
    record_no: str
    name: str
    from_village: str
    to_village: str
    requested_by: str
    reason: str
    requested_at: datetime


def ensure_can_request(actor: Actor) -> None:
    """Only accounts bound to villages ask; the branch changes a resident's village directly."""
    if not actor.is_village_bound:
        raise PermissionDenied("卫生院账户可直接修改档案的所属村，无需申请。")


def request_move(db: Database, actor: Actor, *, id_number: str, to_village_id: int, reason: str = "") -> MoveRequest:
    """Ask the branch to move the record with this ID number into one of the actor's villages."""
    require(actor, Permission.EDIT_RESIDENTS)
    ensure_can_request(actor)
    ensure_in_scope(actor, to_village_id)
    number = normalise_id(id_number or "")
    if not number:
        raise ValidationError.single("id_number", "请填写身份证号。")
    with db.write() as session:
        village = session.get(Village, to_village_id)
        if village is None or village.deleted:
            raise ValidationError.single("to_village", "请选择迁入的村。")
        resident = session.scalars(select(Resident).where(
            Resident.id_number == number, Resident.deleted.is_(False))).one_or_none()
        if resident is None:
            raise ValidationError.single("id_number", f"没有身份证号为 {mask_id(number)} 的档案，请直接建档。")
        if resident.village_id == to_village_id:
            raise UserFacingError(f"该档案已在{village.name}。")
        if in_village_scope(actor, resident.village_id):
            raise UserFacingError("该档案在您负责的村，请直接打开档案修改所属村。")
        _refuse_second_request(session, resident.id)
        transfer = ResidentTransfer(
            resident_id=resident.id, from_village_id=resident.village_id, to_village_id=to_village_id,
            reason=reason.strip()[:200], requested_by=actor.username, requested_at=now(),
            status=MoveStatus.PENDING.value)
        session.add(transfer)
        session.flush()
        audit.record(session, actor, Action.CREATE, entity_type=ENTITY, entity_id=transfer.uuid,
                     summary=f"申请将档案 {resident.record_no} 迁入{village.name}")
        return _as_request(transfer, number, village.name, None)


def _refuse_second_request(session: Session, resident_id: int) -> None:
    pending = session.scalar(select(ResidentTransfer.id).where(
        ResidentTransfer.resident_id == resident_id, ResidentTransfer.status == MoveStatus.PENDING.value,
        ResidentTransfer.deleted.is_(False)))
    if pending is not None:
        raise UserFacingError("该档案已有一份待审批的迁村申请，请等待卫生院处理。")


def _as_request(transfer: ResidentTransfer, id_number: str | None, village: str,
                resident: Resident | None) -> MoveRequest:
    shown = resident if transfer.status == MoveStatus.APPROVED.value else None
    return MoveRequest(
        transfer.id, mask_id(id_number) if id_number else "", village, transfer.reason,
        MoveStatus(transfer.status), transfer.requested_at, transfer.decided_at, transfer.decision_note or "",
        shown.id if shown else None, shown.name if shown else "")


def decision_text(request: MoveRequest) -> str:
    """What the branch decided about one's request, in a sentence or two."""
    who = request.resident_name or f"身份证号 {request.id_number_masked} 的居民"
    text = f"申请把{who}的档案迁入{request.to_village}：卫生院{request.status.label}"
    if request.decided_at is not None:
        text += f"（{request.decided_at:%Y-%m-%d}）"
    if request.decision_note:
        text += f"。说明：{request.decision_note}"
    if request.status is MoveStatus.APPROVED:
        text += "。该档案已在本村名单中。"
    return text + ("" if text.endswith("。") else "。")


def my_move_requests(db: Database, actor: Actor) -> list[MoveRequest]:
    """The actor's own requests with their outcome, newest first."""
    require(actor, Permission.EDIT_RESIDENTS)
    with db.read() as session:
        rows = session.execute(
            select(ResidentTransfer, Resident, Village.name)
            .join(Resident, Resident.id == ResidentTransfer.resident_id)
            .join(Village, Village.id == ResidentTransfer.to_village_id)
            .where(ResidentTransfer.requested_by == actor.username, ResidentTransfer.deleted.is_(False))
            .order_by(ResidentTransfer.requested_at.desc(), ResidentTransfer.id.desc())).all()
        return [_as_request(transfer, resident.id_number, village, resident) for transfer, resident, village in rows]


def pending_moves(db: Database, actor: Actor) -> list[PendingMove]:
    """Every request waiting for the branch, oldest first."""
    require(actor, Permission.DECIDE_RECORD_MOVES)
    with db.read() as session:
        return pending_in(session)


def pending_for(db: Database, actor: Actor, resident_id: int) -> PendingMove:
    """The request waiting for the branch about this resident (what the home page's item opens)."""
    require(actor, Permission.DECIDE_RECORD_MOVES)
    with db.read() as session:
        found = [move for move in pending_in(session) if move.resident_id == resident_id]
    if not found:
        raise UserFacingError("该居民没有待审批的迁村申请，可能已被他人处理。请刷新工作台。")
    return found[0]


def pending_in(session: Session) -> list[PendingMove]:
    """The pending requests, read in the caller's session (the due list reads them too)."""
    source, target = aliased(Village), aliased(Village)
    rows = session.execute(
        select(ResidentTransfer, Resident.record_no, Resident.name, source.name, target.name, Account.display_name)
        .join(Resident, Resident.id == ResidentTransfer.resident_id)
        .join(source, source.id == ResidentTransfer.from_village_id)
        .join(target, target.id == ResidentTransfer.to_village_id)
        .outerjoin(Account, Account.username == ResidentTransfer.requested_by)
        .where(ResidentTransfer.status == MoveStatus.PENDING.value, ResidentTransfer.deleted.is_(False),
               Resident.deleted.is_(False))
        .order_by(ResidentTransfer.requested_at, ResidentTransfer.id)).all()
    return [PendingMove(t.id, t.resident_id, record_no, name, from_name, to_name, who or t.requested_by, t.reason,
                        t.requested_at) for t, record_no, name, from_name, to_name, who in rows]


def _pending(session: Session, actor: Actor, transfer_id: int) -> ResidentTransfer:
    require(actor, Permission.DECIDE_RECORD_MOVES)
    transfer = session.get(ResidentTransfer, transfer_id)
    if transfer is None or transfer.deleted:
        raise UserFacingError("该迁村申请不存在，请刷新后重试。")
    if transfer.status != MoveStatus.PENDING.value:
        raise UserFacingError(f"该迁村申请已处理（{MoveStatus(transfer.status).label}）。")
    return transfer


def _decide(transfer: ResidentTransfer, actor: Actor, status: MoveStatus, note: str) -> None:
    transfer.status, transfer.decided_by, transfer.decided_at = status.value, actor.username, now()
    transfer.decision_note = note.strip()[:200] or None


def _leave_household(session: Session, resident: Resident) -> None:
    """The moving resident leaves their household; a household left empty is closed."""
    if resident.household_id is None:
        return
    household = session.get(Household, resident.household_id)
    others = session.scalar(select(Resident.id).where(Resident.household_id == household.id,
                                                      Resident.id != resident.id, Resident.deleted.is_(False)))
    if household.head_id == resident.id and others is not None:
        raise UserFacingError(f"{resident.name}是户主，户内还有其他成员留在原村。请先把户主改为其他成员，再同意迁村。")
    if others is None:
        household.head_id, household.deleted = None, True
    resident.household_id, resident.relation_to_head = None, None


def _requester_staff(session: Session, username: str) -> int | None:
    return session.scalar(select(Account.staff_id).where(Account.username == username))


def approve_move(db: Database, actor: Actor, transfer_id: int, *, note: str = "") -> Changes:
    """Move the record into the requested village, alone (see the module's note on households)."""
    with db.write() as session:
        transfer = _pending(session, actor, transfer_id)
        resident = session.get(Resident, transfer.resident_id)
        before = snapshot(resident)
        _leave_household(session, resident)
        resident.village_id = transfer.to_village_id
        resident.responsible_doctor_id = _requester_staff(session, transfer.requested_by) \
            or resident.responsible_doctor_id
        _decide(transfer, actor, MoveStatus.APPROVED, note)
        session.flush()
        village = session.get(Village, transfer.to_village_id).name
        audit.record(session, actor, Action.UPDATE, entity_type="resident", entity_id=resident.uuid,
                     summary=f"{resident.record_no} 迁入{village}", before=before, after=snapshot(resident))
        audit.record(session, actor, Action.UPDATE, entity_type=ENTITY, entity_id=transfer.uuid,
                     summary=f"同意 {resident.name}（{resident.record_no}）迁入{village}")
        return Changes(residents=True, audit=True)


def refuse_move(db: Database, actor: Actor, transfer_id: int, *, note: str) -> Changes:
    """Refuse the request, saying why (the requester reads the note)."""
    if not note.strip():
        raise ValidationError.single("decision_note", "请填写不同意的理由，申请人会看到。")
    with db.write() as session:
        transfer = _pending(session, actor, transfer_id)
        resident = session.get(Resident, transfer.resident_id)
        _decide(transfer, actor, MoveStatus.REFUSED, note)
        session.flush()
        audit.record(session, actor, Action.UPDATE, entity_type=ENTITY, entity_id=transfer.uuid,
                     summary=f"不同意 {resident.name}（{resident.record_no}）迁村：{note.strip()}")
        return Changes(residents=True, audit=True)



DECISION_DAYS = 3  # the branch decides within three days; later the item shows as overdue
NOTICE_DAYS = 14  # the requester's home page shows a decision for two weeks


class MoveDueKind:
    """The record-move area's kinds of due item: a request waiting for the branch, a decision to read."""

    PENDING = DueKind("record_move_pending", "待审批的迁村申请")
    DECIDED = DueKind("record_move_decided", "迁村申请结果")


def pending_items(query: DueQuery) -> list[DueItem]:
    """Pending requests, for the people who decide them (due within DECISION_DAYS of the request)."""
    if not query.actor.can(Permission.DECIDE_RECORD_MOVES):
        return []
    items = []
    for move in pending_in(query.session):
        due_on = move.requested_at.date() + timedelta(days=DECISION_DAYS)
        if due_on <= query.until:
            items.append(DueItem(move.resident_id, move.record_no, move.name,
                                 f"{move.from_village}→{move.to_village}", MoveDueKind.PENDING, None, due_on, None))
    return items


def decided_items(query: DueQuery) -> list[DueItem]:
    """The requester's requests decided in the last NOTICE_DAYS: approved ones by name, refused ones by ID number."""
    since = datetime.combine(query.on - timedelta(days=NOTICE_DAYS), datetime.min.time())
    rows = query.session.execute(
        select(ResidentTransfer, Resident.record_no, Resident.name, Resident.id_number, Village.name)
        .join(Resident, Resident.id == ResidentTransfer.resident_id)
        .join(Village, Village.id == ResidentTransfer.to_village_id)
        .where(ResidentTransfer.requested_by == query.actor.username, ResidentTransfer.decided_at >= since,
               ResidentTransfer.status != MoveStatus.PENDING.value, ResidentTransfer.deleted.is_(False))).all()
    items = []
    for transfer, record_no, name, id_number, village in rows:
        approved = transfer.status == MoveStatus.APPROVED.value
        shown_name = name if approved else f"身份证号 {mask_id(id_number or '')}"
        label = f"{village}（{MoveStatus(transfer.status).label}）"
        due_on = transfer.decided_at.date() + timedelta(days=NOTICE_DAYS)
        items.append(DueItem(transfer.resident_id, record_no if approved else "", shown_name, label,
                             MoveDueKind.DECIDED, None, due_on, None))
    return items


def decision_for(db: Database, actor: Actor, resident_id: int) -> MoveRequest:
    """The actor's latest decided request about this resident (what the home page's notice opens)."""
    decided = [r for r in my_move_requests(db, actor) if r.status is not MoveStatus.PENDING]
    with db.read() as session:
        ids = set(session.scalars(select(ResidentTransfer.id).where(ResidentTransfer.resident_id == resident_id)))
    found = [request for request in decided if request.id in ids]
    if not found:
        raise UserFacingError("没有找到该迁村申请的审批结果。")
    return found[0]


def move_items(query: DueQuery) -> list[DueItem]:
    """Both kinds: what the branch must decide and what the requester should read."""
    return pending_items(query) + decided_items(query)


PENDING_MOVES = DueSource("record_moves", "迁村申请", (MoveDueKind.PENDING, MoveDueKind.DECIDED), move_items)
