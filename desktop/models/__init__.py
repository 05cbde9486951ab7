"""The ORM models, one module per area. Importing this package registers every table."""

from desktop.models.audit import AuditEntry
from desktop.models.base import Base, SyncMixin, SyncState, TimestampMixin
from desktop.models.chronic import ChronicEnrolment, FollowupVisit, HealthCheck
from desktop.models.org import (
    Account,
    Branch,
    Setting,
    Staff,
    Village,
    VillageClinic,
    account_villages,
)
from desktop.models.resident import Household, RecordNumberCounter, Resident, ResidentCondition, ResidentTransfer
from desktop.models.stamping import stamp_sync_records
from desktop.models.sync import Catalogue, SyncLogEntry, SyncPackage

__all__ = [
    "Account",
    "AuditEntry",
    "Base",
    "Branch",
    "Catalogue",
    "ChronicEnrolment",
    "FollowupVisit",
    "HealthCheck",
    "Household",
    "RecordNumberCounter",
    "Resident",
    "ResidentCondition",
    "ResidentTransfer",
    "Setting",
    "Staff",
    "SyncLogEntry",
    "SyncMixin",
    "SyncPackage",
    "SyncState",
    "TimestampMixin",
    "Village",
    "VillageClinic",
    "account_villages",
    "stamp_sync_records",
]
