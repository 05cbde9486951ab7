"""`township-desk print FORM KEY`, run in-process through `desktop.cli.main`."""

from __future__ import annotations

from pathlib import Path

import pytest
from core_support import DEMO_PASSWORD, data_dir_with
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desktop.app import open_app
from desktop.cli import PASSWORD_ENV, main
from desktop.models import AuditEntry, FollowupVisit, HealthCheck, Resident, Village
from desktop.printing.catalogue import (
    FormOption,
    PrintForm,
    Printout,
    register_form,
    registered_forms,
    unregister_form,
)
from desktop.printing.draw import Cell, write
from desktop.printing.sheet import Sheet
from desktop.services.permissions import Actor, Permission


@pytest.fixture
def demo_dir(demo_template: Path, tmp_path: Path) -> Path:
    return data_dir_with(demo_template, tmp_path / "data")


def run(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    code = main([str(arg) for arg in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def a_patient(data_dir: Path) -> tuple[str, str, int]:
    """(record number, village code, visits in 2025) of a demo hypertension patient with visits in 2025."""
    app = open_app(data_dir)
    try:
        with app.db.read() as session:
            return session.execute(
                select(Resident.record_no, Village.code, func.count(FollowupVisit.id))
                .join(FollowupVisit, FollowupVisit.resident_id == Resident.id)
                .join(Village, Village.id == Resident.village_id)
                .where(FollowupVisit.disease == "hypertension",
                       FollowupVisit.visit_date.between("2025-01-01", "2025-12-31"))
                .group_by(Resident.id).order_by(func.count(FollowupVisit.id).desc()).limit(1)).one()
    finally:
        app.close()


def prints(data_dir: Path) -> int:
    app = open_app(data_dir)
    try:
        with app.db.read() as session:
            return session.scalar(select(func.count()).where(AuditEntry.action == "print"))
    finally:
        app.close()


def test_print_followup_writes_the_pdf(capsys, monkeypatch, demo_dir: Path, tmp_path: Path) -> None:
    monkeypatch.setenv(PASSWORD_ENV, DEMO_PASSWORD)
    record_no, village, visits = a_patient(demo_dir)
    out = tmp_path / "随访表.pdf"
    code, stdout, stderr = run(capsys, "--data-dir", demo_dir, "print", "followup", record_no, "--disease",
                               "hypertension", "--year", 2025, "--out", out, "--user", f"cunyi{village}")
    assert code == 0, stderr
    pages = -(-visits // 4)
    assert stdout.strip() == f"已生成 {out}（{pages} 页）"
    assert out.read_bytes().startswith(b"%PDF-") and out.read_bytes().rstrip().endswith(b"%%EOF")
    assert prints(demo_dir) == 1
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".printing-")] == []


def test_print_followup_refuses_out_of_scope_and_writes_nothing(capsys, monkeypatch, demo_dir: Path,
                                                                tmp_path: Path) -> None:
    monkeypatch.setenv(PASSWORD_ENV, DEMO_PASSWORD)
    record_no, village, _ = a_patient(demo_dir)
    other = "102" if village != "102" else "103"
    out = tmp_path / "x.pdf"
    code, _, stderr = run(capsys, "--data-dir", demo_dir, "print", "followup", record_no, "--disease",
                          "hypertension", "--year", 2025, "--out", out, "--user", f"cunyi{other}")
    assert code == 1 and "该居民不属于您负责的村" in stderr
    code, _, stderr = run(capsys, "--data-dir", demo_dir, "print", "followup", record_no, "--disease",
                          "hypertension", "--year", 2025, "--out", tmp_path / "missing" / "x.pdf", "--user", "gongwei1")
    assert code == 1 and "输出文件夹不存在" in stderr
    assert list(tmp_path.glob("*.pdf")) == [] and prints(demo_dir) == 0  # refused requests print nothing


def test_print_followup_needs_the_password_and_a_known_disease(capsys, monkeypatch, demo_dir: Path,
                                                               tmp_path: Path) -> None:
    record_no, _, _ = a_patient(demo_dir)
    arguments = ["--data-dir", demo_dir, "print", "followup", record_no, "--year", 2025, "--out", tmp_path / "x.pdf",
                 "--user", "gongwei1"]
    code, _, stderr = run(capsys, *arguments, "--disease", "hypertension")
    assert code == 1 and PASSWORD_ENV in stderr
    monkeypatch.setenv(PASSWORD_ENV, DEMO_PASSWORD)
    with pytest.raises(SystemExit) as caught:
        main([str(a) for a in arguments] + ["--disease", "asthma"])
    assert caught.value.code == 2
    code, _, stderr = run(capsys, *arguments[:4], "123", *arguments[5:], "--disease", "diabetes")
    assert code == 1 and "17 位数字" in stderr
    assert not (tmp_path / "x.pdf").exists()


def test_print_self_care_by_record_number(capsys, monkeypatch, demo_dir: Path, tmp_path: Path) -> None:
    monkeypatch.setenv(PASSWORD_ENV, DEMO_PASSWORD)
    app = open_app(demo_dir)
    try:
        with app.db.read() as session:
            record_no, day = session.execute(
                select(Resident.record_no, HealthCheck.check_date)
                .join(Resident, Resident.id == HealthCheck.resident_id)
                .where(HealthCheck.self_care_total.is_not(None)).limit(1)).one()
    finally:
        app.close()
    out = tmp_path / "自理.pdf"
    code, stdout, stderr = run(capsys, "--data-dir", demo_dir, "print", "self-care", record_no, "--date", day,
                               "--out", out, "--user", "gongwei1")
    assert code == 0, stderr
    assert stdout.strip() == f"已生成 {out}（1 页）" and out.read_bytes().startswith(b"%PDF-")
    assert prints(demo_dir) == 1


def _throwaway(session: Session, actor: Actor, key: str, *, copies: int = 1) -> Printout:
    """A form about nobody in particular: the key and the number of copies, one page each."""
    sheets = []
    for number in range(copies):
        sheet = Sheet()
        write(sheet, Cell(20, 20, 170, 12), f"试用表单 {key} 第 {number + 1} 份", 14)
        sheets.append(sheet)
    return Printout(sheets=sheets, title=f"试用表单 {key}", village_id=None, entity_type="throwaway",
                    entity_id=key, summary=f"打印试用表单 {key}")


def test_a_form_registered_at_run_time_prints_through_the_cli(capsys, monkeypatch, demo_dir: Path,
                                                              tmp_path: Path) -> None:
    monkeypatch.setenv(PASSWORD_ENV, DEMO_PASSWORD)
    form = register_form(PrintForm(key="throwaway", label="试用表单", permission=Permission.VIEW_FOLLOWUPS,
                                   key_help="任意文字", load=_throwaway,
                                   options=(FormOption("copies", "份数", parse=int, required=False),)))
    out = tmp_path / "试用.pdf"
    try:
        code, stdout, stderr = run(capsys, "--data-dir", demo_dir, "print", "throwaway", "甲-1", "--copies", 3,
                                   "--out", out, "--user", "gongwei1")
        assert code == 0, stderr
        assert stdout.strip() == f"已生成 {out}（3 页）"
        code, _, stderr = run(capsys, "--data-dir", demo_dir, "print", "throwaway", "乙", "--out",
                              tmp_path / "refused.pdf", "--user", "admin")
        assert code == 1 and "无权查看慢病管理和随访" in stderr
    finally:
        unregister_form(form.key)
    assert "throwaway" not in {f.key for f in registered_forms()}
    with pytest.raises(SystemExit) as caught:
        main(["--data-dir", str(demo_dir), "print", "throwaway", "甲", "--out", str(out), "--user", "gongwei1"])
    assert caught.value.code == 2
    assert out.read_bytes().startswith(b"%PDF-") and not (tmp_path / "refused.pdf").exists()
    app = open_app(demo_dir)
    try:
        with app.db.read() as session:
            entries = session.execute(select(AuditEntry.actor, AuditEntry.entity_type, AuditEntry.entity_id)
                                      .where(AuditEntry.action == "print")).all()
    finally:
        app.close()
    assert [tuple(entry) for entry in entries] == [("gongwei1", "throwaway", "甲-1")]
