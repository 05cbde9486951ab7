"""Cleaning what people type or paste: full-width characters, stray spaces, apostrophes."""

from __future__ import annotations

import unicodedata


def to_half_width(text: str) -> str:
    """Full-width letters, digits and punctuation to their ASCII forms (NFKC), Chinese untouched."""
    return unicodedata.normalize("NFKC", text)


def squeeze(text: str) -> str:
    """Half-width, without leading/trailing blanks and without inner spaces."""
    return "".join(to_half_width(text).split())


def clean_name(text: str) -> str:
    """A person's name: half-width, no spaces; the middle dot of minority names unified to ·."""
    name = squeeze(text)
    for dot in ("•", "‧", "∙", "・", "．", "."):
        name = name.replace(dot, "·")
    return name
