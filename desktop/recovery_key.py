"""The recovery key: 48 digits in 8 groups of 6 (as BitLocker's), from which the database key is derived.

Each group is a 16-bit value times 11, so the key carries 128 random bits and every group checks
itself: a mistyped or swapped digit is told apart from a key that is well formed but wrong. The
database key is HKDF-SHA256(recovery key, info "township-desk database key v1"), so any backup
(a SQLCipher copy under the same key) opens on another PC with the recovery key alone. The audit
key is stored inside the database wrapped (AES-GCM) under a second key derived from the recovery
key, so a restore recovers it, while someone holding only the database key cannot read it.
"""

from __future__ import annotations

import base64
import json
import re
import secrets as random_bytes

from desktop.errors import ValidationError

GROUPS = 8
GROUP_DIGITS = 6
CHECK_DIVISOR = 11
RECOVERY_BYTES = 16
DATABASE_KEY_INFO = b"township-desk database key v1"
AUDIT_WRAP_INFO = b"township-desk audit key wrap v1"
WRAPPED_AUDIT_KEY_SETTING = "recovery.audit_key"
FIELD = "recovery_key"


def new_recovery_key() -> str:
    """A fresh random recovery key, formatted for printing."""
    return format_recovery_key(random_bytes.token_bytes(RECOVERY_BYTES))


def format_recovery_key(raw: bytes) -> str:
    """`123456-234567-…`: each 16-bit value times 11, six digits."""
    values = [int.from_bytes(raw[i:i + 2], "big") for i in range(0, RECOVERY_BYTES, 2)]
    return "-".join(f"{value * CHECK_DIVISOR:0{GROUP_DIGITS}d}" for value in values)


def parse_recovery_key(text: str) -> bytes:
    """The 16 bytes of a typed recovery key; a ValidationError naming the group that has a typo."""
    groups = re.findall(r"\d+", text or "")
    if len(groups) == 1 and len(groups[0]) == GROUPS * GROUP_DIGITS:
        groups = [groups[0][i:i + GROUP_DIGITS] for i in range(0, GROUPS * GROUP_DIGITS, GROUP_DIGITS)]
    if len(groups) != GROUPS or any(len(group) != GROUP_DIGITS for group in groups):
        raise ValidationError.single(FIELD, "恢复密钥应为 8 组、每组 6 位数字（如 123456-234567-…），请核对。")
    raw = b""
    for number, group in enumerate(groups, start=1):
        value, remainder = divmod(int(group), CHECK_DIVISOR)
        if remainder or value > 0xFFFF:
            raise ValidationError.single(FIELD, f"恢复密钥第 {number} 组（{group}）有误，可能抄错了数字，请核对。")
        raw += value.to_bytes(2, "big")
    return raw


def _derive(recovery: bytes, info: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(recovery)


def database_key_from(recovery_key: str) -> bytes:
    """SQLCipher's raw key for the database and its backups."""
    return _derive(parse_recovery_key(recovery_key), DATABASE_KEY_INFO)


def wrap_audit_key(recovery_key: str, *, audit_key: bytes, keyed_from: int) -> str:
    """The audit key (and where its chain starts) sealed under the recovery key, as setting text."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = random_bytes.token_bytes(12)
    plain = json.dumps({"audit_key": audit_key.hex(), "audit_keyed_from": keyed_from}).encode()
    sealed = AESGCM(_derive(parse_recovery_key(recovery_key), AUDIT_WRAP_INFO)).encrypt(nonce, plain, AUDIT_WRAP_INFO)
    return json.dumps({"version": 1, "sealed": base64.b64encode(nonce + sealed).decode("ascii")})


def unwrap_audit_key(recovery_key: str, wrapped: str) -> tuple[bytes, int] | None:
    """(audit key, keyed_from) from the setting text; None when it was sealed under another key."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        blob = base64.b64decode(json.loads(wrapped)["sealed"])
        plain = AESGCM(_derive(parse_recovery_key(recovery_key), AUDIT_WRAP_INFO)).decrypt(
            blob[:12], blob[12:], AUDIT_WRAP_INFO)
    except (InvalidTag, ValueError, KeyError, TypeError):
        return None
    value = json.loads(plain)
    return bytes.fromhex(value["audit_key"]), int(value["audit_keyed_from"])


def write_down_text(recovery_key: str) -> str:
    """The sentence shown with a new recovery key."""
    return (f"恢复密钥：{recovery_key}\n"
            "请立即把这串恢复密钥抄写或打印下来，交由院长或管理员妥善保管（不要存放在本电脑上）。"
            "本机密钥文件丢失或更换电脑时，只有用它才能打开数据库和备份；它只显示这一次。")
