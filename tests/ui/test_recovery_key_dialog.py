"""The recovery key not yet shown (an upgraded or interrupted site) is shown once to an admin after sign-in."""

from __future__ import annotations

from conftest import screenshot
from PySide6.QtWidgets import QDialogButtonBox, QWidget

from desktop.app import open_app
from desktop.site_secrets import load_secrets
from desktop.ui.recovery import show_pending_recovery_key


def test_the_pending_recovery_key_is_shown_once_and_then_forgotten(qtbot, themed, tmp_path, tasks) -> None:
    app = open_app(tmp_path / "data")
    try:
        recovery = app.pending_recovery_key
        assert recovery
        parent = QWidget()
        qtbot.addWidget(parent)
        dialog = show_pending_recovery_key(app, tasks, parent)
        assert dialog is not None and dialog.isVisible() and dialog.key.text() == recovery
        ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
        assert not ok.isEnabled()
        dialog.written_down.setChecked(True)
        screenshot(dialog, "recovery-key-after-sign-in")
        ok.click()
        qtbot.waitUntil(lambda: app.pending_recovery_key is None)
        assert load_secrets(app.paths.secrets).pending_recovery_key is None
        assert show_pending_recovery_key(app, tasks, parent) is None
    finally:
        app.close()
