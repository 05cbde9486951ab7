"""Helpers for the head hospital tests: sites with fresh keys, packages, signed requests."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import func, select

from head_hospital.db import HeadDatabase
from head_hospital.models import EventLog, Package, Record
from head_hospital.sites import approve, enrol
from township_wire import api
from township_wire.answer import open_answer, request_line
from township_wire.crypto import KeyPair, PublicKeys, seal
from township_wire.envelope import EnvelopeKind, open_envelope
from township_wire.package import PackageHeader, SyncRecord, build_package


@dataclass
class Branch:
    """A site as the tests play it: its id, keys and next package seq."""

    site_id: str
    keys: KeyPair
    name: str = "青山镇卫生院"
    seq: int = 0
    sent: list[str] = field(default_factory=list)
    head: PublicKeys | None = None  # the head hospital's keys, pinned as enrolment would

    def record(self, record_type: str = "village", *, version: int = 1, record_id: str | None = None,
               owner: str | None = None, deleted: bool = False, **data: Any) -> SyncRecord:
        body = data or default_data(record_type)
        return SyncRecord(type=record_type, uuid=record_id or str(uuid.uuid4()), version=version, deleted=deleted,
                          owner_site=owner or self.site_id, data=body)

    def package(self, db: HeadDatabase | None, records: Iterable[SyncRecord], *, seq: int | None = None,
                package_id: str | None = None, recipient: str | None = None, checkpoint: int = 0,
                reports: dict[str, bytes] | None = None, keys: KeyPair | None = None,
                audit_anchor: dict[str, Any] | None = None) -> bytes:
        """A signed package to the head hospital of `db` (or to `recipient`)."""
        if seq is None:
            self.seq += 1
            seq = self.seq
        header = PackageHeader(package_id=package_id or str(uuid.uuid4()), site_id=self.site_id, seq=seq,
                               created_at=now_text(), recipient_key_id=recipient or db.keys.public.key_id,
                               checkpoint=checkpoint, audit_anchor=audit_anchor)
        return build_package(header, records, keys or self.keys, reports)


def default_data(record_type: str) -> dict[str, Any]:
    if record_type == "village":
        return {"code": "101", "name": "上坝村"}
    if record_type == "resident":
        return {"record_no": "51342202101000001", "name": "张三", "sex": "1", "birth_date": "1950-01-02",
                "village_uuid": str(uuid.uuid4()), "registered_on": "2026-01-05"}
    if record_type == "staff":
        return {"name": "李医生", "post": "村医"}
    return {}


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def new_branch(db: HeadDatabase, site_id: str | None = None, *, approved: bool = True,
               name: str = "青山镇卫生院") -> Branch:
    """A site enrolled with fresh keys (and approved with its fingerprint unless told otherwise)."""
    branch = Branch(site_id=site_id or f"513422-{uuid.uuid4().hex[:8]}", keys=KeyPair.generate(), name=name)
    enrol(db, {"site_id": branch.site_id, "name": name, "county_code": "513422", "township_code": "021",
               "keys": branch.keys.public.to_json()})
    if approved:
        approve(db, branch.site_id, branch.keys.public.fingerprint)
    branch.head = db.keys.public
    return branch


def receipt_body(db: HeadDatabase, receipt: bytes) -> dict[str, Any]:
    return open_envelope(EnvelopeKind.RECEIPT, receipt, db.keys.public)


def results_by_uuid(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["uuid"]: entry for entry in body["results"]}


def count_rows(db: HeadDatabase, model: type) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(model))


def events(db: HeadDatabase, event_prefix: str = "") -> list[EventLog]:
    with db.read() as session:
        rows = session.scalars(select(EventLog).order_by(EventLog.id)).all()
    return [row for row in rows if row.event.startswith(event_prefix)]


def nothing_written(db: HeadDatabase) -> bool:
    return count_rows(db, Record) == 0 and count_rows(db, Package) == 0


def rezip(data: bytes, *, rename: dict[str, str] | None = None, add: dict[str, bytes] | None = None,
          replace: dict[str, bytes] | None = None) -> bytes:
    """A copy of a package zip with members renamed, added or replaced (the manifest left as signed)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = (replace or {}).get(info.filename, source.read(info))
            target.writestr((rename or {}).get(info.filename, info.filename), content)
        for name, content in (add or {}).items():
            target.writestr(name, content)
    return buffer.getvalue()


class SignedClient:
    """Sends requests signed the way township_wire.api says (a fresh nonce each), through any
    httpx-compatible client, and opens the sealed answers: a 2xx response comes back holding the
    answer's payload, after its seal, signature and nonce were checked. Uploads are sealed to the
    head hospital's key as the branch app seals them."""

    def __init__(self, client: httpx.Client, branch: Branch, *, clock: datetime | None = None) -> None:
        self.client, self.branch, self.clock = client, branch, clock
        self._sealed: dict[str, bytes] = {}
        self.last_nonce = ""

    def request(self, method: str, path: str, *, body: bytes = b"", json_body: Any = None,
                headers: dict[str, str] | None = None, nonce: str | None = None) -> httpx.Response:
        if json_body is not None:
            body = json.dumps(json_body).encode("utf-8")
        timestamp = (self.clock or datetime.now(UTC)).isoformat(timespec="seconds")
        signed = api.sign_request(self.branch.keys, self.branch.site_id, method, path, timestamp, body, nonce=nonce)
        own_nonce = self.last_nonce = signed[api.HEADER_NONCE]
        response = self.client.request(method, path, content=body, headers={**signed, **(headers or {})})
        if not 200 <= response.status_code < 300:
            return response
        assert self.branch.head is not None, "the branch needs the head hospital's keys to open answers"
        payload = open_answer(response.content, nonce=own_nonce, request=request_line(method, path),
                              status=response.status_code, site_keys=self.branch.keys, head=self.branch.head)
        return httpx.Response(response.status_code, content=payload, headers={"content-type": "application/json"},
                              request=response.request)

    def get(self, path: str) -> httpx.Response:
        return self.request("GET", path)

    def post(self, path: str, json_body: Any = None) -> httpx.Response:
        return self.request("POST", path, json_body=json_body)

    def sealed(self, package: bytes) -> bytes:
        """`package` sealed to the head hospital, once: a resumed upload sends the same bytes."""
        import hashlib

        key = hashlib.sha256(package).hexdigest()
        if key not in self._sealed:
            assert self.branch.head is not None, "the branch needs the head hospital's keys to seal"
            self._sealed[key] = seal(package, self.branch.head)
        return self._sealed[key]

    def travel_as(self, package: bytes, travelling: bytes) -> None:
        """Upload `travelling` in place of `package` sealed to the head hospital (to show it refused)."""
        import hashlib

        self._sealed[hashlib.sha256(package).hexdigest()] = travelling

    def declaration(self, package: bytes, package_id: str) -> dict[str, Any]:
        """The body that declares the sealed upload of `package`."""
        import hashlib

        sealed = self.sealed(package)
        return {"package_id": package_id, "size": len(sealed), "sha256": hashlib.sha256(sealed).hexdigest(),
                "package_sha256": hashlib.sha256(package).hexdigest()}

    def upload(self, package: bytes, package_id: str, *, chunk: int = api.CHUNK_BYTES,
               stop_after: int | None = None, commit: bool = True) -> httpx.Response:
        """Declare, send sealed chunks from the server's offset (stopping after `stop_after` chunks), commit."""
        import hashlib

        sealed = self.sealed(package)
        declared = self.post(f"{api.API_PREFIX}/uploads", self.declaration(package, package_id))
        if declared.status_code != 201:
            return declared
        offset, sent = declared.json()["offset"], 0
        while offset < len(sealed):
            if stop_after is not None and sent >= stop_after:
                return declared
            part = sealed[offset:offset + chunk]
            answer = self.request("PATCH", f"{api.API_PREFIX}/uploads/{package_id}", body=part,
                                  headers={api.HEADER_OFFSET: str(offset),
                                           api.HEADER_CHUNK_SHA: hashlib.sha256(part).hexdigest()})
            assert answer.status_code == 200, answer.text
            offset, sent = answer.json()["offset"], sent + 1
        if not commit:
            return answer
        return self.post(f"{api.API_PREFIX}/uploads/{package_id}/commit")
