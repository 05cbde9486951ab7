"""The head hospital keeps each site's audit anchors and `sites audit` says whether they agree."""

from __future__ import annotations

import json

import pytest
from head_support import Branch, new_branch
from sqlalchemy import func, select

from head_hospital.anchors import site_audit
from head_hospital.cli import main as head_main
from head_hospital.db import HeadDatabase
from head_hospital.errors import Refused
from head_hospital.ingest import ingest
from head_hospital.models import AuditAnchor, Package

HASH_A, HASH_B, HASH_C = "a" * 64, "b" * 64, "c" * 64


def _anchor(branch: Branch, seq: int, entry_hash: str, *, keyed_from: int = 1,
            since: tuple[int, str] | None = None) -> dict:
    anchor = {"version": 1, "site": branch.site_id, "seq": seq, "entry_hash": entry_hash, "entries": seq,
              "keyed_from": keyed_from, "at": "2026-12-03T09:00:00"}
    if since is not None:
        anchor["since"] = {"seq": since[0], "entry_hash": since[1]}
    return anchor


def _send(db: HeadDatabase, branch: Branch, anchor: dict | None) -> None:
    ingest(db, branch.package(db, [branch.record()], audit_anchor=anchor), channel="network")


def _sites_audit(db: HeadDatabase, site_id: str, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = head_main(["sites", "audit", site_id, "--db", db.url, *extra])
    return code, capsys.readouterr().out


def test_anchors_that_move_forward_along_one_chain_are_consistent(head_db: HeadDatabase, capsys) -> None:
    branch = new_branch(head_db)
    _send(head_db, branch, _anchor(branch, 5, HASH_A))
    _send(head_db, branch, None)  # a package from an older version carries none
    _send(head_db, branch, _anchor(branch, 9, HASH_B, since=(5, HASH_A)))
    audit = site_audit(head_db, branch.site_id)
    assert audit["consistent"] and [a["seq"] for a in audit["anchors"]] == [5, 9]
    assert [a["package_seq"] for a in audit["anchors"]] == [1, 3]
    code, out = _sites_audit(head_db, branch.site_id, capsys)
    assert code == 0 and "2 个审计锚点前后一致" in out
    code, out = _sites_audit(head_db, branch.site_id, capsys, "--json")
    assert code == 0 and json.loads(out)["consistent"] is True


@pytest.mark.parametrize(("second", "words"), [
    ({"seq": 3, "entry_hash": HASH_B}, "少于之前"),
    ({"seq": 9, "entry_hash": HASH_B, "since": (5, HASH_C)}, "校验值不同：历史被改写"),
    ({"seq": 9, "entry_hash": HASH_B, "since": (5, "")}, "已不存在"),
    ({"seq": 9, "entry_hash": HASH_B, "keyed_from": 4}, "审计密钥被更换"),
])
def test_anchors_that_contradict_each_other_are_reported(head_db: HeadDatabase, capsys, second: dict,
                                                         words: str) -> None:
    branch = new_branch(head_db)
    _send(head_db, branch, _anchor(branch, 5, HASH_A))
    _send(head_db, branch, _anchor(branch, second["seq"], second["entry_hash"], since=second.get("since"),
                                   keyed_from=second.get("keyed_from", 1)))
    audit = site_audit(head_db, branch.site_id)
    assert not audit["consistent"] and any(words in problem for problem in audit["problems"])
    code, out = _sites_audit(head_db, branch.site_id, capsys)
    assert code == 1 and "不一致：" in out and words in out


def test_the_same_seq_with_two_hashes_is_reported(head_db: HeadDatabase) -> None:
    branch = new_branch(head_db)
    _send(head_db, branch, _anchor(branch, 5, HASH_A))
    _send(head_db, branch, _anchor(branch, 5, HASH_B))
    assert site_audit(head_db, branch.site_id)["problems"] == [
        "第 5 条审计记录在第 1 号与第 2 号数据包中的校验值不同：历史被改写。"]


@pytest.mark.parametrize("bad", [
    {"seq": "5"}, {"entry_hash": "A" * 64}, {"entry_hash": "a" * 64 + "\n"}, {"site": "another-site"},
    {"keyed_from": 0}, {"since": {"seq": 2, "entry_hash": "x"}}, {"at": "x" * 33},
])
def test_a_malformed_anchor_refuses_the_whole_package(sqlite_db: HeadDatabase, bad: dict) -> None:
    branch = new_branch(sqlite_db)
    with pytest.raises(Refused, match="审计锚点"):
        _send(sqlite_db, branch, {**_anchor(branch, 5, HASH_A), **bad})
    with sqlite_db.read() as session:
        assert session.scalar(select(func.count()).select_from(Package)) == 0
        assert session.scalar(select(func.count()).select_from(AuditAnchor)) == 0


def test_an_unknown_site_is_refused(sqlite_db: HeadDatabase, capsys) -> None:
    code = head_main(["sites", "audit", "no-such-site", "--db", sqlite_db.url])
    assert code == 1 and "没有登记" in capsys.readouterr().err
