"""Layout helpers for forms: cells, text that fits its cell, code boxes, ticks, digit boxes, tear lines."""

from __future__ import annotations

import re
from dataclasses import dataclass

from desktop.printing.fonts import MM_PER_POINT, text_width
from desktop.printing.sheet import DASH, THIN, Sheet

LINE_SPACING = 1.2
CENTRE_TO_BASELINE = 0.36  # em: CJK glyphs sit about this far above their baseline's centre line
PAD = 0.8
MARGIN = 12.0  # mm on every side: office printers clip below 10
BOX = 3.6
_ATOMS = re.compile(r"[A-Za-z0-9.%/:()（）\-+~]+|\s+|.", re.DOTALL)
_NO_LINE_START = frozenset("，。、；：？！）》」’”%,.;:)")  # punctuation hangs at the line's end instead
_WORDS = re.compile(r"\S+|\s+")  # text with spaces breaks at them (option lists such as "1门诊 2家庭")
TEAR_LABEL = "沿此线撕开"
TEAR_LABEL_SIZE = 7.0
TEAR_GAP = 4.0  # mm kept clear on each side of the tear line
TEAR_WIDTH = 0.3


@dataclass(frozen=True)
class Cell:
    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    def split_h(self, *fractions: float) -> list[Cell]:
        """The cell cut into columns by the given width fractions."""
        cells, x = [], self.x
        for fraction in fractions:
            cells.append(Cell(x, self.y, self.w * fraction, self.h))
            x += self.w * fraction
        return cells

    def split_v(self, parts: int) -> list[Cell]:
        """The cell cut into `parts` equal rows."""
        h = self.h / parts
        return [Cell(self.x, self.y + i * h, self.w, h) for i in range(parts)]


def wrap(text: str, size: float, width: float) -> list[str]:
    """Lines of `text` no wider than `width` mm: broken at newlines, then at spaces if any, else between characters."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for atom in (_WORDS if " " in paragraph.strip() else _ATOMS).findall(paragraph):
            if text_width(line + atom, size) <= width or (atom in _NO_LINE_START and line.strip()):
                line += atom
                continue
            if line.strip():
                lines.append(line.rstrip())
                line = atom.lstrip()
            else:
                line += atom
            if len(line) > 1 and text_width(line, size) > width:
                *full, line = _hard_split(line, size, width)
                lines += full
        lines.append(line.rstrip())
    return lines


def _hard_split(text: str, size: float, width: float) -> list[str]:
    lines, line = [], ""
    for char in text:
        if line and text_width(line + char, size) > width:
            lines.append(line)
            line = ""
        line += char
    return lines + [line]


def fit(text: str, size: float, width: float, height: float, min_size: float = 5.0) -> tuple[float, list[str]]:
    """The largest size (down to `min_size`) at which `text` wraps into the box, and its lines."""
    while True:
        lines = wrap(text, size, width)
        if size <= min_size or len(lines) * size * LINE_SPACING * MM_PER_POINT <= height:
            return size, lines
        size = max(min_size, size - 0.5)


def write(sheet: Sheet, cell: Cell, text: str, size: float = 9, *, align: str = "center",
          valign: str = "middle", min_size: float = 5.0, pad: float = PAD) -> None:
    """Text inside the cell, wrapped and shrunk to fit, aligned left/center/right and top/middle."""
    if not text:
        return
    width, height = cell.w - 2 * pad, cell.h - 2 * pad
    size, lines = fit(text, size, width, height, min_size)
    step = size * LINE_SPACING * MM_PER_POINT
    first = (cell.y + pad + step / 2) if valign == "top" else (cell.y + cell.h / 2 - step * (len(lines) - 1) / 2)
    for index, line in enumerate(lines):
        baseline = first + index * step + CENTRE_TO_BASELINE * size * MM_PER_POINT
        sheet.text(_x(cell, line, size, align, pad), baseline, line, size)


def _x(cell: Cell, line: str, size: float, align: str, pad: float) -> float:
    if align == "left":
        return cell.x + pad
    if align == "right":
        return cell.right - pad - text_width(line, size)
    return cell.x + (cell.w - text_width(line, size)) / 2


def box(sheet: Sheet, x: float, y: float, text: str = "", *, side: float = BOX, size: float = 8) -> None:
    """A square (top-left at x, y) with `text` centred in it: the national forms' □ with a code written in."""
    sheet.rect(x, y, side, side, THIN)
    if text:
        write(sheet, Cell(x, y, side, side), text, size, pad=0.1, min_size=4)


def code_box(sheet: Sheet, cell: Cell, options: str, code: str | None, size: float = 6.5) -> None:
    """The options printed small, then the box holding the chosen code at the cell's right."""
    x = cell.right - PAD - BOX
    write(sheet, Cell(cell.x, cell.y, x - cell.x, cell.h), options, size, align="left", min_size=4.5)
    box(sheet, x, cell.y + (cell.h - BOX) / 2, code or "")


def tick(sheet: Sheet, x: float, y: float, side: float = BOX, *, ticked: bool) -> None:
    """A check box drawn as shapes (☐/☑ are missing from CJK fonts), with a tick when `ticked`."""
    sheet.rect(x, y, side, side, THIN)
    if ticked:
        sheet.line(x + side * 0.18, y + side * 0.52, x + side * 0.42, y + side * 0.8, 0.35)
        sheet.line(x + side * 0.42, y + side * 0.8, x + side * 0.86, y + side * 0.18, 0.35)


def digit_boxes(sheet: Sheet, x: float, y: float, digits: str, groups: tuple[int, ...] = (3, 5),
                side: float = 4.6, size: float = 10) -> float:
    """Digits in boxes grouped with a dash (编号 □□□-□□□□□); returns the right edge."""
    position = 0
    for number, count in enumerate(groups):
        if number:
            sheet.line(x + 0.8, y + side / 2, x + 2.4, y + side / 2, 0.3)
            x += 3.2
        for _ in range(count):
            box(sheet, x, y, digits[position:position + 1], side=side, size=size)
            x += side
            position += 1
    return x


def form_header(sheet: Sheet, title: str, name: str, record_no: str) -> None:
    """Title, then 姓名 on the left and 编号 □□□-□□□□□ (the record number's last 8 digits) on the right."""
    write(sheet, Cell(MARGIN, 12, sheet.width - 2 * MARGIN, 10), title, 16)
    write(sheet, Cell(MARGIN, 24, 90, 7), f"姓名：{name}", 10.5, align="left", pad=0)
    boxes_w = 8 * 4.6 + 3.2
    right = sheet.width - MARGIN
    write(sheet, Cell(right - boxes_w - 12, 24, 12, 7), "编号", 10.5, align="right", pad=1)
    digit_boxes(sheet, right - boxes_w, 25.2, record_no[-8:])


def tear_line(sheet: Sheet, y: float, *, label: str = TEAR_LABEL, left: float = MARGIN,
              right: float | None = None) -> None:
    """A dashed line across the page at `y` with a small label in a gap at its middle (✂ is missing from CJK fonts)."""
    right = sheet.width - MARGIN if right is None else right
    label_w = text_width(label, TEAR_LABEL_SIZE) if label else 0.0
    middle = (left + right) / 2
    gap_left, gap_right = (middle - label_w / 2 - 1.5, middle + label_w / 2 + 1.5) if label else (middle, middle)
    sheet.dashed_line(left, y, gap_left, y, TEAR_WIDTH, dash=DASH)
    sheet.dashed_line(gap_right, y, right, y, TEAR_WIDTH, dash=DASH)
    if label:
        write(sheet, Cell(gap_left, y - 2.5, gap_right - gap_left, 5.0), label, TEAR_LABEL_SIZE, pad=0)


def stub_layout(sheet: Sheet, *, stub_height: float, label: str = TEAR_LABEL) -> tuple[Cell, Cell]:
    """The page split into a stub (top, `stub_height` mm) and the main part by a tear line; (stub, main) cells.

    Both cells lie within the margins and keep TEAR_GAP clear of the line, as the referral
    slip's 转出存根 above 双向转诊（转出）单 does.
    """
    usable = sheet.height - 2 * MARGIN
    if not 2 * TEAR_GAP < stub_height < usable - 2 * TEAR_GAP:
        raise ValueError(f"stub height {stub_height} mm does not leave room for both parts")
    y = MARGIN + stub_height
    tear_line(sheet, y, label=label)
    width = sheet.width - 2 * MARGIN
    stub = Cell(MARGIN, MARGIN, width, stub_height - TEAR_GAP)
    main = Cell(MARGIN, y + TEAR_GAP, width, sheet.height - MARGIN - y - TEAR_GAP)
    return stub, main
