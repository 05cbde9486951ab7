"""Finding the person a form is printed for: by 健康档案编号, within the actor's villages."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop.errors import UserFacingError, ValidationError
from desktop.models import Resident
from desktop.rules.text import squeeze
from desktop.services.permissions import Actor, ensure_in_scope

RECORD_NO_DIGITS = 17
RECORD_NO_HELP = "17 位健康档案编号"


def clean_record_no(text: str) -> str:
    """The 17-digit 健康档案编号, accepting spaces, dashes and full-width digits."""
    digits = squeeze(str(text)).replace("-", "")
    if len(digits) != RECORD_NO_DIGITS or not digits.isascii() or not digits.isdigit():
        raise ValidationError.single("record_no", f"档案编号“{text}”应为 17 位数字。")
    return digits


def resident_for_print(session: Session, actor: Actor, record_no: str) -> Resident:
    """The resident with this record number, refused if outside the actor's villages."""
    resident = session.scalar(select(Resident).where(Resident.record_no == record_no, Resident.deleted.is_(False)))
    if resident is None:
        raise UserFacingError(f"没有档案编号为 {record_no} 的居民。")
    ensure_in_scope(actor, resident.village_id)
    return resident
