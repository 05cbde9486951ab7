"""The 健康档案封面 and 个人基本信息表 as a registered form: `print profile RECORD_NUMBER`."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop.models import Account, Branch, Resident, Staff, Village
from desktop.printing.people import RECORD_NO_HELP, clean_record_no, resident_for_print
from desktop.printing.profile_form import COVER_TITLE, TITLE, CoverRecord, ProfileRecord, profile_sheets
from desktop.printing.registry import PrintForm, Printout, register_form
from desktop.rules.idnumbers import mask_id
from desktop.rules.phones import mask_phone
from desktop.rules.profile import profile_of
from desktop.services.permissions import Actor, Permission

FORM_KEY = "profile"


def load_profile_form(session: Session, actor: Actor, key: str) -> Printout:
    """The cover and the 个人基本信息表 of one resident (numbers masked for roles that may not see them)."""
    resident = resident_for_print(session, actor, clean_record_no(key))
    full = actor.can(Permission.VIEW_IDENTITY)
    phone = resident.phone or ""
    phone = phone if full or not phone else mask_phone(phone)
    cover = _cover(session, resident, phone)
    profile = profile_of(resident)
    if not full and profile.contact_phone:
        profile = replace(profile, contact_phone=mask_phone(profile.contact_phone))
    id_number = resident.id_number or ""
    record = ProfileRecord(resident.name, resident.record_no, resident.sex, resident.birth_date,
                           id_number if full or not id_number else mask_id(id_number), resident.ethnicity, phone,
                           profile)
    return Printout(
        sheets=profile_sheets(cover, record), title=f"{resident.name} {COVER_TITLE}", village_id=resident.village_id,
        entity_type="resident", entity_id=resident.uuid,
        summary=f"打印 {resident.name}（{resident.record_no}）{COVER_TITLE}封面和{TITLE}")


def _cover(session: Session, resident: Resident, phone: str) -> CoverRecord:
    branch = session.get(Branch, 1)
    village = session.get(Village, resident.village_id)
    doctor = session.get(Staff, resident.responsible_doctor_id) if resident.responsible_doctor_id else None
    registered_by = session.scalar(select(Account.display_name).where(Account.username == resident.registered_by))
    unit = branch.name if branch else ""
    return CoverRecord(
        record_no=resident.record_no, name=resident.name, address=resident.address,
        household_address=resident.address if resident.residence_type == "1" else "", phone=phone,
        township=_township(unit), village=village.name if village else "", unit=unit,
        registered_by=registered_by or resident.registered_by, doctor=doctor.name if doctor else "",
        registered_on=resident.registered_on)


def _township(unit: str) -> str:
    """The township's name from the branch's (某某镇卫生院 -> 某某镇)."""
    for suffix in ("中心卫生院", "卫生院", "社区卫生服务中心"):
        if unit.endswith(suffix):
            return unit.removesuffix(suffix)
    return unit


def profile_example(session: Session) -> tuple[str, dict[str, Any]] | None:
    """The first resident on the register."""
    found = session.scalar(select(Resident.record_no).where(Resident.deleted.is_(False)).order_by(Resident.id).limit(1))
    return None if found is None else (found, {})


FORM = register_form(PrintForm(
    key=FORM_KEY,
    label=f"{COVER_TITLE}封面和{TITLE}",
    permission=Permission.VIEW_RESIDENTS,
    key_metavar="RECORD_NUMBER",
    key_help=RECORD_NO_HELP,
    load=load_profile_form,
    example=profile_example,
))
