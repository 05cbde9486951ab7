"""Printing for people, by name: the follow-up record forms and the self-care sheet.

Both go through the form registry (`desktop.printing.catalogue`), which checks the permission
(Permission.VIEW_FOLLOWUPS) and the village scope (village doctors print only their villages'
people) and audits every print (Action.PRINT). Paper carries the record as it is: the screen's
masking does not apply (these forms hold no ID or phone number anyway).
"""

from __future__ import annotations

from desktop.db import Database
from desktop.errors import UserFacingError
from desktop.models import HealthCheck, Resident
from desktop.printing.catalogue import print_form
from desktop.printing.followup_print import FORM as FOLLOWUP_FORM
from desktop.printing.people import clean_record_no
from desktop.printing.self_care_print import FORM as SELF_CARE_FORM
from desktop.printing.sheet import PrintedPdf
from desktop.rules.followup import Disease
from desktop.services.permissions import Actor, require

__all__ = ["clean_record_no", "followup_sheets_pdf", "self_care_pdf"]


def followup_sheets_pdf(db: Database, actor: Actor, record_no: str, disease: Disease | str, year: int) -> PrintedPdf:
    """The patient's 随访服务记录表 for the year: four visits a sheet, in date order."""
    return print_form(db, actor, FOLLOWUP_FORM.key, record_no, disease=disease, year=year)


def self_care_pdf(db: Database, actor: Actor, check_id: int) -> PrintedPdf:
    """The 老年人生活自理能力评估表 of one yearly health check."""
    require(actor, SELF_CARE_FORM.permission)
    with db.read() as session:
        check = session.get(HealthCheck, check_id)
        if check is None or check.deleted:
            raise UserFacingError("该体检记录不存在，请刷新后重试。")
        record_no, day = session.get(Resident, check.resident_id).record_no, check.check_date
    return print_form(db, actor, SELF_CARE_FORM.key, record_no, date=day)
