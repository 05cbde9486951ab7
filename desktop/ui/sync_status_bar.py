"""The sync corner of the status bar: 同步：在线/离线/未登记, 待发送, 被退回, 上次成功. A click opens 数据同步."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from desktop.clock import now
from desktop.ui.theme import ERROR

if TYPE_CHECKING:
    from desktop.sync.status import SyncStatus
    from desktop.ui.sync_controller import SyncController, SyncRun

ONLINE_COLOUR = "#2e8b57"
OFFLINE_COLOUR = "#d68910"
IDLE_COLOUR = "#9aa5ab"
BUSY_COLOUR = "#2f7383"
DOT_STYLE = "color: {colour}; padding: 0 0 0 8px; font-size: 12pt;"


def when_text(stamp: str | None, today: date) -> str:
    """A stored ISO time as 今天 10:02, 昨天 18:30 or 2026-11-20 09:15; 从未 when there is none."""
    if not stamp:
        return "从未"
    try:
        at = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    if at.date() == today:
        return f"今天 {at:%H:%M}"
    if at.date() == today - timedelta(days=1):
        return f"昨天 {at:%H:%M}"
    return f"{at:%Y-%m-%d %H:%M}"


@dataclass(frozen=True)
class ConnectionState:
    """One word for where this site stands with the head hospital, and its dot's colour."""

    word: str
    colour: str


def connection_state(status: SyncStatus | None, *, busy: bool = False, last_run: SyncRun | None = None
                     ) -> ConnectionState:
    """未登记, 正在同步…, 在线, 离线, 未连接 (never tried), 等待总院批准, or 在线（未完成）after a refusal."""
    if status is None:
        return ConnectionState("读取中…", IDLE_COLOUR)
    if not status.enrolled:
        return ConnectionState("未登记", IDLE_COLOUR)
    if busy:
        return ConnectionState("正在同步…", BUSY_COLOUR)
    if status.online is None:
        return ConnectionState("未连接", IDLE_COLOUR)
    if status.online is False:
        return ConnectionState("离线", OFFLINE_COLOUR)
    if last_run.awaiting_approval if last_run is not None else status.awaiting_approval:
        return ConnectionState("等待总院批准", BUSY_COLOUR)
    if last_run is not None and last_run.refused:
        return ConnectionState("在线（未完成）", OFFLINE_COLOUR)
    return ConnectionState("在线", ONLINE_COLOUR)


@dataclass(frozen=True)
class StatusTexts:
    """What the status bar shows, worked out without any widget."""

    state: ConnectionState
    pending: str
    rejected: str  # empty when nothing was sent back
    last: str
    tooltip: str


def status_texts(status: SyncStatus | None, *, busy: bool = False, last_run: SyncRun | None = None,
                 today: date | None = None) -> StatusTexts:
    """The status bar's texts for a status, whether a sync runs, and how the last one of this session ended."""
    today = today or now().date()
    state = connection_state(status, busy=busy, last_run=last_run)
    if status is None:
        return StatusTexts(state, "", "", "", "")
    rejected = f"被退回 {status.errors:,} 条" if status.errors else ""
    last = f"上次成功 {when_text(status.last_success, today)}"
    return StatusTexts(state, f"待发送 {status.unsent:,} 条", rejected, last, _tooltip(status, last_run))


def _tooltip(status: SyncStatus, last_run: SyncRun | None) -> str:
    if not status.enrolled:
        return "本分院尚未向总院登记，数据暂存本机。点击打开“数据同步”。"
    lines = [f"总院：{status.head_name}（{status.server_url}）"]
    attempt = status.last_attempt
    if last_run is not None:
        lines.append(f"本次登录最近一次：{last_run.at:%H:%M:%S} {last_run.message}")
    elif attempt:
        lines.append(f"最近一次尝试：{str(attempt.get('at', '')).replace('T', ' ')} {attempt.get('message', '')}")
    lines.append("点击打开“数据同步”。")
    return "\n".join(lines)


class SyncStatusWidget(QWidget):
    """Dot, state, unsent, sent back, last success — kept in step with the session's controller."""

    clicked = Signal()

    def __init__(self, controller: SyncController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("syncStatus")
        self.controller = controller
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.dot = QLabel("●")
        self.state_label = QLabel()
        self.pending_label = QLabel()
        self.rejected_label = QLabel()
        self.rejected_label.setStyleSheet(f"color: {ERROR}; font-weight: bold;")
        self.last_label = QLabel()
        for label in (self.dot, self.state_label, self.pending_label, self.rejected_label, self.last_label):
            layout.addWidget(label)
        self.dot.setStyleSheet(DOT_STYLE.format(colour=IDLE_COLOUR))
        self.state_label.setStyleSheet("padding: 0 8px 0 3px;")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        controller.status_changed.connect(lambda _status: self.update_texts())
        controller.busy_changed.connect(lambda _busy: self.update_texts())
        controller.finished.connect(lambda _run: self.update_texts())
        self.update_texts()

    def update_texts(self) -> None:
        """Show the controller's latest status."""
        texts = status_texts(self.controller.status, busy=self.controller.busy, last_run=self.controller.last_run)
        self.texts = texts
        self.dot.setStyleSheet(DOT_STYLE.format(colour=texts.state.colour))
        self.state_label.setText(f"同步：{texts.state.word}")
        self.pending_label.setText(texts.pending)
        self.rejected_label.setText(texts.rejected)
        self.rejected_label.setVisible(bool(texts.rejected))
        self.last_label.setText(texts.last)
        self.setToolTip(texts.tooltip)
        self.setAccessibleName(self.text())

    def text(self) -> str:
        """Everything the widget says, in one line (for tests and the accessible name)."""
        parts = [f"同步：{self.texts.state.word}", self.texts.pending, self.texts.rejected, self.texts.last]
        return "  ".join(part for part in parts if part)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit()
        super().mousePressEvent(event)

