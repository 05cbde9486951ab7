"""The branch's side of enrolment with the real head hospital: re-enrolment signed with the earlier key,
a key rotation that survives a lost answer, a stolen site id, and records that fit the package limits."""

from __future__ import annotations

import httpx
import pytest
from server_support import approve_site, run_cli, site_list

from desktop.sync.client import sync_now
from desktop.sync.enrolment import ROTATING_KEY, enrol
from desktop.sync.records import bindings, read_records
from desktop.sync.site import get_value, require_enrolment
from desktop.sync.transport import Offline, RetryPolicy, ServerRefused
from township_wire.crypto import KeyPair
from township_wire.package import RECORD_ALLOWANCE_BYTES
from township_wire.types import record_problem

FAST = RetryPolicy(attempts=2, base=0.01, cap=0.05)


def _site_keys(app) -> KeyPair:
    with app.db.read() as session:
        return require_enrolment(session).site_keys


def _head_row(server, site_id: str) -> dict:
    return next(row for row in site_list(server.db_url) if row["site_id"] == site_id)


def test_re_enrolment_and_a_key_rotation_are_signed_with_the_earlier_key(demo_app, admin, server) -> None:
    first = enrol(demo_app.db, admin, server.url, retry=FAST)
    approve_site(server.db_url, first.site_id)
    again = enrol(demo_app.db, admin, server.url, retry=FAST)
    assert (again.status, again.fingerprint) == ("approved", first.fingerprint), "the same keys: harmless"
    rotated = enrol(demo_app.db, admin, server.url, retry=FAST, new_keys=True)
    assert rotated.status == "pending" and rotated.fingerprint != first.fingerprint
    assert _site_keys(demo_app).public.fingerprint == rotated.fingerprint
    assert _head_row(server, first.site_id)["fingerprint"] == rotated.fingerprint
    with demo_app.db.read() as session:
        assert get_value(session, ROTATING_KEY) is None
    approve_site(server.db_url, first.site_id)
    assert sync_now(demo_app.db, admin, retry=FAST).applied > 0, "the new keys sync once approved"


def test_a_rotation_whose_answer_never_came_is_finished_with_the_same_new_keys(demo_app, admin, server) -> None:
    first = enrol(demo_app.db, admin, server.url, retry=FAST)
    with pytest.raises(Offline):
        enrol(demo_app.db, admin, "http://127.0.0.1:9", retry=RetryPolicy(attempts=1), new_keys=True)
    with demo_app.db.read() as session:
        kept = KeyPair.from_json(get_value(session, ROTATING_KEY))
    assert _site_keys(demo_app).public.fingerprint == first.fingerprint, "nothing changes before an answer"
    finished = enrol(demo_app.db, admin, server.url, retry=FAST)
    assert finished.fingerprint == kept.public.fingerprint == _head_row(server, first.site_id)["fingerprint"]


def test_a_site_id_taken_by_a_stranger_is_refused_in_words_until_the_admin_resets_it(demo_app, admin,
                                                                                    server) -> None:
    from desktop.services.branch import get_branch

    site_id = get_branch(demo_app.db).site_id
    stranger = KeyPair.generate()
    taken = httpx.post(f"{server.url}/v1/enrol", json={"site_id": site_id, "name": "冒名卫生院",
                                                       "keys": stranger.public.to_json()}, timeout=30)
    assert taken.status_code == 200
    with pytest.raises(ServerRefused) as refused:
        enrol(demo_app.db, admin, server.url, retry=FAST)
    assert refused.value.status == 409 and "sites reset" in refused.value.message
    assert run_cli("sites", "reset", site_id, "--db", server.db_url).returncode == 0
    result = enrol(demo_app.db, admin, server.url, retry=FAST)
    assert result.status == "pending" and _head_row(server, site_id)["fingerprint"] == result.fingerprint


def test_demo_records_are_well_inside_the_package_limits(demo_app) -> None:
    """What the unpacked limit is measured on: the allowance is over three times the average demo record."""
    sizes: list[int] = []
    with demo_app.db.read() as session:
        for bound in bindings():
            for record in read_records(session, bound):
                assert record_problem(record.type, record.uuid, record.version, record.data) is None
                sizes.append(len(record.line()))
    assert len(sizes) > 10_000
    average = sum(sizes) / len(sizes)
    assert average * 3 <= RECORD_ALLOWANCE_BYTES, f"average demo record {average:.0f} bytes"
    assert max(sizes) * 2 <= RECORD_ALLOWANCE_BYTES, f"largest demo record {max(sizes)} bytes"
