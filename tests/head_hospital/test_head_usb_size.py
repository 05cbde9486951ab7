"""A USB file larger than any package is refused before it is read, and the refusal is logged."""

from __future__ import annotations

from pathlib import Path

import pytest
from head_support import events, new_branch, nothing_written

from head_hospital import usb
from head_hospital.db import HeadDatabase
from head_hospital.errors import Refused
from township_wire.crypto import seal


def test_an_oversize_usb_file_is_refused_unread(sqlite_db: HeadDatabase, tmp_path: Path, monkeypatch) -> None:
    branch = new_branch(sqlite_db)
    package = branch.package(sqlite_db, [branch.record("village") for _ in range(50)])
    path = tmp_path / "stick.tdpkg"
    path.write_bytes(seal(package, sqlite_db.keys.public))
    monkeypatch.setattr(usb, "MAX_PACKAGE_BYTES", 10)
    with pytest.raises(Refused) as refused:
        usb.import_usb(sqlite_db, path)
    assert refused.value.status == 413 and "过大" in refused.value.message
    assert nothing_written(sqlite_db) and events(sqlite_db, "usb_too_large")
    monkeypatch.undo()
    assert usb.import_usb(sqlite_db, path).ingested.package_id
