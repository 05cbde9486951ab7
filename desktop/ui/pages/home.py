"""工作台: the page everyone lands on. Shows the branch and what the signed-in person covers.

Due and overdue work (follow-ups, 65+ checks, referrals) plugs in here as those areas arrive.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import QGridLayout, QGroupBox, QLabel, QVBoxLayout

from desktop.backups import list_backups
from desktop.changes import Changes
from desktop.services.branch import VillageInfo, list_staff, list_villages
from desktop.ui.context import UiContext
from desktop.ui.pages.base import Page


@dataclass(frozen=True)
class HomeSummary:
    """What the home page shows, gathered in one background call."""

    villages: list[VillageInfo]
    staff_count: int
    last_backup: str


def load_summary(ctx: UiContext) -> HomeSummary:
    """Gather the home page's figures (runs on the database thread)."""
    villages = list_villages(ctx.db)
    if ctx.actor.is_village_bound:
        villages = [v for v in villages if v.id in ctx.actor.village_ids]
    backups = list_backups(ctx.app.paths)
    last = f"{backups[0].created:%Y-%m-%d %H:%M}" if backups else "尚无备份"
    return HomeSummary(villages=villages, staff_count=len(list_staff(ctx.db)), last_backup=last)


class HomePage(Page):
    """The landing page (工作台)."""

    title = "工作台"

    def __init__(self, ctx: UiContext) -> None:
        super().__init__(ctx)
        self.greeting = QLabel(f"{ctx.actor.display_name}（{ctx.actor.role.label}），您好。")
        self.body.addWidget(self.greeting)
        box = QGroupBox("本院概况" if not ctx.actor.is_village_bound else "我负责的村")
        self.grid = QGridLayout(box)
        self.body.addWidget(box)
        self.todo = QGroupBox("待办事项")
        todo_layout = QVBoxLayout(self.todo)
        todo_layout.addWidget(QLabel("随访、体检和转诊的到期提醒将在相应业务模块启用后显示在这里。"))
        self.body.addWidget(self.todo)
        self.body.addStretch(1)

    def activated(self) -> None:
        self.ctx.tasks.run_db(lambda: load_summary(self.ctx), on_success=self._show, parent=self)

    def on_changes(self, changes: Changes) -> None:
        if changes.branch:
            self.activated()

    def _show(self, summary: HomeSummary) -> None:
        while self.grid.count():
            item = self.grid.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        branch = self.ctx.branch
        facts = [
            ("分院", f"{branch.name}（{branch.record_prefix}）"),
            ("总院", branch.head_hospital_name),
            ("村（居）委会", f"{len(summary.villages)} 个"),
            ("村卫生室", f"{sum(len(v.clinic_names) for v in summary.villages)} 个"),
            ("在岗人员", f"{summary.staff_count} 人"),
            ("最近备份", summary.last_backup),
        ]
        for row, (name, value) in enumerate(facts):
            self.grid.addWidget(QLabel(name), row, 0)
            self.grid.addWidget(QLabel(value), row, 1)
        if self.ctx.actor.is_village_bound:
            names = "、".join(f"{v.name}（{v.code}）" for v in summary.villages)
            self.grid.addWidget(QLabel("负责村"), len(facts), 0)
            self.grid.addWidget(QLabel(names), len(facts), 1)
        self.grid.setColumnStretch(1, 1)
