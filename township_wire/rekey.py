"""Key rotation at enrolment: a site's new keys, signed with the keys the head hospital knows.

Enrolling a known site id with other keys is a re-key. The head hospital takes it only when
the enrolment carries `previous_key` = {key_id, signature}: the site's earlier signing key over
a fixed context, the site id and the new public keys. A stranger who read a site id somewhere
cannot make that signature; a site that lost its earlier key asks the head hospital's admin
for `head-hospital sites reset SITE_ID`. The new keys then wait for approval like any new key.
"""

from __future__ import annotations

from typing import Any

from township_wire.crypto import KeyPair, PublicKeys, SignatureInvalid, b64, unb64
from township_wire.envelope import canonical_bytes

FIELD = "previous_key"
_CONTEXT = b"township-desk rekey v1\n"


def rekey_message(site_id: str, new_keys: PublicKeys) -> bytes:
    """The bytes the earlier key signs: the site id and the new public keys, canonical JSON."""
    return canonical_bytes({"site_id": site_id, "keys": new_keys.to_json()})


def sign_rekey(earlier: KeyPair, site_id: str, new_keys: PublicKeys) -> dict[str, str]:
    """The `previous_key` value of an enrolment that moves `site_id` from `earlier` to `new_keys`."""
    return {"key_id": earlier.public.key_id, "signature": b64(earlier.sign(_CONTEXT, rekey_message(site_id, new_keys)))}


def verify_rekey(earlier: PublicKeys, site_id: str, new_keys: PublicKeys, proof: Any) -> None:
    """`SignatureInvalid` unless `proof` is `earlier`'s signature over this site id and these new keys."""
    if not isinstance(proof, dict) or not isinstance(proof.get("signature"), str):
        raise SignatureInvalid("更换密钥的签名（previous_key）缺失或格式错误。")
    if proof.get("key_id") != earlier.key_id:
        raise SignatureInvalid("更换密钥的签名不是由本站点登记的原密钥签发。")
    earlier.verify(_CONTEXT, rekey_message(site_id, new_keys), unb64(proof["signature"], what="更换密钥的签名"))
