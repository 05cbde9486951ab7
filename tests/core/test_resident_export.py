"""Exporting the resident list: text IDs (X intact), real dates, masking per role, scope, audit, cancel."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import threading
from datetime import date, datetime
from pathlib import Path

import pytest
from core_support import actor_for
from openpyxl import load_workbook
from sqlalchemy import select

from desktop.app import App
from desktop.errors import Cancelled, PermissionDenied
from desktop.jobs import no_progress
from desktop.models import Account, AuditEntry, Resident
from desktop.rules.population import ResidentStatus
from desktop.services.resident_query import ResidentFilter, count_residents
from desktop.transfer.resident_export import COLUMNS, ResidentExport, village_filter
from desktop.transfer.resident_import import ImportMode, ResidentImport

REQUIRE_TOOLS = os.environ.get("TOWNSHIP_DESK_REQUIRE_TOOLS") == "1"
ID_COLUMN, BIRTH_COLUMN, PHONE_COLUMN = 4, 3, 6


def export(app: App, username: str, path: Path, flt: ResidentFilter | None = None, query: str = "", **kw):
    job = ResidentExport(app.db, actor_for(app.db, username), path, flt or ResidentFilter(), query)
    return job(abort=kw.get("abort", threading.Event()), progress=kw.get("progress", no_progress))


def sheet_rows(path: Path) -> list[tuple]:
    return list(load_workbook(path, read_only=True).active.iter_rows(values_only=True))


def an_x_resident(app: App) -> tuple[str, str, date]:
    """(name, ID number, birth date) of a demo resident whose ID ends in X."""
    with app.db.read() as session:
        return tuple(session.execute(select(Resident.name, Resident.id_number, Resident.birth_date)
                                     .where(Resident.id_number.like("%X")).order_by(Resident.id).limit(1)).one())


def test_the_export_keeps_ids_as_text_and_dates_as_dates(demo_app: App, tmp_path: Path) -> None:
    result = export(demo_app, "luru1", tmp_path / "all.xlsx")
    rows = sheet_rows(tmp_path / "all.xlsx")
    assert rows[0] == tuple(title for title, _ in COLUMNS)
    assert result.count == len(rows) - 1 == count_residents(demo_app.db, actor_for(demo_app.db, "luru1"))
    name, number, birth = an_x_resident(demo_app)
    row = next(r for r in rows if r[ID_COLUMN] == number)
    assert row[1] == name and row[BIRTH_COLUMN] == datetime.combine(birth, datetime.min.time())
    registrars = {r[rows[0].index("建档人")] for r in rows[1:]}
    with demo_app.db.read() as session:
        usernames = set(session.scalars(select(Account.username)))
        shown = set(session.scalars(select(Account.display_name)))
    assert registrars and registrars <= shown and not registrars & usernames  # people, not user names
    sheet = load_workbook(tmp_path / "all.xlsx").active
    id_cell, birth_cell = sheet.cell(row=2, column=ID_COLUMN + 1), sheet.cell(row=2, column=BIRTH_COLUMN + 1)
    assert (id_cell.data_type, id_cell.number_format) == ("s", "@")
    assert birth_cell.is_date and birth_cell.number_format == "yyyy\\-mm\\-dd"
    assert not result.masked and not list(tmp_path.glob(".*part*"))
    with demo_app.db.read() as session:
        entry = session.execute(select(AuditEntry.actor, AuditEntry.action, AuditEntry.summary)
                                .order_by(AuditEntry.seq.desc()).limit(1)).one()
    assert entry[:2] == ("luru1", "export") and f"{result.count} 人" in entry[2]


def test_roles_without_identity_rights_get_masked_numbers(demo_app: App, tmp_path: Path) -> None:
    result = export(demo_app, "yuanzhang", tmp_path / "masked.xlsx")
    rows = sheet_rows(tmp_path / "masked.xlsx")[1:]
    assert result.masked and "部分隐藏" in result.message()
    numbers = [r[ID_COLUMN] for r in rows if r[ID_COLUMN]]
    phones = [r[PHONE_COLUMN] for r in rows if r[PHONE_COLUMN]]
    assert numbers and all(n[6:14] == "********" for n in numbers)
    assert phones and all(p[3:7] == "****" for p in phones)
    with pytest.raises(PermissionDenied):
        export(demo_app, "kaohe1", tmp_path / "assessor.xlsx")
    assert not (tmp_path / "assessor.xlsx").exists()


def test_a_village_doctor_exports_only_their_villages(demo_app: App, tmp_path: Path) -> None:
    doctor = actor_for(demo_app.db, "cunyi001")
    result = export(demo_app, "cunyi001", tmp_path / "mine.xlsx", ResidentFilter(status=None))
    villages = {r[8] for r in sheet_rows(tmp_path / "mine.xlsx")[1:]}
    assert villages == {"青山社区", "柳树村"}
    assert result.count == count_residents(demo_app.db, doctor, ResidentFilter(status=None))
    assert export(demo_app, "cunyi001", tmp_path / "v.xlsx", village_filter(demo_app.db, doctor, "101")).count < result.count
    with pytest.raises(PermissionDenied):
        village_filter(demo_app.db, doctor, "102")


def test_the_filter_and_search_text_choose_the_rows(demo_app: App, tmp_path: Path) -> None:
    _, number, _ = an_x_resident(demo_app)
    result = export(demo_app, "luru1", tmp_path / "one.xlsx", ResidentFilter(status=None), number)
    assert result.count == 1 and sheet_rows(tmp_path / "one.xlsx")[1][ID_COLUMN] == number
    moved = export(demo_app, "luru1", tmp_path / "moved.xlsx", ResidentFilter(status=ResidentStatus.MOVED_OUT))
    assert moved.count == len(sheet_rows(tmp_path / "moved.xlsx")) - 1


def test_a_cancelled_export_leaves_no_file_and_no_audit_entry(demo_app: App, tmp_path: Path) -> None:
    abort = threading.Event()

    def progress(fraction: float, message: str) -> None:
        if fraction > 0.3:
            abort.set()

    with demo_app.db.read() as session:
        entries = session.scalar(select(AuditEntry.seq).order_by(AuditEntry.seq.desc()).limit(1))
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "old.xlsx").write_bytes(b"previous file")
    with pytest.raises(Cancelled):
        export(demo_app, "luru1", folder / "old.xlsx", abort=abort, progress=progress)
    assert [p.name for p in folder.iterdir()] == ["old.xlsx"]
    assert (folder / "old.xlsx").read_bytes() == b"previous file"
    with demo_app.db.read() as session:
        assert session.scalar(select(AuditEntry.seq).order_by(AuditEntry.seq.desc()).limit(1)) == entries


def test_an_exported_list_imports_back_without_changing_anything(demo_app: App, tmp_path: Path) -> None:
    export(demo_app, "luru1", tmp_path / "all.xlsx", ResidentFilter(status=None))
    job = ResidentImport(demo_app.db, actor_for(demo_app.db, "luru1"), tmp_path / "all.xlsx", ImportMode.ALL_OR_NOTHING)
    result = job(abort=threading.Event(), progress=no_progress)
    assert (result.imported, result.updated, len(result.rejected)) == (0, 0, 0), result.rejected[:3]
    assert result.unchanged == count_residents(demo_app.db, actor_for(demo_app.db, "luru1"), ResidentFilter(status=None))


def test_libreoffice_reads_ids_as_text_and_dates_as_dates(demo_app: App, tmp_path: Path) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        if REQUIRE_TOOLS:
            pytest.fail("soffice (LibreOffice) is required here but is not installed")
        pytest.skip("LibreOffice (soffice) is not installed")
    name, number, birth = an_x_resident(demo_app)
    with demo_app.db.read() as session:
        village_id = session.scalar(select(Resident.village_id).where(Resident.id_number == number))
    export(demo_app, "luru1", tmp_path / "list.xlsx", ResidentFilter(village_id=village_id, status=None))
    profile = tmp_path / "lo-profile"
    completed = subprocess.run(
        [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to",
         "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir", str(tmp_path / "csv"), str(tmp_path / "list.xlsx")],
        capture_output=True, text=True, timeout=180, check=False)
    assert completed.returncode == 0, completed.stderr
    with open(tmp_path / "csv" / "list.csv", encoding="utf-8", newline="") as file:
        rows = list(csv.reader(file))
    assert rows[0][:5] == ["健康档案编号", "姓名", "性别", "出生日期", "身份证号"]
    row = next(r for r in rows if r[1] == name and r[ID_COLUMN] == number)
    assert row[BIRTH_COLUMN] == f"{birth:%Y-%m-%d}"  # a date cell shown in its date format, not a serial
    assert all(len(r[0]) == 17 and r[0].isdigit() for r in rows[1:])  # record numbers not rounded either
    with demo_app.db.read() as session:
        stored = set(session.scalars(select(Resident.id_number).where(Resident.village_id == village_id,
                                                                      Resident.id_number.is_not(None))))
    assert {r[ID_COLUMN] for r in rows[1:] if r[ID_COLUMN]} == stored
