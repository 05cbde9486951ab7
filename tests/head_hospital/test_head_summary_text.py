"""The county summary workbook keeps a site's name as text: a name like =HYPERLINK(...) is no live formula."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from head_support import new_branch
from openpyxl import load_workbook
from sqlalchemy import update

from head_hospital.db import HeadDatabase
from head_hospital.models import Site
from head_hospital.summary import county_summary, write_workbook

HYPERLINK = '=HYPERLINK("http://x","y")'


def _csv_of_first_sheets(path: Path, tmp_path: Path) -> list[list[str]]:
    """The workbook's sheets as LibreOffice reads them (CSV of every sheet, concatenated)."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        if os.environ.get("TOWNSHIP_DESK_REQUIRE_TOOLS") == "1":
            pytest.fail("soffice (LibreOffice) is required here but is not installed")
        pytest.skip("LibreOffice (soffice) is not installed")
    out = tmp_path / "csv"
    completed = subprocess.run(
        [soffice, f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}", "--headless", "--convert-to",
         "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1", "--outdir", str(out),
         str(path)], capture_output=True, text=True, timeout=180, check=False)
    assert completed.returncode == 0, completed.stderr
    rows: list[list[str]] = []
    for file in sorted(out.glob("*.csv")):
        with open(file, encoding="utf-8", newline="") as stream:
            rows += list(csv.reader(stream))
    return rows


def test_a_site_named_like_a_formula_stays_text_in_the_summary(sqlite_db: HeadDatabase, tmp_path: Path) -> None:
    new_branch(sqlite_db, name="青山镇卫生院")
    silent = new_branch(sqlite_db, name="石桥镇卫生院")
    with sqlite_db.session() as session:  # a name stored before names were checked, or typed at the head hospital
        session.execute(update(Site).where(Site.site_id == silent.site_id).values(name=HYPERLINK))
    path = tmp_path / "summary.xlsx"
    write_workbook(county_summary(sqlite_db, "2026-Q3"), path)

    sheet = load_workbook(path)["未上报分院"]
    cells = {cell.value: cell for row in sheet.iter_rows() for cell in row}
    assert cells[HYPERLINK].data_type == "s" and cells[HYPERLINK].quotePrefix
    assert all(cell.data_type != "f" for book_sheet in load_workbook(path) for row in book_sheet.iter_rows()
               for cell in row)
    shown = _csv_of_first_sheets(path, tmp_path)
    assert [silent.site_id, HYPERLINK] in shown and ["y"] not in [row[1:2] for row in shown]


def test_numbers_stay_numbers_and_negative_ones_too(tmp_path: Path) -> None:
    summary = {"period": "2026-Q3", "indicators": [
        {"code": "-x", "name": "+1", "numerator": -3, "denominator": 10, "rate": -0.3, "sites": 1}],
        "sites": [], "missing": [],
        "records": [{"site_id": "s", "name": "@a", "type": "t", "label": "\tq", "count": 2}]}
    path = tmp_path / "numbers.xlsx"
    write_workbook(summary, path)
    book = load_workbook(path)
    row = [cell for cell in book["县域汇总"][2]]
    assert [cell.value for cell in row] == ["-x", "+1", -3, 10, -0.3, 1]
    assert [cell.data_type for cell in row] == ["s", "s", "n", "n", "n", "n"]
    assert [cell.value for cell in book["记录数"][2]] == ["s", "@a", "t", "\tq", 2]
