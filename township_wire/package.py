"""The package: one signed zip for the network and the USB stick.

Members: `manifest.json`, `manifest.sig`, `records.jsonl` and optional `reports/<name>`.
The reader checks the signature over the raw manifest bytes before parsing it, accepts only
the fixed member names, reads each member no further than its signed size, and compares
every size and sha256; it never extracts anything to disk. Before reading any member it adds
up the sizes the zip declares and refuses a package beyond what 20,000 records can need
(`MAX_UNPACKED_BYTES`); each member is then read no further than its own limit, whatever the
zip claims. JSON is parsed with a bound on nesting (`township_wire.safe_json`), and a record
line carries exactly the keys of `RECORD_KEYS`.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from township_wire.crypto import KeyPair, PublicKeys, SignatureInvalid, b64, unb64
from township_wire.envelope import canonical_bytes
from township_wire.errors import UserFacingError
from township_wire.safe_json import bounded_loads

FORMAT = "township-desk-package"
FORMAT_VERSION = 1
MANIFEST, SIGNATURE, RECORDS = "manifest.json", "manifest.sig", "records.jsonl"
_REPORT_NAME = re.compile(r"reports/[A-Za-z0-9][A-Za-z0-9._-]{0,80}")
_CONTEXT = b"township-desk manifest v1\n"
# Limits from what a package can need (docs/head-hospital-input.md): 20,000 records at most; the
# demo branch's records measure 1.5 KB on average and 2.1 KB at most (3,000 residents and their
# visits and checks), so 5 KiB a record leaves room for long notes: about 100 MB of records.
MAX_PACKAGE_RECORDS = 20_000
RECORD_ALLOWANCE_BYTES = 5 * 1024
MAX_RECORD_BYTES = 64 * 1024  # one record line
MAX_RECORDS_BYTES = MAX_PACKAGE_RECORDS * RECORD_ALLOWANCE_BYTES  # records.jsonl, about 100 MB
MAX_MANIFEST_BYTES = MAX_PACKAGE_RECORDS * 256 + 64 * 1024  # an entry per record is ~140 bytes
MAX_REPORTS = 8  # two periods, a figures file and a workbook each, with room
MAX_REPORT_BYTES = 16 * 1024 * 1024
MAX_UNPACKED_BYTES = MAX_RECORDS_BYTES + MAX_MANIFEST_BYTES + 2 * MAX_REPORT_BYTES + 1024  # all members together
MAX_PACKAGE_BYTES = MAX_UNPACKED_BYTES + 1024 * 1024  # a zip is never much larger than what it holds
_MAX_RATIO = 200  # a member that inflates more than this is a zip bomb, not records
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError, NotImplementedError)
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class PackageRejected(UserFacingError):
    """A package that must not be read: the message says why, in words for the clerk and the admin."""

    def __init__(self, message: str, *, code: str = "invalid") -> None:
        super().__init__(message)
        self.code = code


RECORD_KEYS = frozenset({"type", "uuid", "version", "deleted", "owner_site", "data"})


@dataclass(frozen=True)
class SyncRecord:
    """One record as it travels: its identity, version and canonical JSON body."""

    type: str
    uuid: str
    version: int
    deleted: bool
    owner_site: str
    data: dict[str, Any]

    @classmethod
    def from_json(cls, value: Any) -> SyncRecord:
        """A record from its parsed JSON; KeyError, TypeError or ValueError when it is malformed."""
        if not isinstance(value, dict) or not isinstance(value["data"], dict):
            raise TypeError("a record is a JSON object with a data object")
        if set(value) != RECORD_KEYS:
            raise KeyError(f"record keys {sorted(set(value) ^ RECORD_KEYS)}")
        return cls(type=str(value["type"]), uuid=str(value["uuid"]), version=int(value["version"]),
                   deleted=bool(value["deleted"]), owner_site=str(value["owner_site"]), data=dict(value["data"]))

    def line(self) -> bytes:
        return canonical_bytes({"type": self.type, "uuid": self.uuid, "version": self.version,
                                "deleted": self.deleted, "owner_site": self.owner_site, "data": self.data})


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def type_digest(entries: Iterable[tuple[str, int]]) -> str:
    """Digest of a set of (uuid, version): the same on both sides when they hold the same records."""
    hasher = hashlib.sha256()
    for uuid, version in sorted(entries):
        hasher.update(f"{uuid}:{version}\n".encode("ascii"))
    return hasher.hexdigest()


def count_and_digest(entries: Iterable[tuple[str, str, int]]) -> dict[str, dict[str, Any]]:
    """Per type: how many (type, uuid, version) entries and their digest."""
    by_type: dict[str, list[tuple[str, int]]] = {}
    for record_type, uuid, version in entries:
        by_type.setdefault(record_type, []).append((uuid, version))
    return {name: {"count": len(items), "digest": type_digest(items)} for name, items in sorted(by_type.items())}


@dataclass(frozen=True)
class PackageHeader:
    """Who sends what to whom, fixed before the records are written."""

    package_id: str
    site_id: str
    seq: int
    created_at: str
    recipient_key_id: str
    checkpoint: int
    audit_anchor: Mapping[str, Any] | None = None  # the sender's audit chain at building time, signed with the manifest


@dataclass
class Package:
    """A verified package: its manifest and the records in order."""

    manifest: dict[str, Any]
    records: list[SyncRecord]
    reports: dict[str, bytes] = field(default_factory=dict)
    sha256: str = ""

    @property
    def package_id(self) -> str:
        return self.manifest["package_id"]

    @property
    def site_id(self) -> str:
        return self.manifest["site_id"]

    @property
    def seq(self) -> int:
        return self.manifest["seq"]


def build_package(header: PackageHeader, records: Iterable[SyncRecord], keys: KeyPair,
                  reports: Mapping[str, bytes] | None = None) -> bytes:
    """Write the package zip in memory: records (parents first, as given), reports, signed manifest."""
    lines: list[bytes] = []
    listed: list[dict[str, Any]] = []
    for record in records:
        line = record.line()
        lines.append(line)
        listed.append({"uuid": record.uuid, "type": record.type, "version": record.version,
                       "sha256": sha256_hex(line), "deleted": record.deleted})
    body = b"\n".join(lines) + (b"\n" if lines else b"")
    members = {RECORDS: body}
    for name, content in (reports or {}).items():
        member = f"reports/{name}"
        if not _REPORT_NAME.fullmatch(member):
            raise ValueError(f"bad report name {name!r}")
        members[member] = content
    manifest = {
        "format": FORMAT, "format_version": FORMAT_VERSION,
        "package_id": header.package_id, "site_id": header.site_id, "seq": header.seq,
        "created_at": header.created_at, "sender_key": keys.public.key_id,
        "recipient": header.recipient_key_id, "checkpoint": header.checkpoint,
        "members": {name: {"size": len(content), "sha256": sha256_hex(content)} for name, content in members.items()},
        "records": listed,
        "counts": count_and_digest((item["type"], item["uuid"], item["version"]) for item in listed),
    }
    if header.audit_anchor is not None:
        manifest["audit_anchor"] = dict(header.audit_anchor)
    raw_manifest = canonical_bytes(manifest)
    signature = f"ed25519 {keys.public.key_id} {b64(keys.sign(_CONTEXT, raw_manifest))}\n".encode("ascii")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        archive.writestr(MANIFEST, raw_manifest)
        archive.writestr(SIGNATURE, signature)
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


KeyLookup = Callable[[str], PublicKeys]
"""Finds the sender's public keys by key id; raises `PackageRejected` for unknown or revoked keys."""


def read_package(data: bytes, sender_keys: KeyLookup, *, recipient_key_id: str | None = None) -> Package:
    """Verify and read a package; `PackageRejected` names the first thing wrong with it."""
    if len(data) > MAX_PACKAGE_BYTES:
        raise PackageRejected(f"数据包过大（{len(data) // 1048576} MB），已拒收。", code="oversize")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except _ZIP_ERRORS as error:
        raise PackageRejected("数据包不是完整的压缩文件（可能被截断或损坏），已拒收。", code="damaged") from error
    with archive:
        by_name = _member_table(infos)
        raw_manifest = _read_member(archive, by_name, MANIFEST, MAX_MANIFEST_BYTES)
        key_id, signature = _parse_signature(_read_member(archive, by_name, SIGNATURE, 512))
        keys = sender_keys(key_id)
        try:
            keys.verify(_CONTEXT, raw_manifest, signature)
        except SignatureInvalid as error:
            raise PackageRejected("数据包签名校验失败：内容被改动，或不是由登记的密钥签发，已拒收。",
                                  code="bad_signature") from error
        manifest = _parse_manifest(raw_manifest, key_id, recipient_key_id)
        members = _read_listed_members(archive, by_name, manifest)
    records = _parse_records(members[RECORDS], manifest)
    reports = {name.removeprefix("reports/"): content for name, content in members.items() if name != RECORDS}
    return Package(manifest=manifest, records=records, reports=reports, sha256=sha256_hex(data))


def _member_table(infos: list[zipfile.ZipInfo]) -> dict[str, zipfile.ZipInfo]:
    by_name: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        name = info.filename
        if name in by_name:
            raise PackageRejected(f"数据包内有重复的文件 {name}，已拒收。", code="bad_member")
        if name not in (MANIFEST, SIGNATURE, RECORDS) and not _REPORT_NAME.fullmatch(name):
            raise PackageRejected(f"数据包内有不允许的文件名 {name!r}，已拒收。", code="bad_member")
        by_name[name] = info
    if len(by_name) > 3 + MAX_REPORTS:
        raise PackageRejected(f"数据包内文件过多（{len(by_name)} 个），已拒收。", code="bad_member")
    if sum(info.file_size for info in infos) > MAX_UNPACKED_BYTES:
        raise PackageRejected(f"数据包解压后过大（上限 {MAX_UNPACKED_BYTES // 1048576} MB），已拒收。", code="oversize")
    return by_name


def _read_member(archive: zipfile.ZipFile, by_name: dict[str, zipfile.ZipInfo], name: str, limit: int) -> bytes:
    info = by_name.get(name)
    if info is None:
        raise PackageRejected(f"数据包缺少 {name}，已拒收。", code="bad_member")
    if info.file_size > limit or info.file_size > max(info.compress_size, 1) * _MAX_RATIO + 4096:
        raise PackageRejected(f"数据包内 {name} 过大或压缩比异常，已拒收。", code="oversize")
    try:
        with archive.open(info) as member:
            content = member.read(limit + 1)
    except _ZIP_ERRORS as error:
        raise PackageRejected(f"数据包内 {name} 已损坏，已拒收。", code="damaged") from error
    if len(content) > limit:
        raise PackageRejected(f"数据包内 {name} 过大，已拒收。", code="oversize")
    return content


def _parse_signature(raw: bytes) -> tuple[str, bytes]:
    parts = raw.decode("ascii", errors="replace").split()
    if len(parts) != 3 or parts[0] != "ed25519" or not re.fullmatch(r"[0-9A-F]{16}", parts[1]):
        raise PackageRejected("数据包签名格式错误，已拒收。", code="bad_signature")
    try:
        return parts[1], unb64(parts[2], what="签名")
    except SignatureInvalid as error:
        raise PackageRejected("数据包签名格式错误，已拒收。", code="bad_signature") from error


def _parse_manifest(raw: bytes, key_id: str, recipient_key_id: str | None) -> dict[str, Any]:
    try:
        manifest = bounded_loads(raw)
        if manifest["format"] != FORMAT or not isinstance(manifest["members"], dict):
            raise ValueError("format")
        if manifest["format_version"] != FORMAT_VERSION:
            raise PackageRejected(f"数据包格式版本 {manifest['format_version']} 不受支持，请升级软件。",
                                  code="unsupported")
        if not (isinstance(manifest["seq"], int) and isinstance(manifest["package_id"], str)
                and isinstance(manifest["site_id"], str) and isinstance(manifest["checkpoint"], int)):
            raise TypeError("manifest field types")
        _check_listing(manifest["members"], manifest["records"])
    except PackageRejected:
        raise
    except (ValueError, KeyError, TypeError) as error:  # JsonRefused is a ValueError
        raise PackageRejected("数据包清单格式错误，已拒收。", code="invalid") from error
    if manifest.get("sender_key") != key_id:
        raise PackageRejected("数据包清单中的发送方密钥与签名不符，已拒收。", code="bad_signature")
    if recipient_key_id is not None and manifest.get("recipient") != recipient_key_id:
        raise PackageRejected("数据包不是发给本总院的（收件方密钥不符），已拒收。", code="wrong_recipient")
    return manifest


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_count(value: Any) -> bool:
    return _is_int(value) and value >= 0


def _check_listing(members: dict[str, Any], records: Any) -> None:
    """The signed lists are well formed (else TypeError) and announce no more than we unpack."""
    for entry in members.values():
        if not (isinstance(entry, dict) and _is_count(entry.get("size"))
                and isinstance(entry.get("sha256"), str) and _SHA256_HEX.fullmatch(entry["sha256"])):
            raise TypeError("member entry")
    if not isinstance(records, list) or not all(
            isinstance(entry, dict) and isinstance(entry.get("uuid"), str) and isinstance(entry.get("type"), str)
            and _is_int(entry.get("version")) and isinstance(entry.get("sha256"), str) for entry in records):
        raise TypeError("record entry")
    _check_sizes(members, len(records))


def _check_sizes(members: dict[str, Any], record_count: int) -> None:
    """The signed sizes stay within what 20,000 records and their reports can need."""
    if record_count > MAX_PACKAGE_RECORDS:
        raise PackageRejected(f"数据包过大：含 {record_count} 条记录，超过每包 {MAX_PACKAGE_RECORDS} 条的上限，已拒收。",
                              code="oversize")
    for name, entry in members.items():
        limit = MAX_RECORDS_BYTES if name == RECORDS else MAX_REPORT_BYTES
        if entry["size"] > limit:
            raise PackageRejected(f"数据包内 {name} 解压后过大（上限 {limit // 1048576} MB），已拒收。", code="oversize")
    if sum(entry["size"] for entry in members.values()) > MAX_UNPACKED_BYTES:
        raise PackageRejected("数据包清单所列内容解压后过大，已拒收。", code="oversize")


def _read_listed_members(archive: zipfile.ZipFile, by_name: dict[str, zipfile.ZipInfo],
                         manifest: dict[str, Any]) -> dict[str, bytes]:
    listed = manifest["members"]
    present = set(by_name) - {MANIFEST, SIGNATURE}
    if present != set(listed) or RECORDS not in listed:
        extra = sorted(present - set(listed)) or sorted(set(listed) - present)
        raise PackageRejected(f"数据包内文件与清单不符（{', '.join(extra) or RECORDS}），已拒收。", code="bad_member")
    members: dict[str, bytes] = {}
    for name, entry in listed.items():
        size = entry["size"]
        content = _read_member(archive, by_name, name, size)
        if len(content) != size or sha256_hex(content) != entry["sha256"]:
            raise PackageRejected(f"数据包内 {name} 的大小或校验值与清单不符，已拒收。", code="damaged")
        members[name] = content
    return members


def _parse_records(body: bytes, manifest: dict[str, Any]) -> list[SyncRecord]:
    listed = manifest["records"]
    lines = body.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if len(lines) != len(listed):
        raise PackageRejected("数据包记录数与清单不符，已拒收。", code="damaged")
    records: list[SyncRecord] = []
    for number, (line, entry) in enumerate(zip(lines, listed, strict=True), start=1):
        if len(line) > MAX_RECORD_BYTES or sha256_hex(line) != entry["sha256"]:
            raise PackageRejected(f"数据包第 {number} 条记录与清单不符，已拒收。", code="damaged")
        try:
            record = SyncRecord.from_json(bounded_loads(line))
        except (ValueError, KeyError, TypeError) as error:
            raise PackageRejected(f"数据包第 {number} 条记录格式错误，已拒收。", code="invalid") from error
        if (record.uuid, record.type, record.version) != (entry["uuid"], entry["type"], entry["version"]):
            raise PackageRejected(f"数据包第 {number} 条记录与清单不符，已拒收。", code="damaged")
        records.append(record)
    return records
