"""Chronic-disease management: enrolments, follow-up visits, yearly health checks."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, DateTime, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from desktop.models.base import Base, SyncMixin
from desktop.models.sync_columns import sync_table_args


class ChronicEnrolment(SyncMixin, Base):
    """A resident under hypertension or type 2 diabetes management (慢病管理), from start to end."""

    __tablename__ = "chronic_enrolment"
    __table_args__ = sync_table_args(
        Index("ix_chronic_enrolment_resident", "resident_id", "disease"),
        # At most one open enrolment per resident and disease.
        Index("uq_chronic_enrolment_open", "resident_id", "disease", unique=True,
              sqlite_where=text("ended_on IS NULL AND deleted = 0")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"), nullable=False)
    disease: Mapped[str] = mapped_column(String(20), nullable=False)
    diagnosed_on: Mapped[date] = mapped_column(Date, nullable=False)
    managed_from: Mapped[date] = mapped_column(Date, nullable=False)
    responsible_doctor_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    ended_on: Mapped[date | None] = mapped_column(Date)
    end_reason: Mapped[str | None] = mapped_column(String(100))


class FollowupVisit(SyncMixin, Base):
    """One follow-up visit with every field of the national form (HT and DM share the skeleton)."""

    __tablename__ = "followup_visit"
    __table_args__ = sync_table_args(
        Index("ix_followup_visit_resident_day", "resident_id", "disease", "visit_date"),
        # Covers the indicators' pass over a year's visits without touching the wide rows.
        Index("ix_followup_visit_day", "visit_date", "deleted", "disease", "resident_id", "method", "sbp", "dbp",
              "fasting_glucose"),
        Index("ix_followup_visit_enrolment_day", "enrolment_id", "visit_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("chronic_enrolment.id"), nullable=False)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"), nullable=False)
    disease: Mapped[str] = mapped_column(String(20), nullable=False)
    visit_date: Mapped[date] = mapped_column(Date, nullable=False)
    method: Mapped[str] = mapped_column(String(1), nullable=False)
    symptoms: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    symptoms_other: Mapped[str | None] = mapped_column(String(200))
    # 体征
    sbp: Mapped[int | None] = mapped_column(Integer)
    dbp: Mapped[int | None] = mapped_column(Integer)
    weight: Mapped[float | None] = mapped_column(Float)
    target_weight: Mapped[float | None] = mapped_column(Float)
    height: Mapped[float | None] = mapped_column(Float)
    heart_rate: Mapped[int | None] = mapped_column(Integer)
    # Where the readings come from: 1 measured by the doctor, 2 the patient's own (phone visits), 3 not measured.
    measurement: Mapped[str | None] = mapped_column(String(1))
    foot_pulse: Mapped[str | None] = mapped_column(String(1))
    foot_pulse_side: Mapped[str | None] = mapped_column(String(4))
    signs_other: Mapped[str | None] = mapped_column(String(200))
    # 生活方式指导: now / target
    lifestyle: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    # 辅助检查
    fasting_glucose: Mapped[float | None] = mapped_column(Float)
    hba1c: Mapped[float | None] = mapped_column(Float)
    hba1c_date: Mapped[date | None] = mapped_column(Date)
    tests_other: Mapped[str | None] = mapped_column(String(200))
    medication_adherence: Mapped[str | None] = mapped_column(String(1))
    adverse_reaction: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    adverse_reaction_note: Mapped[str | None] = mapped_column(String(200))
    hypoglycemia: Mapped[str | None] = mapped_column(String(1))
    new_complication: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # Empty until the doctor chooses; the rules' suggestion is empty when no reading decides it.
    classification: Mapped[str | None] = mapped_column(String(1))
    suggested_classification: Mapped[str | None] = mapped_column(String(1))
    override_reason: Mapped[str | None] = mapped_column(String(200))
    next_step: Mapped[str] = mapped_column(String(1), nullable=False)
    medications: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    insulin: Mapped[str | None] = mapped_column(String(100))  # 胰岛素种类
    insulin_dose: Mapped[str | None] = mapped_column(String(100))
    # 用药调整意见: [{"name", "dose"}]
    medication_advice: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    referral_reason: Mapped[str | None] = mapped_column(String(200))
    referral_to: Mapped[str | None] = mapped_column(String(100))
    referral_result: Mapped[str | None] = mapped_column(String(1))  # 转诊结果: 1 到位, 2 不到位
    referral_contact: Mapped[str | None] = mapped_column(String(50))
    emergency_reasons: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    # The referral draft this visit opened, once referrals exist; the flag above keeps the need meanwhile.
    referral_uuid: Mapped[str | None] = mapped_column(String(36))
    next_visit_date: Mapped[date] = mapped_column(Date, nullable=False)
    doctor_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    doctor_name: Mapped[str] = mapped_column(String(50), nullable=False)
    resident_signed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    note: Mapped[str | None] = mapped_column(Text)
    # The latest correction's reason, and a void's reason and time (a voided visit is also `deleted`).
    correction_reason: Mapped[str | None] = mapped_column(String(200))
    corrected_at: Mapped[datetime | None] = mapped_column(DateTime)
    void_reason: Mapped[str | None] = mapped_column(String(200))
    voided_at: Mapped[datetime | None] = mapped_column(DateTime)


class HealthCheck(SyncMixin, Base):
    """The yearly health check (健康体检); for people 65+ it carries the self-care assessment."""

    __tablename__ = "health_check"
    __table_args__ = sync_table_args(
        Index("ix_health_check_resident_day", "resident_id", "check_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"), nullable=False)
    check_date: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    # 一般状况
    sbp: Mapped[int | None] = mapped_column(Integer)
    dbp: Mapped[int | None] = mapped_column(Integer)
    heart_rate: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[float | None] = mapped_column(Float)
    weight: Mapped[float | None] = mapped_column(Float)
    waist: Mapped[float | None] = mapped_column(Float)
    bmi: Mapped[float | None] = mapped_column(Float)
    # 生活自理能力评估: item -> Dependence value; total stored for reports, recomputed on save
    self_care: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    self_care_total: Mapped[int | None] = mapped_column(Integer)
    # 生活方式: exercise, diet, smoking, drinking
    lifestyle: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    # 辅助检查: name -> value
    results: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    # 症状 (codes of the national form) and 查体/脏器功能: name -> value
    symptoms: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    examination: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    # 健康评价: None until the doctor decides; False 体检无异常, True 有异常
    evaluation_abnormal: Mapped[bool | None] = mapped_column(Boolean)
    evaluation_note: Mapped[str | None] = mapped_column(String(500))
    guidance: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    doctor_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    doctor_name: Mapped[str] = mapped_column(String(50), nullable=False)
    correction_reason: Mapped[str | None] = mapped_column(String(200))
    corrected_at: Mapped[datetime | None] = mapped_column(DateTime)
    void_reason: Mapped[str | None] = mapped_column(String(200))
    voided_at: Mapped[datetime | None] = mapped_column(DateTime)
