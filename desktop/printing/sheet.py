"""A printed page as a list of drawing operations (lines, rectangles, text) in millimetres.

Forms are laid out once into `Sheet`s; `desktop.printing.pdf` writes them as PDF and the
window's preview paints the very same operations, so paper and screen cannot disagree.
Coordinates start at the top-left corner of the paper; text is placed by its baseline.
This module imports nothing heavy so the window can use it freely.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Self

A4_PORTRAIT = (210.0, 297.0)
THIN = 0.2
THICK = 0.5
DASH = (2.0, 1.5)  # mm drawn, mm left blank: the tear line of a slip with a stub


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    width: float = THIN
    dash: tuple[float, float] | None = None  # (drawn, blank) in mm; None is a solid line


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    width: float = THIN


@dataclass(frozen=True)
class Text:
    """`text` starting at `x` with its baseline at `y`, `size` in points, in the bundled font."""

    x: float
    y: float
    text: str
    size: float


Op = Line | Rect | Text


@dataclass
class Sheet:
    """One page of paper and what is drawn on it."""

    width: float = A4_PORTRAIT[0]
    height: float = A4_PORTRAIT[1]
    ops: list[Op] = field(default_factory=list)

    def line(self, x1: float, y1: float, x2: float, y2: float, width: float = THIN) -> None:
        self.ops.append(Line(x1, y1, x2, y2, width))

    def dashed_line(self, x1: float, y1: float, x2: float, y2: float, width: float = THIN, *,
                    dash: tuple[float, float] = DASH) -> None:
        """A line drawn in dashes of `dash` = (drawn, blank) millimetres."""
        self.ops.append(Line(x1, y1, x2, y2, width, dash))

    def rect(self, x: float, y: float, w: float, h: float, width: float = THIN) -> None:
        self.ops.append(Rect(x, y, w, h, width))

    def text(self, x: float, y: float, text: str, size: float) -> None:
        if text:
            self.ops.append(Text(x, y, text, size))

    def texts(self) -> list[str]:
        """The text on the page in drawing order (for tests and the audit summary)."""
        return [op.text for op in self.ops if isinstance(op, Text)]


class PrintedPdf(bytes):
    """The PDF file's bytes, carrying the sheets it was written from (for the preview)."""

    sheets: tuple[Sheet, ...]
    title: str

    def __new__(cls, data: bytes, sheets: tuple[Sheet, ...], title: str) -> Self:
        made = super().__new__(cls, data)
        made.sheets, made.title = sheets, title
        return made

    @property
    def page_count(self) -> int:
        return len(self.sheets)
