"""The one rule for text a person typed or a package carried: no hidden control characters.

NUL and the other C0 controls (and DEL and the C1 controls) have no place in a name; the
bidirectional controls (U+202A-U+202E, U+2066-U+2069, U+200E/U+200F, U+061C) make a name
display differently from what it is (`ABC\\u202Egpj.exe`). Both sides use this module: the head
hospital for enrolments and the records of packages, the branch for its forms and imports.
Free text (notes, addresses) may keep tab and line breaks; single-line values may not.

`looks_like_formula(value)` is text a spreadsheet would take for a formula if it were typed in
(it starts with = + - @, a tab or a carriage return). Workbooks store such text as text
(`township_wire.cells`); where a name is expected it is refused.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BIDI_CONTROLS = frozenset({0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)})
LINE_BREAKS = frozenset({0x09, 0x0A, 0x0D})
_NAMES = {0x00: "空字符 NUL", 0x09: "制表符", 0x0A: "换行符", 0x0D: "回车符", 0x202E: "从右到左覆盖符 RLO",
          0x202D: "从左到右覆盖符 LRO", 0x200E: "从左到右标记 LRM", 0x200F: "从右到左标记 RLM"}


_BIDI_CLASS = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI_CLASS}]")
_UNSAFE_MULTILINE = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI_CLASS}]")


def unsafe_character(code: int, *, multiline: bool = False) -> bool:
    """Whether the code point is refused (C0, DEL, C1 and the bidirectional controls)."""
    if multiline and code in LINE_BREAKS:
        return False
    return code < 0x20 or 0x7F <= code <= 0x9F or code in BIDI_CONTROLS


def _describe(code: int) -> str:
    name = _NAMES.get(code)
    if name is None:
        name = "双向文字控制符" if code in BIDI_CONTROLS else "控制字符"
    return f"{name}（U+{code:04X}）"


def safe_text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why the text is refused (Chinese, naming the character), or None when it is safe."""
    found = (_UNSAFE_MULTILINE if multiline else _UNSAFE).search(value)
    return f"含有不可见的{_describe(ord(found.group()))}" if found else None


def field_text_problem(label: str, value: Any, *, multiline: bool = False) -> str | None:
    """`safe_text_problem` with the field named first ("姓名含有…"); None for safe text or a non-string."""
    if not isinstance(value, str):
        return None
    problem = safe_text_problem(value, multiline=multiline)
    return f"{label}{problem}" if problem else None


def single_line_field(name: str) -> bool:
    """Record fields that name something (name, doctor_name, record_no, …) allow no line breaks."""
    return name == "name" or name.endswith(("_name", "_no", "_number", "_uuid", "_code")) or name == "code"


def _texts(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            out.append(str(key))
            _texts(item, out)
    elif isinstance(value, list):
        for item in value:
            _texts(item, out)


def data_text_problem(data: Mapping[str, Any], *, single_line: Collection[str] = ()) -> str | None:
    """The first unsafe text anywhere in a record's data (nested lists and objects too), naming its path."""
    texts = [str(key) for key in data]
    for value in data.values():
        if isinstance(value, str):
            texts.append(value)
        elif value is not None and not isinstance(value, int | float):
            _texts(value, texts)
    if _UNSAFE.search(" ".join(texts)) is None:  # the usual case: nothing to look for, one search
        return None
    for key, value in data.items():
        key_text = str(key)
        problem = safe_text_problem(key_text)
        if problem:
            return f"字段名 {key_text.encode('unicode_escape').decode('ascii')} {problem}"
        found = _value_problem(key_text, value, multiline=not (key_text in single_line
                                                               or single_line_field(key_text)))
        if found:
            return found
    return None


def _value_problem(path: str, value: Any, *, multiline: bool) -> str | None:
    if isinstance(value, str):
        return field_text_problem(f"字段 {path} ", value, multiline=multiline)
    if isinstance(value, Mapping):
        for key, item in value.items():
            found = _value_problem(f"{path}.{key}", item, multiline=multiline) \
                or field_text_problem(f"字段 {path} 的键名 ", str(key))
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _value_problem(f"{path}[{index}]", item, multiline=multiline)
            if found:
                return found
    return None


def looks_like_formula(value: object) -> bool:
    """True for text a spreadsheet would read as a formula if typed in (= + - @, tab or CR first)."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)
