"""Answers to signed requests: every 2xx answer is signed, echoes the request's nonce and is sealed to the site.

Only the site that made the request can read the answer (records, ID numbers, receipts), and a
captured answer cannot be passed off as the answer to another request (`township_wire.answer`).
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.responses import Response

from head_hospital.db import HeadDatabase
from township_wire.answer import ANSWER_MEDIA_TYPE, seal_answer
from township_wire.crypto import PublicKeys
from township_wire.envelope import canonical_bytes


@dataclass(frozen=True)
class SignedRequest:
    """A request whose signature, clock and nonce were accepted."""

    site_id: str
    site_keys: PublicKeys
    nonce: str
    request: str  # "METHOD /path?query", as signed
    body: bytes


def answer(db: HeadDatabase, signed: SignedRequest, payload: bytes, *, status: int = 200,
           headers: dict[str, str] | None = None) -> Response:
    """`payload` as the sealed, signed answer to `signed`."""
    sealed = seal_answer(payload, nonce=signed.nonce, request=signed.request, status=status, head_keys=db.keys,
                         site=signed.site_keys)
    return Response(content=sealed, status_code=status, media_type=ANSWER_MEDIA_TYPE, headers=headers)


def answer_json(db: HeadDatabase, signed: SignedRequest, value: dict, *, status: int = 200,
                headers: dict[str, str] | None = None) -> Response:
    """A JSON object as the sealed, signed answer to `signed`."""
    return answer(db, signed, canonical_bytes(value), status=status, headers=headers)
