"""Packages that came on a USB stick: open the sealed file, ingest it, write the sealed return file.

The return file `<package_id>.tdreturn` holds the receipt and the site's feed after the
checkpoint named in the package, sealed to the site's own key so only that site can read it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from head_hospital.db import HeadDatabase
from head_hospital.errors import Refused
from head_hospital.feed import FEED_MAX, feed_envelope
from head_hospital.ingest import Ingested, ingest
from head_hospital.models import CHANNEL_USB, Site
from head_hospital.sealed import open_sealed_package
from head_hospital.sites import site_keys
from township_wire import api
from township_wire.crypto import seal
from township_wire.envelope import canonical_bytes
from township_wire.files import RETURN_SUFFIX, write_durably
from township_wire.package import MAX_PACKAGE_BYTES

_SEAL_OVERHEAD = 1024


@dataclass(frozen=True)
class UsbImport:
    ingested: Ingested
    return_file: Path | None


def open_usb_file(db: HeadDatabase, sealed: bytes, *, source: str) -> bytes:
    """The package zip inside a sealed USB file; `Refused` (logged) if it is not for this head hospital."""
    return open_sealed_package(db, sealed, source=source, event="usb_unreadable")


def return_file_bytes(db: HeadDatabase, ingested: Ingested) -> bytes:
    """The sealed return file: receipt and feed, readable only with the site's key."""
    with db.read() as session:
        site = session.get(Site, ingested.site_id)
        keys = site_keys(site)
    feed = feed_envelope(db, ingested.site_id, after=ingested.checkpoint, limit=FEED_MAX * 100)
    content = {"receipt": json.loads(ingested.receipt), "feed": json.loads(feed)}
    return seal(canonical_bytes(content), keys)


def import_usb(db: HeadDatabase, path: Path, *, receipt_out: Path | None = None) -> UsbImport:
    """Ingest one USB file (channel usb) and, with `receipt_out`, write its return file there."""
    try:
        if Path(path).stat().st_size > MAX_PACKAGE_BYTES + _SEAL_OVERHEAD:
            raise db.refusal(Refused(f"文件 {Path(path).name} 过大，不是本系统的数据包。", code=api.CODE_TOO_LARGE,
                                     status=413), "usb_too_large")
        sealed = Path(path).read_bytes()
    except OSError as error:
        raise Refused(f"无法读取文件 {path}：{error.strerror or error}", code=api.CODE_REJECTED) from error
    package = open_usb_file(db, sealed, source=Path(path).name)
    ingested = ingest(db, package, channel=CHANNEL_USB)
    written = None
    if receipt_out is not None:
        written = Path(receipt_out) / f"{ingested.package_id}{RETURN_SUFFIX}"
        write_durably(written, return_file_bytes(db, ingested))
    return UsbImport(ingested=ingested, return_file=written)

