"""A full disk at the head hospital: the package is not applied at all, and applies once there is room."""

from __future__ import annotations

from pathlib import Path

import pytest
from head_support import count_rows, new_branch, nothing_written
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from head_hospital.db import open_database
from head_hospital.ingest import ingest
from head_hospital.models import Record


def test_a_full_disk_mid_apply_writes_nothing_and_the_retry_applies_everything(tmp_path: Path) -> None:
    db = open_database(str(tmp_path / "head.sqlite"), name="白水县人民医院")
    try:
        branch = new_branch(db)
        records = [branch.record("village", code=f"{n % 1000:03d}", name=f"第{n}村") for n in range(3000)]
        package = branch.package(db, records)
        with db.read() as session:
            pages = session.connection().exec_driver_sql("PRAGMA page_count").scalar_one()

        def limit(connection, record) -> None:
            connection.execute(f"PRAGMA max_page_count = {pages + 8}")

        db.engine.dispose()
        event.listen(db.engine, "connect", limit)
        with pytest.raises(OperationalError, match="full"):
            ingest(db, package, channel="network")
        event.remove(db.engine, "connect", limit)
        db.engine.dispose()
        assert nothing_written(db)
        ingest(db, package, channel="network")
        assert count_rows(db, Record) == len(records)
    finally:
        db.dispose()
