"""JSON text on the run's hot path: the body a webhook receives, the input an executor reads back, each
step's payloads and the live events the executor link carries. A run of the peer-bench flow read and wrote
the same 8 KB order five times with the standard library's json, a quarter of an executor's CPU and a tenth
of the web process's; orjson (C, Rust) does each in a sixth of the time.

orjson is used only where its answer is the standard library's answer; anything else goes to json as
before, so what a run stores and refuses does not change:
- reading: integers of 19 digits or more (orjson turns those beyond 64 bits into floats: precision lost),
  and every text orjson refuses (NaN, Infinity, 1e999, lone surrogates, nesting beyond 1024 levels), which
  json then reads, or refuses with its own message and position;
- writing: dates and dataclasses go through `default` as with json (text, not orjson's ISO form); integers
  beyond 64 bits, strings holding lone surrogates and nesting beyond 254 levels, which orjson refuses, are
  written by json. The one difference left is the spacing: orjson writes compact JSON (no space after `,`
  and `:`), the same value.
NaN and infinities (which JSONata refuses, D1001, and a webhook body may not hold) become `null`, where json
wrote `NaN` (not JSON) and the run store then kept the text "nan"; they can come only from a source such as a
SQL database's double precision column."""
from __future__ import annotations

import json
from typing import Any, Callable

import orjson

_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_DIGITS = bytes.maketrans(b"123456789", b"000000000")
LONG_INT = b"0" * 19  # in digits_zeroed(text): 19 digits in a row may exceed 64 bits, which orjson reads as a float


def loads(text: str | bytes | memoryview) -> Any:
    """json.loads(text): the same value, or the same JSONDecodeError; TypeError for what is not text, as json
    says it (SQLite hands a JSON column's bare number as a number: SQLAlchemy passes it on when it sees TypeError)."""
    if isinstance(text, memoryview):
        text = bytes(text)
    elif not isinstance(text, (str, bytes, bytearray)):
        raise TypeError(f"the JSON object must be str, bytes or bytearray, not {type(text).__name__}")
    if _may_hold_long_int(text):
        return json.loads(text)
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)  # reads what orjson refuses (NaN, 1e999, lone surrogates), or says why not


def dumps(value: Any, default: Callable[[Any], Any] | None = str) -> str:
    """json.dumps(value, default=default, ensure_ascii=False, separators=(",", ":")) in meaning."""
    try:
        return orjson.dumps(value, default=default, option=_OPTIONS).decode()
    except TypeError:  # orjson.JSONEncodeError is one: a value orjson does not write as json would
        return json.dumps(value, default=default, ensure_ascii=False, separators=(",", ":"))


def digits_zeroed(text: str | bytes) -> bytes:
    """The text's UTF-8 with every digit made 0, for plain substring searches over the shapes of its numbers
    (b"0" * 19: a long integer). bytes.translate goes by a table at C speed; str.translate does too for ASCII
    text, but one non-ASCII character sent it through a dictionary lookup per character: 2 ms for 8 KB."""
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    return raw.translate(_DIGITS)


def _may_hold_long_int(text: str | bytes) -> bool:
    return LONG_INT in digits_zeroed(text)
