"""Where the branch's data lives, and where the bundled resources are."""

from __future__ import annotations

import os
import sys
from pathlib import Path

DATA_DIR_ENV = "TOWNSHIP_DESK_DATA"
DB_FILENAME = "township-desk.sqlite"
SECRETS_FILENAME = "township-desk.keys"
AUDIT_ANCHOR_FILENAME = "audit-anchor.json"


def default_data_dir() -> Path:
    """The per-user data directory chosen by platformdirs (e.g. %LOCALAPPDATA% on Windows)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("township-desk", appauthor=False, roaming=False))


def resolve_data_dir(cli_value: str | os.PathLike[str] | None = None) -> Path:
    """`--data-dir` beats `TOWNSHIP_DESK_DATA` beats the platform default."""
    if cli_value:
        return Path(cli_value).expanduser().resolve()
    env_value = os.environ.get(DATA_DIR_ENV)
    if env_value:
        return Path(env_value).expanduser().resolve()
    return default_data_dir()


class DataPaths:
    """The files inside one data directory."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @property
    def database(self) -> Path:
        return self.root / DB_FILENAME

    @property
    def secrets(self) -> Path:
        return self.root / SECRETS_FILENAME

    @property
    def audit_anchor(self) -> Path:
        return self.root / AUDIT_ANCHOR_FILENAME

    @property
    def backups(self) -> Path:
        return self.root / "backups"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def ensure(self) -> None:
        for folder in (self.root, self.backups, self.logs):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)


def resources_dir() -> Path:
    """The bundled `resources/` folder (beside the package, or inside a frozen build)."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def resource(*parts: str) -> Path:
    """A path inside the bundled resources."""
    return resources_dir().joinpath(*parts)
