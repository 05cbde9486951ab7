"""The bundled CJK font for printed forms, registered with reportlab once per process.

WenQuanYi Micro Hei has TrueType outlines, so reportlab embeds (a subset of) it in every PDF
and the page prints the same on a PC that lacks the font.
"""

from __future__ import annotations

import threading

from desktop.paths import resource

FONT_NAME = "WQYMicroHei"
FONT_FILE = ("fonts", "wqy-microhei.ttc")
FONT_INDEX = 0  # the proportional face; index 1 is the monospaced one
MM_PER_POINT = 25.4 / 72

_lock = threading.Lock()
_registered = False


def ensure_font() -> str:
    """Register the bundled font with reportlab (first call only) and return its name."""
    global _registered
    if _registered:
        return FONT_NAME
    with _lock:
        if not _registered:
            from reportlab.pdfbase import pdfmetrics
            from reportlab.pdfbase.ttfonts import TTFont

            path = resource(*FONT_FILE)
            if not path.is_file():
                raise RuntimeError(f"内置字体缺失 (bundled font missing): {path}")
            pdfmetrics.registerFont(TTFont(FONT_NAME, str(path), subfontIndex=FONT_INDEX))
            _registered = True
    return FONT_NAME


def text_width(text: str, size: float) -> float:
    """The width of `text` at `size` points, in millimetres."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    return stringWidth(text, ensure_font(), size) * MM_PER_POINT
