"""Residents (居民健康档案), their households and recorded key-population conditions."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from desktop.models.base import Base, SyncMixin
from desktop.models.sync_columns import local_column, sync_table_args
from desktop.rules.pinyin import name_keys


def _reversed(value: str | None) -> str | None:
    return value[::-1] if value else None


def resident_search_keys(*, name: str, id_number: str | None, phone: str | None,
                         record_no: str) -> dict[str, str | None]:
    """The indexed search columns for these stored values (pinyin initials and full pinyin, reversed tails)."""
    initials, pinyin = name_keys(name)
    return {"name_initials": initials, "name_pinyin": pinyin, "name_rev": name[::-1],
            "id_number_rev": _reversed(id_number), "phone_rev": _reversed(phone), "record_no_rev": record_no[::-1]}


class Household(SyncMixin, Base):
    """A household (户): residents living together, one of them the head (户主)."""

    __tablename__ = "household"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"), nullable=False, index=True)
    head_id: Mapped[int | None] = mapped_column(
        ForeignKey("resident.id", use_alter=True, name="fk_household_head_id_resident")
    )
    address: Mapped[str] = mapped_column(String(200), nullable=False, default="")

    members: Mapped[list[Resident]] = relationship(back_populates="household", foreign_keys="Resident.household_id")


class Resident(SyncMixin, Base):
    """One person's health record. Search keys are kept in their own indexed columns.

    `*_rev` columns hold the value reversed, so "ends with" becomes an indexed prefix search. The search
    keys are local columns: they never travel and are recomputed here when a record arrives.
    """

    __tablename__ = "resident"
    derived_from: ClassVar[tuple[str, ...]] = ("name", "id_number", "phone", "record_no")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_no: Mapped[str] = mapped_column(String(17), nullable=False, unique=True)
    record_no_rev: Mapped[str] = local_column(String(17), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(50), nullable=False, index=True)
    name_initials: Mapped[str] = local_column(String(50), nullable=False, index=True)
    name_pinyin: Mapped[str] = local_column(String(200), nullable=False, index=True)
    name_rev: Mapped[str] = local_column(String(50), nullable=False, index=True)
    sex: Mapped[str] = mapped_column(String(1), nullable=False)
    birth_date: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    id_number: Mapped[str | None] = mapped_column(String(18), unique=True)
    id_number_rev: Mapped[str | None] = local_column(String(18), index=True)
    ethnicity: Mapped[str] = mapped_column(String(20), nullable=False, default="汉族")
    phone: Mapped[str | None] = mapped_column(String(20))
    phone_rev: Mapped[str | None] = local_column(String(20), index=True)
    address: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"), nullable=False)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"), index=True)
    relation_to_head: Mapped[str | None] = mapped_column(String(2))
    insurance_type: Mapped[str | None] = mapped_column(String(20))
    registered_on: Mapped[date] = mapped_column(Date, nullable=False)
    registered_by: Mapped[str] = mapped_column(String(40), nullable=False)
    responsible_doctor_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="active")
    status_date: Mapped[date | None] = mapped_column(Date)
    status_note: Mapped[str | None] = mapped_column(String(200))
    consent_given_by: Mapped[str | None] = mapped_column(String(50))
    consent_on: Mapped[date | None] = mapped_column(Date)
    consent_notice_version: Mapped[str | None] = mapped_column(String(20))
    # 个人基本信息表: codes as on the national form (see rules/profile.py); lists and histories as JSON.
    residence_type: Mapped[str | None] = mapped_column(String(1))  # 常住类型: 1 户籍, 2 非户籍
    work_unit: Mapped[str | None] = mapped_column(String(100))
    contact_name: Mapped[str | None] = mapped_column(String(50))
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    blood_type: Mapped[str | None] = mapped_column(String(1))
    rh_negative: Mapped[str | None] = mapped_column(String(1))
    education: Mapped[str | None] = mapped_column(String(2))
    occupation: Mapped[str | None] = mapped_column(String(2))
    marital_status: Mapped[str | None] = mapped_column(String(1))
    payment_methods: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    payment_other: Mapped[str | None] = mapped_column(String(100))
    drug_allergies: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    drug_allergy_other: Mapped[str | None] = mapped_column(String(100))
    exposures: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    # {"diseases": [{"code", "name", "date"}], "operations": [{"name", "date"}], "traumas": [...], "transfusions": [...]}
    past_history: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    # {"father": [codes], "mother": [...], "siblings": [...], "children": [...], "other": "..."}
    family_history: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    genetic_disease: Mapped[str | None] = mapped_column(String(100))
    disabilities: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    disability_other: Mapped[str | None] = mapped_column(String(100))
    # {"kitchen_exhaust", "fuel", "water", "toilet", "livestock"} -> code
    living_environment: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)

    household: Mapped[Household | None] = relationship(back_populates="members", foreign_keys=[household_id])
    conditions: Mapped[list[ResidentCondition]] = relationship(back_populates="resident", order_by="ResidentCondition.kind")

    __table_args__ = sync_table_args(Index("ix_resident_village_status", "village_id", "status"))

    @classmethod
    def derive_local(cls, values: Mapping[str, Any]) -> dict[str, Any]:
        """The search keys for these values."""
        return resident_search_keys(name=values["name"], id_number=values.get("id_number"),
                                    phone=values.get("phone"), record_no=values["record_no"])


class ResidentCondition(SyncMixin, Base):
    """A recorded key-population membership (diagnosis or social status) with its dates."""

    __tablename__ = "resident_condition"
    __table_args__ = sync_table_args(
        UniqueConstraint("resident_id", "kind"),
        Index("ix_resident_condition_kind", "kind", "resident_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    since: Mapped[date | None] = mapped_column(Date)
    until: Mapped[date | None] = mapped_column(Date)

    resident: Mapped[Resident] = relationship(back_populates="conditions")


class ResidentTransfer(SyncMixin, Base):
    """A request to move a resident's record into another village, decided by the branch."""

    __tablename__ = "resident_transfer"
    __table_args__ = sync_table_args(Index("ix_resident_transfer_status", "status", "to_village_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"), nullable=False, index=True)
    from_village_id: Mapped[int] = mapped_column(ForeignKey("village.id"), nullable=False)
    to_village_id: Mapped[int] = mapped_column(ForeignKey("village.id"), nullable=False)
    reason: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    requested_by: Mapped[str] = mapped_column(String(50), nullable=False)
    requested_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="pending")
    decided_by: Mapped[str | None] = mapped_column(String(50))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decision_note: Mapped[str | None] = mapped_column(String(200))


class RecordNumberCounter(Base):
    """The last serial issued per 12-digit prefix, so a record number is never issued twice."""

    __tablename__ = "record_number_counter"

    prefix: Mapped[str] = mapped_column(String(12), primary_key=True)
    last_serial: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
