"""designer.bodies: the one strict JSON parse and text decoding behind every endpoint. What JSON's grammar or
Python's parser would let through but no backend, JSONata or browser holds faithfully is a 400 with a code."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings, strategies as st

from designer import bodies
from designer.errors import ApiError


def refused(raw: bytes, charset: str | None = None, *, parse=bodies.parse_json) -> ApiError:
    with pytest.raises(ApiError) as caught:
        parse(raw, charset)
    return caught.value


@pytest.mark.parametrize("raw, words", [
    (b'{"a": NaN}', "NaN"), (b'{"a": Infinity}', "Infinity"), (b"[-Infinity]", "-Infinity"),
    (b'{"a": 1e999}', "too large"), (b'{"a": -1.5e400}', "too large"), (b"1" + b"0" * 400, "too large"),
    (b"9" * 5000, "digits"),
    (b'{"k\\udfff": 1}', "lone surrogate"), (b'["\\ud800"]', "lone surrogate"), (b'"a\\udc00b"', "lone surrogate"),
    (b'{"a": [{"b": "\\uDBFF"}]}', "lone surrogate"),
    (b"[" * 101 + b"]" * 101, "nested"), (b'{"a":' * 101 + b"1" + b"}" * 101, "nested"), (b"[" * 100_000, "nested"),
    (b"\xff\xfe{}", "UTF-8"), (b'{"a": "\xed\xbf\xbf"}', "UTF-8"),  # the UTF-8 bytes of a lone surrogate
    (b"{nope", "line 1, column 2"), (b"{'single': 1}", "line 1"), (b"", "Expecting value"),
])
def test_what_json_cannot_carry_faithfully_is_invalid_json(raw, words):
    err = refused(raw)
    assert (err.status, err.code) == (400, "invalid_json") and words in err.message


@pytest.mark.parametrize("raw, value", [
    (b'"\\ud83d\\ude00"', "\U0001F600"),  # a surrogate pair is one character
    (b'{"a": 1e308, "b": -1e-999, "c": 0.1}', {"a": 1e308, "b": -0.0, "c": 0.1}),
    (b"1" + b"0" * 300, 10**300), (b"[" * 100 + b"]" * 100, json.loads("[" * 100 + "]" * 100)),
    (b'"[[[[' + b"[" * 200 + b'"', "[[[[" + "[" * 200),  # brackets inside a string are no nesting
    (b'{"nul": "a\\u0000b"}', {"nul": "a\x00b"}),  # JSON values may hold NUL; text columns refuse it later
    (b"\xef\xbb\xbf{\"bom\": true}", {"bom": True}), ("{\"é\": \"ü\"}".encode(), {"é": "ü"}),
    (b"null", None),
])
def test_everything_else_parses_as_json_does(raw, value):
    assert bodies.parse_json(raw) == value


def test_a_declared_charset_is_honoured_and_an_unknown_one_is_415():
    assert bodies.parse_json('{"a": "é"}'.encode("utf-16"), "utf-16") == {"a": "é"}
    assert bodies.text("café".encode("latin-1"), "ISO-8859-1") == "café"
    for charset in ("no-such-charset", "base64", "zlib"):
        err = refused(b"{}", charset)
        assert (err.status, err.code) == (415, "unsupported_media_type")
    err = refused(b"\\udfff", "unicode_escape", parse=bodies.text)  # a codec that can make a lone surrogate
    assert (err.status, err.code) == (400, "invalid_encoding")


def test_text_that_does_not_decode_is_invalid_encoding():
    for raw, charset in ((b"caf\xe9", None), (b"\xed\xbf\xbf", "utf-8"), (b"\xff", "ascii")):
        err = refused(raw, charset, parse=bodies.text)
        assert (err.status, err.code) == (400, "invalid_encoding")
    assert bodies.text(b"ISA*00*~GS*PO~") == "ISA*00*~GS*PO~" and bodies.text(b"a\x00b") == "a\x00b"


_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
                       | st.text(), lambda inner: st.lists(inner, max_size=4)
                       | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=25)


@settings(max_examples=100, deadline=None)
@given(value=_values, ascii_only=st.booleans())
def test_any_json_value_of_characters_round_trips(value, ascii_only):
    raw = json.dumps(value, ensure_ascii=ascii_only, allow_nan=False).encode("utf-8", "surrogatepass")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:  # hypothesis text may hold a lone surrogate: then it must be refused
        assert refused(raw).code == "invalid_json"
        return
    if "\\ud" in raw.decode().lower() and not _encodable(value):
        assert refused(raw).code == "invalid_json"
        return
    assert bodies.parse_json(raw) == value


def _encodable(value) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False
