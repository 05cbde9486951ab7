"""Deciding a record-move request (迁村申请): the home page's item opens this dialog for the branch."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QLabel, QLineEdit, QMessageBox, QWidget

from desktop.services.due_base import DueItem
from desktop.services.record_moves import (
    MoveRequest,
    PendingMove,
    approve_move,
    decision_for,
    decision_text,
    pending_for,
    refuse_move,
)
from desktop.ui.context import UiContext
from desktop.ui.form_dialog import FormDialog, Work
from desktop.ui.forms import combo

APPROVE, REFUSE = "approve", "refuse"


class MoveDecisionDialog(FormDialog):
    """同意 moves the record into the requested village (alone); 不同意 needs a reason the requester reads."""

    def __init__(self, ctx: UiContext, move: PendingMove, parent: QWidget | None = None) -> None:
        super().__init__(ctx, "迁村申请", parent)
        self.move = move
        self.form.addRow("居民", QLabel(f"{move.name}（{move.record_no}）"))
        self.form.addRow("迁出/迁入", QLabel(f"{move.from_village} → {move.to_village}"))
        self.form.addRow("申请人", QLabel(f"{move.requested_by}，{move.requested_at:%Y-%m-%d %H:%M}"))
        if move.reason:
            self.form.addRow("申请理由", QLabel(move.reason))
        self.decision = self.add_field("审批", "decision", combo([("同意迁入", APPROVE), ("不同意", REFUSE)], APPROVE))
        self.note = self.add_field("说明", "decision_note", QLineEdit())
        self.note.setPlaceholderText("不同意时必填，申请人会看到")
        self.form.addRow("", QLabel("同意后该居民单独迁入新村（离开原户），档案编号不变，责任医生改为申请人。"))
        self.finish()

    def submit(self) -> Work:
        """Approve or refuse through the record-moves service."""
        ctx, move_id, note = self.ctx, self.move.id, self.note.text()
        if self.decision.currentData() == APPROVE:
            return lambda: approve_move(ctx.db, ctx.actor, move_id, note=note)
        return lambda: refuse_move(ctx.db, ctx.actor, move_id, note=note)


def open_pending_move_item(ctx: UiContext, parent: QWidget, item: DueItem,
                           shown: Callable[[QWidget], None]) -> QWidget | None:
    """A pending request on the home page: load it, then open the decision dialog."""
    def opened(move: PendingMove) -> None:
        dialog = MoveDecisionDialog(ctx, move, parent)
        shown(dialog)
        dialog.open()

    ctx.tasks.run_db(lambda: pending_for(ctx.db, ctx.actor, item.resident_id), on_success=opened, parent=parent)
    return None


def open_decided_move_item(ctx: UiContext, parent: QWidget, item: DueItem,
                           shown: Callable[[QWidget], None]) -> QWidget | None:
    """A decision on one's request: say what was decided (and why, when refused). Nothing to save here."""
    def opened(request: MoveRequest) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, "迁村申请结果", decision_text(request),
                          QMessageBox.StandardButton.Ok, parent)
        box.setObjectName("moveDecision")
        box.open()

    ctx.tasks.run_db(lambda: decision_for(ctx.db, ctx.actor, item.resident_id), on_success=opened, parent=parent)
    return None
