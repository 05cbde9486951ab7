"""Fresh requests only: the request's clock within a few minutes, and each nonce taken once.

A signed request carries a timestamp and a random 128-bit nonce under its signature. The
timestamp must be within `api.MAX_CLOCK_SKEW` of this server's clock; the nonce is stored in
`request_nonce` until that timestamp could no longer pass, so a captured request sent again
within the window finds its nonce taken and after the window fails the clock check.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, insert, update
from sqlalchemy.exc import IntegrityError

from head_hospital.db import HeadDatabase
from head_hospital.errors import Refused
from head_hospital.models import RequestNonce, Site, iso, utc_now
from township_wire import api

_MARGIN = timedelta(minutes=1)  # kept a little longer than any timestamp could still pass


def parse_request_time(text: str) -> datetime | None:
    """The request's timestamp (ISO 8601 or Unix seconds) as aware UTC; None when unreadable."""
    try:
        if text.strip().isdigit():
            return datetime.fromtimestamp(int(text), UTC)
        moment = datetime.fromisoformat(text.strip())
    except (ValueError, OverflowError, OSError):
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _amount(seconds: float) -> str:
    """A clock difference in the unit a clerk would use."""
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:.0f} 天"
    if seconds >= 90 * 60:
        return f"{seconds / 3600:.0f} 小时"
    return f"{max(1.0, seconds / 60):.0f} 分钟"


def clock_message(*, request_time: datetime, server_time: datetime) -> str:
    """Why a request's clock was refused, in words for the clerk (the same on both sides)."""
    skew = (request_time - server_time).total_seconds()
    direction = "快" if skew > 0 else "慢"
    allowed = int(api.MAX_CLOCK_SKEW.total_seconds() // 60)
    return (f"本机时钟比总院服务器{direction}了约 {_amount(abs(skew))}，超出允许的 {allowed} 分钟"
            f"（总院服务器时间 {server_time.astimezone(UTC):%Y-%m-%d %H:%M} UTC）。"
            "请在 Windows 的“日期和时间”设置中校准本机的日期、时间和时区（北京时间）后重试。")


def _refuse(db: HeadDatabase, site_id: str, refused: Refused) -> Refused:
    return db.refusal(refused, f"auth_{refused.code}", site_id=site_id)


def check_clock(db: HeadDatabase, *, site_id: str, timestamp: str) -> datetime:
    """The request's time when it is within the allowed skew; `Refused` (logged) otherwise."""
    moment = parse_request_time(timestamp)
    if moment is None:
        raise _refuse(db, site_id, Refused(f"请求时间 {timestamp[:40]!r} 格式错误。", code=api.CODE_BAD_SIGNATURE,
                                           status=401))
    server_time = utc_now()
    if abs(moment - server_time) > api.MAX_CLOCK_SKEW:
        raise _refuse(db, site_id, Refused(clock_message(request_time=moment, server_time=server_time),
                                           code=api.CODE_CLOCK_SKEW, status=401,
                                           extra={"server_time": iso(server_time)}))
    return moment


def require_nonce(db: HeadDatabase, *, site_id: str, nonce: str) -> None:
    """`Refused` (logged) unless the request carries a well-formed nonce (an older branch app does not)."""
    if not api.is_nonce(nonce):
        raise _refuse(db, site_id, Refused("请求缺少一次性随机数（X-Request-Nonce）或格式错误，请把分院软件升级到最新版本。",
                                           code=api.CODE_BAD_SIGNATURE, status=401))


def accept_request(db: HeadDatabase, *, site_id: str, timestamp: str, nonce: str) -> None:
    """Check the clock, take the nonce (refused if seen before) and note the contact, in one write."""
    require_nonce(db, site_id=site_id, nonce=nonce)
    moment = check_clock(db, site_id=site_id, timestamp=timestamp)
    now = utc_now()
    try:
        with db.session() as session:
            session.execute(delete(RequestNonce).where(RequestNonce.expires_at < now))
            session.execute(insert(RequestNonce).values(site_id=site_id, nonce=nonce,
                                                        expires_at=max(moment, now) + api.MAX_CLOCK_SKEW + _MARGIN))
            session.execute(update(Site).where(Site.site_id == site_id).values(last_contact=now))
    except IntegrityError as error:
        refused = Refused("该请求已经处理过（一次性随机数重复），可能是被截获后重放的请求，已拒绝。",
                          code=api.CODE_REPLAYED, status=401)
        raise _refuse(db, site_id, refused) from error
