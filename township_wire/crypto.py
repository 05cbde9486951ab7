"""Keys, signatures and sealed files, shared by the branch and the head hospital.

Every signature covers a fixed context prefix plus the raw bytes, so a signature made for
one purpose (a manifest) can never be passed off as another (a receipt). Sealing is X25519
to the recipient's key, HKDF-SHA256, then ChaCha20-Poly1305 over the whole file, with the
header as associated data.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import os
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from township_wire.errors import UserFacingError

SEALED_MAGIC = b"TDSEALED1\n"
_NONCE_BYTES = 12
_KEY_BYTES = 32


class SignatureInvalid(UserFacingError):
    """A signature does not match: the data was changed or signed by someone else."""


class SealBroken(UserFacingError):
    """A sealed file cannot be opened with this key (wrong recipient, damaged or changed)."""


@functools.cache
def _lib() -> Any:
    """The cryptography primitives, imported on first use (the window starts without them)."""
    from cryptography.exceptions import InvalidSignature, InvalidTag
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return SimpleNamespace(**{value.__name__: value for value in (
        InvalidSignature, InvalidTag, Ed25519PrivateKey, Ed25519PublicKey, X25519PrivateKey, X25519PublicKey,
        ChaCha20Poly1305, HKDF)}, hashes=hashes, serialization=serialization)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str, *, what: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError) as error:
        raise SignatureInvalid(f"{what}格式错误。") from error


def _raw_public(key: Any) -> bytes:
    encoding = _lib().serialization
    return key.public_bytes(encoding.Encoding.Raw, encoding.PublicFormat.Raw)


def _raw_private(key: Any) -> bytes:
    encoding = _lib().serialization
    return key.private_bytes(encoding.Encoding.Raw, encoding.PrivateFormat.Raw, encoding.NoEncryption())


def fingerprint(sign_public: bytes, box_public: bytes) -> str:
    """What a person reads over the phone: 32 hex digits in groups of four."""
    digest = hashlib.sha256(b"township-desk key v1\n" + sign_public + box_public).hexdigest()[:32].upper()
    return "-".join(digest[i:i + 4] for i in range(0, 32, 4))


def normalise_fingerprint(text: str) -> str:
    """Accept a fingerprint typed with or without dashes, spaces or lower case."""
    digits = "".join(ch for ch in text.upper() if ch in "0123456789ABCDEF")
    return "-".join(digits[i:i + 4] for i in range(0, len(digits), 4))


@dataclass(frozen=True)
class PublicKeys:
    """A party's two public keys: Ed25519 for signatures, X25519 for sealed files."""

    sign: bytes
    box: bytes

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.sign, self.box)

    @property
    def key_id(self) -> str:
        return self.fingerprint.replace("-", "")[:16]

    def to_json(self) -> dict[str, str]:
        return {"sign": b64(self.sign), "box": b64(self.box)}

    @classmethod
    def from_json(cls, value: dict[str, str]) -> PublicKeys:
        sign, box = unb64(value["sign"], what="公钥"), unb64(value["box"], what="公钥")
        if len(sign) != _KEY_BYTES or len(box) != _KEY_BYTES:
            raise SignatureInvalid("公钥长度不对。")
        return cls(sign=sign, box=box)

    def verify(self, context: bytes, data: bytes, signature: bytes) -> None:
        """Raise `SignatureInvalid` unless `signature` is this key's over context + data."""
        lib = _lib()
        try:
            lib.Ed25519PublicKey.from_public_bytes(self.sign).verify(signature, context + data)
        except (lib.InvalidSignature, ValueError) as error:
            raise SignatureInvalid("签名校验失败：数据被改动，或不是由登记的密钥签发。") from error


@dataclass(frozen=True)
class KeyPair:
    """A party's private keys (kept in its own database) with the public halves."""

    sign_private: bytes
    box_private: bytes

    @classmethod
    def generate(cls) -> KeyPair:
        lib = _lib()
        return cls(_raw_private(lib.Ed25519PrivateKey.generate()), _raw_private(lib.X25519PrivateKey.generate()))

    @property
    def public(self) -> PublicKeys:
        lib = _lib()
        sign = _raw_public(lib.Ed25519PrivateKey.from_private_bytes(self.sign_private).public_key())
        box = _raw_public(lib.X25519PrivateKey.from_private_bytes(self.box_private).public_key())
        return PublicKeys(sign=sign, box=box)

    def sign(self, context: bytes, data: bytes) -> bytes:
        return _lib().Ed25519PrivateKey.from_private_bytes(self.sign_private).sign(context + data)

    def to_json(self) -> dict[str, str]:
        return {"sign": b64(self.sign_private), "box": b64(self.box_private)}

    @classmethod
    def from_json(cls, value: dict[str, str]) -> KeyPair:
        return cls(unb64(value["sign"], what="私钥"), unb64(value["box"], what="私钥"))

    def open_sealed(self, sealed: bytes) -> bytes:
        """Open a file sealed to this key pair; `SealBroken` if it is not ours or was changed."""
        lib = _lib()
        header, ephemeral, nonce, ciphertext = _split_sealed(sealed)
        own_box = self.public.box
        shared = lib.X25519PrivateKey.from_private_bytes(self.box_private).exchange(
            lib.X25519PublicKey.from_public_bytes(ephemeral))
        try:
            return lib.ChaCha20Poly1305(_seal_key(shared, ephemeral, own_box)).decrypt(nonce, ciphertext, header)
        except lib.InvalidTag as error:
            raise SealBroken("加密数据包无法解开：不是发给本单位的，或文件已损坏、被改动。") from error


def _seal_key(shared: bytes, ephemeral: bytes, recipient_box: bytes) -> bytes:
    lib = _lib()
    return lib.HKDF(algorithm=lib.hashes.SHA256(), length=_KEY_BYTES, salt=ephemeral + recipient_box,
                    info=b"township-desk seal v1").derive(shared)


def seal(data: bytes, recipient: PublicKeys) -> bytes:
    """Encrypt `data` so only the holder of `recipient`'s X25519 key can read it."""
    lib = _lib()
    ephemeral_key = lib.X25519PrivateKey.generate()
    ephemeral = _raw_public(ephemeral_key.public_key())
    shared = ephemeral_key.exchange(lib.X25519PublicKey.from_public_bytes(recipient.box))
    nonce = os.urandom(_NONCE_BYTES)
    header = SEALED_MAGIC + recipient.key_id.encode("ascii") + b"\n" + ephemeral + nonce
    return header + lib.ChaCha20Poly1305(_seal_key(shared, ephemeral, recipient.box)).encrypt(nonce, data, header)


def sealed_recipient(sealed: bytes) -> str:
    """The key id a sealed file is addressed to (readable without the key)."""
    header_end = len(SEALED_MAGIC) + 17
    if not sealed.startswith(SEALED_MAGIC) or len(sealed) < header_end:
        raise SealBroken("不是本系统的加密数据包。")
    return sealed[len(SEALED_MAGIC):header_end - 1].decode("ascii", errors="replace")


def is_sealed(data: bytes) -> bool:
    return data.startswith(SEALED_MAGIC)


def _split_sealed(sealed: bytes) -> tuple[bytes, bytes, bytes, bytes]:
    sealed_recipient(sealed)
    header_end = len(SEALED_MAGIC) + 17 + _KEY_BYTES + _NONCE_BYTES
    if len(sealed) < header_end + 16:
        raise SealBroken("加密数据包不完整（文件被截断）。")
    header = sealed[:header_end]
    ephemeral = header[len(SEALED_MAGIC) + 17:len(SEALED_MAGIC) + 17 + _KEY_BYTES]
    nonce = header[-_NONCE_BYTES:]
    return header, ephemeral, nonce, sealed[header_end:]
