"""Feed writers take turns: concurrent publishes get consecutive versions in feed order."""

from __future__ import annotations

import base64
import json
import threading

from sqlalchemy import select

from head_hospital.db import HeadDatabase
from head_hospital.feed import publish_catalogue
from head_hospital.models import FeedEntry


def test_concurrent_publishes_of_one_catalogue_get_consecutive_versions_in_feed_order(head_db: HeadDatabase) -> None:
    errors: list[BaseException] = []

    def publish(number: int) -> None:
        try:
            publish_catalogue(head_db, "essential_drugs", title="基本药物目录", items=[{"n": number}])
        except BaseException as error:  # noqa: BLE001 - handed to the test thread
            errors.append(error)

    threads = [threading.Thread(target=publish, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    with head_db.read() as session:
        payloads = session.scalars(select(FeedEntry.payload).order_by(FeedEntry.seq)).all()
    versions = []
    for payload in payloads:
        versions.append(json.loads(base64.b64decode(json.loads(payload)["body"]))["version"])
    assert versions == [1, 2, 3, 4, 5, 6]
