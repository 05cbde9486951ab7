"""A branch's audit anchor travels in its packages to the real head hospital on loopback.

`head-hospital sites audit` finds the site's anchors consistent after honest syncs, and not after
the branch's audit tail was deleted with the sqlite3 shell and the app wrote on over the gap.
"""

from __future__ import annotations

import json

from audit_tamper_support import DROP_TRIGGERS, audit_rows, edit_with_sqlite3_shell, needs_sqlite3_shell
from core_support import actor_for
from server_support import approve_site, run_cli
from sqlalchemy import select

from desktop.models import Resident
from desktop.services import audit
from desktop.services.audit import Action
from desktop.sync.client import sync_now
from desktop.sync.enrolment import enrol
from desktop.sync.transport import RetryPolicy

FAST = RetryPolicy(attempts=2, base=0.01, cap=0.05)


def _sites_audit(server, site_id: str) -> tuple[int, str]:
    done = run_cli("sites", "audit", site_id, "--json", "--db", server.db_url)
    return done.returncode, done.stdout


@needs_sqlite3_shell
def test_the_anchor_reaches_the_head_hospital_and_a_rewritten_tail_shows_there(demo_app, server) -> None:
    admin = actor_for(demo_app.db, "admin")
    site_id = enrol(demo_app.db, admin, server.url, retry=FAST).site_id
    approve_site(server.db_url, site_id)
    sync_now(demo_app.db, admin, retry=FAST)
    code, out = _sites_audit(server, site_id)
    anchors = json.loads(out)["anchors"]
    assert code == 0 and len(anchors) == 1
    last = anchors[0]["seq"]
    assert last >= 2 and anchors[0]["keyed_from"] == 1 and anchors[0]["since_seq"] is None

    demo_app.db.dispose()  # the file is replaced under the edit: no pooled connection may keep the old one
    edit_with_sqlite3_shell(demo_app.paths, DROP_TRIGGERS + f"DELETE FROM audit_entry WHERE seq >= {last - 1};")
    assert audit_rows(demo_app.paths)[-1]["seq"] == last - 2
    with demo_app.db.write() as session:  # the app writes on: new entries take the deleted numbers
        for number in range(4):
            audit.record(session, admin, Action.VIEW, summary=f"查看 {number}")
        session.scalars(select(Resident).limit(1)).one().phone = "13900002222"
    sync_now(demo_app.db, admin, retry=FAST)

    done = run_cli("sites", "audit", site_id, "--db", server.db_url)
    assert done.returncode == 1
    assert f"第 {last} 条审计记录在第 1 号与第 2 号数据包中的校验值不同：历史被改写" in done.stdout


def test_honest_syncs_leave_consistent_anchors(demo_app, server) -> None:
    admin = actor_for(demo_app.db, "admin")
    site_id = enrol(demo_app.db, admin, server.url, retry=FAST).site_id
    approve_site(server.db_url, site_id)
    sync_now(demo_app.db, admin, retry=FAST)
    with demo_app.db.write() as session:
        session.scalars(select(Resident).limit(1)).one().phone = "13900003333"
    sync_now(demo_app.db, admin, retry=FAST)
    code, out = _sites_audit(server, site_id)
    result = json.loads(out)
    assert code == 0 and result["consistent"] and len(result["anchors"]) == 2
    first, second = result["anchors"]
    assert second["since_seq"] == first["seq"] and second["since_hash"] == first["entry_hash"]
    assert second["seq"] >= first["seq"]  # a sync itself writes no audit entry
