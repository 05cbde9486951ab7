"""Password policy (等保 2.0 style): length, character classes, and nothing easy to guess.

Refused beyond length and classes: the user name; the shipped lists of common passwords
(`resources/passwords/`), also with digits or symbols around them and with look-alike
substitutions undone (P@ssw0rd, Password1, Qwer1234); keyboard walks (1qaz2wsx, asdf);
and the pinyin (full or initials) of the names the caller gives: the branch, its township
and villages, the person's own name.
"""

from __future__ import annotations

import string
from collections.abc import Iterable
from functools import cache

from desktop.paths import resource

MIN_LENGTH = 8
MIN_CLASSES = 3
MIN_STEM = 4  # shorter cores ("abc" of "abc#2026") are not looked up in the lists
MIN_FULL_PINYIN = 4  # "li" alone is not searched for inside a password
PASSWORD_LISTS = ("common-passwords.txt", "common-passwords-zh.txt")

COMMON = "密码过于常见（是常用密码，或只是常用密码加上数字、符号或形近字符替换），容易被猜中，请换一个。"
KEYBOARD = "密码是键盘上相邻按键的连续组合，容易被猜中，请换一个。"
NAMES = "密码不能使用分院、乡镇、村或本人姓名的拼音（全拼或首字母）。"

KEYBOARD_ROWS = ("1234567890-=", "qwertyuiop[]", "asdfghjkl;'", "zxcvbnm,./")
KEYBOARD_WALKS = (
    *KEYBOARD_ROWS,
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/",  # down the columns
    "qazwsxedcrfvtgbyhnujmik,ol.p;/",
    "1q2w3e4r5t6y7u8i9o0p",
    "zaq1xsw2cde3vfr4bgt5nhy6mju7",  # up the columns
    "0987654321",
)
SHIFTED_DIGITS = str.maketrans("!@#$%^&*()", "1234567890")
LOOK_ALIKE_LETTERS = {"@": "a", "4": "a", "0": "o", "!": "i", "3": "e", "$": "s", "5": "s", "7": "t", "+": "t",
                      "9": "g", "8": "b", "|": "l"}
LOOK_ALIKES = (  # 1 is read both as i and as l
    str.maketrans(LOOK_ALIKE_LETTERS | {"1": "i"}),
    str.maketrans(LOOK_ALIKE_LETTERS | {"1": "l"}),
)
PLACE_SUFFIXES = ("中心卫生院", "卫生院", "卫生所", "卫生室", "人民医院", "中医院", "医院",
                  "社区", "居委会", "村委会", "街道", "村", "镇", "乡", "县", "市", "区")


def character_classes(password: str) -> int:
    """How many of lower-case, upper-case, digits and symbols the password uses."""
    classes = (
        any(c in string.ascii_lowercase for c in password),
        any(c in string.ascii_uppercase for c in password),
        any(c in string.digits for c in password),
        any(not c.isalnum() or not c.isascii() for c in password),
    )
    return sum(classes)


@cache
def common_passwords() -> frozenset[str]:
    """The shipped lists of common passwords, lower-case."""
    words: set[str] = set()
    for name in PASSWORD_LISTS:
        lines = resource("passwords", name).read_text(encoding="utf-8").splitlines()
        words.update(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))
    return frozenset(words)


@cache
def keyboard_walks() -> frozenset[str]:
    """Every run of 4 or more neighbouring keys along a keyboard walk, both ways."""
    runs: set[str] = set()
    for walk in KEYBOARD_WALKS:
        for sequence in (walk, walk[::-1]):
            runs.update(sequence[i:j] for i in range(len(sequence)) for j in range(i + MIN_STEM, len(sequence) + 1))
    return frozenset(runs)


def _non_letter(char: str) -> bool:
    return not ("a" <= char <= "z")


def _symbol(char: str) -> bool:
    return _non_letter(char) and not char.isdigit()


def _cores(text: str) -> set[str]:
    """The text, and what is left after stripping symbols, or digits and symbols, from its ends."""
    non_letters = "".join(c for c in set(text) if _non_letter(c))
    symbols = "".join(c for c in set(text) if _symbol(c))
    stripped = (text.strip(symbols), text.rstrip(non_letters), text.lstrip(non_letters), text.strip(non_letters))
    return {text} | {core for core in stripped if len(core) >= MIN_STEM}


def guessable_forms(password: str) -> set[str]:
    """Lower-case readings of the password: as typed, with its core alone, look-alikes undone."""
    lowered = password.lower()
    forms: set[str] = set()
    for core in _cores(lowered):
        forms.add(core)
        forms.update(core.translate(table) for table in LOOK_ALIKES)
    return forms


def is_common(password: str) -> bool:
    """Whether the password is a common one, perhaps dressed up with digits, symbols or look-alikes."""
    words = common_passwords()
    forms = guessable_forms(password) | guessable_forms(password.translate(SHIFTED_DIGITS))
    return any(form in words for form in forms)


def is_keyboard_walk(password: str) -> bool:
    """Whether the password (or its core) is a run of neighbouring keys, such as Qwer1234 or !QAZ2wsx."""
    walks = keyboard_walks()
    unshifted = password.lower().translate(SHIFTED_DIGITS)
    return any(core in walks for core in _cores(unshifted) | _cores(password.lower()))


def _name_variants(name: str) -> set[str]:
    """The name and, for a place, the name without 镇/村/卫生院 and the like."""
    variants, text = {name.strip()}, name.strip()
    changed = True
    while changed:
        changed = False
        for suffix in PLACE_SUFFIXES:
            if text.endswith(suffix) and len(text) > len(suffix) + 1:
                text, changed = text[: -len(suffix)], True
                variants.add(text)
    return {variant for variant in variants if variant}


def name_pinyin(names: Iterable[str]) -> tuple[set[str], set[str]]:
    """(full pinyin, initials) of the names and their shortened place forms."""
    from desktop.rules.pinyin import name_keys

    full: set[str] = set()
    initials: set[str] = set()
    for name in names:
        for variant in _name_variants(name):
            first, whole = name_keys(variant)
            if len(whole) >= MIN_FULL_PINYIN:
                full.add(whole)
            if len(first) >= 2:
                initials.add(first)
    return full, initials


def uses_names(password: str, names: Iterable[str]) -> bool:
    """Whether the password holds a name's full pinyin, or is its initials dressed up with digits."""
    full, initials = name_pinyin(names)
    lowered = password.lower()
    readings = {lowered} | {lowered.translate(table) for table in LOOK_ALIKES}
    if any(pinyin in reading for pinyin in full for reading in readings):
        return True
    stripped = lowered.strip("".join(c for c in set(lowered) if _non_letter(c)))
    return stripped in initials


def password_problem(password: str, *, username: str = "", names: Iterable[str] = ()) -> str | None:
    """The Chinese reason a password is refused, or None when it is acceptable. Never echoes it."""
    if len(password) < MIN_LENGTH:
        return f"密码至少 {MIN_LENGTH} 位。"
    if character_classes(password) < MIN_CLASSES:
        return "密码须包含大写字母、小写字母、数字、符号中的至少三类。"
    if username and username.lower() in password.lower():
        return "密码不能包含用户名。"
    if password != password.strip():
        return "密码首尾不能是空格。"
    if is_keyboard_walk(password):
        return KEYBOARD
    if is_common(password):
        return COMMON
    if names and uses_names(password, names):
        return NAMES
    return None
