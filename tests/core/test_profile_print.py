"""The printed 健康档案封面 and 个人基本信息表, read back with poppler; `print profile` from the command line."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from core_support import DEMO_PASSWORD, actor_for, data_dir_with, person
from sqlalchemy import func, select

from desktop.app import App, open_app
from desktop.cli import PASSWORD_ENV, main
from desktop.models import AuditEntry, Resident, Village
from desktop.printing.catalogue import get_form, print_form
from desktop.rules.profile import ProfileInput
from desktop.services.residents import create_resident

REQUIRE_TOOLS = os.environ.get("TOWNSHIP_DESK_REQUIRE_TOOLS") == "1"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots" / "tmp"
PROFILE = ProfileInput(
    residence_type="1", work_unit="青山村委会", contact_name="王小红", contact_phone="13900001111", blood_type="3",
    rh="2", education="8", occupation="4", marital_status="2", payment_methods="新型农村合作医疗、其他：大病保险",
    drug_allergies="青霉素、磺胺", exposures="无",
    past_history={"diseases": "高血压（2015-03）、恶性肿瘤：胃癌（2019-05）", "operations": "阑尾切除术（2001-06）",
                  "traumas": "无", "transfusions": "无"},
    family_history={"father": "脑卒中、高血压", "mother": "无"}, genetic_disease="无", disabilities="肢体残疾",
    living_environment={"kitchen_exhaust": "4", "fuel": "5", "water": "3", "toilet": "2", "livestock": "4"})


def tool(name: str) -> str:
    """The poppler program, or skip (fail where the tools are required)."""
    path = shutil.which(name)
    if path is None:
        if REQUIRE_TOOLS:
            pytest.fail(f"{name} (poppler-utils) is required here but is not installed")
        pytest.skip(f"{name} (poppler-utils) is not installed")
    return path


def run(*args: object) -> str:
    completed = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=60, check=False)
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def compact_pages(path: Path) -> list[str]:
    """Each page's text without blanks."""
    return [re.sub(r"\s+", "", page) for page in run(tool("pdftotext"), path, "-").split("\f") if page.strip()]


def test_the_cover_and_the_form_show_the_record(registry_app: App, tmp_path: Path) -> None:
    clerk = actor_for(registry_app.db, "luru1")
    saved = create_resident(registry_app.db, clerk, person("王秀英", "1950-06-15", sequence=22, address="青山村三组12号",
                                                           phone="13800138000", profile=PROFILE))
    pdf = print_form(registry_app.db, clerk, "profile", saved.record_no)
    assert pdf.page_count == 2
    path = tmp_path / "profile.pdf"
    path.write_bytes(pdf)
    cover, form = compact_pages(path)
    assert "居民健康档案" in cover and "姓名：王秀英" in cover and "现住址：青山村三组12号" in cover
    assert "户籍地址：青山村三组12号" in cover and "联系电话：13800138000" in cover
    assert "".join(t for t in pdf.sheets[0].texts() if len(t) == 1 and t.isdigit()) == saved.record_no
    with registry_app.db.read() as session:
        village = session.scalar(select(Village.name).join(Resident, Resident.village_id == Village.id)
                                 .where(Resident.id == saved.resident_id))
    assert f"村（居）委会名称：{village}" in cover and "建档日期：" in cover
    assert form.startswith("个人基本信息表姓名：王秀英")
    for text in ("青山村委会", "王小红", "13900001111", "1950年06月15日", "胃癌确诊时间2019年5月", "确诊时间2015年3月",
                 "阑尾切除术时间2001年6月", "其他：大病保险"):
        assert text in form, text
    assert " yes yes yes " in run(tool("pdffonts"), path)
    run(tool("pdftoppm"), "-r", "60", "-gray", "-f", "2", "-l", "2", path, tmp_path / "form")
    assert (tmp_path / "form-2.pgm").stat().st_size > 100_000


def test_the_chosen_codes_are_written_in_the_boxes(registry_app: App) -> None:
    clerk = actor_for(registry_app.db, "luru1")
    saved = create_resident(registry_app.db, clerk, person("李四", "1960-01-01", profile=PROFILE))
    pdf = print_form(registry_app.db, clerk, "profile", saved.record_no)
    texts = pdf.sheets[1].texts()
    boxes = [t for t in texts if re.fullmatch(r"\d{1,2}", t)]
    # blood O (3) / RH 阳性 (2), education 小学 (8), occupation 4, married 2, payment 3/8, allergies 2/3, exposure 1
    for code in ("3", "2", "8", "4", "1"):
        assert code in boxes
    assert any("大病保险" in t for t in texts)


def test_print_profile_from_the_command_line(capsys, monkeypatch, demo_template: Path, tmp_path: Path) -> None:
    data_dir = data_dir_with(demo_template, tmp_path / "data")
    monkeypatch.setenv(PASSWORD_ENV, DEMO_PASSWORD)
    app = open_app(data_dir)
    try:
        with app.db.read() as session:
            record_no, code = session.execute(select(Resident.record_no, Village.code)
                                              .join(Village, Village.id == Resident.village_id).limit(1)).one()
    finally:
        app.close()
    out = tmp_path / "档案.pdf"
    status = main(["--data-dir", str(data_dir), "print", "profile", record_no, "--out", str(out),
                   "--user", f"cunyi{code}"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert captured.out.strip() == f"已生成 {out}（2 页）" and out.read_bytes().startswith(b"%PDF-")
    app = open_app(data_dir)
    try:
        with app.db.read() as session:
            assert session.scalar(select(func.count()).where(AuditEntry.action == "print")) == 1
    finally:
        app.close()
    if shutil.which("pdftoppm"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        run("pdftoppm", "-r", "90", "-png", out, SCREENSHOTS / "profile-print")
    assert get_form("profile").label == "居民健康档案封面和个人基本信息表"


def test_a_masked_role_prints_masked_numbers(registry_app: App) -> None:
    clerk = actor_for(registry_app.db, "luru1")
    saved = create_resident(registry_app.db, clerk, person("赵六", "1970-02-02", village="001", phone="13800138000",
                                                           profile=PROFILE))
    pdf = print_form(registry_app.db, actor_for(registry_app.db, "yuanzhang"), "profile", saved.record_no)
    texts = "".join(t for sheet in pdf.sheets for t in sheet.texts())
    assert "13800138000" not in texts and "13900001111" not in texts and "139****1111" in texts
