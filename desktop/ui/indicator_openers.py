"""What a double-click on a person behind an indicator opens, by the indicator's source: one line per source.

An opener gets the window context, the parent widget and the resident's id, and returns the
dialog it opened. A source with no opener here lists its people without opening anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtWidgets import QWidget

from desktop.registry import Registry
from desktop.services.chronic_indicators import CHRONIC_INDICATORS
from desktop.ui.chronic_panel import open_chronic_panel
from desktop.ui.context import UiContext

PersonOpen = Callable[[UiContext, QWidget, int], QWidget | None]


@dataclass(frozen=True)
class PersonOpener:
    """Opens a person listed behind the indicators of one source (keyed by the source's key)."""

    source: str
    open: PersonOpen


PERSON_OPENERS: Registry[PersonOpener] = Registry("indicator person openers", lambda opener: opener.source)
PERSON_OPENERS.add(PersonOpener(CHRONIC_INDICATORS.key, open_chronic_panel))
