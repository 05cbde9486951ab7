"""The one error display: every failure the window shows goes through `show_error`.

`UserFacingError` -> a warning box with its Chinese message (and a 复制详情 button when it
carries technical details); `Cancelled` -> nothing; anything else is a bug -> logged with its
traceback at ERROR and shown with a generic Chinese message, the traceback behind 复制详情 and
in the expandable detailed text. Call these on the GUI thread only.
"""

from __future__ import annotations

import logging
import platform
import sys
import threading
import traceback
from types import TracebackType

from PySide6.QtCore import Qt, QThread, qVersion
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from desktop import APP_NAME, APP_TITLE, __version__
from desktop.errors import Cancelled, UserFacingError

log = logging.getLogger("township_desk")

UNEXPECTED_MESSAGE = "程序出现意外错误，操作未完成。已保存的数据不受影响。请将详情发给技术支持。"
COPY_DETAILS_TEXT = "复制详情"
OK_TEXT = "确定"
COPY_BUTTON_NAME = "copyDetailsButton"

def format_details(exc: BaseException) -> str:
    """The technical report for support: versions, then the full traceback."""
    header = (
        f"{APP_NAME} {__version__} · Python {platform.python_version()} · Qt {qVersion()} · "
        f"{platform.platform()}\n"
    )
    return header + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def copy_to_clipboard(text: str) -> None:
    """Put `text` on the system clipboard."""
    QApplication.clipboard().setText(text)


def build_error_box(parent: QWidget | None, exc: BaseException) -> QMessageBox | None:
    """The message box `show_error` would show for `exc` (None for `Cancelled`); not yet shown."""
    if isinstance(exc, Cancelled):
        return None
    if isinstance(exc, UserFacingError):
        return _message_box(parent, QMessageBox.Icon.Warning, exc.message, exc.details)
    details = format_details(exc)
    box = _message_box(parent, QMessageBox.Icon.Critical, UNEXPECTED_MESSAGE, details)
    box.setDetailedText(details)
    return box


def _message_box(parent: QWidget | None, icon: QMessageBox.Icon, text: str, details: str) -> QMessageBox:
    """A message box with the app's title, an OK button and, with details, a 复制详情 button."""
    box = QMessageBox(icon, APP_TITLE, text, QMessageBox.StandardButton.NoButton, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)  # never read an error string as HTML
    ok_button = box.addButton(OK_TEXT, QMessageBox.ButtonRole.AcceptRole)
    box.setDefaultButton(ok_button)
    box.setEscapeButton(ok_button)
    if details:
        _add_copy_button(box, details)
    return box


def _add_copy_button(box: QMessageBox, details: str) -> None:
    """Add a 复制详情 button that copies `details` and leaves the box open."""
    button = box.addButton(COPY_DETAILS_TEXT, QMessageBox.ButtonRole.ActionRole)
    button.setObjectName(COPY_BUTTON_NAME)
    button.clicked.disconnect()  # drop the button box's own "close on click" connection
    button.clicked.connect(lambda: copy_to_clipboard(details))


def log_error(exc: BaseException) -> None:
    """Log an unexpected exception with its traceback; user-facing ones at INFO."""
    if isinstance(exc, Cancelled):
        return
    if isinstance(exc, UserFacingError):
        log.info("user-facing error: %s", exc.message)
        return
    log.error("unexpected error", exc_info=(type(exc), exc, exc.__traceback__))


def show_error(parent: QWidget | None, exc: BaseException) -> None:
    """Log `exc` and show it modally as the one error box (nothing for `Cancelled`)."""
    log_error(exc)
    box = build_error_box(parent, exc)
    if box is not None:
        box.exec()
        box.deleteLater()


def _is_gui_thread() -> bool:
    """True on the thread that owns the QApplication."""
    app = QApplication.instance()
    return app is not None and QThread.currentThread() is app.thread()


def _gui_excepthook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    """Route an uncaught exception to `show_error` on the GUI thread; only log it elsewhere."""
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, tb)
        return
    if exc.__traceback__ is None:
        exc = exc.with_traceback(tb)
    if not _is_gui_thread():
        log_error(exc)
        return
    try:
        show_error(QApplication.activeWindow(), exc)
    except Exception:  # the error display itself failed: fall back to stderr, never recurse
        sys.__excepthook__(exc_type, exc, tb)


def _thread_excepthook(args: threading.ExceptHookArgs) -> None:
    """Log an exception that escaped a plain Python thread."""
    if args.exc_value is not None:
        exc_info = (args.exc_type, args.exc_value, args.exc_traceback)
        log.error("unexpected error in thread %s", args.thread, exc_info=exc_info)


def install_excepthook() -> None:
    """Show uncaught GUI-thread exceptions with `show_error`; log those of other threads."""
    sys.excepthook = _gui_excepthook
    threading.excepthook = _thread_excepthook
