"""`township-desk print followup`, run in-process through `desktop.cli.main`."""

from __future__ import annotations

from pathlib import Path

import pytest
from core_support import DEMO_PASSWORD, data_dir_with
from sqlalchemy import func, select

from desktop.app import open_app
from desktop.cli import PASSWORD_ENV, main
from desktop.models import AuditEntry, FollowupVisit, Resident, Village


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
