"""The branch's secrets, kept outside the database file: the database key and the audit key.

They live in `township-desk.keys` in the data directory, protected for the Windows account by
DPAPI, elsewhere by file permissions (0600). The file is created once, at the first open of a
new data directory; losing it makes the database unreadable except with the recovery key.
"""

from __future__ import annotations

import base64
import json
import os
import secrets as random_bytes
import sys
from dataclasses import dataclass
from pathlib import Path

from desktop.errors import UserFacingError

SECRETS_VERSION = 1
KEY_BYTES = 32


@dataclass(frozen=True)
class SiteSecrets:
    """The keys that never enter the database file.

    `database_key` is SQLCipher's raw key (None for a plain file still to be encrypted);
    `audit_key` keys the audit chain's HMAC; entries before `audit_keyed_from` were chained
    with plain SHA-256 by an older version and stay verifiable as such. `pending_recovery_key` is
    the recovery key until it has been shown to the admin (setup, upgrade, an interrupted rotation),
    kept only here, never in the database or a backup.
    """

    database_key: bytes | None
    audit_key: bytes
    audit_keyed_from: int = 1
    pending_recovery_key: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "version": SECRETS_VERSION,
            "database_key": self.database_key.hex() if self.database_key else None,
            "audit_key": self.audit_key.hex(),
            "audit_keyed_from": self.audit_keyed_from,
            "pending_recovery_key": self.pending_recovery_key,
        }

    @classmethod
    def from_json(cls, value: dict[str, object]) -> SiteSecrets:
        database_key = value.get("database_key")
        return cls(
            database_key=bytes.fromhex(str(database_key)) if database_key else None,
            audit_key=bytes.fromhex(str(value["audit_key"])),
            audit_keyed_from=int(value.get("audit_keyed_from", 1)),  # type: ignore[arg-type]
            pending_recovery_key=str(value["pending_recovery_key"]) if value.get("pending_recovery_key") else None,
        )


class SecretsUnreadable(UserFacingError):
    """The key file is missing, damaged, or protected for another Windows account."""


def new_key() -> bytes:
    return random_bytes.token_bytes(KEY_BYTES)


def write_private(path: Path, data: bytes) -> None:
    """Write a file only this account can read (0600 where permissions mean that), replacing atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{random_bytes.token_hex(6)}.part")  # unique: two writers never share it
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _protect(data: bytes) -> tuple[str, bytes]:
    if sys.platform == "win32":
        from desktop import dpapi

        return "dpapi", dpapi.protect(data)
    return "file", data


def _unprotect(protection: str, data: bytes) -> bytes:
    if protection == "dpapi":
        from desktop import dpapi

        return dpapi.unprotect(data)
    if protection == "file":
        return data
    raise SecretsUnreadable(f"密钥文件的保护方式无法识别：{protection}")


def save_secrets(path: Path, site_secrets: SiteSecrets) -> None:
    """Store the secrets, protected for this account."""
    protection, payload = _protect(json.dumps(site_secrets.to_json()).encode("utf-8"))
    document = {"protection": protection, "payload": base64.b64encode(payload).decode("ascii")}
    write_private(path, json.dumps(document).encode("utf-8"))


def load_secrets(path: Path) -> SiteSecrets:
    """Read the stored secrets; a clear Chinese error when they cannot be read."""
    try:
        document = json.loads(path.read_bytes())
        payload = _unprotect(document["protection"], base64.b64decode(document["payload"]))
        return SiteSecrets.from_json(json.loads(payload))
    except FileNotFoundError as error:
        raise SecretsUnreadable("找不到本机的数据库密钥文件。请用恢复密钥从备份恢复。",
                                details=f"{path}；命令行：township-desk restore 备份文件 --recovery-key 恢复密钥") from error
    except SecretsUnreadable:
        raise
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise SecretsUnreadable("本机的数据库密钥文件无法读取（已损坏，或属于另一个 Windows 账户）。请用恢复密钥恢复。",
                                details=str(error)) from error
