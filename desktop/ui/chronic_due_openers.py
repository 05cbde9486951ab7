"""How the home page opens chronic management's due items: the visit form or the health-check form.

Roles that may not record visits get the person's chronic panel instead.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QWidget

from desktop.services.due_base import DueItem
from desktop.services.permissions import Permission
from desktop.ui.chronic_panel import open_chronic_panel
from desktop.ui.context import UiContext
from desktop.ui.followup_form import open_followup_form
from desktop.ui.health_check_form import open_health_check_form


def open_followup_item(ctx: UiContext, parent: QWidget, item: DueItem,
                       shown: Callable[[QWidget], None]) -> QWidget | None:
    """A routine visit, recheck or referral follow-up: the visit form for the item's disease."""
    if not ctx.actor.can(Permission.EDIT_FOLLOWUPS):
        return open_chronic_panel(ctx, parent, item.resident_id)
    open_followup_form(ctx, parent, item.resident_id, item.disease, shown=shown)
    return None


def open_elderly_check_item(ctx: UiContext, parent: QWidget, item: DueItem,
                            shown: Callable[[QWidget], None]) -> QWidget | None:
    """A 65+ yearly check: a new health-check form."""
    if not ctx.actor.can(Permission.EDIT_FOLLOWUPS):
        return open_chronic_panel(ctx, parent, item.resident_id)
    open_health_check_form(ctx, parent, item.resident_id, shown=shown)
    return None
