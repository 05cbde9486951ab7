"""Password policy (等保 2.0 style): length and character classes."""

from __future__ import annotations

import string

MIN_LENGTH = 8
MIN_CLASSES = 3


def character_classes(password: str) -> int:
    """How many of lower-case, upper-case, digits and symbols the password uses."""
    classes = (
        any(c in string.ascii_lowercase for c in password),
        any(c in string.ascii_uppercase for c in password),
        any(c in string.digits for c in password),
        any(not c.isalnum() or not c.isascii() for c in password),
    )
    return sum(classes)


def password_problem(password: str, *, username: str = "") -> str | None:
    """The Chinese reason a password is refused, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"密码至少 {MIN_LENGTH} 位。"
    if character_classes(password) < MIN_CLASSES:
        return "密码须包含大写字母、小写字母、数字、符号中的至少三类。"
    if username and username.lower() in password.lower():
        return "密码不能包含用户名。"
    if password != password.strip():
        return "密码首尾不能是空格。"
    return None
