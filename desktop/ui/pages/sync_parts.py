"""The pieces of the 数据同步 page: what it loads, its tables' columns, and the enrolment form."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from desktop.errors import UserFacingError
from desktop.sync.addresses import plain_http_warning
from desktop.sync.labels import LogEvent, channel_label, log_event_label, package_state_label
from desktop.ui.forms import FieldErrors
from desktop.ui.tables import Column
from desktop.ui.theme import ERROR, load_bundled_font

if TYPE_CHECKING:
    from desktop.db import Database
    from desktop.sync.status import RejectedRecord, SyncStatus

FINGERPRINT_POINT_SIZE = 15
SERVER_FIELD = "server_url"
SERVER_PLACEHOLDER = "http://总院服务器地址:端口，例如 http://10.0.0.5:8400"
INSECURE_STYLE = "background: #fdf3d9; border: 1px solid #e8c66a; padding: 4px; color: #7a4f00;"

@dataclass(frozen=True)
class PackageRow:
    """One package sent (or written to a stick), as plain data."""

    seq: int
    channel: str
    state: str
    records: int
    applied: int
    duplicate: int
    rejected: int
    created_at: datetime
    acknowledged_at: datetime | None
    message: str


@dataclass(frozen=True)
class LogRow:
    at: datetime
    event: str
    message: str


@dataclass(frozen=True)
class SyncPageData:
    """Everything the page shows, read in one background call."""

    status: SyncStatus
    rejected: list[RejectedRecord]
    packages: list[PackageRow]
    log: list[LogRow]


def load_page_data(db: Database) -> SyncPageData:
    """Status, records sent back, package history and the sync log (runs on the database thread)."""
    from desktop.sync.status import package_history, rejected_records, sync_log, sync_status

    packages = [PackageRow(p.seq, p.channel, p.state, p.record_count, p.applied, p.duplicate, p.rejected,
                           p.created_at, p.acknowledged_at, p.message or "") for p in package_history(db)]
    log = [LogRow(entry.at, entry.event, entry.message) for entry in sync_log(db)]
    return SyncPageData(sync_status(db), rejected_records(db), packages, log)


def _stamp(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M:%S}" if value else ""


TYPE_COLUMNS = (
    Column("类型", lambda t: t.label),
    Column("待发送", lambda t: f"{t.pending + t.in_flight:,}", key=lambda t: t.pending + t.in_flight,
           tooltip=lambda t: f"尚未发送 {t.pending:,} 条，已发出待回执 {t.in_flight:,} 条"),
    Column("被退回", lambda t: f"{t.error:,}", key=lambda t: t.error, colour=lambda t: ERROR if t.error else None),
    Column("已同步", lambda t: f"{t.synced:,}", key=lambda t: t.synced),
)
REJECTED_COLUMNS = (
    Column("类型", lambda r: r.type_label),
    Column("原因", lambda r: r.reason, tooltip=lambda r: f"{r.reason}\n记录标识 {r.uuid}"),
    Column("版本", lambda r: str(r.version), key=lambda r: r.version),
    Column("时间", lambda r: _stamp(r.updated_at), key=lambda r: r.updated_at),
)
PACKAGE_COLUMNS = (
    Column("序号", lambda p: f"#{p.seq}", key=lambda p: p.seq),
    Column("方式", lambda p: channel_label(p.channel)),
    Column("状态", lambda p: package_state_label(p.state), tooltip=lambda p: p.message or ""),
    Column("记录数", lambda p: f"{p.records:,}", key=lambda p: p.records),
    Column("接收/重复/退回", lambda p: f"{p.applied:,} / {p.duplicate:,} / {p.rejected:,}" if p.acknowledged_at else "",
           colour=lambda p: ERROR if p.rejected else None),
    Column("时间", lambda p: _stamp(p.created_at), key=lambda p: p.created_at,
           tooltip=lambda p: f"生成于 {_stamp(p.created_at)}" + (f"，回执于 {_stamp(p.acknowledged_at)}"
                                                              if p.acknowledged_at else "")),
)
LOG_COLUMNS = (
    Column("时间", lambda e: _stamp(e.at), key=lambda e: e.at),
    Column("事件", lambda e: log_event_label(e.event),
           colour=lambda e: ERROR if e.event == LogEvent.REFUSED else None),
    Column("说明", lambda e: e.message, tooltip=lambda e: e.message),  # a long message whole, on hover
)


def fingerprint_label() -> QLabel:
    """A label for a key fingerprint: large monospace, selectable, so it can be read out over the phone."""
    label = QLabel()
    label.setObjectName("fingerprint")
    font = QFont(_monospace_family(), FINGERPRINT_POINT_SIZE)
    font.setStyleHint(QFont.StyleHint.Monospace)
    font.setBold(True)
    label.setFont(font)
    selectable(label)
    return label


def _monospace_family() -> str:
    """The bundled font's monospaced face when it is there, else the system's fixed font."""
    load_bundled_font()
    for family in QFontDatabase.families():
        if family.startswith("WenQuanYi") and "Mono" in family:
            return family
    return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont).family()


def selectable(label: QLabel) -> QLabel:
    """Let the person select and copy the label's text with the mouse or the keyboard."""
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                  | Qt.TextInteractionFlag.TextSelectableByKeyboard)
    return label


def insecure_label() -> QLabel:
    """The plain-http warning, hidden until an address calls for it (`show_insecure`)."""
    label = QLabel()
    label.setObjectName("insecureWarning")
    label.setWordWrap(True)
    label.setStyleSheet(INSECURE_STYLE)
    label.hide()
    return selectable(label)


def show_insecure(label: QLabel, url: str) -> None:
    """Show the warning when `url` is plain http to another computer; hide it otherwise."""
    warning = plain_http_warning(url)
    label.setText(f"⚠ {warning}" if warning else "")
    label.setVisible(warning is not None)


class EnrolForm(QWidget):
    """总院地址 and a 登记 button; errors appear under the field. Emits `submitted(address)`."""

    submitted = Signal(str)

    def __init__(self, button_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        form = QFormLayout()
        self.errors = FieldErrors()
        row = QWidget()
        row_layout = QHBoxLayout(row)
        row_layout.setContentsMargins(0, 0, 0, 0)
        self.address = QLineEdit()
        self.address.setPlaceholderText(SERVER_PLACEHOLDER)
        self.address.setMinimumWidth(360)
        self.address.setMaximumWidth(520)
        self.address.returnPressed.connect(self.submit)
        self.button = QPushButton(button_text)
        self.button.clicked.connect(self.submit)
        row_layout.addWidget(self.address, 1)
        row_layout.addWidget(self.button)
        row_layout.addStretch(1)
        self.errors.add_row(form, "总院地址(&D)", SERVER_FIELD, row)
        buddy = form.labelForField(row.parentWidget() or row)
        if isinstance(buddy, QLabel):
            buddy.setBuddy(self.address)
        layout.addLayout(form)
        layout.addWidget(self.errors.general)
        self.quiet_for = ""  # the address already warned about elsewhere on the page
        self.insecure = insecure_label()
        layout.addWidget(self.insecure)
        self.address.textChanged.connect(self._address_changed)

    def _address_changed(self, text: str) -> None:
        """Warn under the field as soon as the address is plain http to another computer."""
        show_insecure(self.insecure, "" if text.strip() == self.quiet_for else text)

    def submit(self) -> None:
        """Check the address is there, then ask the page to enrol with it."""
        address = self.address.text().strip()
        if not address:
            self.errors.show({SERVER_FIELD: "请填写总院接收服务的地址，例如 http://10.0.0.5:8400。"})
            return
        self.errors.clear()
        self.submitted.emit(address)

    def show_error(self, error: UserFacingError) -> None:
        """A refusal or a wrong address, under the field."""
        self.errors.show({SERVER_FIELD: error.message})

    def set_busy(self, busy: bool) -> None:
        self.button.setEnabled(not busy)
