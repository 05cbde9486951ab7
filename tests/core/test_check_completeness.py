"""A 65+ check without ECG and B超, worked by hand: saved, listed and exported as incomplete naming both;
completed by a correction it counts in 老年人规范健康管理."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from core_support import DEMO_PASSWORD, actor_for, complete_check, data_dir_with, libreoffice_sheets, person
from openpyxl import load_workbook
from sqlalchemy import select

from desktop.app import App
from desktop.cli import PASSWORD_ENV, main
from desktop.errors import ValidationError
from desktop.jobs import no_progress
from desktop.models import HealthCheck
from desktop.rules.elderly import Dependence
from desktop.rules.health_check_completeness import EXAMINATION_PARTS, TEST_PARTS
from desktop.services.check_corrections import check_history, correct_health_check, stored_check, void_health_check
from desktop.services.chronic_query import chronic_record
from desktop.services.health_checks import record_health_check
from desktop.services.indicators import indicator_report
from desktop.services.residents import create_resident
from desktop.transfer.check_export import COLUMNS, CheckExport
from desktop.transfer.registry import export_spec

ALL_CARE = dict.fromkeys(("eating", "grooming", "dressing", "toileting", "activity"), Dependence.INDEPENDENT)
NORMAL = dict.fromkeys(EXAMINATION_PARTS, "未见异常")
TITLES = [title for title, _ in COLUMNS]


def _resident(app: App, name: str, birth: str, sequence: int) -> int:
    return create_resident(app.db, actor_for(app.db, "luru1"), person(name, birth, sequence=sequence)).resident_id


def _lacking_ecg_and_ultrasound(day: str = "2025-05-01"):
    results = {key: "未见异常" for key in TEST_PARTS if key not in ("ecg", "ultrasound")}
    return replace(complete_check(day, self_care=ALL_CARE), results=results,
                   examination={**NORMAL, "heart": " 心律不齐 ", "skin": ""})


def _check_id(app: App, resident_id: int) -> int:
    with app.db.read() as session:
        return session.scalars(select(HealthCheck.id).where(HealthCheck.resident_id == resident_id)).one()


def _elderly_verdict(app: App, name: str) -> str | None:
    report = indicator_report(app.db, actor_for(app.db, "kaohe1"), "2025")
    return {v.name: (None if v.counts else v.reason) for v in report.people["elderly_care"]}[name]


def _record_no(app: App, resident_id: int) -> str:
    return chronic_record(app.db, actor_for(app.db, "gongwei1"), resident_id).card.record_no


def _export(app: App, path: Path, username: str = "gongwei1"):
    return CheckExport(app.db, actor_for(app.db, username), path, year=2025)(abort=threading.Event(),
                                                                           progress=no_progress)


def _rows(path: Path) -> list[dict[str, object]]:
    rows = list(load_workbook(path)["健康体检"].iter_rows(values_only=True))
    assert list(rows[0]) == TITLES
    return [dict(zip(TITLES, row, strict=True)) for row in rows[1:]]


def test_a_check_without_ecg_and_ultrasound_is_saved_listed_and_counted_as_incomplete(registry_app: App,
                                                                                        tmp_path: Path) -> None:
    resident_id = _resident(registry_app, "孙老汉", "1950-03-01", 11)
    doctor = actor_for(registry_app.db, "gongwei1")
    record_health_check(registry_app.db, doctor, resident_id, _lacking_ecg_and_ultrasound())
    check_id = _check_id(registry_app, resident_id)
    with registry_app.db.read() as session:
        stored = session.get(HealthCheck, check_id).examination
    assert stored == {"lymph_nodes": "未见异常", "lungs": "未见异常", "heart": "心律不齐", "abdomen": "未见异常"}
    row = chronic_record(registry_app.db, doctor, resident_id).checks[0]
    assert row.missing == ("查体：皮肤", "心电图", "腹部B超") and row.complete is False
    assert _elderly_verdict(registry_app, "孙老汉") == "本年体检不完整，缺：查体：皮肤、心电图、腹部B超"
    result = _export(registry_app, tmp_path / "checks.xlsx")
    assert (result.checks, result.incomplete, result.voided) == (1, 1, 0)
    [exported] = _rows(tmp_path / "checks.xlsx")
    assert (exported["档案编号"], exported["姓名"], exported["自理评分"], exported["查体：心脏"]) == (
        _record_no(registry_app, resident_id), "孙老汉", 0, "心律不齐")
    assert (exported["是否完整"], exported["缺项"], exported["心电图"], exported["血常规"]) == (
        "否", "查体：皮肤、心电图、腹部B超", None, "未见异常")

    opened = stored_check(registry_app.db, doctor, check_id)
    assert opened.data.examination == stored
    assert dict(opened.shown)["查体"] == "淋巴结 未见异常；肺部 未见异常；心脏 心律不齐；腹部 未见异常"
    filled = replace(opened.data, examination={**opened.data.examination, "skin": "未见异常"},
                     results={**opened.data.results, "ecg": "窦性心律", "ultrasound": "肝胆胰脾未见异常"})
    correct_health_check(registry_app.db, doctor, check_id, filled, reason="补录心电图、B超和皮肤检查",
                         expected_version=opened.version)
    row = chronic_record(registry_app.db, doctor, resident_id).checks[0]
    assert row.missing == () and row.complete is True
    assert _elderly_verdict(registry_app, "孙老汉") is None  # now counted in 老年人规范健康管理
    changes = [c.text for c in check_history(registry_app.db, doctor, check_id)[1].changes]
    assert changes[1] == ("查体：淋巴结 未见异常；肺部 未见异常；心脏 心律不齐；腹部 未见异常 → 淋巴结 未见异常；肺部 未见异常；"
                          "心脏 心律不齐；腹部 未见异常；皮肤 未见异常")
    assert changes[0].endswith("心电图 窦性心律；腹部B超 肝胆胰脾未见异常")
    _export(registry_app, tmp_path / "fixed.xlsx")
    [exported] = _rows(tmp_path / "fixed.xlsx")
    assert (exported["是否完整"], exported["缺项"], exported["更正原因"], exported["作废"]) == (
        "是", None, "补录心电图、B超和皮肤检查", None)


def test_a_younger_residents_check_is_not_judged_and_a_voided_one_is_marked(registry_app: App, tmp_path: Path) -> None:
    young = _resident(registry_app, "钱青年", "1980-06-01", 13)
    old = _resident(registry_app, "钱老人", "1950-06-01", 15)
    doctor = actor_for(registry_app.db, "gongwei1")
    record_health_check(registry_app.db, doctor, young, replace(complete_check("2025-04-01"), results={}))
    record_health_check(registry_app.db, doctor, old, _lacking_ecg_and_ultrasound("2025-04-02"))
    assert chronic_record(registry_app.db, doctor, young).checks[0].missing is None
    check_id = _check_id(registry_app, old)
    opened = stored_check(registry_app.db, doctor, check_id)
    void_health_check(registry_app.db, doctor, check_id, reason="录错了人", expected_version=opened.version)
    result = _export(registry_app, tmp_path / "checks.xlsx", "cunyi101")
    assert (result.checks, result.incomplete, result.voided) == (2, 0, 1)
    rows = {row["姓名"]: row for row in _rows(tmp_path / "checks.xlsx")}
    assert (rows["钱青年"]["是否完整"], rows["钱青年"]["缺项"]) == (None, None)
    assert (rows["钱老人"]["是否完整"], rows["钱老人"]["作废"]) == ("否", "已作废：录错了人")
    assert export_spec("checks").label.startswith("健康体检")
    sheet = libreoffice_sheets(tmp_path / "checks.xlsx", tmp_path / "lo")["健康体检"]
    assert sheet[0] == TITLES and len(sheet) == 3
    opened_rows = {r[1]: dict(zip(TITLES, r, strict=True)) for r in sheet[1:]}
    assert opened_rows["钱老人"]["缺项"] == "查体：皮肤、心电图、腹部B超"
    assert opened_rows["钱老人"]["体检日期"] == "2025-04-02" and len(opened_rows["钱老人"]["档案编号"]) == 17


def test_a_finding_too_long_is_named_under_its_part(registry_app: App) -> None:
    resident_id = _resident(registry_app, "李长文", "1950-07-01", 17)
    data = replace(complete_check("2025-05-01", self_care=ALL_CARE), examination={"lungs": "啰音" * 60})
    with pytest.raises(ValidationError) as caught:
        record_health_check(registry_app.db, actor_for(registry_app.db, "gongwei1"), resident_id, data)
    assert caught.value.errors == {"examination_lungs": "查体肺部的描述超过 100 字，请精简。"}


def test_the_demo_years_checks_export_from_the_command_line(demo_template: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv(PASSWORD_ENV, DEMO_PASSWORD)
    root = data_dir_with(demo_template, tmp_path / "data")
    out = tmp_path / "checks.xlsx"
    code = main(["--data-dir", str(root), "export", "checks", str(out), "--year", "2025", "--village", "101",
                 "--user", "cunyi001"])
    assert code == 0 and "已导出 2025 年健康体检" in capsys.readouterr().out
    rows = _rows(out)
    assert rows and {row["所属村"] for row in rows} == {"柳树村"}
    lacking = [row for row in rows if row["是否完整"] == "否"]
    assert lacking and all(row["缺项"] for row in lacking)  # the demo has some incomplete 65+ checks
    assert all(not row["缺项"] for row in rows if row["是否完整"] != "否")


def test_the_indicators_judge_every_demo_check_as_missing_parts_does(demo_app: App) -> None:
    """The indicators ask SQLite which parts a check holds; the answer must be the rule's own."""
    from desktop.rules.health_check_completeness import COMPLETENESS_COLUMNS, missing_parts
    from desktop.services.chronic_indicators import _check_gaps
    from desktop.services.indicator_base import Period

    with demo_app.db.read() as session:
        checks = session.scalars(select(HealthCheck).where(HealthCheck.deleted.is_(False))).all()
        years = {check.check_date.year for check in checks}
        for year in sorted(years):
            period = Period.for_year(year, date.today())
            best: dict[int, list[str]] = {}
            for check in (c for c in checks if c.check_date.year == year and c.check_date <= period.end):
                missing = missing_parts({name: getattr(check, name) for name in COMPLETENESS_COLUMNS})
                if check.resident_id not in best or len(missing) < len(best[check.resident_id]):
                    best[check.resident_id] = missing
            assert _check_gaps(session, period) == best, year
    assert any(best.values()) and any(not gaps for gaps in best.values())  # both kinds in the demo
