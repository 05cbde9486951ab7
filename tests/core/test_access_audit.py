"""Reads and refusals leave audit entries: lists of people once per list, scope leaks and refused prints/exports."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from core_support import DEMO_PASSWORD, actor_for, person
from data_templates import data_dir_with
from sqlalchemy import func, select

from desktop.app import App, open_app
from desktop.cli import PASSWORD_ENV, main
from desktop.clock import now
from desktop.errors import PermissionDenied
from desktop.jobs import no_progress
from desktop.models import AuditEntry
from desktop.rules.idnumbers import mask_id
from desktop.services import access_audit
from desktop.services.audit import Action
from desktop.services.due import DueScope, due_list
from desktop.services.indicators import drill_down, indicator_report
from desktop.services.resident_query import get_resident, search, search_shown
from desktop.services.residents import DuplicateElsewhere, DuplicateResident, create_resident, update_resident
from desktop.transfer.registry import export_spec

NAME = "钱二"
CONTROLS = {"abort": threading.Event(), "progress": no_progress}


def _entries_after(app: App, seq: int) -> list[tuple[str, str, str, str, str]]:
    """(action, actor, entity type, entity id, summary) of the entries written after `seq`."""
    with app.db.read() as session:
        return [tuple(row) for row in session.execute(
            select(AuditEntry.action, AuditEntry.actor, AuditEntry.entity_type, AuditEntry.entity_id,
                   AuditEntry.summary).where(AuditEntry.seq > seq).order_by(AuditEntry.seq))]


def _last_seq(app: App) -> int:
    with app.db.read() as session:
        return session.scalar(select(func.max(AuditEntry.seq))) or 0


# --- scope leaks ---------------------------------------------------------------------------------


def test_a_village_doctor_gets_a_generic_message_and_the_attempt_is_audited(registry_app: App) -> None:
    db = registry_app.db
    data = person(NAME, "1970-05-06", sequence=13, village="101")
    saved = create_resident(db, actor_for(db, "luru1"), data)
    doctor = actor_for(db, "cunyi102")
    seq = _last_seq(registry_app)

    with pytest.raises(DuplicateElsewhere) as caught:
        create_resident(db, doctor, person(NAME, "1970-05-06", sequence=13, village="102"))
    message = caught.value.errors["id_number"]
    assert NAME not in message and saved.record_no not in message and "柳树村" not in message
    [(action, actor, entity_type, _, summary)] = _entries_after(registry_app, seq)
    assert (action, actor, entity_type) == (Action.REFUSED.value, "cunyi102", "resident")
    assert mask_id(data.id_number) in summary and data.id_number not in summary and NAME not in summary
    assert summary.startswith("新建档案被拒绝")

    own = create_resident(db, doctor, person("孙三", "1980-01-02", sequence=15, village="102"))
    seq = _last_seq(registry_app)
    with pytest.raises(DuplicateElsewhere):  # editing one's own resident into another's ID number
        update_resident(db, doctor, own.resident_id, person("孙三", "1970-05-06", sequence=13, village="102"),
                        expected_version=own.version)
    [(action, actor, _, _, summary)] = _entries_after(registry_app, seq)
    assert (action, actor) == (Action.REFUSED.value, "cunyi102") and summary.startswith("修改档案被拒绝")

    seq = _last_seq(registry_app)
    with pytest.raises(DuplicateResident) as precise:  # the branch sees every village: told whose record it is
        create_resident(db, actor_for(db, "luru2"), person(NAME, "1970-05-06", sequence=13, village="102"))
    assert NAME in precise.value.errors["id_number"] and saved.record_no in precise.value.errors["id_number"]
    assert _entries_after(registry_app, seq) == []


# --- lists of people -----------------------------------------------------------------------------


def test_the_due_list_is_audited_once_per_list_not_per_refresh(demo_app: App) -> None:
    doctor, on = actor_for(demo_app.db, "cunyi001"), now().date()
    seq = _last_seq(demo_app)
    first = due_list(demo_app.db, doctor, on=on)
    for _ in range(3):  # the home page refreshing after saves
        due_list(demo_app.db, doctor, on=on)
    entries = _entries_after(demo_app, seq)
    people = len({item.resident_id for item in first.items})
    assert people > 0 and len(entries) == 1
    action, actor, entity_type, entity_id, summary = entries[0]
    assert (action, actor, entity_type, entity_id) == (Action.VIEW.value, "cunyi001", "people_list", "due")
    assert f"（{people} 人）" in summary and "待办名单" in summary
    due_list(demo_app.db, doctor, on=on, scope=DueScope.MINE)  # another list: its own entry
    assert len(_entries_after(demo_app, seq)) == 2


def test_an_indicator_drill_down_is_audited_once_per_list(demo_app: App) -> None:
    clerk = actor_for(demo_app.db, "luru1")
    report = indicator_report(demo_app.db, clerk, now().year)
    code = next(code for code, people in report.people.items() if people)
    seq = _last_seq(demo_app)
    shown = drill_down(demo_app.db, clerk, report, code, village_id=None, verdicts=report.people[code])
    drill_down(demo_app.db, clerk, report, code, village_id=None, verdicts=report.people[code])
    [(action, actor, entity_type, entity_id, summary)] = _entries_after(demo_app, seq)
    assert (action, actor, entity_type, entity_id) == (Action.VIEW.value, "luru1", "people_list", "indicator")
    assert "指标名单" in summary and f"（{len(shown)} 人）" in summary
    assert len(shown) == len(report.people[code]) and all(v.address for v in shown)


def test_search_results_are_audited_once_per_search_with_numbers_masked(demo_app: App) -> None:
    clerk = actor_for(demo_app.db, "luru1")
    found = search(demo_app.db, clerk, "张", limit=5)
    seq = _last_seq(demo_app)
    assert search_shown(demo_app.db, clerk, "张", count=len(found))
    assert not search_shown(demo_app.db, clerk, " 张 ", count=len(found))  # the same search again
    assert not search_shown(demo_app.db, clerk, "无此人", count=0)  # an empty list shows no one
    assert search_shown(demo_app.db, clerk, "341522195001011234", count=1)
    entries = _entries_after(demo_app, seq)
    assert [(e[0], e[3]) for e in entries] == [(Action.VIEW.value, "search")] * 2
    assert "查找居民“张”" in entries[0][4] and "341522195001011234" not in entries[1][4]
    assert entries[1][4].count("*") == 14 and "1234" in entries[1][4]


def test_the_command_line_search_is_audited(demo_template: Path, tmp_path: Path, capsys,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, DEMO_PASSWORD)
    root = data_dir_with(demo_template, tmp_path / "data")
    assert main(["--data-dir", str(root), "residents", "search", "张", "--user", "luru1"]) == 0
    app = open_app(root)
    try:
        with app.db.read() as session:
            last = session.execute(select(AuditEntry.action, AuditEntry.entity_id, AuditEntry.summary)
                                   .order_by(AuditEntry.seq.desc()).limit(1)).one()
    finally:
        app.close()
    assert (last.action, last.entity_id) == (Action.VIEW.value, "search") and "张" in last.summary


# --- refusals ------------------------------------------------------------------------------------


def test_a_refused_export_is_audited(demo_app: App, tmp_path: Path) -> None:
    doctor = actor_for(demo_app.db, "cunyi001")
    seq = _last_seq(demo_app)
    out = tmp_path / "other.xlsx"
    with pytest.raises(PermissionDenied):
        export_spec("residents").run(demo_app.db, doctor, out, {"village": "102"}, **CONTROLS)
    with pytest.raises(PermissionDenied):
        export_spec("residents").run(demo_app.db, actor_for(demo_app.db, "kaohe1"), out, {"village": None},
                                     **CONTROLS)
    assert not out.exists()
    entries = _entries_after(demo_app, seq)
    assert [(e[0], e[1]) for e in entries] == [(Action.REFUSED.value, "cunyi001"), (Action.REFUSED.value, "kaohe1")]
    assert all("导出居民名单《other.xlsx》被拒绝" in e[4] for e in entries)
    assert "不属于您负责的村" in entries[0][4] and "无权导出居民档案" in entries[1][4]


def test_a_refusal_inside_refusals_audited_goes_on_up_after_its_entry(registry_app: App) -> None:
    doctor = actor_for(registry_app.db, "cunyi102")
    seq = _last_seq(registry_app)
    with pytest.raises(PermissionDenied), access_audit.refusals_audited(registry_app.db, doctor, "打印测试"):
        raise PermissionDenied("该居民不属于您负责的村。")
    [(action, actor, _, _, summary)] = _entries_after(registry_app, seq)
    assert (action, actor, summary) == (Action.REFUSED.value, "cunyi102", "打印测试被拒绝：该居民不属于您负责的村。")


def test_opening_another_villages_record_is_refused_and_audited(registry_app: App) -> None:
    db = registry_app.db
    saved = create_resident(db, actor_for(db, "luru1"), person(NAME, "1970-05-06", sequence=13, village="101"))
    seq = _last_seq(registry_app)
    with pytest.raises(PermissionDenied):
        get_resident(db, actor_for(db, "cunyi102"), saved.resident_id)
    [(action, actor, _, _, summary)] = _entries_after(registry_app, seq)
    assert (action, actor) == (Action.REFUSED.value, "cunyi102") and summary.startswith("查看档案被拒绝")
    assert NAME not in summary and saved.record_no not in summary


def test_an_export_refused_in_the_window_is_audited_once(demo_app: App, tmp_path: Path) -> None:
    from desktop.transfer.work_lists import DueListExport

    seq = _last_seq(demo_app)
    with pytest.raises(PermissionDenied):  # the job the window runs directly (no registry around it)
        DueListExport(demo_app.db, actor_for(demo_app.db, "kaohe1"), tmp_path / "x.xlsx", on=now().date())(
            **CONTROLS)
    [(action, actor, _, _, summary)] = _entries_after(demo_app, seq)
    assert (action, actor) == (Action.REFUSED.value, "kaohe1") and "《x.xlsx》被拒绝" in summary
