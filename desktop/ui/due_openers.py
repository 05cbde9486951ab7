"""What a double-click on a due item opens, by the item's kind: one line per kind.

An opener gets the window context, the parent widget, the item and a `shown(dialog)` callback
for a dialog it opens later (after loading); it returns a dialog it opened at once, or None.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtWidgets import QWidget

from desktop.registry import Registry
from desktop.services.chronic_due import ChronicDueKind
from desktop.services.due_base import DueItem
from desktop.services.record_moves import MoveDueKind
from desktop.ui.chronic_due_openers import open_elderly_check_item, open_followup_item
from desktop.ui.context import UiContext
from desktop.ui.record_move_dialog import open_decided_move_item, open_pending_move_item

Opener = Callable[[UiContext, QWidget, DueItem, Callable[[QWidget], None]], QWidget | None]


@dataclass(frozen=True)
class DueOpener:
    """Opens items of one due kind (keyed by the kind's value)."""

    kind: str
    open: Opener


DUE_OPENERS: Registry[DueOpener] = Registry("due-item openers", lambda opener: opener.kind)
DUE_OPENERS.add(DueOpener(ChronicDueKind.ROUTINE.value, open_followup_item))
DUE_OPENERS.add(DueOpener(ChronicDueKind.RECHECK.value, open_followup_item))
DUE_OPENERS.add(DueOpener(ChronicDueKind.REFERRAL_FOLLOWUP.value, open_followup_item))
DUE_OPENERS.add(DueOpener(ChronicDueKind.ELDERLY_CHECK.value, open_elderly_check_item))
DUE_OPENERS.add(DueOpener(MoveDueKind.PENDING.value, open_pending_move_item))
DUE_OPENERS.add(DueOpener(MoveDueKind.DECIDED.value, open_decided_move_item))
