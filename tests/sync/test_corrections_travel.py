"""A corrected visit and a voided visit reach the real head hospital (loopback) as new versions of the same record."""

from __future__ import annotations

import json
from contextlib import closing
from dataclasses import replace

from core_support import actor_for
from data_templates import open_database
from server_support import approve_site
from sqlalchemy import select

from desktop.models import FollowupVisit
from desktop.services.visit_corrections import correct_visit, stored_visit, void_visit
from desktop.sync.client import sync_now
from desktop.sync.enrolment import enrol
from desktop.sync.transport import RetryPolicy

FAST = RetryPolicy(attempts=2, base=0.01, cap=0.05)


def _held(server, uuid: str) -> tuple[int, bool, dict]:
    """The head hospital's stored version, tombstone and data of one record."""
    path = server.db_url.removeprefix("sqlite:///")
    with closing(open_database(path)) as connection:
        version, deleted, data = connection.execute(
            "SELECT version, deleted, data FROM record WHERE uuid = ?", (uuid,)).fetchone()
    return version, bool(deleted), json.loads(data)


def _two_latest_visits(app) -> list[tuple[int, str]]:
    with app.db.read() as session:
        rows = session.execute(select(FollowupVisit.id, FollowupVisit.uuid).where(FollowupVisit.deleted.is_(False))
                               .order_by(FollowupVisit.visit_date.desc(), FollowupVisit.id.desc()).limit(2))
        return [tuple(row) for row in rows]


def test_a_corrected_and_a_voided_visit_travel_as_new_versions(demo_app, server) -> None:
    admin, doctor = actor_for(demo_app.db, "admin"), actor_for(demo_app.db, "gongwei1")
    approve_site(server.db_url, enrol(demo_app.db, admin, server.url, retry=FAST).site_id)
    sync_now(demo_app.db, admin, retry=FAST)
    (corrected_id, corrected_uuid), (voided_id, voided_uuid) = _two_latest_visits(demo_app)
    assert _held(server, corrected_uuid)[2]["correction_reason"] is None
    opened = stored_visit(demo_app.db, doctor, corrected_id)
    correct_visit(demo_app.db, doctor, corrected_id, replace(opened.data, doctor_name="核对医生"),
                  reason="随访医生填错", expected_version=opened.version)
    voided = stored_visit(demo_app.db, doctor, voided_id)
    void_visit(demo_app.db, doctor, voided_id, reason="重复录入", expected_version=voided.version)
    outcome = sync_now(demo_app.db, admin, retry=FAST)
    assert (outcome.sent, outcome.applied, outcome.rejected) == (2, 2, 0)
    version, deleted, data = _held(server, corrected_uuid)
    assert (version, deleted) == (opened.version + 1, False)
    assert (data["correction_reason"], data["doctor_name"]) == ("随访医生填错", "核对医生")
    assert data["corrected_at"]
    version, deleted, data = _held(server, voided_uuid)
    assert (version, deleted, data["void_reason"]) == (voided.version + 1, True, "重复录入")
    assert data["voided_at"]
