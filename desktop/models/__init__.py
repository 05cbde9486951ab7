"""The ORM models, one module per area. Importing this package registers every table."""

from desktop.models.audit import AuditEntry
from desktop.models.base import Base, SyncMixin, SyncState, TimestampMixin
from desktop.models.org import (
    Account,
    Branch,
    Setting,
    Staff,
    Village,
    VillageClinic,
    account_villages,
)

__all__ = [
    "Account",
    "AuditEntry",
    "Base",
    "Branch",
    "Setting",
    "Staff",
    "SyncMixin",
    "SyncState",
    "TimestampMixin",
    "Village",
    "VillageClinic",
    "account_villages",
]
