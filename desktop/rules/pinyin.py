"""Pinyin search keys for names: initials (张三丰 -> zsf) and full pinyin (zhangsanfeng).

Generic converters read many surnames wrongly (单 dan, 曾 ceng ...). The surname table
below wins for the first one or two characters; pypinyin reads the rest with its phrase
dictionary. pypinyin is imported on first use (it is slow to load).
"""

from __future__ import annotations

from functools import cache, lru_cache

# Surnames whose reading as a surname differs from the common reading.
SURNAME_READINGS: dict[str, tuple[str, ...]] = {
    "尉迟": ("yu", "chi"), "万俟": ("mo", "qi"), "单于": ("chan", "yu"), "长孙": ("zhang", "sun"),
    "澹台": ("tan", "tai"), "令狐": ("ling", "hu"), "东方": ("dong", "fang"), "欧阳": ("ou", "yang"),
    "上官": ("shang", "guan"), "诸葛": ("zhu", "ge"), "司马": ("si", "ma"), "皇甫": ("huang", "fu"),
    "单": ("shan",), "曾": ("zeng",), "解": ("xie",), "区": ("ou",), "仇": ("qiu",), "朴": ("piao",),
    "查": ("zha",), "盖": ("ge",), "覃": ("qin",), "种": ("chong",), "繁": ("po",), "黑": ("he",),
    "缪": ("miao",), "翟": ("zhai",), "乐": ("yue",), "员": ("yun",), "秘": ("bi",), "尉": ("yu",),
    "谌": ("chen",), "折": ("she",), "隗": ("wei",), "召": ("shao",), "都": ("du",), "贲": ("ben",),
    "句": ("gou",), "仉": ("zhang",), "郇": ("huan",), "宓": ("mi",), "逄": ("pang",), "眭": ("sui",),
    "薄": ("bo",), "柏": ("bai",), "曲": ("qu",), "长": ("chang",), "重": ("chong",), "藏": ("zang",),
    "行": ("xing",), "占": ("zhan",), "相": ("xiang",), "沈": ("shen",), "任": ("ren",),
    "华": ("hua",), "纪": ("ji",), "蕃": ("pi",), "阚": ("kan",), "冼": ("xian",), "能": ("nai",),
    "过": ("guo",), "应": ("ying",), "卜": ("bu",), "褚": ("chu",), "燕": ("yan",), "祭": ("zhai",),
}


def _surname(name: str) -> tuple[str, tuple[str, ...]]:
    for length in (2, 1):
        reading = SURNAME_READINGS.get(name[:length])
        if reading and len(name) > length:
            return name[:length], reading
    return "", ()


@cache
def _reader():  # -> callable(text) -> list[str]
    from pypinyin import Style, lazy_pinyin

    return lambda text: lazy_pinyin(text, style=Style.NORMAL, errors=lambda chars: list(chars.lower()))


def syllables(name: str) -> list[str]:
    """One lower-case syllable per character (non-Chinese characters kept as they are)."""
    surname, reading = _surname(name)
    rest = name[len(surname):]
    return [*reading, *(s.replace("ü", "v") for s in _reader()(rest) if s.strip())] if rest else list(reading)


@lru_cache(maxsize=65536)
def name_keys(name: str) -> tuple[str, str]:
    """(initials, full pinyin) of a name, both lower-case ASCII, the middle dot dropped.

    Cached: names repeat a great deal, and the phrase dictionary lookup is the slow part of imports.
    """
    parts = [s for s in syllables(name.replace("·", "")) if s and s[0].isalnum()]
    return "".join(p[0] for p in parts), "".join(parts)
