"""The one error display: message boxes, the 复制详情 button, logging and the excepthook."""

from __future__ import annotations

import logging
import sys
import threading

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton

from desktop.errors import Cancelled, UserFacingError, ValidationError
from desktop.ui import errors as ui_errors
from desktop.ui.errors import (
    COPY_DETAILS_TEXT,
    UNEXPECTED_MESSAGE,
    build_error_box,
    install_excepthook,
    show_error,
)


def raised(exc: BaseException) -> BaseException:
    """`exc` with a real traceback attached."""
    try:
        raise exc
    except BaseException as caught:
        return caught


def copy_button(box: QMessageBox) -> QPushButton | None:
    """The box's 复制详情 button, if any."""
    return next((b for b in box.buttons() if b.text() == COPY_DETAILS_TEXT), None)


def test_user_facing_error_shows_its_message(qtbot) -> None:
    box = build_error_box(None, UserFacingError("身份证号码校验位错误。"))
    qtbot.addWidget(box)
    assert box.text() == "身份证号码校验位错误。"
    assert box.icon() == QMessageBox.Icon.Warning
    assert copy_button(box) is None


def test_validation_error_shows_field_messages(qtbot) -> None:
    box = build_error_box(None, ValidationError({"sbp": "收缩压应在 60–300 mmHg 之间"}))
    qtbot.addWidget(box)
    assert "收缩压应在 60–300 mmHg 之间" in box.text()


def test_user_facing_details_can_be_copied(qtbot, qapp) -> None:
    box = build_error_box(None, UserFacingError("数据库文件已损坏。", details="quick_check: page 12"))
    qtbot.addWidget(box)
    box.show()
    copy_button(box).click()
    assert QApplication.clipboard().text() == "quick_check: page 12"
    assert box.isVisible()  # copying does not close the box


def test_cancelled_shows_nothing(qtbot, monkeypatch) -> None:
    monkeypatch.setattr(QMessageBox, "exec", lambda self: pytest.fail("a box was shown"))
    assert build_error_box(None, Cancelled()) is None
    show_error(None, Cancelled())


def test_unexpected_error_offers_traceback(qtbot, qapp) -> None:
    exc = raised(KeyError("resident_id"))
    box = build_error_box(None, exc)
    qtbot.addWidget(box)
    assert box.text() == UNEXPECTED_MESSAGE
    assert box.icon() == QMessageBox.Icon.Critical
    assert "KeyError" in box.detailedText() and "Traceback" in box.detailedText()
    copy_button(box).click()
    copied = QApplication.clipboard().text()
    assert "Traceback (most recent call last)" in copied and "resident_id" in copied
    assert "raise exc" in copied


def test_message_is_plain_text(qtbot) -> None:
    box = build_error_box(None, UserFacingError("<b>不是粗体</b>"))
    qtbot.addWidget(box)
    assert box.textFormat().name == "PlainText"


def test_show_error_logs_unexpected_and_shows_box(qtbot, monkeypatch, caplog) -> None:
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda self: shown.append(self.text()) or 0)
    with caplog.at_level(logging.ERROR, logger="township_desk"):
        show_error(None, raised(ZeroDivisionError("division by zero")))
    assert shown == [UNEXPECTED_MESSAGE]
    record = next(r for r in caplog.records if r.name == "township_desk" and r.levelno == logging.ERROR)
    assert record.exc_info[0] is ZeroDivisionError


def test_show_error_user_facing_is_not_logged_as_error(qtbot, monkeypatch, caplog) -> None:
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda self: shown.append(self.text()) or 0)
    with caplog.at_level(logging.INFO, logger="township_desk"):
        show_error(None, UserFacingError("用户名或密码错误。"))
    assert shown == ["用户名或密码错误。"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_excepthook_routes_gui_thread_exceptions(qtbot, monkeypatch) -> None:
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    shown: list[BaseException] = []
    monkeypatch.setattr(ui_errors, "show_error", lambda parent, exc: shown.append(exc))
    install_excepthook()
    exc = raised(RuntimeError("boom"))
    sys.excepthook(type(exc), exc, exc.__traceback__)
    assert shown == [exc]
