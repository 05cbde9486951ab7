"""Files that carry packages between the branch and the head hospital on a USB stick."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

PACKAGE_SUFFIX = ".tdpkg"  # a package sealed to the head hospital's key
RETURN_SUFFIX = ".tdreturn"  # the head hospital's receipt and feed, sealed to the site's key


def write_durably(target: Path, content: bytes) -> None:
    """Write `content` to `target` so a pulled stick or a power cut leaves the old file or the whole new one.

    Written to a temporary name, flushed to the device, renamed, and the folder flushed where the
    system allows it (not on Windows). OSError goes to the caller, who words it for its reader.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    finally:
        Path(temporary).unlink(missing_ok=True)
    if hasattr(os, "O_DIRECTORY"):
        with contextlib.suppress(OSError):
            folder = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)
