"""`township-desk residents status RECORD_NUMBER --died|--moved-out|--active`, run in-process."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from data_templates import open_database
from test_cli_residents import cli, demo_dir  # noqa: F401 - fixtures

from desktop.paths import DB_FILENAME


def _db_path(data_dir: Path) -> Path:
    return data_dir / DB_FILENAME


def _managed(data_dir: Path) -> tuple[str, str]:
    """(record number, disease) of an active demo resident under hypertension management."""
    with open_database(_db_path(data_dir)) as connection:
        return connection.execute(
            "SELECT r.record_no, e.disease FROM resident r JOIN chronic_enrolment e ON e.resident_id = r.id "
            "WHERE r.status = 'active' AND e.ended_on IS NULL AND e.disease = 'hypertension' "
            "AND r.id NOT IN (SELECT resident_id FROM chronic_enrolment WHERE disease = 'diabetes') "
            "ORDER BY r.id LIMIT 1").fetchone()


def _state(data_dir: Path, record_no: str) -> tuple:
    with open_database(_db_path(data_dir)) as connection:
        return connection.execute(
            "SELECT r.status, r.status_date, e.ended_on, e.end_reason FROM resident r "
            "JOIN chronic_enrolment e ON e.resident_id = r.id WHERE r.record_no = ?", (record_no,)).fetchone()


def test_died_ends_management_and_active_reverts_with_a_reason(cli, demo_dir: Path) -> None:  # noqa: F811
    record_no, _ = _managed(demo_dir)
    today = date.today().isoformat()
    code, out, err = cli("--data-dir", demo_dir, "residents", "status", record_no, "--died", "--date", today,
                         "--note", "家属告知", "--user", "gongwei1")
    assert code == 0, err
    assert out.strip() == f"{record_no} 已标记为死亡（{today}），结束高血压管理。"
    assert _state(demo_dir, record_no) == ("deceased", today, today, "死亡")
    code, out, err = cli("--data-dir", demo_dir, "residents", "status", record_no, "--active", "--user", "gongwei1")
    assert code == 1 and "恢复在册请填写原因" in err
    code, out, err = cli("--data-dir", demo_dir, "residents", "status", record_no, "--active", "--note", "误登记",
                         "--user", "gongwei1")
    assert code == 0, err
    assert out.strip() == f"{record_no} 已标记为在册，恢复高血压管理。"
    assert _state(demo_dir, record_no) == ("active", None, None, None)


def test_status_needs_a_date_a_known_record_and_the_residents_village(cli, demo_dir: Path) -> None:  # noqa: F811
    record_no, _ = _managed(demo_dir)
    code, _, err = cli("--data-dir", demo_dir, "residents", "status", record_no, "--moved-out", "--user", "luru1")
    assert code == 1 and "--date" in err
    code, _, err = cli("--data-dir", demo_dir, "residents", "status", "99999999999999999", "--moved-out",
                       "--date", "2025-01-01", "--user", "luru1")
    assert code == 1 and "没有档案编号为 99999999999999999 的居民" in err
    with open_database(_db_path(demo_dir)) as connection:
        outside = connection.execute(
            "SELECT r.record_no FROM resident r JOIN village v ON v.id = r.village_id "
            "WHERE v.code NOT IN ('001', '101') AND r.status = 'active' LIMIT 1").fetchone()[0]
    code, _, err = cli("--data-dir", demo_dir, "residents", "status", outside, "--moved-out", "--date", "2025-01-01",
                       "--user", "cunyi001")
    assert code == 1 and "不属于您负责的村" in err
    assert _state(demo_dir, record_no)[0] == "active"
    with pytest.raises(SystemExit) as usage:
        cli("--data-dir", demo_dir, "residents", "status", record_no, "--died", "--moved-out", "--date", "2025-01-01",
            "--user", "luru1")
    assert usage.value.code == 2


def test_moves_lists_pending_for_the_branch_and_outcomes_for_the_requester(cli, demo_dir: Path) -> None:  # noqa: F811
    code, out, err = cli("--data-dir", demo_dir, "residents", "moves", "--user", "luru1")
    assert code == 0, err
    assert len([line for line in out.splitlines() if line.startswith("待审批  ")]) == 1
    with open_database(_db_path(demo_dir)) as connection:
        (requester,) = connection.execute(
            "SELECT requested_by FROM resident_transfer WHERE status = 'refused'").fetchone()
    code, out, err = cli("--data-dir", demo_dir, "residents", "moves", "--user", requester)
    assert code == 0, err
    assert out.startswith("未同意  ") and "*" in out and "经核实该居民仍在原村居住" in out
