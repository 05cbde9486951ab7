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


NAME_MARKS = frozenset("·〇")  # the middle dot of minority names; 〇 as written in some given names


def name_problem(name: str) -> str | None:
    """Why a cleaned person's name is not one (Chinese), or None: only Chinese characters, letters and ·."""
    if any(c.isdigit() for c in name):
        return f"姓名“{name}”不像人名（含数字）。"
    if not all(c.isalpha() or c in NAME_MARKS for c in name):
        return f"姓名“{name}”只能由汉字、字母和间隔号“·”组成。"
    return None
