"""The workbook a branch fills with its historical follow-up visits, with the code tables beside it."""

from __future__ import annotations

import os
from pathlib import Path
from uuid import uuid4

from desktop.rules.followup import SANITY_RANGES, Classification, VisitMethod
from desktop.rules.visit_checks import ADHERENCE, DIABETES_SYMPTOMS, HYPERTENSION_SYMPTOMS, HYPOGLYCEMIA
from township_wire.cells import append_row

TEXT_ROWS = 2000  # rows pre-formatted as text for the ID columns
# (header, width, note); an asterisk marks a required column.
COLUMNS: tuple[tuple[str, int, str], ...] = (
    ("身份证号", 21, "身份证号或档案编号至少填一项；请保持“文本”格式，否则 Excel 会丢掉后几位"),
    ("档案编号", 20, "17 位健康档案编号"),
    ("姓名", 10, "可不填；填了须与档案一致"),
    ("疾病*", 10, "高血压 或 糖尿病"),
    ("随访日期*", 12, "2024-03-15、2024/3/15、20240315 或 Excel 日期"),
    ("随访方式*", 10, "门诊、家庭、电话（或 1、2、3）；门诊和家庭为面访，须填血压"),
    ("症状", 16, "名称或编号，多个用“、”分隔，见“填写说明”"),
    ("收缩压(mmHg)", 10, "面访必填；须高于舒张压"),
    ("舒张压(mmHg)", 10, "面访必填"),
    ("心率(次/分)", 10, ""),
    ("体重(kg)", 9, ""),
    ("目标体重(kg)", 10, ""),
    ("身高(cm)", 9, ""),
    ("空腹血糖(mmol/L)", 12, "糖尿病随访每次面访应测"),
    ("糖化血红蛋白(%)", 12, ""),
    ("服药依从性", 10, "规律、间断、不服药"),
    ("药物不良反应", 10, "有 或 无"),
    ("低血糖反应", 10, "无、偶尔、频繁（糖尿病）"),
    ("此次随访分类", 12, "可不填：按规则自动判定；与规则不同时须填更改理由"),
    ("更改理由", 20, ""),
    ("下次随访日期", 12, "可不填：按规则推算（2 周或 3 个月）"),
    ("随访医生*", 10, ""),
    ("确诊日期", 12, "仅用于尚未纳入管理的患者：填写后导入时一并纳入管理"),
)
LISTS = {"疾病*": ("高血压", "糖尿病"), "随访方式*": tuple(m.label for m in VisitMethod),
         "服药依从性": tuple(ADHERENCE.values()), "药物不良反应": ("有", "无"),
         "此次随访分类": tuple(c.label for c in Classification)}
RULES = (
    "每行一次随访。同一居民、同一病种、同一日期、同一随访方式视为同一次随访：重复导入不会重复登记。",
    "同一天同一病种只能有一次面访（门诊或家庭）。",
    "随访日期不能晚于今天，不能早于出生日期和确诊日期，须在管理期内。",
    ("尚未纳入该病种管理的居民：填写“确诊日期”时，导入时一并纳入管理（从表中最早的随访日期开始，不早于确诊日期）；"
    "不填则该行不导入，原因为“未纳入管理”。"),
    "导入前可先“试导入”检查；有错误的行会列出行号、列名和原因，并可导出错误清单修改后重新导入。",
)


def _code_rows() -> list[tuple[str, str, str]]:
    rows = [("随访方式", m.value, m.label) for m in VisitMethod]
    rows += [("高血压症状", code, label) for code, label in HYPERTENSION_SYMPTOMS.items()]
    rows += [("糖尿病症状", code, label) for code, label in DIABETES_SYMPTOMS.items()]
    rows += [("服药依从性", code, label) for code, label in ADHERENCE.items()]
    rows += [("低血糖反应", code, label) for code, label in HYPOGLYCEMIA.items()]
    rows += [("此次随访分类", c.value, c.label) for c in Classification]
    return rows


def _fill_visits_sheet(sheet) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    sheet.title = "随访记录"
    append_row(sheet, [header for header, _, _ in COLUMNS])
    for index, (header, width, _) in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = width
        sheet.cell(row=1, column=index).font = Font(bold=True)
        if header in LISTS:
            rule = DataValidation(type="list", formula1='"' + ",".join(LISTS[header]) + '"', allow_blank=True)
            rule.add(f"{letter}2:{letter}{TEXT_ROWS + 1}")
            sheet.add_data_validation(rule)
    for row in range(2, TEXT_ROWS + 2):
        for column in (1, 2):
            sheet.cell(row=row, column=column).number_format = "@"
    sheet.freeze_panes = "A2"


def _fill_notes_sheet(sheet) -> None:
    from openpyxl.styles import Font

    bold = Font(bold=True)
    append_row(sheet, ["填写说明"])
    sheet["A1"].font = bold
    for rule in RULES:
        append_row(sheet, [rule])
    append_row(sheet, [])
    append_row(sheet, ["列", "说明", "合理范围"])
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    ranges = {label: f"{low:g}–{high:g} {unit}" for label, unit, low, high in SANITY_RANGES.values()}
    for header, _, note in COLUMNS:
        plain = header.split("(")[0].rstrip("*")
        append_row(sheet, [header, note, ranges.get(plain, "")])
    append_row(sheet, [])
    append_row(sheet, ["代码表", "编号", "名称"])
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    for row in _code_rows():
        append_row(sheet, list(row))
    for letter, width in (("A", 18), ("B", 60), ("C", 18)):
        sheet.column_dimensions[letter].width = width


def followup_template(path: Path) -> Path:
    """Write the import template: sheet 随访记录 (headers, lists, text ID columns) and sheet 填写说明."""
    from openpyxl import Workbook

    target = Path(path)
    book = Workbook()
    _fill_visits_sheet(book.active)
    _fill_notes_sheet(book.create_sheet("填写说明"))
    temporary = target.with_name(f".{target.stem}.{uuid4().hex[:8]}.part.xlsx")
    try:
        book.save(temporary)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return target
