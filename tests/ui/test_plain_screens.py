"""No technical text and nothing cut off at 1366×768: names not user names, prevalence as a percentage,
labels whole, dialogs that fit the screen, and the main window maximized on a small screen."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSize
from PySide6.QtWidgets import QApplication, QComboBox, QLabel, QStyle, QStyleOptionComboBox, QWidget
from sqlalchemy import select

from desktop.app import App
from desktop.errors import ValidationError
from desktop.models import Account, Resident
from desktop.rules.followup import DEFAULT_RULES, Disease
from desktop.services.audit import list_entries
from desktop.services.resident_query import get_resident
from desktop.services.settings import DEFAULT_PREVALENCE, prevalence
from desktop.ui.followup_rules_dialog import RULES_HELP, FollowupRulesDialog, percent_text, rate_of_percent
from desktop.ui.main_window import MainWindow, opens_maximized, show_sized_to_screen
from desktop.ui.pages.audit import AuditPage
from desktop.ui.print_preview import PREFERRED_SIZE, PrintPreviewDialog, fitted_size
from desktop.ui.resident_form import ResidentForm, load_lookups
from tests.ui.conftest import make_context, screenshot, settle

SMALL = QSize(1366, 768)
TASKBAR = 40


def _window(qtbot, ctx) -> MainWindow:
    window = MainWindow(ctx)
    window.sync.stop()
    qtbot.addWidget(window)
    window.resize(SMALL)
    window.show()
    qtbot.waitExposed(window)
    return window


def _open(qtbot, window: MainWindow, key: str) -> QWidget:
    window.navigation.setCurrentRow([spec.key for spec in window.specs].index(key))
    settle(qtbot, window.ctx)
    QApplication.processEvents()
    return window.pages[key]


def _edit_room(combo: QComboBox) -> int:
    option = QStyleOptionComboBox()
    combo.initStyleOption(option)
    return combo.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                        QStyle.SubControl.SC_ComboBoxEditField, combo).width()


def clipped_texts(root: QWidget) -> list[str]:
    """Texts of the visible combo boxes and one-line labels under `root` that are wider than their room."""
    found = [combo.currentText() for combo in root.findChildren(QComboBox)
             if combo.isVisible() and combo.count()
             and combo.fontMetrics().horizontalAdvance(combo.currentText()) > _edit_room(combo)]
    found += [label.text() for label in root.findChildren(QLabel)
              if label.isVisible() and not label.wordWrap() and label.text() and "<" not in label.text()
              and label.fontMetrics().horizontalAdvance(label.text().replace("&", ""))  # & marks a mnemonic
              > label.contentsRect().width() + 1]
    return found


def test_the_main_window_opens_maximized_on_a_small_screen(qtbot, themed, demo_app: App, tasks) -> None:
    assert opens_maximized(1366) and opens_maximized(1440) and not opens_maximized(1920)
    window = MainWindow(make_context(demo_app, tasks, "luru1"))
    window.sync.stop()
    qtbot.addWidget(window)
    show_sized_to_screen(window)  # the offscreen screen is small: maximized
    assert opens_maximized(window.screen().availableGeometry().width())
    qtbot.waitUntil(window.isMaximized)


@pytest.mark.parametrize("username", ["cunyi001", "gongwei1", "admin", "yuanzhang", "luru1"])
def test_no_page_cuts_off_its_filters_or_labels_at_1366x768(qtbot, themed, demo_app: App, tasks, username) -> None:
    window = _window(qtbot, make_context(demo_app, tasks, username))
    for spec in window.specs:
        page = _open(qtbot, window, spec.key)
        assert clipped_texts(page) == [], spec.key
        if username != "admin":  # only the administrator is shown a command line
            said = [label.text() for label in page.findChildren(QLabel) if label.isVisible()]
            assert not [text for text in said if "命令行" in text or "township-desk" in text], spec.key
        if username == "cunyi001" and spec.key == "residents":
            assert page.village.currentText() == "全部负责村"
            screenshot(window, "residents-village-doctor-1366")


def test_prevalence_is_typed_as_a_percentage_and_stored_as_a_fraction(qtbot, themed, demo_app: App, tasks) -> None:
    assert (percent_text(0.275), rate_of_percent(27.5)) == ("27.5", 0.275)
    ctx = make_context(demo_app, tasks, "admin")
    dialog = FollowupRulesDialog(ctx, DEFAULT_RULES, dict(DEFAULT_PREVALENCE))
    qtbot.addWidget(dialog)
    edits = dialog.edits
    assert (edits["prevalence_hypertension"].text(), edits["prevalence_diabetes"].text()) == ("27.5", "11.2")
    _rules, rates = dialog.values()
    assert rates == {Disease.HYPERTENSION: 0.275, Disease.DIABETES: 0.112}
    edits["prevalence_diabetes"].setText("12.5%")
    assert dialog.values()[1][Disease.DIABETES] == 0.125
    edits["prevalence_diabetes"].setText("0.125")  # a fraction typed by habit is 0.125 %, which is refused
    edits["prevalence_hypertension"].setText("150")
    with pytest.raises(ValidationError) as refused:
        dialog.values()
    assert refused.value.errors == {"prevalence_hypertension": "高血压患病率应在 0 与 100 之间（填百分数，如 27.5 表示 27.5%）。"}
    edits["prevalence_hypertension"].setText("30")
    edits["prevalence_diabetes"].setText("12")
    dialog.save()
    qtbot.waitUntil(lambda: not dialog.isVisible() or dialog.result() == dialog.DialogCode.Accepted, timeout=10_000)
    settle(qtbot, ctx)
    assert prevalence(ctx.db) == {Disease.HYPERTENSION: 0.3, Disease.DIABETES: 0.12}


def test_the_rules_dialog_shows_its_help_whole_and_fits_the_screen(qtbot, themed, demo_app: App, tasks) -> None:
    dialog = FollowupRulesDialog(make_context(demo_app, tasks, "admin"), DEFAULT_RULES, dict(DEFAULT_PREVALENCE))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    (help_label,) = [label for label in dialog.findChildren(QLabel) if label.text() == RULES_HELP]
    assert help_label.height() >= help_label.heightForWidth(help_label.width())  # every line shown
    assert dialog.height() <= SMALL.height() - TASKBAR and clipped_texts(dialog) == []
    screenshot(dialog, "followup-rules-dialog")


def test_the_print_preview_fits_a_small_screen(qtbot, themed) -> None:
    assert fitted_size(PREFERRED_SIZE, QSize(1366, 768 - TASKBAR)).height() <= 768 - TASKBAR - 40
    assert fitted_size(PREFERRED_SIZE, QSize(1920, 1040)) == PREFERRED_SIZE
    dialog = PrintPreviewDialog(b"%PDF-1.4\n%%EOF\n", "外来文档")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.screen().availableGeometry().contains(dialog.geometry())


def test_the_resident_record_names_who_registered_it_not_their_user_name(qtbot, themed, demo_app: App,
                                                                         tasks) -> None:
    ctx = make_context(demo_app, tasks, "gongwei1")
    with demo_app.db.read() as session:
        resident_id, username = session.execute(select(Resident.id, Resident.registered_by).limit(1)).one()
        shown = session.scalar(select(Account.display_name).where(Account.username == username))
    detail = get_resident(demo_app.db, ctx.actor, resident_id)
    assert (detail.registered_by, detail.registered_by_name) == (username, shown) and shown != username
    form = ResidentForm(ctx, load_lookups(ctx), detail=detail)
    qtbot.addWidget(form)
    texts = [label.text() for label in form.findChildren(QLabel)]
    assert any(f"建档人 {shown}" in text for text in texts) and not any(username in text for text in texts)


def test_the_audit_log_names_people_and_the_system_in_chinese(qtbot, themed, demo_app: App, tasks) -> None:
    ctx = make_context(demo_app, tasks, "admin")
    rows = list_entries(demo_app.db, ctx.actor, limit=5000)
    with demo_app.db.read() as session:
        names = dict(session.execute(select(Account.username, Account.display_name)).all())
    people = {row.actor for row in rows if row.actor in names}
    assert people and all(row.actor_name == names[row.actor] for row in rows if row.actor in names)
    assert all(row.actor_name for row in rows)
    page = AuditPage(ctx)
    qtbot.addWidget(page)
    page.resize(SMALL)
    page.show()
    page.activated()
    settle(qtbot, ctx)
    qtbot.waitUntil(lambda: page.model.rowCount() > 0 and page.actor_box.count() > 1)
    shown = {page.model.data(page.model.index(row, 2)) for row in range(page.model.rowCount())}
    assert "赵磊" in shown and not shown & set(names)  # display names, no user names
    choices = [page.actor_box.itemText(i) for i in range(page.actor_box.count())]
    assert "赵磊" in choices and "admin" not in choices
    assert page.actor_box.itemData(choices.index("赵磊")) == "admin"  # the filter still works by user name
