"""The import job skeleton serves an area that is only its own spec plus one registration.

A throwaway "notes" area: a vocabulary, a row check and a writer (which stores nothing but
counts). Through the registry it gets the command line (`import notes FILE`), dry run,
all-or-nothing or valid-only, the error workbook and the audit entry, from a GBK .csv.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from core_support import DEMO_PASSWORD, data_dir_with
from openpyxl import load_workbook
from sqlalchemy import select

from desktop.app import open_app
from desktop.changes import Changes
from desktop.cli import PASSWORD_ENV, main
from desktop.models import AuditEntry
from desktop.services.permissions import Permission
from desktop.transfer import registry
from desktop.transfer.import_job import ImportResult, ImportSpec, WriteStep
from desktop.transfer.workbook import Vocabulary

NOTES = Vocabulary({"name": ("姓名",), "note": ("备注", "说明")}, {"name": "姓名", "note": "备注"})


def check_note_rows(db, actor, layout):
    def check(row: int, values: tuple) -> tuple[object, str]:
        name, note = (values[layout.mapped[f].index] for f in ("name", "note"))
        if not note:
            return None, f"第 {row} 行，{layout.header_of('note')}：未填写。"
        return (name, note), ""

    return check


def write_note_rows(step: WriteStep) -> ImportResult:
    step.progress(1.0, "done")
    return replace(step.base, imported=len(step.rows))


NOTES_IMPORT = ImportSpec(
    kind="notes", label="备忘", permission=Permission.IMPORT_RESIDENTS, vocabulary=NOTES,
    check_rows=check_note_rows, write=write_note_rows, entity_type="note",
    audit_summary=lambda result, source: f"导入备忘{source}：{result.imported} 条",
    changes=lambda result: Changes(audit=True),
)


@pytest.fixture
def notes_registered():
    registry.register_import(NOTES_IMPORT)
    yield NOTES_IMPORT
    registry.IMPORT_JOBS.remove(NOTES_IMPORT)


def test_a_registered_area_imports_through_the_command_line(notes_registered, registry_template: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, DEMO_PASSWORD)
    data = data_dir_with(registry_template, tmp_path / "data")
    sheet = tmp_path / "notes.csv"
    sheet.write_bytes("备忘清单\n姓名,说明\n张三,复诊\n李四,\n王五,随访\n".encode("gbk"))

    def cli(*args: object) -> tuple[int, list[str]]:
        code = main(["--data-dir", str(data), "import", "notes", str(sheet), *map(str, args), "--user", "luru1"])
        return code, capsys.readouterr().out.strip().splitlines()

    assert cli("--dry-run") == (1, ["第 4 行，说明：未填写。", "试导入完成（未写入）：新增 2 人，更新 0 人，未变 0 人，有错误 1 行。",
                                    "imported 2, updated 0, rejected 1"])
    code, lines = cli()
    assert (code, lines[-1]) == (1, "imported 0, updated 0, rejected 1")
    code, lines = cli("--valid-only", "--errors", tmp_path / "errors.xlsx")
    assert (code, lines[-1]) == (0, "imported 2, updated 0, rejected 1")
    assert list(load_workbook(tmp_path / "errors.xlsx").active.iter_rows(values_only=True)) == [
        ("原行号", "错误原因", "姓名", "说明"), (4, "第 4 行，说明：未填写。", "李四", None)]
    app = open_app(data)
    try:
        with app.db.read() as session:
            summaries = list(session.scalars(select(AuditEntry.summary).where(AuditEntry.entity_type == "note")))
    finally:
        app.close()
    assert summaries == ["导入备忘《notes.csv》（只导入有效行）：2 条"]


def test_a_kind_is_registered_once() -> None:
    with pytest.raises(RuntimeError, match="registered twice"):
        registry.register_import(registry.import_spec("residents"))
