"""Logging to a rotating file in the data directory (and to stderr with --verbose)."""

from __future__ import annotations

import logging
import logging.handlers
import sys

from desktop.paths import DataPaths

LOGGER_NAME = "township_desk"
_FORMAT = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")


def configure_logging(paths: DataPaths, *, verbose: bool = False) -> None:
    """Send the app's log to `<data>/logs/township-desk.log`; replaces earlier handlers."""
    paths.ensure()
    root = logging.getLogger(LOGGER_NAME)
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    file_handler = logging.handlers.RotatingFileHandler(
        paths.logs / "township-desk.log", maxBytes=2_000_000, backupCount=5, encoding="utf-8"
    )
    file_handler.setFormatter(_FORMAT)
    root.addHandler(file_handler)
    if verbose:
        stderr_handler = logging.StreamHandler(sys.stderr)
        stderr_handler.setFormatter(_FORMAT)
        root.addHandler(stderr_handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
