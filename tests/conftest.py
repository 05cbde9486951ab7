"""Test-wide settings: Qt runs offscreen, and nothing touches the real user data folder."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.pop("TOWNSHIP_DESK_DATA", None)
os.environ.pop("TOWNSHIP_DESK_PASSWORD", None)
