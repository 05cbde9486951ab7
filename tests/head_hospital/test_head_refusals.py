"""Packages that must be refused before anything is written, each refusal logged."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from head_support import Branch, events, new_branch, nothing_written, rezip

from head_hospital.db import HeadDatabase
from head_hospital.errors import Refused
from head_hospital.ingest import ingest
from head_hospital.sites import revoke
from township_wire.crypto import KeyPair


def _flip_a_byte(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0x55]) + data[middle + 1:]


def _changed_records(data: bytes) -> bytes:
    return rezip(data, replace={"records.jsonl": b'{"type":"village"}\n'})


def _package(db: HeadDatabase, branch: Branch) -> bytes:
    records = [branch.record("village") for _ in range(200)]
    return branch.package(db, records)


TAMPERINGS: dict[str, Callable[[bytes], bytes]] = {
    "flipped byte": _flip_a_byte,
    "records changed": _changed_records,
    "truncated": lambda data: data[: len(data) * 2 // 3],
    "extra member": lambda data: rezip(data, add={"reports/extra.json": b"{}"}),
    "path in a name": lambda data: rezip(data, add={"../evil.txt": b"x"}),
    "member renamed": lambda data: rezip(data, rename={"records.jsonl": "records2.jsonl"}),
}


@pytest.mark.parametrize("how", sorted(TAMPERINGS))
def test_a_tampered_package_is_refused_before_anything_is_written(sqlite_db: HeadDatabase, how: str) -> None:
    branch = new_branch(sqlite_db)
    with pytest.raises(Refused) as refused:
        ingest(sqlite_db, TAMPERINGS[how](_package(sqlite_db, branch)), channel="network")
    assert (refused.value.status, refused.value.code) == (422, "rejected")
    assert "已拒收" in refused.value.message
    assert nothing_written(sqlite_db)
    assert events(sqlite_db, "package_"), "the refusal is logged"


def test_a_package_for_another_head_hospital_is_refused(head_db: HeadDatabase) -> None:
    branch = new_branch(head_db)
    elsewhere = KeyPair.generate().public.key_id
    with pytest.raises(Refused) as refused:
        ingest(head_db, branch.package(None, [branch.record("village")], recipient=elsewhere), channel="usb")
    assert refused.value.extra["reason"] == "wrong_recipient"
    assert nothing_written(head_db)
    assert events(head_db, "package_wrong_recipient")


def test_a_package_signed_with_an_unknown_key_is_refused(head_db: HeadDatabase) -> None:
    branch = new_branch(head_db)
    stranger = branch.package(head_db, [branch.record("village")], keys=KeyPair.generate())
    with pytest.raises(Refused) as refused:
        ingest(head_db, stranger, channel="network")
    assert refused.value.extra["reason"] == "unknown_key" and "未登记" in refused.value.message
    assert nothing_written(head_db)
    assert events(head_db, "package_unknown_key")


def test_a_package_signed_with_a_revoked_key_is_refused(head_db: HeadDatabase) -> None:
    branch = new_branch(head_db)
    package = branch.package(head_db, [branch.record("village")])
    revoke(head_db, branch.site_id)
    with pytest.raises(Refused) as refused:
        ingest(head_db, package, channel="usb")
    assert (refused.value.status, refused.value.code) == (403, "revoked")
    assert nothing_written(head_db)
    assert events(head_db, "package_revoked")


def test_a_package_from_a_site_not_yet_approved_is_refused(sqlite_db: HeadDatabase) -> None:
    branch = new_branch(sqlite_db, approved=False)
    with pytest.raises(Refused) as refused:
        ingest(sqlite_db, branch.package(sqlite_db, [branch.record("village")]), channel="usb")
    assert (refused.value.status, refused.value.code) == (403, "not_approved")
    assert nothing_written(sqlite_db)


def test_a_package_naming_another_site_than_its_key_is_refused(sqlite_db: HeadDatabase) -> None:
    branch, other = new_branch(sqlite_db), new_branch(sqlite_db)
    impostor = Branch(site_id=other.site_id, keys=branch.keys)
    with pytest.raises(Refused) as refused:
        ingest(sqlite_db, impostor.package(sqlite_db, [impostor.record("village")]), channel="usb")
    assert refused.value.extra["reason"] == "wrong_sender"
    assert nothing_written(sqlite_db)


def test_a_network_package_signed_by_another_site_than_the_sender_is_refused(sqlite_db: HeadDatabase) -> None:
    branch, other = new_branch(sqlite_db), new_branch(sqlite_db)
    with pytest.raises(Refused) as refused:
        ingest(sqlite_db, other.package(sqlite_db, [other.record("village")]), channel="network",
               sender_site=branch.site_id)
    assert refused.value.extra["reason"] == "wrong_sender"
    assert nothing_written(sqlite_db)


def test_a_package_id_that_is_not_a_plain_name_is_refused(sqlite_db: HeadDatabase) -> None:
    branch = new_branch(sqlite_db)
    with pytest.raises(Refused):
        ingest(sqlite_db, branch.package(sqlite_db, [branch.record("village")], package_id="../../etc/x"),
               channel="usb")
    assert nothing_written(sqlite_db)


@pytest.mark.parametrize("revoked", [True, False])
def test_a_site_that_lost_its_approval_before_the_apply_is_told_so_in_words(sqlite_db: HeadDatabase,
                                                                          revoked: bool) -> None:
    from head_hospital.ingest import _lock_site  # the re-check under the site's lock, after verification

    branch = new_branch(sqlite_db, approved=False)
    if revoked:
        revoke(sqlite_db, branch.site_id)
    with pytest.raises(Refused) as refused, sqlite_db.session() as session:
        _lock_site(session, branch.site_id)
    assert (refused.value.status, refused.value.code) == (403, "revoked" if revoked else "not_approved")
    assert ("已吊销" if revoked else "待审核") in refused.value.message
    assert not any(word in refused.value.message for word in ("revoked", "pending"))
