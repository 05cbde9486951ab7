"""Opening a package sealed to this head hospital's key: the same for a USB file and a network upload."""

from __future__ import annotations

from head_hospital.db import HeadDatabase
from head_hospital.errors import Refused
from township_wire import api
from township_wire.crypto import SealBroken, sealed_recipient


def open_sealed_package(db: HeadDatabase, sealed: bytes, *, source: str, event: str, site_id: str | None = None,
                        package_id: str | None = None) -> bytes:
    """The package zip inside `sealed`; `Refused` (logged as `event`) if it is not sealed to this head hospital."""
    try:
        recipient = sealed_recipient(sealed)
        if recipient != db.keys.public.key_id:
            raise SealBroken(f"该文件是发给另一总院（密钥 {recipient}）的，不是本总院。")
        return db.keys.open_sealed(sealed)
    except SealBroken as error:
        refused = Refused(f"{source}：{error.message}", code=api.CODE_REJECTED, extra={"reason": "sealed"})
        raise db.refusal(refused, event, site_id=site_id, package_id=package_id) from error
