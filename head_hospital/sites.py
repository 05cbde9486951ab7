"""Sites: enrolment with public keys, approval by fingerprint read out of band, revocation.

A known site id enrolling with other keys is a re-key: refused unless signed with the site's
earlier key (`township_wire.rekey`), or after an administrator's `sites reset` (or revocation).
New keys always wait for approval. While `max_pending` sites wait, a new site id is refused.
"""

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
from township_wire.crypto import PublicKeys, SignatureInvalid, b64, normalise_fingerprint
from township_wire.errors import UserFacingError
from township_wire.rekey import FIELD as REKEY_FIELD
from township_wire.rekey import verify_rekey
from township_wire.text import field_text_problem

SITE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")  # always fullmatch: "x\n" is no site id
CODE_RATE_LIMITED = "rate_limited"
STATUS_NAMES = {SITE_PENDING: "待审核", SITE_APPROVED: "已批准", SITE_REVOKED: "已吊销"}


def site_keys(site: Site) -> PublicKeys:
    return PublicKeys.from_json({"sign": site.sign_public, "box": site.box_public})


def valid_site_id(value: Any) -> bool:
    return isinstance(value, str) and SITE_ID.fullmatch(value) is not None


def _text(body: dict[str, Any], field: str, label: str, *, limit: int, required: bool = True) -> str:
    value = body.get(field, "")
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > limit:
        raise Refused(f"登记信息中的{label}（{field}）缺失或格式错误。", code=api.CODE_REJECTED)
    problem = field_text_problem(f"登记信息中的{label}（{field}）", value)
    if problem:
        raise Refused(f"{problem}，已拒绝登记。", code=api.CODE_REJECTED)
    return value.strip()


def _enrol_keys(body: dict[str, Any]) -> PublicKeys:
    try:
        return PublicKeys.from_json(body["keys"])
    except (KeyError, TypeError, UserFacingError) as error:
        raise Refused("登记信息中的公钥（keys）缺失或格式错误。", code=api.CODE_REJECTED) from error


def enrol(db: HeadDatabase, body: dict[str, Any], *, max_pending: int | None = None) -> dict[str, Any]:
    """Register a site's public keys (pending until approved); repeating with the same keys is harmless."""
    claimed = str(body.get("site_id") or "")[:64] or None
    try:
        answer, earlier = _enrol(db, body, max_pending=max_pending)
    except Refused as error:
        raise db.refusal(error, "enrol_refused", site_id=claimed) from None
    if earlier is None:
        db.log_event("enrolled", f"指纹 {answer['fingerprint']}，状态 {answer['status']}", site_id=claimed)
    else:
        db.log_event("rekeyed", f"原密钥指纹 {earlier} 签名更换为 {answer['fingerprint']}，待审核", site_id=claimed)
    return answer


def _enrol(db: HeadDatabase, body: dict[str, Any], *,
           max_pending: int | None) -> tuple[dict[str, Any], str | None]:
    """The answer, and the earlier fingerprint when a signed re-key replaced it."""
    site_id = _text(body, "site_id", "站点编号", limit=64)
    if not valid_site_id(site_id):
        raise Refused(f"站点编号 {site_id!r} 只能含字母、数字、点、横线和下划线。", code=api.CODE_REJECTED)
    name = _text(body, "name", "单位名称", limit=200)
    county = _text(body, "county_code", "县区代码", limit=12, required=False)
    township = _text(body, "township_code", "乡镇代码", limit=12, required=False)
    keys = _enrol_keys(body)
    rotated_from = None
    with db.session() as session:
        site = session.get(Site, site_id, with_for_update=True)
        _refuse_shared_key(session, keys, site_id)
        if site is None:
            _check_pending_room(session, max_pending)
            site = Site(site_id=site_id, enrolled_at=utc_now(), last_seq=0)
            session.add(site)
            _set_keys(site, keys, name, county, township)
        elif (site.sign_public, site.box_public) != (b64(keys.sign), b64(keys.box)):
            if site.status == SITE_REVOKED:
                _check_pending_room(session, max_pending)
            else:
                _check_rekey(site, keys, body.get(REKEY_FIELD))
                rotated_from = site.fingerprint
            _rekey(site, keys, name, county, township)
        status = site.status
    return ({"status": status, "fingerprint": keys.fingerprint, "head_keys": db.keys.public.to_json(),
             "head_name": db.name}, rotated_from)


def _check_pending_room(session: Session, max_pending: int | None) -> None:
    """Refuse (429) a new pending site while `max_pending` sites already wait for approval."""
    if max_pending is None:
        return
    waiting = session.scalar(select(func.count()).select_from(Site).where(Site.status == SITE_PENDING))
    if waiting >= max_pending:
        raise Refused(f"总院待审核的站点已达 {max_pending} 个上限，暂不受理新的登记。请联系总院管理员处理待审核站点后再试。",
                      code=CODE_RATE_LIMITED, status=429)


def _check_rekey(site: Site, keys: PublicKeys, proof: Any) -> None:
    """Other keys for a pending or approved site need the earlier key's signature."""
    state = STATUS_NAMES.get(site.status, site.status)
    if proof is None:
        raise Refused(f"站点 {site.site_id} 已用另一把密钥登记（{state}）。更换密钥须用原密钥签名；"
                      f"原密钥丢失时，请总院管理员核实后运行 head-hospital sites reset {site.site_id}，再重新登记。",
                      code=api.CODE_REJECTED, status=409)
    try:
        verify_rekey(site_keys(site), site.site_id, keys, proof)
    except SignatureInvalid as error:
        raise Refused(f"站点 {site.site_id} 更换密钥的签名校验失败：{error.message}未更换密钥。",
                      code=api.CODE_BAD_SIGNATURE, status=409) from error


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
    """New keys for a known site (checked by `_check_rekey`): pending again until approved."""
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


def reset(db: HeadDatabase, site_id: str, *, by: str) -> Site:
    """An administrator's reset: the site's keys are refused from now on and its next enrolment may bring new ones."""
    with db.session() as session:
        site = _existing(session, site_id)
        before, fingerprint = STATUS_NAMES.get(site.status, site.status), site.fingerprint
        site.status, site.revoked_at, site.approved_at = SITE_REVOKED, utc_now(), None
    db.log_event("site_reset", f"管理员（{by}）重置站点：原密钥指纹 {fingerprint}（{before}）作废，"
                               "该站点下次登记可使用新密钥，仍须核对指纹后批准", site_id=site_id)
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
