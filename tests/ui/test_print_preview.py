"""The print preview: built on the database worker, shows every page, prints through QPrinter, saves the PDF."""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import make_context, screenshot
from PySide6.QtGui import QColor
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QWidget
from sqlalchemy import func, select

from desktop.models import FollowupVisit, Resident
from desktop.printing.catalogue import registered_forms
from desktop.printing.draw import MARGIN, stub_layout
from desktop.printing.service import followup_sheets_pdf
from desktop.printing.sheet import Sheet
from desktop.ui.print_preview import PrintPreviewDialog, sheet_image, show_form_preview, show_print_preview
from desktop.ui.theme import load_bundled_font

REQUIRE_TOOLS = os.environ.get("TOWNSHIP_DESK_REQUIRE_TOOLS") == "1"


def busiest_patient(app) -> tuple[str, str, int]:
    """(record number, name, visits in 2025) of the demo hypertension patient with the most visits in 2025."""
    with app.db.read() as session:
        return session.execute(
            select(Resident.record_no, Resident.name, func.count(FollowupVisit.id))
            .join(FollowupVisit, FollowupVisit.resident_id == Resident.id)
            .where(FollowupVisit.disease == "hypertension", FollowupVisit.visit_date.between("2025-01-01", "2025-12-31"))
            .group_by(Resident.id).order_by(func.count(FollowupVisit.id).desc()).limit(1)).one()


def ink(image, step: int = 3) -> float:
    """The share of sampled pixels that are dark."""
    samples = [QColor(image.pixel(x, y)).lightness() < 128
               for x in range(0, image.width(), step) for y in range(0, image.height(), step)]
    return sum(samples) / len(samples)


@pytest.fixture
def preview(themed, qtbot, tasks, demo_app):
    """The preview of the busiest patient's 2025 hypertension forms, opened through the entry point."""
    context = make_context(demo_app, tasks, "gongwei1")
    record_no, name, visits = busiest_patient(demo_app)
    parent = QWidget()
    qtbot.addWidget(parent)
    shown: list[PrintPreviewDialog] = []
    show_print_preview(context, parent, f"{name} 高血压患者随访服务记录表",
                       lambda: followup_sheets_pdf(context.db, context.actor, record_no, "hypertension", 2025),
                       on_shown=shown.append)
    qtbot.waitUntil(lambda: bool(shown), timeout=15000)
    dialog = shown[0]
    yield dialog, name, visits
    dialog.close()


def test_preview_opens_with_every_page_drawn(preview) -> None:
    dialog, _, visits = preview
    assert visits > 4
    assert dialog.page_count == len(dialog.pages) == math.ceil(visits / 4)
    assert dialog.isVisible() and dialog.print_button.isEnabled()
    first = dialog.pages[0].pixmap()
    assert abs(first.width() - 794) <= 1 and abs(first.height() - 1123) <= 1  # A4 at 96 dpi
    assert 0.02 < ink(first.toImage()) < 0.5
    assert dialog.status.text() == f"共 {dialog.page_count} 页"
    screenshot(dialog, "print-preview")
    dialog.zoom.setCurrentIndex(3)
    assert abs(dialog.pages[0].pixmap().width() - 1191) <= 1  # 150%


def test_save_writes_the_same_pdf(preview, tmp_path: Path) -> None:
    dialog, _, _ = preview
    dialog.save_to(tmp_path / "随访表.pdf")
    assert (tmp_path / "随访表.pdf").read_bytes() == bytes(dialog.pdf)
    assert dialog.status.text() == "已保存：随访表.pdf"


def test_printing_paints_the_same_pages(preview, tmp_path: Path) -> None:
    dialog, name, _ = preview
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "printed.pdf"))
    dialog.print_to(printer)
    assert dialog.status.text() == f"已发送 {dialog.page_count} 页到打印机"
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        if REQUIRE_TOOLS:
            pytest.fail("pdftotext (poppler-utils) is required here but is not installed")
        pytest.skip("pdftotext (poppler-utils) is not installed")
    text = subprocess.run([pdftotext, str(tmp_path / "printed.pdf"), "-"], capture_output=True, text=True,
                          timeout=60, check=True).stdout
    pages = [page for page in text.split("\f") if page.strip()]
    assert len(pages) == dialog.page_count
    compact = re.sub(r"\s+", "", pages[0])
    assert "高血压患者随访服务记录表" in compact and f"姓名：{name}" in compact and "随访医生签名" in compact


def test_plain_pdf_bytes_can_be_saved_but_not_previewed(themed, qtbot, tmp_path: Path) -> None:
    dialog = PrintPreviewDialog(b"%PDF-1.4\n%%EOF\n", "外来文档")
    qtbot.addWidget(dialog)
    assert dialog.page_count == 0 and not dialog.print_button.isEnabled()
    dialog.save_to(tmp_path / "a.pdf")
    assert (tmp_path / "a.pdf").read_bytes() == b"%PDF-1.4\n%%EOF\n"


def test_any_registered_form_opens_in_the_preview(themed, qtbot, tasks, demo_app) -> None:
    context = make_context(demo_app, tasks, "gongwei1")
    parent = QWidget()
    qtbot.addWidget(parent)
    for form in registered_forms():
        with demo_app.db.read() as session:
            key, options = form.example(session)
        shown: list[PrintPreviewDialog] = []
        show_form_preview(context, parent, form.key, key, options=options, on_shown=shown.append)
        qtbot.waitUntil(lambda: bool(shown), timeout=15000)  # noqa: B023 - waited on before the next form
        dialog = shown[0]
        assert dialog.windowTitle() == f"打印预览 - {form.label} — {key}"
        assert dialog.page_count >= 1 and 0.02 < ink(dialog.pages[0].pixmap().toImage()) < 0.5
        dialog.close()


def test_dashed_lines_are_painted_in_dashes(themed) -> None:
    sheet = Sheet()
    stub_layout(sheet, stub_height=80)
    image = sheet_image(sheet, 100, load_bundled_font())
    y = round((MARGIN + 80) / 25.4 * 100)
    rows = [[QColor(image.pixel(x, y + d)).lightness() < 160 for x in range(image.width() // 3)] for d in (-1, 0, 1)]
    dark = [any(column) for column in zip(*rows, strict=True)]
    assert sum(1 for a, b in zip(dark, dark[1:], strict=False) if a and not b) >= 10
