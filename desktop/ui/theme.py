"""The look: Fusion style, a calm light palette with one accent, the bundled CJK font at 10 pt."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QLibraryInfo, Qt, QTranslator
from PySide6.QtGui import QColor, QFont, QFontDatabase, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from desktop.paths import resource

FONT_FILE = ("fonts", "wqy-microhei.ttc")
FONT_POINT_SIZE = 10
STYLE_NAME = "Fusion"

ACCENT = "#2f7383"  # a muted teal-blue, the one accent colour
ACCENT_LIGHT = "#dcebee"
WINDOW = "#f4f6f7"
BASE = "#ffffff"
ALTERNATE_BASE = "#f0f3f4"
BUTTON = "#e9edef"
TEXT = "#1f2a30"
MUTED_TEXT = "#6b7a82"
DISABLED_TEXT = "#a3adb2"
BORDER = "#cfd7db"
ERROR = "#c0392b"

STYLESHEET = f"""
QListWidget#navigation, QListView#navigation, QTreeView#navigation {{
    background: {BUTTON};
    border: none;
    border-right: 1px solid {BORDER};
    padding: 6px 0;
    outline: 0;
}}
#navigation::item {{
    padding: 8px 14px;
    border-left: 3px solid transparent;
    color: {TEXT};
}}
#navigation::item:hover {{ background: {ACCENT_LIGHT}; }}
#navigation::item:selected {{
    background: {BASE};
    border-left: 3px solid {ACCENT};
    color: {ACCENT};
    font-weight: bold;
}}
QLabel#pageTitle {{
    font-size: 15pt;
    font-weight: bold;
    color: {TEXT};
    padding: 4px 0 8px 0;
}}
QLabel#fieldError {{
    color: {ERROR};
    font-size: 9pt;
}}
QStatusBar {{
    background: {BUTTON};
    border-top: 1px solid {BORDER};
    color: {MUTED_TEXT};
}}
QStatusBar QLabel {{ color: {MUTED_TEXT}; padding: 0 8px; }}
"""

_loaded_families: dict[str, str] = {}


def load_bundled_font() -> str:
    """Register the bundled WenQuanYi Micro Hei font and return its family name."""
    path = resource(*FONT_FILE)
    if str(path) in _loaded_families:
        return _loaded_families[str(path)]
    if not path.is_file():
        raise RuntimeError(f"内置字体缺失 (bundled font missing): {path}")
    font_id = QFontDatabase.addApplicationFont(str(path))
    families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
    if not families:
        raise RuntimeError(f"内置字体无法加载 (bundled font could not be loaded): {path}")
    family = next((name for name in families if "Mono" not in name), families[0])
    _loaded_families[str(path)] = family
    return family


def build_palette() -> QPalette:
    """The calm light palette with the accent as highlight and link colour."""
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: WINDOW,
        QPalette.ColorRole.WindowText: TEXT,
        QPalette.ColorRole.Base: BASE,
        QPalette.ColorRole.AlternateBase: ALTERNATE_BASE,
        QPalette.ColorRole.ToolTipBase: BASE,
        QPalette.ColorRole.ToolTipText: TEXT,
        QPalette.ColorRole.PlaceholderText: MUTED_TEXT,
        QPalette.ColorRole.Text: TEXT,
        QPalette.ColorRole.Button: BUTTON,
        QPalette.ColorRole.ButtonText: TEXT,
        QPalette.ColorRole.BrightText: ERROR,
        QPalette.ColorRole.Highlight: ACCENT,
        QPalette.ColorRole.HighlightedText: BASE,
        QPalette.ColorRole.Link: ACCENT,
        QPalette.ColorRole.LinkVisited: ACCENT,
    }
    for role, colour in roles.items():
        palette.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(DISABLED_TEXT))
    return palette


def apply_theme(app: QApplication) -> None:
    """Fusion style, the light palette, the bundled font at 10 pt and the shared stylesheet."""
    app.setStyle(STYLE_NAME)
    app.setPalette(build_palette())
    app.setFont(QFont(load_bundled_font(), FONT_POINT_SIZE))
    app.setStyleSheet(STYLESHEET)


def configure_high_dpi() -> None:
    """Let HiDPI scale factors pass through unrounded; call before the QApplication exists."""
    if QCoreApplication.instance() is not None:
        raise RuntimeError("configure_high_dpi() must be called before the QApplication is created")
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)


def install_chinese_translations(app: QApplication) -> bool:
    """Load Qt's own zh_CN strings (dialog buttons, context menus); False if none are found."""
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    for name in ("qtbase_zh_CN", "qt_zh_CN"):
        translator = QTranslator(app)
        if translator.load(name, folder):
            app.installTranslator(translator)
            return True
    return False
