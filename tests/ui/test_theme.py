"""The look: bundled CJK font, Fusion style, palette, stylesheet and HiDPI policy."""

from __future__ import annotations

import subprocess
import sys

import pytest
from PySide6.QtGui import QFont, QFontInfo, QFontMetrics, QPalette
from PySide6.QtWidgets import QApplication

from desktop.ui import theme
from desktop.ui.theme import ACCENT, apply_theme, configure_high_dpi, load_bundled_font


def test_bundled_font_loads_and_renders_chinese(qapp) -> None:
    family = load_bundled_font()
    assert family == "WenQuanYi Micro Hei"
    font = QFont(family, 10)
    assert QFontInfo(font).family() == family
    assert QFontMetrics(font).inFontUcs4(ord("卫"))


def test_missing_font_raises_clear_error(qapp, monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(theme, "resource", lambda *parts: tmp_path.joinpath(*parts))
    with pytest.raises(RuntimeError, match="bundled font missing"):
        load_bundled_font()


def test_apply_theme_sets_style_palette_font_and_stylesheet(qapp: QApplication) -> None:
    old = (qapp.style().name(), qapp.palette(), qapp.font(), qapp.styleSheet())
    try:
        qapp.setStyle("Windows")
        apply_theme(qapp)
        for name in ("#navigation", "#pageTitle", "#fieldError", "QStatusBar"):
            assert name in qapp.styleSheet()
        qapp.setStyleSheet("")  # with a stylesheet set, style() is Qt's wrapper around Fusion
        assert qapp.style().name().lower() == "fusion"
        assert qapp.palette().color(QPalette.ColorRole.Highlight).name() == ACCENT
        assert qapp.font().family() == "WenQuanYi Micro Hei"
        assert qapp.font().pointSizeF() >= 10
    finally:
        qapp.setStyle(old[0])
        qapp.setPalette(old[1])
        qapp.setFont(old[2])
        qapp.setStyleSheet(old[3])


def test_configure_high_dpi_refuses_once_app_exists(qapp) -> None:
    with pytest.raises(RuntimeError):
        configure_high_dpi()


def test_configure_high_dpi_sets_pass_through_before_app() -> None:
    code = (
        "from PySide6.QtGui import QGuiApplication;"
        "from desktop.ui.theme import configure_high_dpi;"
        "configure_high_dpi();"
        "print(QGuiApplication.highDpiScaleFactorRoundingPolicy().name)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True)
    assert out.stdout.strip() == "PassThrough"
