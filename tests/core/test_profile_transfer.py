"""The 个人基本信息表 in roster imports, exports and the import template."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from core_support import actor_for, person
from openpyxl import Workbook, load_workbook
from roster_support import id_for
from sqlalchemy import select

from desktop.app import App
from desktop.jobs import no_progress
from desktop.models import Resident
from desktop.rules.profile import ProfileInput
from desktop.services.resident_query import ResidentFilter
from desktop.services.residents import create_resident
from desktop.transfer.resident_export import COLUMNS, ResidentExport
from desktop.transfer.resident_import import ImportMode, ResidentImport
from desktop.transfer.resident_template import COLUMNS as TEMPLATE_COLUMNS
from desktop.transfer.resident_template import resident_template
from desktop.transfer.roster_profile import PROFILE_COLUMNS
from desktop.transfer.workbook import read_preview

HEADER = ("姓名", "身份证号", "所属村", "血型", "RH", "文化程度", "职业", "婚姻状况", "医疗费用支付方式", "药物过敏史",
          "既往疾病", "既往手术", "家族史父亲", "遗传病史", "残疾情况", "燃料类型", "常住类型", "联系人电话")


def write_sheet(path: Path, rows: list[tuple]) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.append(list(HEADER))
    for row in rows:
        sheet.append(list(row))
    book.save(path)
    return path


def run(app: App, path: Path, username: str = "luru1", mode: ImportMode = ImportMode.VALID_ONLY):
    job = ResidentImport(app.db, actor_for(app.db, username), path, mode)
    return job(abort=threading.Event(), progress=no_progress)


def stored(app: App, name: str) -> Resident:
    with app.db.read() as session:
        resident = session.scalars(select(Resident).where(Resident.name == name)).one()
        session.expunge(resident)
        return resident


GOOD = ("王秀英", id_for("1950-06-15", 22), "101", "O型", "阳性", "小学", "4", "已婚", "新型农村合作医疗、其他：大病保险",
        "青霉素", "高血压（2015-03）、恶性肿瘤：胃癌（2019-05-20）", "无", "脑卒中、高血压", "无", "肢体残疾", "柴火",
        "户籍", "13900001111")


def test_profile_columns_are_read_as_codes_or_labels(registry_app: App, tmp_path: Path) -> None:
    codes = ("李四", id_for("1960-01-01", 11), "101", "1", "3", "10", "8", "1", "7", "1", "无", "", "1", "", "1",
             "3", "2", "")
    result = run(registry_app, write_sheet(tmp_path / "r.xlsx", [GOOD, codes]))
    assert (result.imported, result.rejected) == (2, ())
    first = stored(registry_app, "王秀英")
    assert (first.blood_type, first.rh_negative, first.education, first.occupation, first.marital_status,
            first.residence_type, first.contact_phone) == ("3", "2", "8", "4", "2", "1", "13900001111")
    assert first.payment_methods == ["3", "8"] and first.payment_other == "大病保险" and first.drug_allergies == ["2"]
    assert first.past_history == {"diseases": [{"name": "", "date": "2015-03-01", "code": "2"},
                                               {"name": "胃癌", "date": "2019-05-20", "code": "6"}],
                                  "operations": []}
    assert first.family_history == {"father": ["2", "7"]} and first.genetic_disease == "无"
    assert first.disabilities == ["5"] and first.living_environment == {"fuel": "5"}
    second = stored(registry_app, "李四")
    assert (second.blood_type, second.payment_methods, second.past_history, second.family_history,
            second.genetic_disease, second.living_environment) == ("1", ["7"], {"diseases": []}, {"father": ["1"]},
                                                                   None, {"fuel": "3"})


def test_a_bad_profile_cell_is_named_by_row_and_column(registry_app: App, tmp_path: Path) -> None:
    rows = [GOOD[:3] + ("C型",) + GOOD[4:],
            ("李四", id_for("1960-01-01", 11), "101", *[""] * 5, "青霉素", "", "糖尿病（1950-02）", *[""] * 7),
            ("赵五", id_for("1961-01-01", 13), "101", *[""] * 6, "无、青霉素", *[""] * 8)]
    result = run(registry_app, write_sheet(tmp_path / "bad.xlsx", rows))
    reasons = [r.reason for r in result.rejected]
    assert reasons[0].startswith("第 2 行，血型：“C型”不在可选范围内（1 A型")
    assert reasons[1] == ("第 3 行，医疗费用支付方式：“青霉素”不在可选范围内（1 城镇职工基本医疗保险 2 城镇居民基本医疗保险 "
                          "3 新型农村合作医疗 4 贫困救助 5 商业医疗保险 6 全公费 7 全自费 8 其他）。；"
                          "既往疾病：糖尿病的日期 1950-02-01 早于出生日期。")
    assert reasons[2] == "第 4 行，药物过敏史：“无”不能与其他选项同时选择。"
    assert result.imported == 0


def test_reimporting_changes_only_the_filled_profile_cells(registry_app: App, tmp_path: Path) -> None:
    run(registry_app, write_sheet(tmp_path / "r.xlsx", [GOOD]))
    version = stored(registry_app, "王秀英").version
    again = run(registry_app, write_sheet(tmp_path / "same.xlsx", [GOOD]))
    assert (again.unchanged, again.updated) == (1, 0) and stored(registry_app, "王秀英").version == version
    edited = list(GOOD[:3]) + [""] * (len(GOOD) - 3)
    edited[HEADER.index("血型")] = "A型"
    edited[HEADER.index("既往手术")] = "阑尾切除术（2001-06）"
    result = run(registry_app, write_sheet(tmp_path / "edit.xlsx", [tuple(edited)]))
    assert result.updated == 1
    after = stored(registry_app, "王秀英")
    assert after.blood_type == "1" and after.version == version + 1 and after.family_history == {"father": ["2", "7"]}
    assert after.past_history["operations"] == [{"name": "阑尾切除术", "date": "2001-06-01"}]
    assert after.past_history["diseases"][1]["name"] == "胃癌" and after.payment_other == "大病保险"


PROFILE = ProfileInput(
    residence_type="2", work_unit="青山砖厂", contact_name="王小红", contact_phone="13900001111", blood_type="4",
    rh="3", education="7", occupation="3", marital_status="3", payment_methods="2、其他：大病保险",
    drug_allergies="磺胺、其他：头孢", exposures="化学品、射线",
    past_history={"diseases": "糖尿病（2018-02）", "operations": "无", "traumas": "左腿骨折（2010-08-15）"},
    family_history={"mother": "高血压、糖尿病", "children": "无"}, family_other="痛风", genetic_disease="血友病",
    disabilities="视力残疾", living_environment={"kitchen_exhaust": "2", "water": "1", "toilet": "3", "livestock": "1"})


def test_the_export_writes_labels_and_imports_back_unchanged(registry_app: App, tmp_path: Path) -> None:
    clerk = actor_for(registry_app.db, "luru1")
    create_resident(registry_app.db, clerk, person("钱七", "1962-03-03", sequence=31, profile=PROFILE))
    out = tmp_path / "export.xlsx"
    ResidentExport(registry_app.db, clerk, out, ResidentFilter(status=None))(abort=threading.Event(),
                                                                              progress=no_progress)
    sheet = load_workbook(out).active
    header = [cell.value for cell in sheet[1]]
    assert header == [title for title, _ in COLUMNS]
    row = dict(zip(header, [cell.value for cell in sheet[2]], strict=True))
    assert (row["常住类型"], row["血型"], row["RH"], row["文化程度"], row["职业"], row["婚姻状况"]) == (
        "非户籍", "AB型", "不详", "初中", "商业、服务业人员", "丧偶")
    assert row["医疗费用支付方式"] == "城镇居民基本医疗保险、其他：大病保险"
    assert row["药物过敏史"] == "磺胺、其他：头孢" and row["暴露史"] == "化学品、射线"
    assert (row["既往疾病"], row["既往手术"], row["既往外伤"], row["既往输血"]) == (
        "糖尿病（2018-02-01）", "无", "左腿骨折（2010-08-15）", None)
    assert (row["家族史母亲"], row["家族史子女"], row["家族史其他疾病"], row["遗传病史"]) == (
        "高血压、糖尿病", "无", "痛风", "血友病")
    assert (row["残疾情况"], row["厨房排风设施"], row["饮水"], row["厕所"], row["禽畜栏"], row["燃料类型"]) == (
        "视力残疾", "油烟机", "自来水", "马桶", "无", None)
    assert row["联系人电话"] == "13900001111" and sheet.cell(row=2, column=header.index("联系人电话") + 1).data_type == "s"
    before = stored(registry_app, "钱七")
    result = run(registry_app, out)
    assert (result.unchanged, result.updated, result.rejected) == (1, 0, ())
    assert stored(registry_app, "钱七").version == before.version


def test_a_masked_export_hides_the_contacts_phone(registry_app: App, tmp_path: Path) -> None:
    clerk = actor_for(registry_app.db, "luru1")
    create_resident(registry_app.db, clerk, person("孙八", "1963-04-04", village="001", profile=PROFILE))
    out = tmp_path / "masked.xlsx"
    ResidentExport(registry_app.db, actor_for(registry_app.db, "yuanzhang"), out, ResidentFilter(status=None))(
        abort=threading.Event(), progress=no_progress)
    sheet = load_workbook(out).active
    header = [cell.value for cell in sheet[1]]
    assert sheet.cell(row=2, column=header.index("联系人电话") + 1).value == "139****1111"


def test_the_template_maps_every_column_and_lists_the_codes(tmp_path: Path) -> None:
    path = resident_template(tmp_path / "模板.xlsx")
    preview = read_preview(path)
    mapped = preview.layout.mapped
    assert set(PROFILE_COLUMNS) <= set(mapped) and preview.missing == ()
    assert len(mapped) == len(TEMPLATE_COLUMNS) and preview.layout.unmatched == ()
    notes = [tuple(row) for row in load_workbook(path)["填写说明"].iter_rows(values_only=True)]
    assert ("血型", "4", "AB型") in notes and ("禽畜栏", "3", "室内") in notes and ("既往疾病", "13", "其他") in notes


@pytest.mark.parametrize("title", [title for title, _, _ in PROFILE_COLUMNS.values()])
def test_every_profile_title_is_recognised_as_a_header(title: str) -> None:
    from desktop.transfer.workbook import field_for_header

    assert field_for_header(title) in PROFILE_COLUMNS
