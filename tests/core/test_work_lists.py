"""The lists people work from: contacts on the due list and indicator lists, their workbooks and the 入户随访表.

Runs on a copy of the demo township; expected values come from plain SQL on the same file.
"""

from __future__ import annotations

import re
import threading
from datetime import date
from pathlib import Path

import pytest
from core_support import DEMO_PASSWORD, actor_for, data_dir_with, libreoffice_sheets
from data_templates import open_database
from openpyxl import load_workbook
from test_printing import page_texts, saved

from desktop.app import App
from desktop.cli import PASSWORD_ENV, main
from desktop.clock import now
from desktop.errors import PermissionDenied
from desktop.printing.catalogue import print_form
from desktop.rules.phones import mask_phone
from desktop.services.contacts import verdicts_with_contacts
from desktop.services.due import due_list
from desktop.services.indicators import DEFINITIONS, indicator_report
from desktop.transfer.work_lists import DUE_COLUMNS, DueListExport, PeopleListExport

CONTROLS = {"abort": threading.Event(), "progress": lambda fraction, message: None}
MASKED = re.compile(r"^1\d\d\*{4}\d{4}$")


def sql(app: App, query: str, *args: object) -> list[tuple]:
    connection = open_database(app.paths.database)
    try:
        return connection.execute(query, args).fetchall()
    finally:
        connection.close()


def stored(app: App) -> dict[str, tuple]:
    """record number -> (phone, address, sex, birth date, responsible doctor's name) as stored."""
    rows = sql(app, "SELECT r.record_no, r.phone, r.address, r.sex, r.birth_date, s.name FROM resident r "
                    "LEFT JOIN staff s ON s.id = r.responsible_doctor_id")
    return {row[0]: row[1:] for row in rows}


def test_the_due_list_carries_phone_and_address_masked_for_roles_without_full_numbers(demo_app: App) -> None:
    on, people = now().date(), stored(demo_app)
    village_doctor = due_list(demo_app.db, actor_for(demo_app.db, "cunyi001"), on=on)
    director = due_list(demo_app.db, actor_for(demo_app.db, "yuanzhang"), on=on)
    assert village_doctor.items and director.items
    with_phone = [item for item in village_doctor.items if people[item.record_no][0]]
    assert with_phone
    for item in village_doctor.items:
        phone, address, sex, born, doctor = people[item.record_no]
        assert (item.phone, item.address, item.sex, item.birth_date, item.doctor_name) == (
            phone or "", address, sex, date.fromisoformat(born), doctor or "")
    for item in director.items:  # 院长 sees the list, not whole numbers (as on the residents list)
        phone = people[item.record_no][0]
        assert item.phone == (mask_phone(phone) if phone else "") and item.address == people[item.record_no][1]
    assert any(MASKED.match(item.phone) for item in director.items)


def test_the_due_list_workbook_has_the_contact_columns_in_libreoffice(demo_app: App, tmp_path: Path) -> None:
    clerk = actor_for(demo_app.db, "luru1")
    on = now().date()
    out = tmp_path / "待办.xlsx"
    result = DueListExport(demo_app.db, clerk, out, on=on)(**CONTROLS)
    due = due_list(demo_app.db, clerk, on=on)
    assert result.rows == len(due.items) > 0 and out.exists()
    sheet = libreoffice_sheets(out, tmp_path)["待办名单"]
    header, rows = sheet[0], sheet[1:]
    assert header == [title for title, _ in DUE_COLUMNS]
    assert len(rows) == len(due.items)
    at = {title: header.index(title) for title in ("档案编号", "姓名", "住址", "联系电话", "责任医生", "性别")}
    people = stored(demo_app)
    for row in rows[:200]:
        phone, address, sex, _born, doctor = people[row[at["档案编号"]]]
        assert row[at["联系电话"]] == (phone or "") and row[at["住址"]] == address
        assert row[at["责任医生"]] == (doctor or "") and row[at["性别"]] == {"1": "男", "2": "女"}[sex]
    assert sql(demo_app, "SELECT count(*) FROM audit_entry WHERE action = 'export' AND entity_type = 'work_list'") == [
        (1,)]


def test_the_door_to_door_sheet_lists_each_person_under_their_doctor(demo_app: App, tmp_path: Path) -> None:
    doctor = actor_for(demo_app.db, "cunyi001")
    due = due_list(demo_app.db, doctor, on=now().date())
    pdf = print_form(demo_app.db, doctor, "door-to-door", "due")
    pages = page_texts(saved(pdf, tmp_path, "door.pdf"))
    assert len(pages) == pdf.page_count >= 1
    assert all("入户随访表" in page and "结果/签名" in page for page in pages)
    for item in due.items[:25]:
        holding = [page for page in pages if item.name in page and item.doctor_name in page]
        assert holding, item
        page = holding[0]
        assert page.index(f"责任医生：{item.doctor_name}") < page.index(item.name)
        assert item.phone in page and item.address[:6] in page.replace(" ", "")


def test_an_indicator_list_gets_contacts_exports_and_prints_its_uncounted_people(demo_app: App,
                                                                               tmp_path: Path) -> None:
    doctor, director = actor_for(demo_app.db, "gongwei1"), actor_for(demo_app.db, "yuanzhang")
    year = now().year
    report = indicator_report(demo_app.db, doctor, year)
    code = next(code for code, d in DEFINITIONS.items() if d.has_people and any(
        not v.counts for v in report.people.get(code, ())))
    verdicts = report.people[code]
    people = stored(demo_app)
    filled = verdicts_with_contacts(demo_app.db, doctor, verdicts)
    assert [(v.phone, v.address) for v in filled] == [
        (people[v.record_no][0] or "", people[v.record_no][1]) for v in verdicts]
    masked = verdicts_with_contacts(demo_app.db, director, verdicts)
    assert all(v.phone == (mask_phone(people[v.record_no][0]) if people[v.record_no][0] else "") for v in masked)
    out = tmp_path / "名单.xlsx"
    PeopleListExport(demo_app.db, doctor, out, title=DEFINITIONS[code].name,
                     verdict_label=DEFINITIONS[code].verdict_label, verdicts=verdicts,
                     village_names=report.village_names)(**CONTROLS)
    sheet = next(iter(libreoffice_sheets(out, tmp_path).values()))
    assert "联系电话" in sheet[0] and "住址" in sheet[0] and len(sheet) == len(verdicts) + 1
    pdf = print_form(demo_app.db, doctor, "door-to-door", code, year=year)
    text = "\n".join(page_texts(saved(pdf, tmp_path, "indicator.pdf")))
    missing = [v for v in verdicts if not v.counts]
    assert DEFINITIONS[code].name in text
    assert all(v.name in text for v in missing[:20])


def test_an_assessor_may_not_export_the_due_list(demo_app: App, tmp_path: Path) -> None:
    with pytest.raises(PermissionDenied):
        DueListExport(demo_app.db, actor_for(demo_app.db, "kaohe1"), tmp_path / "x.xlsx", on=now().date())(**CONTROLS)
    assert not (tmp_path / "x.xlsx").exists()


def test_the_command_line_exports_the_due_list_and_prints_the_sheet(demo_template: Path, tmp_path: Path, capsys,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, DEMO_PASSWORD)
    root = data_dir_with(demo_template, tmp_path / "data")
    out = tmp_path / "due.xlsx"
    assert main(["--data-dir", str(root), "export", "due", str(out), "--village", "101", "--user", "cunyi001"]) == 0
    assert "已导出待办名单" in capsys.readouterr().out
    header = next(iter(load_workbook(out, read_only=True).active.iter_rows(values_only=True)))
    assert "联系电话" in header and "住址" in header
    pdf = tmp_path / "door.pdf"
    assert main(["--data-dir", str(root), "print", "door-to-door", "due", "--kind", "elderly_check", "--out", str(pdf),
                 "--user", "cunyi001"]) == 0
    text = "\n".join(page_texts(pdf))
    assert "入户随访表" in text and "老年人年度体检" in text
    assert main(["--data-dir", str(root), "export", "due", str(tmp_path / "x.xlsx"), "--village", "102",
                 "--user", "cunyi001"]) != 0  # not one of the doctor's villages
