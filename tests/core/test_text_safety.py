"""Text that could act: formula-like cells stay text in every workbook; control or bidi characters are refused."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from core_support import actor_for, libreoffice_sheets, person
from openpyxl import Workbook, load_workbook
from roster_support import id_for
from sqlalchemy import select

from desktop.app import App
from desktop.errors import ValidationError
from desktop.jobs import no_progress
from desktop.models import Resident
from desktop.services.residents import create_resident
from desktop.transfer.followup_template import followup_template
from desktop.transfer.resident_export import ResidentExport
from desktop.transfer.resident_import import ImportMode, ResidentImport, write_error_workbook
from desktop.transfer.resident_template import resident_template
from desktop.transfer.xlsx_stream import SheetWriter
from township_wire.cells import put
from township_wire.text import looks_like_formula, safe_text_problem

HYPERLINK = '=HYPERLINK("http://x","y")'
CALC = "=cmd|'/Ccalc'!A"
CONTROLS = {"abort": threading.Event(), "progress": no_progress}


def _roster(path: Path, rows: list[list[object]]) -> Path:
    """A plain roster whose cells are all text cells (as a hostile file would hold them)."""
    book = Workbook()
    for values in [["姓名", "身份证号", "所属村", "现住址"], *rows]:
        row = book.active.max_row + 1 if book.active.max_row > 1 or book.active["A1"].value else 1
        for column, value in enumerate(values, start=1):
            put(book.active.cell(row=row, column=column), value)
    book.save(path)
    return path


def _no_formulas(path: Path) -> list[str]:
    """The cells of a workbook that openpyxl reads as formulas."""
    return [f"{sheet.title}!{cell.coordinate}" for sheet in load_workbook(path) for row in sheet.iter_rows()
            for cell in row if cell.data_type == "f"]


def test_safe_text_names_nul_controls_and_bidi_marks() -> None:
    assert safe_text_problem("张三") is None and safe_text_problem("") is None
    assert "空字符" in safe_text_problem("张\x00三")
    assert "控制字符（U+0007）" in safe_text_problem("张\x07三")
    for mark in ("\u202e", "\u202a", "\u2066", "\u2069", "\u200e", "\u200f", "\u061c"):
        assert f"U+{ord(mark):04X}" in safe_text_problem(f"张{mark}三")
    assert "换行" in safe_text_problem("第一行\n第二行")
    assert safe_text_problem("第一行\n第二行", multiline=True) is None
    assert all(looks_like_formula(text) for text in ("=1", "+1", "-1", "@a", "\ta", "\ra"))
    assert not any(looks_like_formula(value) for value in ("张三", "1-2", -1, None))


def test_the_form_refuses_nul_and_bidi_in_a_name_and_formula_like_names(registry_app: App) -> None:
    clerk = actor_for(registry_app.db, "luru1")
    for name, field, words in (("张\u202e三", "name", "从右到左覆盖符 RLO（U+202E）"), ("张\x00三", "name", "空字符"),
                               (CALC, "name", "只能由汉字、字母和间隔号"), ("+张三", "name", "只能由汉字")):
        with pytest.raises(ValidationError) as refused:
            create_resident(registry_app.db, clerk, person(name, "1950-01-01"))
        assert field in refused.value.errors and words in refused.value.errors[field], name
    with pytest.raises(ValidationError) as refused:
        create_resident(registry_app.db, clerk, person("张三", "1950-01-01", address="青山\u2066村"))
    assert refused.value.errors["address"].startswith("现住址含有不可见的")
    with pytest.raises(ValidationError) as refused:
        create_resident(registry_app.db, clerk, person("张三", "1950-01-01", consent_given_by="=1+1",
                                                       consent_on="2026-01-01"))
    assert "知情同意人" in refused.value.errors["consent_given_by"]
    saved = create_resident(registry_app.db, clerk, person("买买提·艾力", "1950-01-01", address="=SUM(1,2)"))
    with registry_app.db.read() as session:
        assert session.get(Resident, saved.resident_id).address == "=SUM(1,2)"  # a text field keeps it as text


def test_an_import_refuses_formula_and_bidi_names_naming_row_and_field(registry_app: App, tmp_path: Path) -> None:
    clerk = actor_for(registry_app.db, "luru1")
    path = _roster(tmp_path / "r.xlsx", [[CALC, id_for("1950-01-01", 11), "101", ""],
                                         ["李\u202e四", id_for("1951-01-01", 13), "101", ""],
                                         ["王五", id_for("1952-01-01", 15), "101", "=SUM(1,2)"]])
    result = ResidentImport(registry_app.db, clerk, path, ImportMode.VALID_ONLY)(**CONTROLS)
    reasons = {rejected.row: rejected.reason for rejected in result.rejected}
    assert sorted(reasons) == [2, 3] and result.imported == 1
    assert reasons[2].startswith("第 2 行，姓名：") and "只能由汉字" in reasons[2]
    assert reasons[3].startswith("第 3 行，姓名：") and "从右到左覆盖符 RLO（U+202E）" in reasons[3]
    with registry_app.db.read() as session:
        assert list(session.execute(select(Resident.name, Resident.address))) == [("王五", "=SUM(1,2)")]

    errors = write_error_workbook(result, tmp_path / "errors.xlsx")
    assert _no_formulas(errors) == []
    cells = {cell.value: cell for row in load_workbook(errors).active.iter_rows() for cell in row}
    assert cells[CALC].data_type == "s" and cells[CALC].quotePrefix


def test_an_export_keeps_formula_like_text_as_text_in_openpyxl_and_libreoffice(registry_app: App,
                                                                              tmp_path: Path) -> None:
    clerk = actor_for(registry_app.db, "luru1")
    create_resident(registry_app.db, clerk, person("赵六", "1950-01-01", address=HYPERLINK))
    out = tmp_path / "居民.xlsx"
    ResidentExport(registry_app.db, clerk, out)(**CONTROLS)
    assert _no_formulas(out) == []
    sheet = load_workbook(out).active
    address = next(cell for row in sheet.iter_rows(min_row=2) for cell in row if cell.value == HYPERLINK)
    assert address.data_type == "s" and address.quotePrefix
    shown = libreoffice_sheets(out, tmp_path)
    rows = next(iter(shown.values()))
    assert any(HYPERLINK in row for row in rows) and not any("y" == value for row in rows for value in row)


def test_streamed_sheets_keep_numbers_and_negative_numbers_as_numbers(tmp_path: Path) -> None:
    path = tmp_path / "s.xlsx"
    writer = SheetWriter(path, sheet="表", widths=[10] * 5, rows=1, text_columns=(4,))
    writer.write_header(["a", "b", "c", "d", "e"])
    writer.write_row(["-5", -5, 2.5, "@x", "=1"])
    writer.close()
    cells = list(load_workbook(path).active.iter_rows(min_row=2))[0]
    assert [(cell.value, cell.data_type) for cell in cells] == [
        ("-5", "s"), (-5, "n"), (2.5, "n"), ("@x", "s"), ("=1", "s")]
    assert [cell.quotePrefix for cell in cells] == [True, False, False, True, True]


def test_templates_hold_no_formula(tmp_path: Path) -> None:
    assert _no_formulas(resident_template(tmp_path / "residents.xlsx")) == []
    assert _no_formulas(followup_template(tmp_path / "followups.xlsx")) == []


def test_the_visit_form_refuses_bidi_marks_and_formula_like_doctor_names() -> None:
    from dataclasses import replace
    from datetime import date

    from desktop.rules.followup import Disease
    from desktop.rules.visit_checks import PatientFacts, VisitInput, check_visit

    patient = PatientFacts(birth_date=date(1958, 6, 1), diagnosed_on=date(2018, 3, 1), managed_from=date(2018, 4, 1))
    good = VisitInput(visit_date="2026-03-10", method="门诊", sbp="128", dbp="82", doctor_name="刘晓梅",
                      classification="控制满意", symptoms_other="第一行\n第二行")
    check_visit(Disease.HYPERTENSION, good, patient, today=date(2026, 11, 23))  # line breaks in free text are fine
    for changed, field, words in (({"doctor_name": "刘\u202e晓梅"}, "doctor_name", "随访医生含有不可见的从右到左覆盖符"),
                                  ({"doctor_name": "=1+1"}, "doctor_name", "不像人名"),
                                  ({"symptoms_other": "头晕\x00"}, "symptoms_other", "其他症状含有不可见的空字符")):
        with pytest.raises(ValidationError) as refused:
            check_visit(Disease.HYPERTENSION, replace(good, **changed), patient, today=date(2026, 11, 23))
        assert words in refused.value.errors[field]
