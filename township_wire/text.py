"""Text both sides refuse or keep as plain text: control characters, bidirectional marks, formula starts.

`safe_text_problem(value)` names (in Chinese) what makes a name or text field unsafe to store
and show: NUL and the other C0 controls, DEL, and the bidirectional controls that make a name
read differently from what it holds (U+202E turns "exe.txt" round). Tab, line feed and carriage
return are refused too, except in free text (`multiline=True` allows line breaks and tabs).

`looks_like_formula(value)` is text a spreadsheet would take for a formula if it were typed in
(it starts with = + - @, a tab or a carriage return). Workbooks store such text as text
(`township_wire.cells`); where a name is expected it is refused.
"""

from __future__ import annotations

import re

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_CONTROLS = re.compile(r"[\x00-\x1f\x7f]")
_LINE_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _character_name(char: str) -> str:
    if char == "\x00":
        return "空字符（NUL）"
    if char in BIDI_CONTROLS:
        return f"文字方向控制符（U+{ord(char):04X}）"
    if char in "\t\r\n":
        return "制表符或换行符"
    return f"控制字符（U+{ord(char):04X}）"


def safe_text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why `value` may not be stored as a name or text field (Chinese), or None when it is safe."""
    if not value:
        return None
    found = (_LINE_CONTROLS if multiline else _CONTROLS).search(value)
    if found is None:
        found = next((m for m in (re.search(re.escape(c), value) for c in BIDI_CONTROLS if c in value)), None)
    if found is None:
        return None
    return f"含有不可见的{_character_name(found.group())}，请删除后重新输入。"


def looks_like_formula(value: object) -> bool:
    """True for text a spreadsheet would read as a formula if typed in (= + - @, tab or CR first)."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)
