"""What the branch adds on the wire: packages sealed for the network, the plain-http warning, clock words.

A network package is sealed to the head hospital's key with the same `township_wire.crypto.seal`
as a USB file, once, and the sealed bytes replace the plain ones in `sync_package.content`, so a
resumed or repeated upload sends exactly the same bytes. Qt-free.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import select, update

from desktop.db import Database
from desktop.models import SyncPackage
from desktop.sync.addresses import plain_http_warning
from desktop.sync.labels import LogEvent
from desktop.sync.outbox import BuiltPackage, log_event
from township_wire.api import MAX_CLOCK_SKEW
from township_wire.crypto import PublicKeys, is_sealed, seal
from township_wire.package import sha256_hex

log = logging.getLogger("township_desk.sync")


def warn_if_plain_http(db: Database, url: str) -> str | None:
    """Log the plain-http warning (program log and sync log) as a sync or enrolment starts; the warning or None."""
    warning = plain_http_warning(url)
    if warning is not None:
        log.warning("sync over plain http to %s: %s", url, warning)
        with db.write() as session:
            log_event(session, LogEvent.INSECURE, warning)
    return warning


def sealed_for_network(db: Database, package: BuiltPackage, head_keys: PublicKeys) -> tuple[bytes, str]:
    """The package sealed to the head hospital (sealed once, then kept) and the signed package's sha256."""
    with db.write() as session:
        stored, package_sha256 = session.execute(select(SyncPackage.content, SyncPackage.sha256).where(
            SyncPackage.package_id == package.package_id)).one()
        if stored is not None and is_sealed(stored):
            return stored, package_sha256
        plain = stored if stored is not None else package.content
        sealed = seal(plain, head_keys)
        if stored is not None:
            session.execute(update(SyncPackage).where(SyncPackage.package_id == package.package_id)
                            .values(content=sealed))
        return sealed, package_sha256 or sha256_hex(plain)


def _on_this_pc(moment: datetime) -> datetime:
    """A time in this computer's time zone (a naive time is taken as UTC)."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone()


def clock_problem(*, local: datetime, server: datetime) -> str:
    """The clerk's words for a clock the head hospital refused: how far off, and what to do."""
    skew = (local - server).total_seconds()
    minutes = abs(skew) / 60
    amount = (f"{minutes / 1440:.0f} 天" if minutes >= 2880 else f"{minutes / 60:.0f} 小时" if minutes >= 90
              else f"{max(1.0, minutes):.0f} 分钟")
    allowed = int(MAX_CLOCK_SKEW.total_seconds() // 60)
    here, there = _on_this_pc(local), _on_this_pc(server)
    return (f"本机时钟比总院服务器{'快' if skew > 0 else '慢'}了约 {amount}，超出允许的 {allowed} 分钟，总院拒绝了本次同步。"
            f"按本机时区，总院服务器现在是 {there:%Y-%m-%d %H:%M}，本机是 {here:%Y-%m-%d %H:%M}。"
            "请在 Windows 的“日期和时间”设置中校准本机的日期、时间和时区（北京时间），然后再同步；数据都已保留在本机。")
