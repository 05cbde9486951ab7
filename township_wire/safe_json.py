"""Parsing JSON from outside with a bound on nesting, checked before `json.loads` can recurse.

`json.loads` recurses once per `[` or `{`: a body of 60 KB of brackets ends in RecursionError,
which no handler expects. `bounded_loads` counts the depth over the raw bytes first (outside
strings) and refuses anything deeper than a real request, manifest or record ever is.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 32
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*(?:"|\\?\Z)', re.DOTALL)  # an unterminated string runs to the end
_BRACKETS = re.compile(rb"[\[\]{}]")


class JsonRefused(ValueError):
    """The bytes are not JSON this service reads; the message says why, in Chinese."""


def nesting_depth(data: bytes) -> int:
    """The deepest nesting of arrays and objects in `data`, ignoring brackets inside strings."""
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_STRINGS.sub(b"", data)):
        if bracket in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def bounded_loads(data: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """`json.loads` for bytes from outside; `JsonRefused` when nested deeper than `max_depth` or malformed."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    if nesting_depth(raw) > max_depth:
        raise JsonRefused(f"JSON 嵌套层数超过上限（{max_depth} 层）。")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as error:
        raise JsonRefused("内容不是有效的 JSON。") from error
