"""Signed JSON envelopes: receipts, feed pages, catalogues and answers from the head hospital.

An envelope is `{"kind", "key_id", "body", "sig"}` where `body` is the base64 of the raw
JSON bytes and `sig` the Ed25519 signature over a per-kind context plus those raw bytes.
The reader verifies before it parses, and a receipt can never be passed off as a feed page.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from township_wire.crypto import KeyPair, PublicKeys, SignatureInvalid, b64, unb64


class EnvelopeKind(StrEnum):
    RECEIPT = "receipt"
    FEED = "feed"
    CATALOGUE = "catalogue"
    STATE = "state"
    RECORDS = "records"
    ANSWER = "answer"


_KIND_NAMES = {
    EnvelopeKind.RECEIPT: "回执",
    EnvelopeKind.FEED: "下发数据",
    EnvelopeKind.CATALOGUE: "目录",
    EnvelopeKind.STATE: "总院状态",
    EnvelopeKind.RECORDS: "总院存档记录",
    EnvelopeKind.ANSWER: "总院应答",
}


def canonical_bytes(value: Any) -> bytes:
    """The one canonical JSON encoding: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _context(kind: EnvelopeKind) -> bytes:
    return f"township-desk {kind.value} v1\n".encode("ascii")


def seal_envelope(kind: EnvelopeKind, body: dict[str, Any], keys: KeyPair) -> bytes:
    """Sign `body` as an envelope of `kind`; returns the envelope's bytes."""
    raw = canonical_bytes(body)
    envelope = {"kind": kind.value, "key_id": keys.public.key_id, "body": b64(raw),
                "sig": b64(keys.sign(_context(kind), raw))}
    return canonical_bytes(envelope)


def open_envelope(kind: EnvelopeKind, data: bytes | dict[str, Any], signer: PublicKeys) -> dict[str, Any]:
    """Verify an envelope of `kind` from `signer` and return its body; `SignatureInvalid` otherwise."""
    name = _KIND_NAMES[kind]
    try:
        envelope = json.loads(data) if isinstance(data, bytes | bytearray) else data
        declared, key_id = envelope["kind"], envelope["key_id"]
        raw = unb64(envelope["body"], what=name)
        signature = unb64(envelope["sig"], what=name)
    except (ValueError, KeyError, TypeError) as error:
        raise SignatureInvalid(f"{name}格式错误，已拒收。") from error
    if declared != kind.value:
        raise SignatureInvalid(f"{name}类型不符（收到的是 {declared}），已拒收。")
    if key_id != signer.key_id:
        raise SignatureInvalid(f"{name}不是由登记的总院密钥签发（密钥 {key_id}），已拒收。")
    try:
        signer.verify(_context(kind), raw, signature)
    except SignatureInvalid as error:
        raise SignatureInvalid(f"{name}签名校验失败：内容被改动或为伪造，已拒收。") from error
    body = json.loads(raw)
    if not isinstance(body, dict):
        raise SignatureInvalid(f"{name}内容格式错误，已拒收。")
    return body
