"""Print preview: the pages as they will come out of the printer, with 打印… and 另存为 PDF….

Entry points: `show_form_preview(context, parent, form_key, key, options=...)` opens any form
registered in `desktop.printing.catalogue`; `show_print_preview(context, parent, title, make_pdf)`
shows whatever `make_pdf` builds. Either way the PDF is built on the database worker (read, laid
out, audited). Forms built by `desktop.printing` return a `PrintedPdf`, which carries the sheets
the PDF was written from: the preview and the printer paint those same sheets with QPainter (PySide6-Essentials has
no PDF renderer), so screen, printer and PDF file agree. Plain PDF bytes can still be saved.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path

from PySide6.QtCore import QMarginsF, QPointF, QSize, QSizeF, Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QImage, QPageLayout, QPageSize, QPainter, QPen, QPixmap
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desktop.errors import UserFacingError
from desktop.printing.catalogue import get_form
from desktop.printing.sheet import Line, PrintedPdf, Rect, Sheet, Text
from desktop.ui.context import UiContext
from desktop.ui.errors import show_error
from desktop.ui.theme import BORDER, MUTED_TEXT, load_bundled_font

MM_PER_INCH = 25.4
POINTS_PER_INCH = 72.0
SCREEN_DPI = 96.0
ZOOMS = (("75%", 0.75), ("100%", 1.0), ("125%", 1.25), ("150%", 1.5))
DEFAULT_ZOOM = 1
PDF_FILTER = "PDF 文件 (*.pdf)"
PREFERRED_SIZE = QSize(900, 860)  # an A4 page wide at 100%; shorter on a small screen
SCREEN_SHARE = 0.94  # of the screen's usable area a dialog may take, leaving its frame and title bar visible
NO_PREVIEW = "此文档无法在程序内预览，可“另存为 PDF…”后查看或打印。"


def paint_sheet(painter: QPainter, sheet: Sheet, px_per_mm: float, family: str) -> None:
    """Draw the sheet's operations with the top-left corner of the paper at the painter's origin."""
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    device_dpi = painter.device().logicalDpiY() or SCREEN_DPI
    pen = QPen(QColor("black"))
    font = QFont(family)
    size = None
    for op in sheet.ops:
        if isinstance(op, Text):
            if op.size != size:
                size = op.size
                pixels = op.size * MM_PER_INCH / POINTS_PER_INCH * px_per_mm
                font.setPointSizeF(pixels * POINTS_PER_INCH / device_dpi)
                painter.setFont(font)
            painter.drawText(QPointF(op.x * px_per_mm, op.y * px_per_mm), op.text)
            continue
        pen_width = max(op.width * px_per_mm, 1.0)  # hairlines stay visible on screen
        pen.setWidthF(pen_width)
        dash = op.dash if isinstance(op, Line) else None
        if dash:
            pen.setDashPattern([part * px_per_mm / pen_width for part in dash])  # in pen widths
        else:
            pen.setStyle(Qt.PenStyle.SolidLine)
        painter.setPen(pen)
        if isinstance(op, Line):
            painter.drawLine(QPointF(op.x1 * px_per_mm, op.y1 * px_per_mm), QPointF(op.x2 * px_per_mm, op.y2 * px_per_mm))
        elif isinstance(op, Rect):
            painter.drawRect(op.x * px_per_mm, op.y * px_per_mm, op.w * px_per_mm, op.h * px_per_mm)


def sheet_image(sheet: Sheet, dpi: float, family: str) -> QImage:
    """The sheet as a white picture at `dpi`."""
    px_per_mm = dpi / MM_PER_INCH
    image = QImage(round(sheet.width * px_per_mm), round(sheet.height * px_per_mm), QImage.Format.Format_RGB32)
    dots_per_metre = round(dpi / MM_PER_INCH * 1000)
    image.setDotsPerMeterX(dots_per_metre)
    image.setDotsPerMeterY(dots_per_metre)
    image.fill(QColor("white"))
    painter = QPainter(image)
    try:
        paint_sheet(painter, sheet, px_per_mm, family)
    finally:
        painter.end()
    return image


def print_sheets(printer: QPrinter, sheets: Sequence[Sheet], family: str) -> None:
    """Send the sheets to the printer (or to its PDF file), one page each, full-page and unscaled."""
    if not sheets:
        raise UserFacingError("没有可打印的页面。")
    printer.setFullPage(True)
    first = sheets[0]
    printer.setPageLayout(QPageLayout(QPageSize(QSizeF(first.width, first.height), QPageSize.Unit.Millimeter),
                                      QPageLayout.Orientation.Portrait, QMarginsF()))
    painter = QPainter()
    if not painter.begin(printer):
        raise UserFacingError("无法开始打印，请检查打印机是否连接、是否有纸。")
    try:
        px_per_mm = printer.resolution() / MM_PER_INCH
        for number, sheet in enumerate(sheets):
            if number:
                printer.newPage()
            paint_sheet(painter, sheet, px_per_mm, family)
    finally:
        painter.end()


def fitted_size(preferred: QSize, available: QSize) -> QSize:
    """`preferred`, made smaller where needed to fit within the screen's usable `available` area."""
    return preferred.boundedTo(QSize(int(available.width() * SCREEN_SHARE), int(available.height() * SCREEN_SHARE)))


def fit_on_screen(widget: QWidget, preferred: QSize) -> None:
    """Size `widget` to `preferred`, or smaller so that it fits its screen whole, and centre it there."""
    screen = widget.screen() or QGuiApplication.primaryScreen()
    if screen is None:
        widget.resize(preferred)
        return
    room = screen.availableGeometry()
    size = fitted_size(preferred, room.size())
    widget.resize(size)
    widget.move(room.x() + (room.width() - size.width()) // 2, room.y() + (room.height() - size.height()) // 2)


class PrintPreviewDialog(QDialog):
    """The pages one under another on grey, with 打印…, 另存为 PDF… and the zoom."""

    def __init__(self, pdf: bytes, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pdf, self.title = pdf, title
        self.sheets: tuple[Sheet, ...] = pdf.sheets if isinstance(pdf, PrintedPdf) else ()
        self.family = load_bundled_font()
        self.setWindowTitle(f"打印预览 - {title}")
        self.pages: list[QLabel] = []
        self.print_button = QPushButton("打印…")
        self.save_button = QPushButton("另存为 PDF…")
        self.zoom = QComboBox()
        self.status = QLabel()
        self.status.setStyleSheet(f"color: {MUTED_TEXT};")
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setStyleSheet(f"QScrollArea {{ background: #8a9499; border: 1px solid {BORDER}; }}")
        self._layout()
        self._show_pages()
        fit_on_screen(self, PREFERRED_SIZE)

    @property
    def page_count(self) -> int:
        return len(self.sheets)

    def _layout(self) -> None:
        for label, _ in ZOOMS:
            self.zoom.addItem(label)
        self.zoom.setCurrentIndex(DEFAULT_ZOOM)
        self.zoom.currentIndexChanged.connect(self._show_pages)
        self.print_button.clicked.connect(self._choose_printer)
        self.save_button.clicked.connect(self._choose_file)
        self.print_button.setEnabled(bool(self.sheets))
        close = QPushButton("关闭")
        close.clicked.connect(self.reject)
        bar = QHBoxLayout()
        for widget in (self.print_button, self.save_button, QLabel("缩放："), self.zoom):
            bar.addWidget(widget)
        bar.addStretch(1)
        bar.addWidget(self.status)
        bar.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.scroll, 1)

    def _show_pages(self) -> None:
        """(Re)draw every page at the chosen zoom."""
        holder = QWidget()
        holder.setStyleSheet("background: #8a9499;")
        column = QVBoxLayout(holder)
        column.setSpacing(14)
        column.setContentsMargins(20, 20, 20, 20)
        self.pages = []
        dpi = SCREEN_DPI * ZOOMS[self.zoom.currentIndex()][1]
        for sheet in self.sheets:
            page = QLabel()
            page.setPixmap(QPixmap.fromImage(sheet_image(sheet, dpi, self.family)))
            column.addWidget(page, 0, Qt.AlignmentFlag.AlignHCenter)
            self.pages.append(page)
        if not self.sheets:
            column.addWidget(QLabel(NO_PREVIEW), 0, Qt.AlignmentFlag.AlignHCenter)
        column.addStretch(1)
        self.scroll.setWidget(holder)
        self.status.setText(f"共 {len(self.sheets)} 页" if self.sheets else "")

    def _choose_printer(self) -> None:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setDocName(self.title)
        dialog = QPrintDialog(printer, self)
        dialog.setWindowTitle("打印")
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.print_to(printer)

    def print_to(self, printer: QPrinter) -> None:
        """Print every page on `printer` (errors are shown, not raised)."""
        try:
            print_sheets(printer, self.sheets, self.family)
        except UserFacingError as error:
            show_error(self, error)
            return
        self.status.setText(f"已发送 {len(self.sheets)} 页到打印机")

    def _choose_file(self) -> None:
        default = str(Path.home() / f"{self.title}.pdf")
        chosen, _ = QFileDialog.getSaveFileName(self, "另存为 PDF", default, PDF_FILTER)
        if chosen:
            self.save_to(Path(chosen if chosen.lower().endswith(".pdf") else chosen + ".pdf"))

    def save_to(self, path: Path) -> None:
        """Write the PDF file whole (errors are shown, not raised)."""
        from desktop.printing.pdf import save_pdf

        try:
            target = save_pdf(path, bytes(self.pdf))
        except UserFacingError as error:
            show_error(self, error)
            return
        self.status.setText(f"已保存：{target.name}")


def show_print_preview(context: UiContext, parent: QWidget | None, title: str, make_pdf: Callable[[], bytes], *,
                       on_shown: Callable[[PrintPreviewDialog], None] | None = None) -> Future:
    """Build the PDF on the database worker, then show it in the preview (window-modal to `parent`)."""
    def shown(pdf: bytes) -> None:
        dialog = PrintPreviewDialog(pdf, title, parent)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.show()
        if on_shown is not None:
            on_shown(dialog)

    return context.tasks.run_db(make_pdf, on_success=shown, parent=parent, label=f"正在生成{title}…")


def show_form_preview(context: UiContext, parent: QWidget | None, form_key: str, key: str, *,
                      options: Mapping[str, object] | None = None, title: str | None = None,
                      on_shown: Callable[[PrintPreviewDialog], None] | None = None) -> Future:
    """Print the registered form `form_key` for `key` (permission, scope, audit) and show it in the preview."""
    form, chosen, ctx = get_form(form_key), dict(options or {}), context
    return show_print_preview(context, parent, title or f"{form.label} — {key}",
                              lambda: form.build(ctx.db, ctx.actor, key, **chosen), on_shown=on_shown)
