"""What can be done to one resident from the register: one line per action.

The residents page makes a title-bar button and a context-menu entry for each registered
action, in order, shown to those the action allows and enabled while a resident it applies to
is selected. The handler gets the window context, the page and the selected row, and returns
the dialog it built (the page opens it and reports its saving) or None.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtWidgets import QWidget

from desktop.registry import Registry
from desktop.services.permissions import Actor, Permission
from desktop.services.resident_query import ResidentRow
from desktop.ui.chronic_panel import ChronicPanel
from desktop.ui.context import UiContext
from desktop.ui.household_view import HouseholdDialog
from desktop.ui.print_preview import show_form_preview
from desktop.ui.resident_form import StatusDialog

Handler = Callable[[UiContext, QWidget, ResidentRow], QWidget | None]


@dataclass(frozen=True)
class ResidentAction:
    """An action on the selected resident: key, Chinese label, handler, shortcut and who may use it."""

    key: str
    label: str
    handler: Handler
    shortcut: str = ""
    permission: Permission | None = None
    visible: Callable[[Actor], bool] | None = None
    applies: Callable[[Actor, ResidentRow], bool] | None = None  # enabled for this resident (default: always)

    def allowed(self, actor: Actor) -> bool:
        """Whether `actor` sees the action at all."""
        if self.permission is not None and not actor.can(self.permission):
            return False
        return self.visible(actor) if self.visible else True

    def applies_to(self, actor: Actor, row: ResidentRow) -> bool:
        """Whether the action is enabled with `row` selected."""
        return self.applies(actor, row) if self.applies else True


def status_dialog(ctx: UiContext, page: QWidget, row: ResidentRow) -> QWidget:
    """标记迁出/死亡: the status dialog for the resident."""
    return StatusDialog(ctx, row, parent=page)


def household_dialog(ctx: UiContext, page: QWidget, row: ResidentRow) -> QWidget:
    """户: the resident's household."""
    return HouseholdDialog(ctx, row, parent=page)


def profile_preview(ctx: UiContext, page: QWidget, row: ResidentRow) -> None:
    """打印档案: the 健康档案封面 and 个人基本信息表 in the print preview (opened when the PDF is ready)."""
    show_form_preview(ctx, page, "profile", row.record_no, title=f"{row.name} 居民健康档案")


def chronic_panel(ctx: UiContext, page: QWidget, row: ResidentRow) -> QWidget:
    """慢病/随访: chronic management's panel (enrolments, visits, health checks)."""
    return ChronicPanel(ctx, row.id, parent=page)


RESIDENT_ACTIONS: Registry[ResidentAction] = Registry("resident actions", lambda action: action.key)
RESIDENT_ACTIONS.add(ResidentAction("status", "标记迁出/死亡", status_dialog, permission=Permission.EDIT_RESIDENTS))
RESIDENT_ACTIONS.add(ResidentAction("household", "户", household_dialog))
RESIDENT_ACTIONS.add(ResidentAction("profile-print", "打印档案", profile_preview, permission=Permission.VIEW_RESIDENTS))
RESIDENT_ACTIONS.add(ResidentAction("chronic", "慢病/随访", chronic_panel, permission=Permission.VIEW_FOLLOWUPS))
