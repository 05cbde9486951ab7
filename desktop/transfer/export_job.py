"""How an area's export is described for the registry: its kind, label, permission and options.

The export itself is the area's own job (the long-job contract `run(*, abort, progress)`);
`ExportSpec.job(db, actor, out, options)` builds it from the options the command line or the
window collected, by name (`year`, `village` …); `ExportSpec.run` builds and runs it, auditing a
refusal (a village outside the actor's, a role without the permission) as Action.REFUSED.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop.db import Database
from desktop.jobs import Job, ProgressFn
from desktop.services.access_audit import refusals_audited
from desktop.services.permissions import Actor, Permission


@dataclass(frozen=True)
class ExportOption:
    """One option of an export (`--year 2025`): its name, help text, type and whether it is required."""

    name: str
    help: str
    type: type = str
    required: bool = False
    metavar: str | None = None


VILLAGE_OPTION = ExportOption("village", "只导出该村（3 位村代码）", metavar="CODE")
YEAR_OPTION = ExportOption("year", "年度，例如 2025", type=int, required=True)


@dataclass(frozen=True)
class ExportSpec:
    """One registered export: `job(db, actor, out, options)` builds the area's export job."""

    kind: str
    label: str
    permission: Permission
    job: Callable[[Database, Actor, Path, Mapping[str, Any]], Job[Any]]
    options: tuple[ExportOption, ...] = ()

    def run(self, db: Database, actor: Actor, out: Path, options: Mapping[str, Any], *, abort: threading.Event,
            progress: ProgressFn) -> Any:
        """Build the export job and run it; a refused export leaves an audit entry (then the refusal goes on up)."""
        with refusals_audited(db, actor, f"导出{self.label}《{Path(out).name}》"):
            return self.job(db, actor, out, options)(abort=abort, progress=progress)
