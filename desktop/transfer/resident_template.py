"""The workbook a branch fills with its residents (居民档案导入模板), the 个人基本信息表's code tables beside it."""

from __future__ import annotations

import os
from pathlib import Path
from uuid import uuid4

from desktop.rules.population import RECORDED_CONDITIONS
from desktop.rules.profile import (
    BLOOD_TYPES,
    DISABILITIES,
    DRUG_ALLERGIES,
    EDUCATION,
    EXPOSURES,
    FAMILY_DISEASES,
    LIVING_ENVIRONMENT,
    MARITAL_STATUSES,
    OCCUPATIONS,
    PAST_DISEASES,
    PAYMENT_METHODS,
    RESIDENCE_TYPES,
    RH_TYPES,
)
from desktop.transfer.roster_profile import PROFILE_COLUMNS
from township_wire.cells import append_row

TEXT_ROWS = 2000  # rows pre-formatted as text for the number columns
BASE_COLUMNS: tuple[tuple[str, int, str], ...] = (
    ("姓名*", 10, ""),
    ("身份证号", 21, "请保持“文本”格式，否则 Excel 会丢掉后几位；没有身份证号时须填性别和出生日期"),
    ("性别", 6, "男、女"),
    ("出生日期", 12, "2024-03-15、20240315 或 Excel 日期"),
    ("民族", 8, "如 汉族"),
    ("联系电话", 14, "11 位手机号或带区号的固定电话"),
    ("现住址", 28, ""),
    ("所属村*", 12, "村名或 3 位村代码"),
    ("与户主关系", 10, "户主、配偶、子、女……"),
    ("医保类型", 20, ""),
    ("建档日期", 12, "不填为导入当天"),
    ("健康档案编号", 20, "17 位；不填则自动编号"),
    *((kind.label, 12, "确诊/登记日期或“是”") for kind in RECORDED_CONDITIONS),
)
PROFILE_NOTES = {
    "payment_methods": "可多选，用“、”分隔；其他写作“其他：某某”",
    "drug_allergies": "可多选；“无”不能与其他同选；其他写作“其他：头孢”",
    "exposures": "可多选；“无”不能与其他同选",
    "past_history.diseases": "如“高血压（2015-03）、恶性肿瘤：胃癌（2019-05-20）”，或“无”",
    "past_history.operations": "如“阑尾切除术（2001-06）”，或“无”",
    "past_history.traumas": "如“左前臂骨折（2010-08）”，或“无”",
    "past_history.transfusions": "填输血原因和时间，如“车祸失血（2012-03）”，或“无”",
    "genetic_disease": "“无”或遗传病名称",
    "disabilities": "可多选；“无残疾”不能与其他同选",
}
COLUMNS = BASE_COLUMNS + tuple((title, width, PROFILE_NOTES.get(field, "填编号或名称"))
                               for field, (title, _, width) in PROFILE_COLUMNS.items())
TEXT_COLUMN_TITLES = ("身份证号", "联系电话", "健康档案编号", "联系人电话")
RULES = (
    "每行一位居民。已建档的居民（按身份证号、档案编号，或姓名+出生日期+村匹配）会按表中填写的内容更新；空白的格子不改动已有内容。",
    "个人基本信息表各项可填编号或名称（见下方代码表）；可多选的项目用“、”分隔。",
    "既往史的日期不能早于出生日期，不能晚于今天；可只填年月。",
    "导入前可先“试导入”检查；有错误的行会列出行号、列名和原因。",
)
CODE_TABLES = (
    ("常住类型", RESIDENCE_TYPES), ("血型", BLOOD_TYPES), ("RH", RH_TYPES), ("文化程度", EDUCATION),
    ("职业", OCCUPATIONS), ("婚姻状况", MARITAL_STATUSES), ("医疗费用支付方式", PAYMENT_METHODS),
    ("药物过敏史", DRUG_ALLERGIES), ("暴露史", EXPOSURES), ("既往疾病", PAST_DISEASES), ("家族史", FAMILY_DISEASES),
    ("残疾情况", DISABILITIES), *((label, table) for label, table in LIVING_ENVIRONMENT.values()),
)


def _fill_rows_sheet(sheet) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    sheet.title = "居民档案"
    append_row(sheet, [title for title, _, _ in COLUMNS])
    for index, (title, width, _) in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.cell(row=1, column=index).font = Font(bold=True)
    text_columns = [i for i, (title, _, _) in enumerate(COLUMNS, start=1) if title in TEXT_COLUMN_TITLES]
    for row in range(2, TEXT_ROWS + 2):
        for column in text_columns:
            sheet.cell(row=row, column=column).number_format = "@"
    sheet.freeze_panes = "B2"


def _fill_notes_sheet(sheet) -> None:
    from openpyxl.styles import Font

    bold = Font(bold=True)
    append_row(sheet, ["填写说明"])
    sheet["A1"].font = bold
    for rule in RULES:
        append_row(sheet, [rule])
    append_row(sheet, [])
    append_row(sheet, ["列", "说明"])
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    for title, _, note in COLUMNS:
        append_row(sheet, [title, note])
    append_row(sheet, [])
    append_row(sheet, ["代码表", "编号", "名称"])
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    for label, table in CODE_TABLES:
        for code, name in table.items():
            append_row(sheet, [label, code, name])
    for letter, width in (("A", 18), ("B", 60), ("C", 30)):
        sheet.column_dimensions[letter].width = width


def resident_template(path: Path) -> Path:
    """Write the roster template: sheet 居民档案 (headers, text number columns) and sheet 填写说明 (notes, codes)."""
    from openpyxl import Workbook

    target = Path(path)
    book = Workbook()
    _fill_rows_sheet(book.active)
    _fill_notes_sheet(book.create_sheet("填写说明"))
    temporary = target.with_name(f".{target.stem}.{uuid4().hex[:8]}.part.xlsx")
    try:
        book.save(temporary)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return target
