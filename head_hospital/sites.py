"""Sites: enrolment with public keys, approval by fingerprint read out of band, revocation."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from head_hospital.db import HeadDatabase
from head_hospital.errors import Refused
from head_hospital.models import (
    SITE_APPROVED,
    SITE_PENDING,
    SITE_REVOKED,
    Record,
    RecordRejection,
    Site,
    Upload,
    iso,
    utc_now,
)
from township_wire import api
from township_wire.crypto import PublicKeys, b64, normalise_fingerprint
from township_wire.errors import UserFacingError

SITE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
STATUS_NAMES = {SITE_PENDING: "待审核", SITE_APPROVED: "已批准", SITE_REVOKED: "已吊销"}


def site_keys(site: Site) -> PublicKeys:
    return PublicKeys.from_json({"sign": site.sign_public, "box": site.box_public})


def _text(body: dict[str, Any], field: str, label: str, *, limit: int, required: bool = True) -> str:
    value = body.get(field, "")
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > limit:
        raise Refused(f"登记信息中的{label}（{field}）缺失或格式错误。", code=api.CODE_REJECTED)
    return value.strip()


def _enrol_keys(body: dict[str, Any]) -> PublicKeys:
    try:
        return PublicKeys.from_json(body["keys"])
    except (KeyError, TypeError, UserFacingError) as error:
        raise Refused("登记信息中的公钥（keys）缺失或格式错误。", code=api.CODE_REJECTED) from error


def enrol(db: HeadDatabase, body: dict[str, Any]) -> dict[str, Any]:
    """Register a site's public keys (pending until approved); repeating with the same keys is harmless."""
    claimed = str(body.get("site_id") or "")[:64] or None
    try:
        answer = _enrol(db, body)
    except Refused as error:
        raise db.refusal(error, "enrol_refused", site_id=claimed) from None
    db.log_event("enrolled", f"指纹 {answer['fingerprint']}，状态 {answer['status']}", site_id=claimed)
    return answer


def _enrol(db: HeadDatabase, body: dict[str, Any]) -> dict[str, Any]:
    site_id = _text(body, "site_id", "站点编号", limit=64)
    if not SITE_ID.match(site_id):
        raise Refused(f"站点编号 {site_id!r} 只能含字母、数字、点、横线和下划线。", code=api.CODE_REJECTED)
    name = _text(body, "name", "单位名称", limit=200)
    county = _text(body, "county_code", "县区代码", limit=12, required=False)
    township = _text(body, "township_code", "乡镇代码", limit=12, required=False)
    keys = _enrol_keys(body)
    with db.session() as session:
        site = session.get(Site, site_id, with_for_update=True)
        _refuse_shared_key(session, keys, site_id)
        if site is None:
            site = Site(site_id=site_id, enrolled_at=utc_now(), last_seq=0)
            session.add(site)
            _set_keys(site, keys, name, county, township)
        elif (site.sign_public, site.box_public) != (b64(keys.sign), b64(keys.box)):
            _rekey(site, keys, name, county, township)
        status = site.status
    return {"status": status, "fingerprint": keys.fingerprint, "head_keys": db.keys.public.to_json(),
            "head_name": db.name}


def _refuse_shared_key(session: Session, keys: PublicKeys, site_id: str) -> None:
    other = session.scalar(select(Site.site_id).where(Site.key_id == keys.key_id, Site.site_id != site_id))
    if other is not None:
        raise Refused("该密钥已由其他站点登记，请重新生成密钥后再登记。", code=api.CODE_REJECTED, status=409)


def _set_keys(site: Site, keys: PublicKeys, name: str, county: str, township: str) -> None:
    site.name, site.county_code, site.township_code = name, county, township
    site.sign_public, site.box_public = b64(keys.sign), b64(keys.box)
    site.key_id, site.fingerprint = keys.key_id, keys.fingerprint
    site.status, site.approved_at = SITE_PENDING, None


def _rekey(site: Site, keys: PublicKeys, name: str, county: str, township: str) -> None:
    """New keys for a known site: allowed while pending or after revocation, never over approved keys."""
    if site.status == SITE_APPROVED:
        raise Refused(f"站点 {site.site_id} 已用另一把密钥登记并获批准；如需更换密钥，请总院管理员先吊销原密钥。",
                      code=api.CODE_REJECTED, status=409)
    _set_keys(site, keys, name, county, township)
    site.enrolled_at, site.revoked_at = utc_now(), None


def approve(db: HeadDatabase, site_id: str, fingerprint: str) -> Site:
    """Approve a pending site once the fingerprint read out of band matches its enrolled key."""
    with db.session() as session:
        site = _existing(session, site_id)
        matches = normalise_fingerprint(fingerprint) == site.fingerprint
        if matches and site.status == SITE_PENDING:
            site.status, site.approved_at = SITE_APPROVED, utc_now()
    if not matches:
        db.log_event("approve_refused", f"指纹不符：输入 {fingerprint}", site_id=site_id)
        raise UserFacingError(f"指纹不符：站点 {site_id} 登记的密钥指纹不是 {fingerprint}，未批准。请与分院核对指纹。")
    if site.status == SITE_REVOKED:
        raise UserFacingError(f"站点 {site_id} 的密钥已吊销，不能再批准；请分院重新生成密钥并登记。")
    db.log_event("approved", f"指纹 {site.fingerprint}", site_id=site_id)
    return site


def revoke(db: HeadDatabase, site_id: str) -> Site:
    """Revoke a site's key: every later request or package signed with it is refused."""
    with db.session() as session:
        site = _existing(session, site_id)
        if site.status != SITE_REVOKED:
            site.status, site.revoked_at = SITE_REVOKED, utc_now()
    db.log_event("revoked", f"指纹 {site.fingerprint}", site_id=site_id)
    return site


def _existing(session: Session, site_id: str) -> Site:
    site = session.get(Site, site_id, with_for_update=True)
    if site is None:
        raise UserFacingError(f"没有编号为 {site_id} 的站点。")
    return site


def list_sites(db: HeadDatabase) -> list[dict[str, Any]]:
    """Every site with its status and what the head hospital holds from it."""
    with db.read() as session:
        held = dict(session.execute(select(Record.site_id, func.count()).group_by(Record.site_id)).all())
        rejected = dict(session.execute(
            select(RecordRejection.site_id, func.count()).group_by(RecordRejection.site_id)).all())
        pending = dict(session.execute(select(Upload.site_id, func.count()).group_by(Upload.site_id)).all())
        sites = session.scalars(select(Site).order_by(Site.site_id)).all()
        return [_site_row(site, held, rejected, pending) for site in sites]


def _site_row(site: Site, held: dict, rejected: dict, pending: dict) -> dict[str, Any]:
    return {"site_id": site.site_id, "name": site.name, "county_code": site.county_code,
            "township_code": site.township_code, "fingerprint": site.fingerprint, "status": site.status,
            "enrolled_at": iso(site.enrolled_at), "approved_at": iso(site.approved_at),
            "revoked_at": iso(site.revoked_at), "last_contact": iso(site.last_contact), "last_seq": site.last_seq,
            "records": held.get(site.site_id, 0), "rejected_records": rejected.get(site.site_id, 0),
            "pending_uploads": pending.get(site.site_id, 0)}
