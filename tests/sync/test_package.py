"""The package format read as a stranger's file: nothing unverified is trusted."""

from __future__ import annotations

import io
import uuid
import zipfile

import pytest

from township_wire.crypto import KeyPair, SealBroken, seal
from township_wire.package import (
    MANIFEST,
    RECORDS,
    SIGNATURE,
    PackageHeader,
    PackageRejected,
    SyncRecord,
    build_package,
    read_package,
)

SENDER, HEAD = KeyPair.generate(), KeyPair.generate()


def _records(count: int = 40) -> list[SyncRecord]:
    return [SyncRecord("village", str(uuid.uuid4()), 1, False, "site-1", {"code": f"{n:03d}", "name": f"第{n}村"})
            for n in range(count)]


def _package(records: list[SyncRecord] | None = None, **reports: bytes) -> bytes:
    header = PackageHeader(str(uuid.uuid4()), "site-1", 7, "2026-11-23T10:00:00", HEAD.public.key_id, 0)
    return build_package(header, records if records is not None else _records(), SENDER, reports)


def _read(data: bytes):
    return read_package(data, lambda key_id: SENDER.public if key_id == SENDER.public.key_id else _unknown(key_id),
                        recipient_key_id=HEAD.public.key_id)


def _unknown(key_id: str):
    raise PackageRejected(f"未登记的密钥 {key_id}", code="unknown_key")


def _rezip(data: bytes, *, add: dict[str, bytes] | None = None, drop: str | None = None,
           compress_level: int = 6) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=compress_level) as target:
        for info in source.infolist():
            if info.filename != drop:
                target.writestr(info.filename, source.read(info))
        for name, content in (add or {}).items():
            target.writestr(name, content)
    return out.getvalue()


def test_a_package_reads_back_with_its_records_and_reports() -> None:
    records = _records()
    package = _read(_package(records, **{"2026-10.json": b'{"period": "2026-10"}'}))
    assert [(r.uuid, r.data) for r in package.records] == [(r.uuid, r.data) for r in records]
    assert package.reports == {"2026-10.json": b'{"period": "2026-10"}'}
    assert package.manifest["counts"]["village"]["count"] == len(records)


def test_every_flipped_byte_is_refused_or_changes_nothing_that_is_read() -> None:
    records = _records(10)
    data = _package(records)
    for position in range(len(data)):
        damaged = bytearray(data)
        damaged[position] ^= 0x20
        try:
            package = _read(bytes(damaged))
        except PackageRejected:
            continue
        assert [(r.uuid, r.version, r.data) for r in package.records] == [(r.uuid, r.version, r.data) for r in records]


def test_every_truncation_is_refused() -> None:
    data = _package(_records(10))
    for length in range(0, len(data), 7):
        with pytest.raises(PackageRejected):
            _read(data[:length])


@pytest.mark.parametrize(("change", "code"), [
    (lambda data: _rezip(data, add={"../evil.txt": b"x"}), "bad_member"),
    (lambda data: _rezip(data, add={"reports/extra.json": b"{}"}), "bad_member"),
    (lambda data: _rezip(data, add={RECORDS: b"{}"}), "bad_member"),
    (lambda data: _rezip(data, drop=SIGNATURE), "bad_member"),
    (lambda data: _rezip(data, add={"C:\\\\windows\\\\x": b"x"}), "bad_member"),
])
@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_strange_members_are_refused(change, code) -> None:
    with pytest.raises(PackageRejected) as refused:
        _read(change(_package()))
    assert refused.value.code == code


def test_a_zip_bomb_is_refused_without_inflating_it() -> None:
    bomb = _rezip(_package(), drop=MANIFEST, add={MANIFEST: b"0" * (80 * 1024 * 1024)}, compress_level=9)
    assert len(bomb) < 1024 * 1024
    with pytest.raises(PackageRejected) as refused:
        _read(bomb)
    assert refused.value.code == "oversize"


def test_a_package_signed_by_another_key_or_for_another_head_hospital_is_refused() -> None:
    stranger = KeyPair.generate()
    header = PackageHeader(str(uuid.uuid4()), "site-1", 1, "2026-11-23T10:00:00", HEAD.public.key_id, 0)
    with pytest.raises(PackageRejected) as refused:
        _read(build_package(header, _records(), stranger))
    assert refused.value.code == "unknown_key"
    elsewhere = PackageHeader(str(uuid.uuid4()), "site-1", 1, "2026-11-23T10:00:00", stranger.public.key_id, 0)
    with pytest.raises(PackageRejected) as refused:
        _read(build_package(elsewhere, _records(), SENDER))
    assert refused.value.code == "wrong_recipient"


def test_a_sealed_package_opens_only_for_its_recipient_and_only_unchanged() -> None:
    data = _package()
    sealed = seal(data, HEAD.public)
    assert HEAD.open_sealed(sealed) == data
    with pytest.raises(SealBroken):
        KeyPair.generate().open_sealed(sealed)
    changed = bytearray(sealed)
    changed[-5] ^= 1
    with pytest.raises(SealBroken):
        HEAD.open_sealed(bytes(changed))
    with pytest.raises(SealBroken):
        HEAD.open_sealed(sealed[:40])
