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
_DIGITS = str.maketrans("123456789", "000000000")
_DIGIT_BYTES = bytes.maketrans(b"123456789", b"000000000")
_LONG_INT = "0" * 19  # 19 digits in a row may exceed a 64-bit integer, which orjson would read as a float
_LONG_INT_BYTES = _LONG_INT.encode()


def loads(text: str | bytes | memoryview) -> Any:
    """json.loads(text): the same value, or the same JSONDecodeError."""
    if isinstance(text, memoryview):
        text = bytes(text)
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


def _may_hold_long_int(text: str | bytes) -> bool:
    if isinstance(text, str):
        return _LONG_INT in text.translate(_DIGITS)
    return _LONG_INT_BYTES in text.translate(_DIGIT_BYTES)  # psycopg hands a JSON column's bytes
