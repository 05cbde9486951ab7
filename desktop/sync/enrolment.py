"""Enrolment: this site makes its keys, tells the head hospital, and pins the head hospital's keys.

The head hospital's admin approves the site only after a person read them the fingerprint
printed here; until then every signed request is refused as not approved.

Enrolling again signs the request with this site's earlier key (`township_wire.rekey`): with
the same keys it is harmless, and with `new_keys=True` it is a key rotation the head hospital
takes as a new key waiting for approval. The new keys are kept (`ROTATING_KEY`) until the head
hospital has answered, so a lost answer is retried with the same keys, never stranded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from desktop.clock import now
from desktop.db import Database
from desktop.errors import UserFacingError
from desktop.services import audit
from desktop.services.audit import Action
from desktop.services.branch import get_branch
from desktop.services.permissions import Actor, Permission, require
from desktop.sync.outbox import log_event
from desktop.sync.site import CONFIG_KEY, Enrolment, enrolment, get_value, set_value
from desktop.sync.transport import RetryPolicy, ServerRefused, Transport
from desktop.sync.wire import warn_if_plain_http
from township_wire.crypto import KeyPair, PublicKeys
from township_wire.rekey import FIELD as REKEY_FIELD
from township_wire.rekey import sign_rekey

ROTATING_KEY = "sync.rotating_keys"  # new keys sent to the head hospital, not yet confirmed


@dataclass(frozen=True)
class EnrolResult:
    site_id: str
    fingerprint: str
    head_name: str
    head_fingerprint: str
    status: str


def enrol(db: Database, actor: Actor, server_url: str, *, retry: RetryPolicy | None = None,
          new_keys: bool = False) -> EnrolResult:
    """Register this site with the head hospital at `server_url` (again: same keys, same answer).

    With `new_keys` the site makes new keys, signed over by its earlier ones: a key rotation.
    """
    require(actor, Permission.ENROL_SITE)
    branch = get_branch(db)
    if branch is None:
        raise UserFacingError("尚未设置分院信息，不能登记。")
    existing, keys = _keys_to_enrol(db, new_keys=new_keys)
    request = {"site_id": branch.site_id, "name": branch.name, "county_code": branch.county_code,
               "township_code": branch.township_code, "keys": keys.public.to_json()}
    if existing is not None:
        request[REKEY_FIELD] = sign_rekey(existing.site_keys, branch.site_id, keys.public)
    warn_if_plain_http(db, server_url)
    transport = Transport(server_url, branch.site_id, keys, retry=retry or RetryPolicy(attempts=3))
    try:
        response = transport.request("POST", "/enrol", body=json.dumps(request, ensure_ascii=False).encode(),
                                     headers={"Content-Type": "application/json"}, signed=False)
    except ServerRefused:
        with db.write() as session:  # refused, not lost: the next attempt starts from the current keys
            set_value(session, ROTATING_KEY, None)
        raise
    finally:
        transport.close()
    answer, head_keys = _head_answer(response, server_url)
    if existing and existing.head_keys != head_keys:
        raise UserFacingError("该地址的总院密钥与登记时记录的不同，已停止登记。请核实总院地址，或请总院管理员确认其密钥。")
    pinned = Enrolment(site_id=branch.site_id, server_url=server_url, head_name=str(answer.get("head_name", "")),
                       head_keys=head_keys, site_keys=keys,
                       enrolled_at=existing.enrolled_at if existing else now().isoformat(timespec="seconds"))
    rotated = existing is not None and existing.site_keys.public != keys.public
    with db.write() as session:
        set_value(session, CONFIG_KEY, pinned.to_json())
        set_value(session, ROTATING_KEY, None)
        what = "更换本分院密钥（以原密钥签名）" if rotated else "登记"
        log_event(session, "enrol", f"向总院（{pinned.head_name}，{server_url}）{what}，本分院密钥指纹 "
                                    f"{keys.public.fingerprint}，状态 {answer.get('status')}")
        audit.record(session, actor, Action.UPDATE, entity_type="sync", entity_id="enrolment",
                     summary=f"向总院{what}：{server_url}，密钥指纹 {keys.public.fingerprint}")
    return EnrolResult(branch.site_id, keys.public.fingerprint, pinned.head_name, head_keys.fingerprint,
                       str(answer.get("status", "")))


def _keys_to_enrol(db: Database, *, new_keys: bool) -> tuple[Enrolment | None, KeyPair]:
    """The current enrolment and the keys to send: the same, or new ones kept until the head hospital answers."""
    with db.read() as session:
        existing = enrolment(session)
        rotating = get_value(session, ROTATING_KEY)
    if existing is None:
        return None, KeyPair.generate()
    if rotating:
        return existing, KeyPair.from_json(rotating)
    if not new_keys:
        return existing, existing.site_keys
    keys = KeyPair.generate()
    with db.write() as session:
        set_value(session, ROTATING_KEY, keys.to_json())
    return existing, keys


def _head_answer(response: Any, server_url: str) -> tuple[dict[str, Any], PublicKeys]:
    """The enrolment answer and the head hospital's keys; a clear refusal when something else answered."""
    try:
        answer = response.json()
        return answer, PublicKeys.from_json(answer["head_keys"])
    except (ValueError, KeyError, TypeError, AttributeError, UserFacingError) as error:
        raise UserFacingError(f"{server_url} 的应答不是总院接收服务的登记应答，未登记。请核对总院地址和端口。") from error
