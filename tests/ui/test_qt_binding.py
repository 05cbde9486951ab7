"""The Qt binding itself must not leak: a leak of references to None aborts the process."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QLabel


def test_void_qt_calls_keep_none_refcount(qapp):
    label = QLabel()
    before = sys.getrefcount(None)
    for _ in range(2000):
        label.setText("卫")
        qapp.processEvents()
    assert abs(before - sys.getrefcount(None)) < 100
