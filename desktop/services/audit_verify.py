"""`audit verify`: the chain checked link by link, then against the anchors kept outside its table.

The anchors: the signed anchor file in the data directory and each backup's newest keyed entry.
The chain must hold every anchor's hash at that anchor's seq; a chain shorter than an anchor has
lost its tail (or was emptied), a different hash there means the history was rewritten. Backups
made before the newest audited restore are not held against the restored chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from desktop.db import Database
from desktop.paths import DataPaths
from desktop.services.audit import ChainReport, ChainWalk, walk_chain
from desktop.services.audit_anchor import Anchor, AnchorFile, AnchorFileState, backup_anchors, read_anchor_file


class ProblemKind(StrEnum):
    CHAIN_BROKEN = "chain_broken"
    MISSING_TAIL = "missing_tail"
    EMPTIED = "emptied"
    REWRITTEN = "rewritten"
    ANCHOR_MISSING = "anchor_missing"
    ANCHOR_FORGED = "anchor_forged"


@dataclass(frozen=True)
class AuditProblem:
    """One thing wrong with the log, in words for the admin."""

    kind: ProblemKind
    message: str


@dataclass(frozen=True)
class AuditReport:
    """The chain's own check, the anchors it was held against, and every problem found."""

    chain: ChainReport
    entries: int  # the last seq the table holds
    anchor: Anchor | None  # the newest anchor seen (the one a problem names, if any)
    anchors_checked: int
    problems: tuple[AuditProblem, ...] = ()

    @property
    def intact(self) -> bool:
        return not self.problems

    @property
    def kinds(self) -> set[ProblemKind]:
        return {problem.kind for problem in self.problems}


def _anchor_file_problem(anchor_file: AnchorFile, walk: ChainWalk, keyed_from: int) -> AuditProblem | None:
    name = anchor_file.path.name
    if anchor_file.state is AnchorFileState.FORGED:
        return AuditProblem(ProblemKind.ANCHOR_FORGED, f"审计锚点文件 {name} 的签名不符：文件被伪造或改动。")
    if anchor_file.state is AnchorFileState.MISSING and walk.last_seq >= keyed_from:
        return AuditProblem(ProblemKind.ANCHOR_MISSING, f"审计锚点文件 {name} 缺失（被删除或移走），"
                                                        "无法确认审计记录的末尾是否完整。")
    return None


def _contradiction(anchor: Anchor, walk: ChainWalk) -> AuditProblem | None:
    """How the chain contradicts one anchor, or None when it holds the anchor's entry."""
    seen = f"（最近锚点：{anchor.describe()}）"
    if walk.last_seq == 0:
        return AuditProblem(ProblemKind.EMPTIED, f"审计记录已被清空：表中一条也没有，而锚点记录到第 {anchor.seq} 条{seen}。")
    if walk.last_seq < anchor.seq:
        missing = anchor.seq - walk.last_seq
        return AuditProblem(ProblemKind.MISSING_TAIL, f"审计记录第 {walk.last_seq} 条之后的 {missing} 条缺失{seen}。")
    if walk.hashes.get(anchor.seq) != anchor.entry_hash:
        return AuditProblem(ProblemKind.REWRITTEN,
                            f"审计记录第 {anchor.seq} 条与锚点不符，之前的历史被改写{seen}。")
    return None


def _held_anchors(anchor_file: AnchorFile, backups: list[Anchor], walk: ChainWalk) -> list[Anchor]:
    """Every anchor the chain must hold, newest first; backups older than the last restore are set aside."""
    restored = walk.last_restore.isoformat(timespec="seconds") if walk.last_restore else None
    held = [anchor for anchor in backups if restored is None or anchor.at > restored]
    if anchor_file.anchor is not None:
        held.append(anchor_file.anchor)
    return sorted(held, key=lambda anchor: (anchor.at, anchor.seq, anchor.source == "file"), reverse=True)


def verify_audit(db: Database) -> AuditReport:
    """Check the chain, then hold it against the anchor file and the backups' anchors."""
    paths = DataPaths(db.path.parent)
    anchor_file = read_anchor_file(paths.audit_anchor, db.secrets)
    backups = backup_anchors(paths, db.secrets)
    watch = frozenset(anchor.seq for anchor in backups) | (
        {anchor_file.anchor.seq} if anchor_file.anchor is not None else set())
    walk = walk_chain(db, watch=frozenset(watch))
    problems: list[AuditProblem] = [] if walk.report.intact else [
        AuditProblem(ProblemKind.CHAIN_BROKEN, f"审计链在第 {walk.report.first_bad_seq} 条处断裂：{walk.report.problem}")]
    file_problem = _anchor_file_problem(anchor_file, walk, db.secrets.audit_keyed_from)
    if file_problem is not None:
        problems.append(file_problem)
    held = _held_anchors(anchor_file, backups, walk)
    contradictions = (_contradiction(anchor, walk) for anchor in held)
    first = next((problem for problem in contradictions if problem is not None), None)
    if first is not None:
        problems.append(first)
    return AuditReport(chain=walk.report, entries=walk.last_seq, anchor=held[0] if held else None,
                       anchors_checked=len(held), problems=tuple(problems))


def report_lines(report: AuditReport) -> list[str]:
    """The outcome as the command line and the window say it."""
    if report.intact:
        against = f"（与{report.anchor.describe()}相符）" if report.anchor is not None else ""
        return [f"审计日志完整：共 {report.entries} 条{against}。"]
    return [problem.message for problem in report.problems]
