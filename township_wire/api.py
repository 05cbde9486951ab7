"""The HTTP conversation between a site and the head hospital, shared by client and server.

Every request from an enrolled site is signed with its Ed25519 key over a fixed context,
the method, the path with query, a timestamp, a one-time value (a random 128-bit nonce) and
the body's sha256 (headers below). The server accepts a timestamp up to `MAX_CLOCK_SKEW` away
from its own clock and remembers every nonce for that window, so a captured request cannot be
sent again; ordering never depends on clocks.

Every 2xx answer to a signed request is an answer envelope (`township_wire.answer`): signed by
the head hospital, echoing the request's nonce, method and path and the HTTP status, and sealed
to the site's X25519 key; the site refuses an answer that is not sealed to it or does not echo
its own nonce. The bodies below are what the answer carries. Packages travel sealed to the head
hospital's key exactly as USB files do (`township_wire.crypto.seal`), so neither direction
carries a record in clear.

Endpoints (JSON unless stated):
- `POST /v1/enrol` (unsigned): {site_id, name, county_code, township_code, keys[, previous_key]} ->
  {status, fingerprint, head_keys, head_name}. The site stays `pending` until an admin approves
  the fingerprint read to them. Other keys for a known site need `previous_key`
  (`township_wire.rekey`); 429 `rate_limited` when enrolment is limited (docs/head-hospital-input.md).
- `GET /v1/state`: a signed STATE envelope {site_id, status, last_seq, counts, catalogues, server_time}.
- `POST /v1/uploads` {package_id, size, sha256, package_sha256}: `size` and `sha256` describe the
  sealed bytes that travel, `package_sha256` the signed package inside (its identity). 201
  {offset} for a new or unfinished upload, 200 with the receipt envelope when that package was
  already applied, 422 when the same id came with a different package or the seq is not newer
  than the last applied one.
- `GET /v1/uploads/{package_id}`: {offset, size}.
- `PATCH /v1/uploads/{package_id}`: raw sealed bytes; headers `Upload-Offset` and `Chunk-Sha256`;
  409 with {offset} when the offset is not where the server is.
- `POST /v1/uploads/{package_id}/commit`: the receipt envelope (bytes identical on every
  repeat); 409 while another request is applying the same package.
- `GET /v1/feed?after=N&limit=M`: a signed FEED envelope {site_id, after, entries, last_seq}.
- `GET /v1/own-records?after=CURSOR&limit=M`: a signed RECORDS envelope {site_id, records, next}:
  the site's own records as the head hospital holds them, for recovery after a restored backup.

Error bodies are {"code": one of the CODE_* below, "message": Chinese text for the clerk}; they
carry no personal data. A JSON body that is nested too deeply or is no JSON object is 400. A clock
too far off is refused with `CODE_CLOCK_SKEW` and the server's time in `server_time`; a nonce seen
before with `CODE_REPLAYED`.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from township_wire.crypto import KeyPair, PublicKeys, b64, unb64

API_PREFIX = "/v1"
HEADER_SITE = "X-Site-Id"
HEADER_TIME = "X-Request-Time"
HEADER_NONCE = "X-Request-Nonce"
HEADER_SIGNATURE = "X-Request-Signature"
HEADER_OFFSET = "Upload-Offset"
HEADER_CHUNK_SHA = "Chunk-Sha256"
CHUNK_BYTES = 64 * 1024
MAX_CLOCK_SKEW = timedelta(minutes=5)  # also how long the head hospital remembers a nonce
NONCE_BYTES = 16
_NONCE_PATTERN = re.compile(r"[0-9a-f]{32}")
_REQUEST_CONTEXT = b"township-desk request v2\n"

# Reasons a server gives in {"code": ...} of an error body, so the client can act on them.
CODE_NOT_ENROLLED = "not_enrolled"
CODE_NOT_APPROVED = "not_approved"
CODE_REVOKED = "revoked"
CODE_BAD_SIGNATURE = "bad_signature"
CODE_HASH_MISMATCH = "hash_mismatch"
CODE_SUPERSEDED = "superseded"
CODE_BUSY = "busy"
CODE_OFFSET = "offset_mismatch"
CODE_TOO_LARGE = "too_large"
CODE_REJECTED = "rejected"
CODE_REPLAYED = "replayed"
CODE_CLOCK_SKEW = "clock_skew"


def new_nonce() -> str:
    """A fresh one-time value for a request: 128 random bits as 32 lowercase hex digits."""
    return secrets.token_hex(NONCE_BYTES)


def is_nonce(text: str) -> bool:
    """True for a well-formed nonce (32 lowercase hex digits)."""
    return bool(_NONCE_PATTERN.fullmatch(text))


def request_message(method: str, path_and_query: str, timestamp: str, body: bytes, *, nonce: str) -> bytes:
    """The bytes a request signature covers: method, target, time, nonce and the body's sha256."""
    return "\n".join((method.upper(), path_and_query, timestamp, nonce,
                      hashlib.sha256(body).hexdigest())).encode("utf-8")


def sign_request(keys: KeyPair, site_id: str, method: str, path_and_query: str, timestamp: str,
                 body: bytes, *, nonce: str | None = None) -> dict[str, str]:
    """The headers that authenticate one request (a fresh nonce unless one is given)."""
    nonce = nonce or new_nonce()
    signature = keys.sign(_REQUEST_CONTEXT, request_message(method, path_and_query, timestamp, body, nonce=nonce))
    return {HEADER_SITE: site_id, HEADER_TIME: timestamp, HEADER_NONCE: nonce, HEADER_SIGNATURE: b64(signature)}


def verify_request(keys: PublicKeys, method: str, path_and_query: str, timestamp: str, body: bytes,
                   signature: str, *, nonce: str) -> None:
    """`SignatureInvalid` unless the request was signed by `keys`."""
    keys.verify(_REQUEST_CONTEXT, request_message(method, path_and_query, timestamp, body, nonce=nonce),
                unb64(signature, what="请求签名"))
