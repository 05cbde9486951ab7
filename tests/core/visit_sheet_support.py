"""Follow-up sheets as branches keep them, and the patients they are about (no Qt)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from core_support import actor_for, person
from openpyxl import Workbook

from desktop.app import App
from desktop.rules.followup import Disease
from desktop.services.chronic import EnrolmentInput, enrol
from desktop.services.residents import create_resident

TITLE = "青山镇慢病随访登记（历史）"
# Row 2: group cells 基本信息 (over B-D) and 体征 (over H-I); the other headers merged down over row 3.
TOP = ("序号", "基本信息", None, None, "病种", "随访日期", "随访方式", "体征", None, "空腹血糖(mmol/L)",
       "随访医生", "此次随访分类", "更改理由", "确诊日期")
SUB = (None, "身份证号码", "档案编号", "姓名", None, None, None, "收缩压", "舒张压", None, None, None, None, None)
FIRST_DATA_ROW = 4
COLUMN = {"id": 1, "record_no": 2, "name": 3, "disease": 4, "day": 5, "method": 6, "sbp": 7, "dbp": 8,
          "glucose": 9, "doctor": 10, "classification": 11, "reason": 12, "diagnosed": 13}
WIDTH = len(TOP)

# name -> (birth, ID sequence, disease enrolled or None)
PATIENTS = {
    "王建国": ("1955-05-05", 11, Disease.HYPERTENSION),
    "李秀兰": ("1950-02-02", 22, Disease.DIABETES),
    "赵春华": ("1960-01-01", 33, None),
}
DIAGNOSED, MANAGED_FROM = date(2020, 3, 1), date(2020, 4, 1)


def write_visits(path: Path, rows: list[tuple], *, blank_after: tuple[int, ...] = ()) -> Path:
    """A sheet with a title row, a merged two-row header and `rows` (WIDTH values each, 序号 first)."""
    book = Workbook()
    sheet = book.active
    sheet.title = "随访"
    sheet.append([TITLE])
    sheet.merge_cells("A1:N1")
    sheet.append(list(TOP))
    sheet.append(list(SUB))
    for column in "AEFGJKLMN":
        sheet.merge_cells(f"{column}2:{column}3")
    sheet.merge_cells("B2:D2")
    sheet.merge_cells("H2:I2")
    for position, row in enumerate(rows):
        sheet.append(list(row) + [None] * (WIDTH - len(row)))
        if position in blank_after:
            sheet.append([None] * WIDTH)
    book.save(path)
    return path


def visit(number: int, ident: object, disease: str, day: object, method: object = "门诊", sbp: object = 128,
          dbp: object = 82, *, record_no: object = None, name: object = None, glucose: object = None,
          doctor: str = "刘晓梅", classification: object = None, reason: object = None,
          diagnosed: object = None) -> tuple:
    """One sheet row."""
    return (number, ident, record_no, name, disease, day, method, sbp, dbp, glucose, doctor, classification, reason,
            diagnosed)


def add_patients(app: App) -> dict[str, tuple[int, str, str]]:
    """The three patients (two enrolled since 2020); name -> (resident id, ID number, record number)."""
    clerk, doctor = actor_for(app.db, "luru1"), actor_for(app.db, "gongwei1")
    found = {}
    for name, (birth, sequence, disease) in PATIENTS.items():
        data = person(name, birth, sequence=sequence)
        saved = create_resident(app.db, clerk, data)
        if disease is not None:
            enrol(app.db, doctor, saved.resident_id, EnrolmentInput(disease, DIAGNOSED, MANAGED_FROM))
        found[name] = (saved.resident_id, data.id_number, saved.record_no)
    return found
