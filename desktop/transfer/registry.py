"""The import and export jobs of every record area, by kind: one line per area in each list.

The command line (`township-desk import|export|template KIND …`) and the window's import dialog
offer exactly what is listed here. An area adds its `ImportSpec` (desktop/transfer/import_job.py)
and its `ExportSpec` (desktop/transfer/export_job.py) in its own modules and one line below.
"""

from __future__ import annotations

from desktop.errors import UserFacingError
from desktop.transfer.check_export import CHECK_EXPORT
from desktop.transfer.export_job import ExportSpec
from desktop.transfer.followup_export import FOLLOWUP_EXPORT
from desktop.transfer.followup_import import FOLLOWUP_IMPORT
from desktop.transfer.import_job import ImportSpec
from desktop.transfer.resident_export import RESIDENT_EXPORT
from desktop.transfer.resident_import import RESIDENT_IMPORT
from desktop.transfer.work_lists import DUE_EXPORT

IMPORT_JOBS: list[ImportSpec] = [
    RESIDENT_IMPORT,
    FOLLOWUP_IMPORT,
]
EXPORT_JOBS: list[ExportSpec] = [
    RESIDENT_EXPORT,
    FOLLOWUP_EXPORT,
    DUE_EXPORT,
    CHECK_EXPORT,
]


def _check_unique(kinds: list[str], what: str) -> None:
    if len(set(kinds)) != len(kinds):
        raise RuntimeError(f"{what} kinds registered twice: {kinds}")


_check_unique([spec.kind for spec in IMPORT_JOBS], "import")
_check_unique([spec.kind for spec in EXPORT_JOBS], "export")


def register_import(spec: ImportSpec) -> ImportSpec:
    """Add an import from outside this list (an area kept apart, a test); its kind must be new."""
    _check_unique([*(s.kind for s in IMPORT_JOBS), spec.kind], "import")
    IMPORT_JOBS.append(spec)
    return spec


def register_export(spec: ExportSpec) -> ExportSpec:
    """Add an export from outside this list; its kind must be new."""
    _check_unique([*(s.kind for s in EXPORT_JOBS), spec.kind], "export")
    EXPORT_JOBS.append(spec)
    return spec


def import_spec(kind: str) -> ImportSpec:
    """The registered import of this kind; a Chinese refusal naming the kinds there are."""
    for spec in IMPORT_JOBS:
        if spec.kind == kind:
            return spec
    raise UserFacingError(f"没有“{kind}”导入。可导入：{_listed(IMPORT_JOBS)}。")


def export_spec(kind: str) -> ExportSpec:
    """The registered export of this kind; a Chinese refusal naming the kinds there are."""
    for spec in EXPORT_JOBS:
        if spec.kind == kind:
            return spec
    raise UserFacingError(f"没有“{kind}”导出。可导出：{_listed(EXPORT_JOBS)}。")


def template_jobs() -> tuple[ImportSpec, ...]:
    """The imports that offer a blank template workbook."""
    return tuple(spec for spec in IMPORT_JOBS if spec.template is not None)


def _listed(specs: list[ImportSpec] | list[ExportSpec]) -> str:
    return "、".join(f"{spec.kind}（{spec.label}）" for spec in specs)
