"""Life events on the register: death and moving out end a resident's management; services after them are refused.

Marking a resident dead (死亡) or moved out (迁出) closes their open chronic enrolments on that date
(end reason 死亡 / 迁出本辖区) in the same transaction. Putting the resident back on the register
(a mistake, reason required) reopens exactly the enrolments that event closed: those ended on the
event's date with the event's reason. `ensure_alive_on` is the one guard every service dated on a
day (visits, checks, contracts, referrals) calls before it stores anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop.db import Database
from desktop.errors import UserFacingError, ValidationError
from desktop.models import ChronicEnrolment, FollowupVisit, HealthCheck, Resident
from desktop.rules.followup import Disease
from desktop.rules.population import ResidentStatus
from desktop.services import audit
from desktop.services.audit import Action
from desktop.services.permissions import Actor, Permission, ensure_in_scope, require

_DISEASE_ORDER = [disease.value for disease in Disease]
END_REASON_OF = {ResidentStatus.DECEASED: "死亡", ResidentStatus.MOVED_OUT: "迁出本辖区"}


def service_refusal(resident: Resident, day: date, *, what: str = "随访") -> str | None:
    """Why a service dated `day` cannot be recorded for this resident, or None when it can."""
    status = ResidentStatus(resident.status)
    if status is ResidentStatus.ACTIVE or resident.status_date is None or day <= resident.status_date:
        return None
    if status is ResidentStatus.DECEASED:
        return f"该居民已于 {resident.status_date:%Y-%m-%d} 死亡，不能登记此后的{what}。"
    return f"该居民已于 {resident.status_date:%Y-%m-%d} 迁出本辖区，不能登记此后的{what}。"


def ensure_alive_on(resident: Resident, day: date | None, *, what: str = "随访", field: str = "visit_date") -> None:
    """Refuse (ValidationError on `field`) a service dated after the resident's death or move-out; no day, no check."""
    if day is not None and (message := service_refusal(resident, day, what=what)):
        raise ValidationError.single(field, message)


def open_enrolments(session: Session, resident_id: int) -> list[ChronicEnrolment]:
    """The resident's enrolments still open, hypertension before diabetes."""
    return sorted(session.scalars(select(ChronicEnrolment).where(
        ChronicEnrolment.resident_id == resident_id, ChronicEnrolment.ended_on.is_(None),
        ChronicEnrolment.deleted.is_(False))), key=lambda enrolment: _DISEASE_ORDER.index(enrolment.disease))


def _later_services(session: Session, resident_id: int, day: date) -> list[date]:
    visits = select(FollowupVisit.visit_date).where(
        FollowupVisit.resident_id == resident_id, FollowupVisit.visit_date > day, FollowupVisit.deleted.is_(False))
    checks = select(HealthCheck.check_date).where(
        HealthCheck.resident_id == resident_id, HealthCheck.check_date > day, HealthCheck.deleted.is_(False))
    return sorted([*session.scalars(visits), *session.scalars(checks)])


def refuse_later_records(session: Session, resident: Resident, status: ResidentStatus, day: date) -> None:
    """A death or move-out dated before recorded services (or before a management began) contradicts them."""
    later = _later_services(session, resident.id, day)
    if later:
        raise ValidationError.single("status_date", (
            f"{resident.name}在{status.label}日期 {day:%Y-%m-%d} 之后还有 {len(later)} 条随访或体检记录"
            f"（最近 {later[-1]:%Y-%m-%d}）。请核对{status.label}日期，或先作废这些记录。"))
    started = [e for e in open_enrolments(session, resident.id) if e.managed_from > day]
    if started:
        raise ValidationError.single("status_date", (
            f"{resident.name}的{Disease(started[0].disease).label}管理始于 {started[0].managed_from:%Y-%m-%d}，"
            f"晚于{status.label}日期。请核对日期。"))


@dataclass(frozen=True)
class EnrolmentChange:
    """What a status change did to the resident's management: diseases ended and diseases reopened."""

    ended: tuple[str, ...] = ()
    reopened: tuple[str, ...] = ()

    def __or__(self, other: EnrolmentChange) -> EnrolmentChange:
        return EnrolmentChange(self.ended + other.ended, self.reopened + other.reopened)

    def text(self) -> str:
        """The change in words, for the audit summary and the person at the desk."""
        parts = []
        if self.ended:
            parts.append(f"结束{'、'.join(Disease(d).label for d in self.ended)}管理")
        if self.reopened:
            parts.append(f"恢复{'、'.join(Disease(d).label for d in self.reopened)}管理")
        return "，".join(parts)


def _audit_enrolment(session: Session, actor: Actor, resident: Resident, enrolment: ChronicEnrolment,
                     what: str) -> None:
    audit.record(session, actor, Action.UPDATE, entity_type="chronic_enrolment", entity_id=enrolment.uuid,
                 summary=f"{resident.name}（{resident.record_no}）{what}{Disease(enrolment.disease).label}管理")


def close_enrolments(session: Session, actor: Actor, resident: Resident, status: ResidentStatus,
                     day: date) -> EnrolmentChange:
    """End every open enrolment on `day` with the event's reason (each audited)."""
    ended = []
    for enrolment in open_enrolments(session, resident.id):
        enrolment.ended_on, enrolment.end_reason = day, END_REASON_OF[status]
        session.flush()
        _audit_enrolment(session, actor, resident, enrolment, f"因{status.label}（{day:%Y-%m-%d}）终止")
        ended.append(enrolment.disease)
    return EnrolmentChange(ended=tuple(ended))


def reopen_enrolments(session: Session, actor: Actor, resident: Resident) -> EnrolmentChange:
    """Reopen the enrolments the resident's current death or move-out closed (same date, same reason)."""
    status = ResidentStatus(resident.status)
    if status is ResidentStatus.ACTIVE or resident.status_date is None:
        return EnrolmentChange()
    closed = list(session.scalars(select(ChronicEnrolment).where(
        ChronicEnrolment.resident_id == resident.id, ChronicEnrolment.deleted.is_(False),
        ChronicEnrolment.ended_on == resident.status_date, ChronicEnrolment.end_reason == END_REASON_OF[status],
    ).order_by(ChronicEnrolment.managed_from.desc())))
    closed.sort(key=lambda enrolment: _DISEASE_ORDER.index(enrolment.disease))
    reopened: list[str] = []
    for enrolment in closed:
        if enrolment.disease in reopened or _open_for(session, resident.id, enrolment.disease):
            continue
        enrolment.ended_on, enrolment.end_reason = None, None
        session.flush()
        _audit_enrolment(session, actor, resident, enrolment, f"撤销{status.label}登记，恢复")
        reopened.append(enrolment.disease)
    return EnrolmentChange(reopened=tuple(reopened))


def _open_for(session: Session, resident_id: int, disease: str) -> bool:
    return session.scalar(select(ChronicEnrolment.id).where(
        ChronicEnrolment.resident_id == resident_id, ChronicEnrolment.disease == disease,
        ChronicEnrolment.ended_on.is_(None), ChronicEnrolment.deleted.is_(False))) is not None


def apply_status(session: Session, actor: Actor, resident: Resident, status: ResidentStatus, *,
                 on: date | None, note: str) -> EnrolmentChange:
    """Change the resident's status in the caller's transaction, ending or reopening management to match.

    Back on the register (a mistake, `note` is the reason): the enrolments the event closed reopen.
    The same event on another date (a corrected date): they are closed again on the new date.
    From one event to the other (moved out, later died): what is still open closes on the new date.
    """
    was = ResidentStatus(resident.status)
    if status is ResidentStatus.ACTIVE and was is not ResidentStatus.ACTIVE and not note.strip():
        raise ValidationError.single("status_note", f"恢复在册请填写原因（例如：误登记为{was.label}）。")
    change = EnrolmentChange()
    if status is ResidentStatus.ACTIVE or status is was:
        change = reopen_enrolments(session, actor, resident)
    if status is not ResidentStatus.ACTIVE:
        assert on is not None
        refuse_later_records(session, resident, status, on)
        closed = close_enrolments(session, actor, resident, status, on)
        change = EnrolmentChange(ended=tuple(d for d in closed.ended if d not in change.reopened)) \
            if status is was else change | closed
    resident.status = status.value
    resident.status_date = None if status is ResidentStatus.ACTIVE else on
    resident.status_note = note.strip() or None
    return change


def resident_for_record(db: Database, actor: Actor, record_no: str) -> int:
    """The id of the resident with this record number, within the actor's villages (as the CLI names people)."""
    require(actor, Permission.VIEW_RESIDENTS)
    with db.read() as session:
        row = session.execute(select(Resident.id, Resident.village_id).where(
            Resident.record_no == record_no.strip(), Resident.deleted.is_(False))).first()
    if row is None:
        raise UserFacingError(f"没有档案编号为 {record_no.strip()} 的居民。")
    ensure_in_scope(actor, row.village_id)
    return row.id


@dataclass(frozen=True)
class StatusEffects:
    """What a status change would do to the resident's management, for the dialog to say beforehand."""

    closing: tuple[str, ...]  # diseases a death or move-out would end now
    reopening: tuple[str, ...]  # diseases going back on the register would reopen

    def text(self, status: ResidentStatus) -> str:
        """The effect of choosing `status`, in words (empty when nothing changes)."""
        diseases = self.reopening if status is ResidentStatus.ACTIVE else self.closing
        labels = "、".join(Disease(code).label for code in diseases)
        if not labels:
            return ""
        return f"将恢复{labels}管理" if status is ResidentStatus.ACTIVE else f"将同时结束{labels}管理"


def status_effects(db: Database, actor: Actor, resident_id: int) -> StatusEffects:
    """Which managements a death or move-out would end, and which going back on the register would reopen."""
    require(actor, Permission.VIEW_RESIDENTS)
    with db.read() as session:
        resident = session.get(Resident, resident_id)
        if resident is None or resident.deleted:
            raise UserFacingError("该档案不存在，请刷新后重试。")
        ensure_in_scope(actor, resident.village_id)
        closing = tuple(enrolment.disease for enrolment in open_enrolments(session, resident.id))
        reopening = ()
        status = ResidentStatus(resident.status)
        if status is not ResidentStatus.ACTIVE and resident.status_date is not None:
            reopening = tuple(dict.fromkeys(sorted(session.scalars(select(ChronicEnrolment.disease).where(
                ChronicEnrolment.resident_id == resident.id, ChronicEnrolment.deleted.is_(False),
                ChronicEnrolment.ended_on == resident.status_date,
                ChronicEnrolment.end_reason == END_REASON_OF[status])), key=_DISEASE_ORDER.index)))
        return StatusEffects(closing, reopening)
