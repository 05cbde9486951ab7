"""Editing a closed data directory's database the way an intruder with the folder would: the sqlite3 shell.

Every test that tampers with the file goes through `edit_with_sqlite3_shell`: the encrypted
database goes out to a plain copy under the key (as an intruder who read the key file would),
the shell edits the copy, and the copy goes back under the same key.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from datetime import datetime
from typing import Any

import pytest
from data_templates import database_key
from encryption_support import encrypt_into, plain_copy

from desktop.paths import DataPaths
from desktop.services.audit_chain import canonical_json

SQLITE3 = shutil.which("sqlite3")
needs_sqlite3_shell = pytest.mark.skipif(SQLITE3 is None, reason="the sqlite3 command-line shell is not installed")

DROP_TRIGGERS = "DROP TRIGGER audit_entry_no_update;\nDROP TRIGGER audit_entry_no_delete;\n"


def edit_with_sqlite3_shell(paths: DataPaths, sql: str, *, json_output: bool = False) -> str:
    """Run `sql` on the data directory's database in the real sqlite3 shell; its output (JSON rows if asked)."""
    assert SQLITE3 is not None
    key = database_key(paths.database)
    plain = plain_copy(paths.database, key, paths.root / "intruder-plain.sqlite")
    try:
        command = [SQLITE3, "-bail", *(["-json"] if json_output else []), str(plain)]
        result = subprocess.run(command, input=sql, capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 0, result.stderr
        encrypt_into(plain, key, paths.database)
    finally:
        plain.unlink(missing_ok=True)
    return result.stdout


def audit_rows(paths: DataPaths) -> list[dict[str, Any]]:
    """Every audit entry as the shell reads it, in order."""
    output = edit_with_sqlite3_shell(paths, "SELECT * FROM audit_entry ORDER BY seq;", json_output=True)
    return json.loads(output) if output.strip() else []


def _plain_fields(row: dict[str, Any]) -> dict[str, Any]:
    fields = {"seq": row["seq"], "at": datetime.fromisoformat(row["at"]).isoformat(timespec="seconds"),
              "actor": row["actor"], "action": row["action"], "entity_type": row["entity_type"],
              "entity_id": row["entity_id"], "summary": row["summary"], "before": row["before_digest"],
              "after": row["after_digest"]}
    if row.get("details") is not None:
        fields["details"] = json.loads(row["details"])
    return fields


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def rewrite_with_plain_chain(paths: DataPaths, *, from_seq: int, summary: str, through_seq: int | None = None) -> None:
    """Rewrite entries from `from_seq` (to `through_seq`, else the end); recompute the plain SHA-256 chain."""
    rows = audit_rows(paths)
    prev_hash = next((row["entry_hash"] for row in rows if row["seq"] == from_seq - 1), "0" * 64)
    statements = [DROP_TRIGGERS]
    for row in (row for row in rows if from_seq <= row["seq"] <= (through_seq or row["seq"])):
        row = {**row, "summary": summary}
        digest = hashlib.sha256(f"{prev_hash}\n{canonical_json(_plain_fields(row))}".encode()).hexdigest()
        statements.append(f"UPDATE audit_entry SET summary = {_quoted(summary)}, prev_hash = '{prev_hash}', "
                          f"entry_hash = '{digest}' WHERE seq = {row['seq']};\n")
        prev_hash = digest
    edit_with_sqlite3_shell(paths, "".join(statements))
