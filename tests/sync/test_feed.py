"""The downward feed and the USB return file, verified and applied with their checkpoint."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from sync_support import open_package

from desktop.models import Catalogue, SyncLogEntry
from desktop.sync.feed import FeedRefused, apply_feed_page
from desktop.sync.outbox import Channel, build_next
from desktop.sync.site import checkpoint, require_enrolment
from desktop.sync.status import sync_status
from township_wire.crypto import KeyPair, seal
from township_wire.envelope import EnvelopeKind, canonical_bytes, seal_envelope


def _site(app):
    with app.db.read() as session:
        return require_enrolment(session)


def _catalogue(keys: KeyPair, version: int, items: list[str]) -> dict:
    body = {"name": "essential_drugs", "version": version, "title": "基本药物目录",
            "items": [{"name": name} for name in items], "published_at": "2026-11-20T08:00:00"}
    return json.loads(seal_envelope(EnvelopeKind.CATALOGUE, body, keys))


def _page(head, site_id: str, entries: list[dict], *, after: int = 0, keys: KeyPair | None = None) -> bytes:
    last = max([entry["seq"] for entry in entries], default=after)
    return seal_envelope(EnvelopeKind.FEED, {"site_id": site_id, "after": after, "last_seq": last,
                                             "entries": entries}, keys or head.keys)


def _checkpoint(app) -> int:
    with app.db.read() as session:
        return checkpoint(session)


def _catalogue_version(app) -> int | None:
    with app.db.read() as session:
        stored = session.get(Catalogue, "essential_drugs")
        return stored.version if stored else None


def _refusals(app) -> int:
    with app.db.read() as session:
        return session.scalar(select(func.count()).select_from(SyncLogEntry).where(SyncLogEntry.event == "refused"))


def test_a_catalogue_page_applies_with_its_checkpoint_and_a_replay_changes_nothing(enrolled_app, head) -> None:
    site_id = _site(enrolled_app).site_id
    page = _page(head, site_id, [{"seq": 3, "kind": "catalogue", "payload": _catalogue(head.keys, 2, ["二甲双胍"])}])
    assert apply_feed_page(enrolled_app.db, page).received == 1
    assert (_checkpoint(enrolled_app), _catalogue_version(enrolled_app)) == (3, 2)
    assert apply_feed_page(enrolled_app.db, page).received == 0


def test_an_older_catalogue_version_is_refused_and_logged_while_the_page_moves_on(enrolled_app, head) -> None:
    site_id = _site(enrolled_app).site_id
    apply_feed_page(enrolled_app.db, _page(head, site_id, [
        {"seq": 1, "kind": "catalogue", "payload": _catalogue(head.keys, 5, ["硝苯地平"])}]))
    apply_feed_page(enrolled_app.db, _page(head, site_id, [
        {"seq": 2, "kind": "catalogue", "payload": _catalogue(head.keys, 4, ["旧目录"])}], after=1))
    assert (_checkpoint(enrolled_app), _catalogue_version(enrolled_app)) == (2, 5)
    assert _refusals(enrolled_app) == 1


@pytest.mark.parametrize("forgery", ["page_signed_by_stranger", "catalogue_signed_by_stranger", "other_site",
                                     "unknown_kind", "gap"])
def test_a_forged_or_unreadable_page_is_refused_whole(enrolled_app, head, forgery) -> None:
    site_id = _site(enrolled_app).site_id
    stranger = KeyPair.generate()
    good = {"seq": 1, "kind": "catalogue", "payload": _catalogue(head.keys, 1, ["阿司匹林"])}
    page = {
        "page_signed_by_stranger": lambda: _page(head, site_id, [good], keys=stranger),
        "catalogue_signed_by_stranger": lambda: _page(head, site_id, [
            good, {"seq": 2, "kind": "catalogue", "payload": _catalogue(stranger, 9, ["伪造"])}]),
        "other_site": lambda: _page(head, "another-site", [good]),
        "unknown_kind": lambda: _page(head, site_id, [good, {"seq": 2, "kind": "lottery", "payload": {}}]),
        "gap": lambda: _page(head, site_id, [{**good, "seq": 9}], after=8),
    }[forgery]()
    with pytest.raises(FeedRefused):
        apply_feed_page(enrolled_app.db, page)
    assert (_checkpoint(enrolled_app), _catalogue_version(enrolled_app)) == (0, None)
    assert _refusals(enrolled_app) == 1


def _return_file(head, enrolment, package) -> bytes:
    receipt = json.loads(head.accept_all(package))
    feed = json.loads(_page(head, enrolment.site_id, [
        {"seq": 1, "kind": "catalogue", "payload": _catalogue(head.keys, 1, ["氨氯地平"])}]))
    return seal(canonical_bytes({"receipt": receipt, "feed": feed}), enrolment.site_keys.public)


def test_a_return_file_from_the_stick_marks_records_and_brings_the_feed(enrolled_app, head, tmp_path) -> None:
    from core_support import actor_for

    from desktop.sync.usb import import_return

    enrolment = _site(enrolled_app)
    package = open_package(build_next(enrolled_app.db, Channel.USB).content, enrolment, head)
    path = tmp_path / "back.tdreturn"
    path.write_bytes(_return_file(head, enrolment, package))
    result = import_return(enrolled_app.db, actor_for(enrolled_app.db, "luru1"), path)
    assert (result.receipt.applied, result.received) == (len(package.records), 1)
    assert sync_status(enrolled_app.db).unsent == 0


@pytest.mark.parametrize("damage", ["flipped_byte", "truncated", "for_another_site", "not_sealed"])
def test_a_damaged_or_misaddressed_return_file_changes_nothing(enrolled_app, head, tmp_path, damage) -> None:
    from core_support import actor_for

    from desktop.errors import UserFacingError
    from desktop.sync.usb import import_return

    enrolment = _site(enrolled_app)
    package = open_package(build_next(enrolled_app.db, Channel.USB).content, enrolment, head)
    content = bytearray(_return_file(head, enrolment, package))
    if damage == "flipped_byte":
        content[len(content) // 2] ^= 0x01
    elif damage == "truncated":
        del content[len(content) // 3:]
    elif damage == "for_another_site":
        receipt = json.loads(head.accept_all(package))
        content = bytearray(seal(canonical_bytes({"receipt": receipt, "feed": {}}), KeyPair.generate().public))
    else:  # a genuine receipt, but not in the sealed file the head hospital writes
        content = bytearray(canonical_bytes({"receipt": json.loads(head.accept_all(package)), "feed": {}}))
    path = tmp_path / "back.tdreturn"
    path.write_bytes(bytes(content))
    with pytest.raises(UserFacingError):
        import_return(enrolled_app.db, actor_for(enrolled_app.db, "luru1"), path)
    assert sync_status(enrolled_app.db).unsent == len(package.records)
    assert _refusals(enrolled_app) == 1


def test_a_full_disk_while_building_leaves_no_package_and_nothing_marked(enrolled_app, head) -> None:
    from sqlalchemy import event

    from desktop.errors import DiskFull
    from desktop.models import SyncPackage

    def pending() -> int:
        return sum(item.pending for item in sync_status(enrolled_app.db).types)

    before = pending()
    with enrolled_app.db.read() as session:
        pages = session.connection().exec_driver_sql("PRAGMA page_count").scalar_one()
    enrolled_app.db.engine.dispose()
    event.listen(enrolled_app.db.engine, "connect",
                 lambda connection, record: connection.execute(f"PRAGMA max_page_count = {pages}"))
    with pytest.raises(DiskFull):
        build_next(enrolled_app.db, Channel.NETWORK)
    assert pending() == before > 0
    with enrolled_app.db.read() as session:
        assert session.scalar(select(func.count()).select_from(SyncPackage)) == 0
        assert session.scalar(select(func.count()).select_from(Catalogue)) == 0


def test_a_cancelled_sync_stops_waiting_between_retries(enrolled_app) -> None:
    import random
    import threading
    from datetime import UTC, datetime

    from core_support import actor_for

    from desktop.errors import Cancelled
    from desktop.sync.client import sync_now
    from desktop.sync.transport import RetryPolicy

    abort, tried = threading.Event(), threading.Event()
    outcome: list[BaseException] = []
    retry = RetryPolicy(attempts=50, base=3600, cap=3600, rng=random.Random(0))  # first wait: about 50 minutes

    def stamp() -> datetime:  # called as each request is signed, so the cancel comes once a try has begun
        tried.set()
        return datetime.now(UTC)

    def run() -> None:
        try:  # port 9 on loopback refuses, then the sync waits before the next try
            sync_now(enrolled_app.db, actor_for(enrolled_app.db, "luru1"), retry=retry, abort=abort, clock=stamp)
        except BaseException as error:  # noqa: BLE001 - handed to the test thread
            outcome.append(error)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    assert tried.wait(60)
    abort.set()
    worker.join(60)
    assert not worker.is_alive() and isinstance(outcome[0], Cancelled)
