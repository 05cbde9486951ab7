"""The Chinese words people see for sync codes: record states, package states, channels, log events.

The codes stay in the database and on the wire; every screen and printout names them through
these tables, and a code without a word reads as a plain Chinese fallback, never as the code.
"""

from __future__ import annotations

from desktop.models.base import SyncState

SYNC_STATE_LABELS: dict[str, str] = {
    SyncState.PENDING.value: "待发送",
    SyncState.IN_FLIGHT.value: "已发出，待总院回执",
    SyncState.SYNCED.value: "已同步",
    SyncState.ERROR.value: "被总院退回",
}
CHANNEL_LABELS: dict[str, str] = {"network": "网络", "usb": "U盘"}
PACKAGE_STATE_LABELS: dict[str, str] = {
    "built": "待发送",
    "exported": "已导出，待回执",
    "acknowledged": "总院已接收",
    "superseded": "已由后续数据包替代",
    "refused": "总院拒收",
}


class LogEvent:
    """The codes of the sync log's events (stored in sync_log.event)."""

    BUILD = "build"
    RECEIPT = "receipt"
    SUPERSEDED = "superseded"
    USB_EXPORT = "usb_export"
    REFUSED = "refused"
    ENROL = "enrol"
    AWAITING_APPROVAL = "awaiting_approval"
    RECOVER = "recover"
    CATALOGUE = "catalogue"
    INSECURE = "insecure"


LOG_EVENT_LABELS: dict[str, str] = {
    LogEvent.BUILD: "生成数据包",
    LogEvent.RECEIPT: "收到回执",
    LogEvent.SUPERSEDED: "数据包作废",
    LogEvent.USB_EXPORT: "U盘导出",
    LogEvent.REFUSED: "拒收",
    LogEvent.ENROL: "登记",
    LogEvent.AWAITING_APPROVAL: "等待总院批准",
    LogEvent.RECOVER: "从总院恢复",
    LogEvent.CATALOGUE: "收到目录",
    LogEvent.INSECURE: "连接未加密",
}


def sync_state_label(code: str | None) -> str:
    """A record's sync state in words."""
    return SYNC_STATE_LABELS.get(code or "", "状态不明")


def package_state_label(code: str | None) -> str:
    """A package's state in words."""
    return PACKAGE_STATE_LABELS.get(code or "", "状态不明")


def channel_label(code: str | None) -> str:
    """How a package travelled, in words."""
    return CHANNEL_LABELS.get(code or "", "其他方式")


def log_event_label(code: str | None) -> str:
    """A sync log event in words."""
    return LOG_EVENT_LABELS.get(code or "", "其他事件")
