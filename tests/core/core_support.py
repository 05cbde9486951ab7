"""Helpers shared by the core tests (imported as `core_support`; no Qt)."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from data_templates import copy_database, data_dir_with  # noqa: F401 - kept importable from here
from sqlalchemy import select

from desktop.db import Database
from desktop.models import Account
from desktop.services.auth import actor_of
from desktop.services.branch import BranchSetup, VillageInput
from desktop.services.permissions import Actor

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
FIXTURE_DB = FIXTURES / "db" / "schema-0001-demo.sqlite"

DEMO_PASSWORD = "Demo#2026"
ADMIN_PASSWORD = "Kestrel#2026"

REAL_SETUP = BranchSetup(
    county_code="513422",
    township_code="021",
    name="白水乡卫生院",
    head_hospital_name="白水县人民医院",
    admin_username="admin",
    admin_display_name="李强",
    admin_password=ADMIN_PASSWORD,
    villages=(
        VillageInput("001", "白水社区", "白水社区卫生室"),
        VillageInput("101", "上坝村", "上坝村卫生室"),
        VillageInput("102", "下坝村"),
    ),
)


def actor_for(db: Database, username: str) -> Actor:
    """The actor of an existing account, without paying for a password check."""
    with db.read() as session:
        account = session.scalars(select(Account).where(Account.username == username)).one()
        return actor_of(account)


def corrupt_middle(path: Path, *, pages: int = 4) -> None:
    """Overwrite whole pages in the middle of a closed database file."""
    size = path.stat().st_size
    page = 4096
    start = max(page, (size // 2) // page * page)
    with open(path, "r+b") as file:
        file.seek(start)
        file.write(b"\xa5" * min(page * pages, size - start))


DEMO_COUNTY = "341522"


def person(name: str, birth: str, *, sequence: int = 11, village: str = "101", **fields: object):
    """A ResidentInput with a valid demo-county ID number for `birth` (odd sequence: male)."""
    from datetime import date

    from desktop.rules.idnumbers import make_id
    from desktop.rules.resident_checks import ResidentInput

    number = make_id(DEMO_COUNTY, date.fromisoformat(birth), sequence)
    return ResidentInput(name=name, id_number=number, village_code=village, **fields)  # type: ignore[arg-type]


def register_counts(db: Database) -> tuple[int, int, int]:
    """(residents, conditions, audit entries): compared before and after a refused write."""
    from sqlalchemy import func

    from desktop.models import AuditEntry, Resident, ResidentCondition

    with db.read() as session:
        return tuple(session.scalar(select(func.count()).select_from(model)) or 0  # type: ignore[return-value]
                     for model in (Resident, ResidentCondition, AuditEntry))


REQUIRE_TOOLS = os.environ.get("TOWNSHIP_DESK_REQUIRE_TOOLS") == "1"


def libreoffice_sheets(path: Path, tmp_path: Path) -> dict[str, list[list[str]]]:
    """Every sheet of the workbook as LibreOffice saves it to CSV (fails, not skips, when tools are required)."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        if REQUIRE_TOOLS:
            pytest.fail("soffice (LibreOffice) is required here but is not installed")
        pytest.skip("LibreOffice (soffice) is not installed")
    out = tmp_path / "csv"
    completed = subprocess.run(
        [soffice, f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}", "--headless", "--convert-to",
         "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1", "--outdir", str(out),
         str(path)], capture_output=True, text=True, timeout=180, check=False)
    assert completed.returncode == 0, completed.stderr
    sheets = {}
    for file in sorted(out.glob("*.csv")):
        with open(file, encoding="utf-8", newline="") as stream:
            sheets[file.stem.removeprefix(path.stem + "-")] = list(csv.reader(stream))
    return sheets


def complete_check(day: str, **kwargs):
    """A HealthCheckInput with every part the 规范 asks of a 65+ check except the 查体 (see `set_examination`)."""
    from desktop.rules.health_check_completeness import TEST_PARTS
    from desktop.services.health_checks import HealthCheckInput

    kwargs.setdefault("evaluation_abnormal", False)
    return HealthCheckInput(check_date=day, doctor_name="刘晓梅", sbp=128, dbp=80, heart_rate=72, height=160.0,
                            weight=60.0, waist=80.0, results=dict.fromkeys(TEST_PARTS, "未见异常"),
                            guidance=("6", "7"), **kwargs)


def set_examination(db: Database, resident_id: int) -> None:
    """Record the 查体 findings on the resident's checks (the column the completeness rule reads)."""
    from desktop.models import HealthCheck
    from desktop.rules.health_check_completeness import EXAMINATION_PARTS

    with db.write() as session:
        for check in session.scalars(select(HealthCheck).where(HealthCheck.resident_id == resident_id)):
            check.examination = dict.fromkeys(EXAMINATION_PARTS, "1")
