"""runtime/jsontext: orjson's speed with the standard library's answers, on the run's hot path."""
from __future__ import annotations

import dataclasses
import datetime
import decimal
import json

import pytest

from designer import bodies
from runtime import jsontext

TEXTS = ['{"a": 1, "b": [true, false, null], "c": "\\u00e9\\n"}', "[1.5, -0.0, 1e-7, 1E5, 2.5e+3]",
         "[12345678901234567890123, -9223372036854775809, 18446744073709551616]",  # beyond 64 bits: exact
         '{"a": 1, "a": 2}', '"\\ud800"', "[NaN, Infinity, -Infinity]", "[1e999]", " [] ", "-0",
         '{"\u00e9": [123456789012345678901234, 5]}']  # not ASCII: the digit scan goes by bytes


def test_a_text_holding_a_lone_surrogate_reads_as_json_reads_it():
    text = '["\ud800", 12345678901234567890123]'  # the character itself, as a str may hold it
    assert repr(jsontext.loads(text)) == repr(json.loads(text))


@pytest.mark.parametrize("text", TEXTS)
def test_loads_gives_what_json_gives(text):
    expected = json.loads(text)
    for given in (text, text.encode(), memoryview(text.encode())):  # psycopg hands a JSON column's bytes
        got = jsontext.loads(given)
        assert repr(got) == repr(expected)  # repr: nan == nan is False, and 1 == 1.0 would hide a float


@pytest.mark.parametrize("value", [1.5, 7, None, {"a": 1}])
def test_loads_of_what_is_not_text_is_a_type_error_as_with_json(value):
    """SQLite returns a JSON column holding a bare number as that number; SQLAlchemy's JSON type passes a number
    on when the deserializer raises TypeError (a run whose whole input was `1.5` could not be claimed)."""
    with pytest.raises(TypeError):
        json.loads(value)
    with pytest.raises(TypeError):
        jsontext.loads(value)


@pytest.mark.parametrize("text", ["{", "[1,]", "{'a': 1}", "", "[1] x"])
def test_loads_refuses_what_json_refuses(text):
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)
    with pytest.raises(json.JSONDecodeError):
        jsontext.loads(text)


@dataclasses.dataclass
class Point:
    x: int


def test_dumps_writes_the_value_json_writes():
    when = datetime.datetime(2026, 11, 29, 4, 5, 6, tzinfo=datetime.timezone.utc)
    values = [{"a": [1, 2.5, None, True], "é": "ü\n", 1: "int key"},
              {"when": when, "day": when.date(), "amount": decimal.Decimal("1.10"), "p": Point(1)},  # default=str
              [2 ** 70, -(2 ** 64)],  # beyond 64 bits: orjson refuses, json writes them
              ["\ud800"]]  # a lone surrogate: orjson refuses, json writes it
    for value in values:
        expected = json.dumps(value, default=str, ensure_ascii=False, separators=(",", ":"))
        assert jsontext.dumps(value) == expected


def test_dumps_without_a_default_refuses_what_json_refuses():
    with pytest.raises(TypeError):
        jsontext.dumps({"s": {1, 2}}, default=None)


def test_a_body_keeps_integers_beyond_64_bits_exact():
    value, text = bodies.parse_json_text(b'{"id": 123456789012345678901234567890, "n": 7}')
    assert value == {"id": 123456789012345678901234567890, "n": 7} and isinstance(value["n"], int)
    assert text == '{"id": 123456789012345678901234567890, "n": 7}'
