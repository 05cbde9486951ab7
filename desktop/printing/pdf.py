"""Writing sheets as a PDF with the bundled CJK font embedded (reportlab)."""

from __future__ import annotations

import io
import os
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

from desktop.errors import UserFacingError
from desktop.printing.fonts import ensure_font
from desktop.printing.sheet import Line, PrintedPdf, Rect, Sheet, Text

POINTS_PER_MM = 72 / 25.4
CREATOR = "township-desk"

_lock = threading.Lock()  # reportlab keeps per-document font subsets on the shared font object


def render_pdf(sheets: Sequence[Sheet], title: str) -> PrintedPdf:
    """One PDF page per sheet; the result is the file's bytes and knows its sheets."""
    from reportlab.pdfgen.canvas import Canvas

    if not sheets:
        raise ValueError("nothing to print")
    font = ensure_font()
    buffer = io.BytesIO()
    with _lock:
        canvas = Canvas(buffer, pagesize=_points(sheets[0]), pageCompression=1, initialFontName=font)
        canvas.setTitle(title)
        canvas.setCreator(CREATOR)
        canvas.setLineCap(0)
        for sheet in sheets:
            canvas.setPageSize(_points(sheet))
            _draw(canvas, sheet, font)
            canvas.showPage()
        canvas.save()
    return PrintedPdf(buffer.getvalue(), tuple(sheets), title)


def _points(sheet: Sheet) -> tuple[float, float]:
    return sheet.width * POINTS_PER_MM, sheet.height * POINTS_PER_MM


def _draw(canvas, sheet: Sheet, font: str) -> None:
    """Replay the sheet's operations; PDF's origin is the bottom-left corner."""
    k, top = POINTS_PER_MM, sheet.height * POINTS_PER_MM
    width = size = dash = None
    for op in sheet.ops:
        if isinstance(op, Text):
            if op.size != size:
                size = op.size
                canvas.setFont(font, size)
            canvas.drawString(op.x * k, top - op.y * k, op.text)
            continue
        if op.width != width:
            width = op.width
            canvas.setLineWidth(width * k)
        wanted = op.dash if isinstance(op, Line) else None
        if wanted != dash:
            dash = wanted
            canvas.setDash([part * k for part in dash] if dash else [], 0)
        if isinstance(op, Line):
            canvas.line(op.x1 * k, top - op.y1 * k, op.x2 * k, top - op.y2 * k)
        elif isinstance(op, Rect):
            canvas.rect(op.x * k, top - (op.y + op.h) * k, op.w * k, op.h * k, stroke=1, fill=0)


def output_path(path: Path) -> Path:
    """The absolute output path, checked before anything is built (or audited)."""
    target = Path(path).expanduser().resolve()
    if not target.parent.is_dir():
        raise UserFacingError(f"输出文件夹不存在：{target.parent}")
    return target


def save_pdf(path: Path, data: bytes) -> Path:
    """Write the file whole: a temporary file beside the target, then renamed into place."""
    target = output_path(path)
    handle, temporary = tempfile.mkstemp(prefix=".printing-", suffix=".pdf", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, target)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise UserFacingError(f"无法写入 {target}：{error.strerror or error}") from error
    return target
