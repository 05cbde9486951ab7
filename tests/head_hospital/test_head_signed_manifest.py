"""A manifest signed by an enrolled site is still checked: malformed lists are refused and logged, never crashed on."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from head_support import Branch, events, new_branch, nothing_written

from head_hospital.db import HeadDatabase
from head_hospital.errors import Refused
from head_hospital.ingest import ingest
from township_wire.crypto import b64
from township_wire.envelope import canonical_bytes
from township_wire.package import _CONTEXT, MANIFEST, RECORDS, SIGNATURE

MB = 1024 * 1024


def _resigned(data: bytes, branch: Branch, change: Callable[[dict[str, Any]], None]) -> bytes:
    """The package with its manifest changed by `change` and signed again with the site's own key."""
    source = zipfile.ZipFile(io.BytesIO(data))
    manifest = json.loads(source.read(MANIFEST))
    change(manifest)
    raw = canonical_bytes(manifest)
    signature = f"ed25519 {branch.keys.public.key_id} {b64(branch.keys.sign(_CONTEXT, raw))}\n".encode("ascii")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, {MANIFEST: raw, SIGNATURE: signature}.get(info.filename, source.read(info)))
    return buffer.getvalue()


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(manifest: dict[str, Any]) -> None:
        target = manifest
        for key in path[:-1]:
            target = target[key]
        if value is None:
            del target[path[-1]]
        else:
            target[path[-1]] = value
    return change


MALFORMED = {
    "member size as words": _set(("members", RECORDS, "size"), "很多"),
    "member entry not an object": _set(("members", RECORDS), "records"),
    "record entry not an object": _set(("records", 0), "village"),
    "record entry without uuid": _set(("records", 0, "uuid"), None),
    "records not a list": _set(("records",), {"count": 3}),
}


@pytest.mark.parametrize("how", sorted(MALFORMED))
def test_a_malformed_signed_manifest_is_refused_and_logged(sqlite_db: HeadDatabase, how: str) -> None:
    branch = new_branch(sqlite_db)
    package = _resigned(branch.package(sqlite_db, [branch.record("village") for _ in range(3)]), branch,
                        MALFORMED[how])
    with pytest.raises(Refused) as refused:
        ingest(sqlite_db, package, channel="usb")
    assert (refused.value.status, refused.value.extra["reason"]) == (422, "invalid")
    assert "清单格式错误" in refused.value.message
    assert nothing_written(sqlite_db)
    assert events(sqlite_db, "package_invalid")


def test_members_announcing_too_much_together_are_refused_before_reading(sqlite_db: HeadDatabase) -> None:
    branch = new_branch(sqlite_db)
    reports = {"2026-10.json": b"{}", "2026-10.xlsx": b"PK"}
    package = branch.package(sqlite_db, [branch.record("village")], reports=reports)

    def announce_300_mb_each(manifest: dict[str, Any]) -> None:
        for name in ("reports/2026-10.json", "reports/2026-10.xlsx"):
            manifest["members"][name]["size"] = 300 * MB

    with pytest.raises(Refused) as refused:
        ingest(sqlite_db, _resigned(package, branch, announce_300_mb_each), channel="usb")
    assert refused.value.extra["reason"] == "oversize" and "过大" in refused.value.message
    assert nothing_written(sqlite_db)
    assert events(sqlite_db, "package_oversize")
