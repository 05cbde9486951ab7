"""Locking hides everything the window shows before the unlock form appears; signing out empties it."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QAbstractButton, QAbstractItemView, QApplication, QLabel, QLineEdit, QWidget
from shiboken6 import isValid

from desktop import APP_TITLE
from desktop.demo import DEMO_PASSWORD
from desktop.services.auth import sign_in
from desktop.ui.lock_screen import LOCKED_TITLE, LockScreen
from desktop.ui.main_window import MainWindow
from desktop.ui.pages.base import Page
from desktop.ui.resident_form import ResidentForm
from desktop.ui.sign_in import SignInDialog
from tests.ui.conftest import SCREENSHOTS, make_context, screenshot, settle

SIZE = (1366, 768)
WAIT_MS = 10_000


def _window(qtbot, demo_app, tasks, username: str, *, closed_by_test: bool = True) -> MainWindow:
    window = MainWindow(make_context(demo_app, tasks, username))
    if closed_by_test:
        qtbot.addWidget(window)
    window.resize(*SIZE)
    window.show()
    return window


def _residents_shown(qtbot, window: MainWindow) -> list[str]:
    """Open 居民档案 and return the names in its first rows."""
    page = window.page("residents")
    settle(qtbot, page.ctx)
    qtbot.waitUntil(lambda: page.model.rowCount() > 0 and page.model.loaded(0), timeout=WAIT_MS)
    names = [page.model.index(row, 0).data() for row in range(min(20, page.model.rowCount()))]
    assert names and all(names)
    return names


def _visible_texts(window: QWidget) -> list[str]:
    """Every text a visible widget of the window shows; fails on any visible list or table."""
    texts = []
    for widget in window.findChildren(QWidget):
        if not widget.isVisible():
            continue
        assert not isinstance(widget, QAbstractItemView), f"a list is visible: {widget!r}"
        if isinstance(widget, QLabel | QLineEdit | QAbstractButton):
            texts.append(widget.text())
    return texts


def _locked_image(window: MainWindow):
    window.lock_screen.password.clearFocus()  # no blinking text cursor in the picture
    QApplication.processEvents()
    return window.grab().toImage()


def test_locking_hides_the_residents_list(qtbot, themed, demo_app, tasks) -> None:
    window = _window(qtbot, demo_app, tasks, "luru1")
    names = _residents_shown(qtbot, window)
    page = window.pages["residents"]
    qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert window.locked
    assert not page.isVisible() and not page.view.isVisible()
    assert not window.menuBar().isVisible() and not window.statusBar().isVisible()
    assert window.windowTitle() == LOCKED_TITLE and window.ctx.branch.name not in window.windowTitle()
    texts = "\n".join(_visible_texts(window))
    assert "工作台已锁定" in texts and not [name for name in names if name in texts]
    screenshot(window, "lock-screen")

    # What is painted does not depend on what was showing: the same as a window locked on its home page.
    locked_on_residents = _locked_image(window)
    other = _window(qtbot, demo_app, tasks, "luru1")
    settle(qtbot, other.ctx)
    other.lock()
    assert _locked_image(other) == locked_on_residents

    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)  # page keys are off while locked
    assert window.navigation.currentRow() == window.specs.index(next(s for s in window.specs if s.key == "residents"))
    window.lock_screen.password.setText(DEMO_PASSWORD)
    with qtbot.waitSignal(window.lock_screen.unlocked, timeout=WAIT_MS):
        window.lock_screen.unlock()
    assert not window.locked and page.view.isVisible() and window.statusBar().isVisible()
    assert window.windowTitle() != LOCKED_TITLE
    for w in (window, other):
        w.idle.stop()


def test_an_open_form_is_hidden_while_locked_and_comes_back_as_it_was(qtbot, themed, demo_app, tasks) -> None:
    window = _window(qtbot, demo_app, tasks, "luru1")
    _residents_shown(qtbot, window)
    page = window.pages["residents"]
    page.new_resident()
    qtbot.waitUntil(lambda: isinstance(page.dialog, ResidentForm) and page.dialog.isVisible(), timeout=WAIT_MS)
    form = page.dialog
    form.name.setText("试锁屏")
    window.lock()
    assert not form.isVisible()
    assert "试锁屏" not in "\n".join(_visible_texts(window))
    window.lock_screen.password.setText(DEMO_PASSWORD)
    with qtbot.waitSignal(window.lock_screen.unlocked, timeout=WAIT_MS):
        window.lock_screen.unlock()
    assert form.isVisible() and form.name.text() == "试锁屏"
    form.done(0)
    window.idle.stop()


def test_a_dialog_running_its_own_loop_is_covered_and_its_lock_form_unlocks(qtbot, themed, demo_app, tasks) -> None:
    window = _window(qtbot, demo_app, tasks, "luru1")
    seen: dict[str, object] = {}

    def while_the_dialog_runs() -> None:
        dialog = QApplication.activeModalWidget()
        try:
            dialog.old_password.setText("typed#1Aa")
            window.lock()
            curtain = dialog.findChild(LockScreen)
            seen["covered"] = curtain is not None and curtain.isVisible() and not dialog.old_password.isVisible()
            seen["main locked"] = window.locked and window.lock_screen.isVisible()
            screenshot(dialog, "lock-over-dialog")
            curtain.password.setText(DEMO_PASSWORD)
            with qtbot.waitSignal(curtain.unlocked, timeout=WAIT_MS):
                curtain.unlock()
            seen["unlocked"] = not window.locked and dialog.isVisible()
            seen["kept"] = dialog.old_password.isVisible() and dialog.old_password.text() == "typed#1Aa"
        finally:
            dialog.reject()

    QTimer.singleShot(100, while_the_dialog_runs)
    window.change_password()  # runs its own loop until the function above closes it
    assert seen == {"covered": True, "main locked": True, "unlocked": True, "kept": True}
    window.idle.stop()


def _sign_in_over(window: MainWindow, demo_app, tasks, name: str) -> None:
    """Save the emptied window with the sign-in box over it, as a person sees it after signing out."""
    dialog = SignInDialog(lambda u, p: sign_in(demo_app.db, u, p), tasks, demo_app.branch)
    dialog.adjustSize()
    picture = window.grab()
    box = dialog.grab()
    painter = QPainter(picture)
    corner = QPoint((picture.width() - box.width()) // 2, (picture.height() - box.height()) // 2)
    painter.drawPixmap(corner, box)
    painter.drawRect(corner.x() - 1, corner.y() - 1, box.width() + 1, box.height() + 1)
    painter.end()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    picture.save(str(SCREENSHOTS / f"{name}.png"))
    dialog.deleteLater()


def test_signing_out_empties_the_window_before_the_sign_in_box(qtbot, themed, demo_app, tasks) -> None:
    window = _window(qtbot, demo_app, tasks, "yuanzhang", closed_by_test=False)  # it deletes itself
    names = _residents_shown(qtbot, window)
    specs, pages = window.specs, list(window.pages.values())
    page = window.pages["residents"]
    page.new_resident()
    qtbot.waitUntil(lambda: isinstance(page.dialog, ResidentForm) and page.dialog.isVisible(), timeout=WAIT_MS)
    form, model = page.dialog, page.model
    seen: dict[str, object] = {}

    def at_sign_out() -> None:  # the moment the sign-in box would open
        seen["texts"] = "\n".join(_visible_texts(window))
        seen["pages"], seen["navigation"] = dict(window.pages), window.navigation.count()
        seen["visible_pages"] = [p for p in pages if p.isVisible()]
        seen["form"], seen["title"] = form.isVisible(), window.windowTitle()
        seen["status"] = window.statusBar().isVisible() if window.statusBar() else False
        _sign_in_over(window, demo_app, tasks, "signed-out")

    window.signed_out.connect(at_sign_out)
    window.sign_out()
    assert seen["pages"] == {} and seen["navigation"] == 0 and seen["visible_pages"] == []
    assert seen["form"] is False and seen["title"] == APP_TITLE and seen["status"] is False
    assert "已退出登录" in seen["texts"] and not [name for name in names if name in seen["texts"]]
    assert window.ctx.actor.display_name not in seen["texts"]
    qtbot.waitUntil(lambda: not any(isValid(p) for p in [window, *pages, form, model]), timeout=WAIT_MS)

    doctor = _window(qtbot, demo_app, tasks, "cunyi101")  # a different person, a narrower role
    assert [doctor.navigation.item(i).text() for i in range(doctor.navigation.count())] == [
        spec.title for spec in doctor.specs]
    assert len(doctor.specs) < len(specs)
    assert doctor.findChildren(Page) and not set(doctor.findChildren(Page)) & set(pages)
    settle(qtbot, doctor.ctx)
    doctor.idle.stop()
