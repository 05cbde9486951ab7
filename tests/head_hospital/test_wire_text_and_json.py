"""The shared rules both sides use: hidden control characters in text, JSON nesting, the re-key signature."""

from __future__ import annotations

import pytest

from township_wire.crypto import KeyPair, SignatureInvalid
from township_wire.rekey import sign_rekey, verify_rekey
from township_wire.safe_json import MAX_DEPTH, JsonRefused, bounded_loads, nesting_depth
from township_wire.text import data_text_problem, field_text_problem, safe_text_problem

REFUSED = ["\x00", "\x01", "\x1f", "\x7f", "\x85", "\u061c", "\u200e", "\u200f", *map(chr, range(0x202A, 0x202F)),
           *map(chr, range(0x2066, 0x206A))]


@pytest.mark.parametrize("character", REFUSED, ids=[f"U+{ord(c):04X}" for c in REFUSED])
def test_control_and_bidirectional_characters_are_refused(character: str) -> None:
    problem = safe_text_problem(f"张{character}三")
    assert problem is not None and f"U+{ord(character):04X}" in problem
    assert safe_text_problem(f"张{character}三", multiline=True) is not None


@pytest.mark.parametrize("text", ["张三", "Ābdul O'Brien-Smith", "👨‍👩‍👧 家", "维吾尔族 ئۇيغۇر", "(1) 3.5mg/次"])
def test_ordinary_names_pass(text: str) -> None:
    assert safe_text_problem(text) is None


def test_line_breaks_only_in_free_text() -> None:
    assert "换行符" in safe_text_problem("上坝村\n3 组")
    assert safe_text_problem("上坝村\r\n3 组\t12 号", multiline=True) is None
    assert field_text_problem("姓名", "张\u202e三") == "姓名含有不可见的从右到左覆盖符 RLO（U+202E）"
    assert field_text_problem("年龄", 70) is None
    assert data_text_problem({"note": "一\n二", "doctor_name": "李医生"}) is None
    assert "字段 doctor_name" in data_text_problem({"note": "一\n二", "doctor_name": "李\n医生"})
    assert "medications[1].drug" in data_text_problem({"medications": [{"drug": "a"}, {"drug": "b\x00"}]})


def test_nesting_is_counted_outside_strings_before_parsing() -> None:
    assert nesting_depth(b'{"a": "[[[[{{{{", "b": [1, [2, {"c": "\\"]]"}]]}') == 4
    deepest = bounded_loads(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH)
    for _ in range(MAX_DEPTH - 1):
        deepest = deepest[0]
    assert deepest == [], "the bound itself is accepted"
    with pytest.raises(JsonRefused, match="嵌套层数"):
        bounded_loads(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1))
    with pytest.raises(JsonRefused, match="有效的 JSON"):
        bounded_loads(b'{"a": "unterminated \\')
    assert bounded_loads('{"名": "值"}') == {"名": "值"}


def test_a_re_key_signature_binds_the_site_and_the_new_keys() -> None:
    earlier, new, other = KeyPair.generate(), KeyPair.generate(), KeyPair.generate()
    proof = sign_rekey(earlier, "513422021", new.public)
    verify_rekey(earlier.public, "513422021", new.public, proof)
    for site_id, keys, signer in (("513422022", new, earlier), ("513422021", other, earlier),
                                  ("513422021", new, other)):
        with pytest.raises(SignatureInvalid):
            verify_rekey(signer.public, site_id, keys.public, proof)
    with pytest.raises(SignatureInvalid):
        verify_rekey(earlier.public, "513422021", new.public, {"key_id": earlier.public.key_id})
