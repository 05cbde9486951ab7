"""Answers to signed requests: signed by the head hospital, echoing the request, sealed to the site.

The body is {"nonce", "request": "METHOD /path?query", "status", "payload": base64 of the
answer's bytes}. It is signed as an ANSWER envelope and the envelope is sealed to the site's
X25519 key with `township_wire.crypto.seal`, the same sealing as USB files. The site opens it
with its own key, checks the head hospital's signature, then that nonce, request and status
are those of the request it sent: an answer captured from another request is refused.
"""

from __future__ import annotations

from township_wire.crypto import KeyPair, PublicKeys, SealBroken, SignatureInvalid, b64, is_sealed, seal, unb64
from township_wire.envelope import EnvelopeKind, open_envelope, seal_envelope

ANSWER_MEDIA_TYPE = "application/vnd.township-desk.answer"


class AnswerRefused(SignatureInvalid):
    """An answer that is not sealed to this site, not signed by its head hospital, or not for this request."""


def request_line(method: str, path_and_query: str) -> str:
    """How an answer names the request it answers: "GET /v1/feed?after=3"."""
    return f"{method.upper()} {path_and_query}"


def seal_answer(payload: bytes, *, nonce: str, request: str, status: int, head_keys: KeyPair,
                site: PublicKeys) -> bytes:
    """The answer's bytes on the wire: `payload` signed with the request it answers, sealed to `site`."""
    body = {"nonce": nonce, "request": request, "status": status, "payload": b64(payload)}
    return seal(seal_envelope(EnvelopeKind.ANSWER, body, head_keys), site)


def open_answer(sealed: bytes, *, nonce: str, request: str, status: int, site_keys: KeyPair,
                head: PublicKeys) -> bytes:
    """The payload of an answer to the request with `nonce`; `AnswerRefused` for anything else."""
    if not is_sealed(sealed):
        raise AnswerRefused("总院的应答未加密封装，已拒收（总院接收服务可能需要升级，或连接被他人篡改）。")
    try:
        envelope = site_keys.open_sealed(sealed)
    except SealBroken as error:
        raise AnswerRefused("总院的应答无法解开：不是发给本分院的，或在传输中被改动，已拒收。") from error
    try:
        body = open_envelope(EnvelopeKind.ANSWER, envelope, head)
    except SignatureInvalid as error:
        raise AnswerRefused(error.message) from error
    if body.get("nonce") != nonce:
        raise AnswerRefused("总院的应答不是对本次请求的应答（一次性随机数不符，可能是被截获后重放的旧应答），已拒收。")
    if body.get("request") != request or body.get("status") != status:
        raise AnswerRefused("总院的应答与本次请求不符（请求或状态被改动），已拒收。")
    payload = body.get("payload")
    if not isinstance(payload, str):
        raise AnswerRefused("总院的应答格式错误，已拒收。")
    return unb64(payload, what="总院应答")
