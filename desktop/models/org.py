"""The branch, its villages and village clinics, staff, accounts and local settings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    Select,
    String,
    Table,
    Text,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from desktop.clock import now
from desktop.models.base import Base, SyncMixin, TimestampMixin


class Branch(TimestampMixin, Base):
    """This installation's township hospital. Exactly one row (id 1) once set up."""

    __tablename__ = "branch"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("length(county_code) = 6", name="county_code_length"),
        CheckConstraint("length(township_code) = 3", name="township_code_length"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    site_id: Mapped[str] = mapped_column(String(36), nullable=False, unique=True)
    county_code: Mapped[str] = mapped_column(String(6), nullable=False)
    township_code: Mapped[str] = mapped_column(String(3), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    head_hospital_name: Mapped[str] = mapped_column(String(100), nullable=False)
    is_demo: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    @staticmethod
    def site_id_query() -> Select[tuple[str]]:
        return select(Branch.site_id).where(Branch.id == 1)


class Village(SyncMixin, Base):
    """An administrative village (or residents' committee) with its 3-digit code."""

    __tablename__ = "village"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(3), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(50), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    clinics: Mapped[list[VillageClinic]] = relationship(back_populates="village", order_by="VillageClinic.id")


class VillageClinic(SyncMixin, Base):
    """A village clinic (村卫生室) where village doctors work."""

    __tablename__ = "village_clinic"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    has_ecg: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    village: Mapped[Village] = relationship(back_populates="clinics")


class Staff(SyncMixin, Base):
    """A member of staff of the branch or of a village clinic."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(50), nullable=False)
    sex: Mapped[str] = mapped_column(String(1), nullable=False, default="0")
    phone: Mapped[str | None] = mapped_column(String(20))
    title: Mapped[str | None] = mapped_column(String(50))
    post: Mapped[str] = mapped_column(String(30), nullable=False)
    deployment: Mapped[str] = mapped_column(String(20), nullable=False, default="本院")
    clinic_id: Mapped[int | None] = mapped_column(ForeignKey("village_clinic.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    clinic: Mapped[VillageClinic | None] = relationship()


account_villages = Table(
    "account_village",
    Base.metadata,
    Column("account_id", ForeignKey("account.id", ondelete="CASCADE"), primary_key=True),
    Column("village_id", ForeignKey("village.id"), primary_key=True),
)


class Account(TimestampMixin, Base):
    """A sign-in account. Local to this installation: accounts never travel."""

    __tablename__ = "account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(40, collation="NOCASE"), nullable=False, unique=True)
    display_name: Mapped[str] = mapped_column(String(50), nullable=False)
    role: Mapped[str] = mapped_column(String(30), nullable=False)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(200), nullable=False)
    must_change_password: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime)
    failed_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(DateTime)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    staff: Mapped[Staff | None] = relationship()
    villages: Mapped[list[Village]] = relationship(secondary=account_villages, order_by=Village.code)


class Setting(Base):
    """A local setting: key -> JSON text."""

    __tablename__ = "setting"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(Text, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=now, onupdate=now, nullable=False)


__all__ = ["Account", "Branch", "Setting", "Staff", "Village", "VillageClinic", "account_villages"]
