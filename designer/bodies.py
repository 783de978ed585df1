"""Request bodies, read strictly: the one JSON parse and the one text decoding every endpoint uses (the API's
`requests.body()` and the webhook intake). What no backend, JSONata or browser can hold faithfully (NaN,
infinities, numbers beyond a double, lone surrogates, hostile nesting) is a 400 at the door, instead of a 500
from the database or a value silently stored as the string "inf". NUL is fine inside JSON values (both
backends store it); the text columns it cannot go into refuse it where they are written."""
from __future__ import annotations

import json
import re
from typing import Any

import orjson

from designer.errors import ApiError
from runtime import jsontext

MAX_DEPTH = 100  # nested arrays and objects: far beyond real documents, far below what recursive code survives
_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")  # the only way a lone surrogate gets into a parsed string
# a number JSON allows but a double cannot hold needs an exponent or hundreds of digits; a body without either
# (almost every body) is parsed by orjson, or json's C parser, without a Python call per number. Found by mapping
# every digit to 0 and searching plain substrings: a regex over the digits took longer than the hooks it saved.
_LONG_RUN = b"0" * 300
_NOT_READ = object()
LONE_SURROGATE = "a lone surrogate (such as \\udfff), which is not a character and cannot be stored"


class _Refused(ValueError):
    """A value JSON's grammar allows (or Python's parser accepts) that a body must not carry."""


def is_json(mimetype: str) -> bool:
    return mimetype == "application/json" or (mimetype.startswith("application/") and mimetype.endswith("+json"))


def text(raw: bytes, charset: str | None = None) -> str:
    """The body as text in its declared charset (UTF-8 when none); 400 `invalid_encoding` when it is not."""
    return _decode(raw, charset, "invalid_encoding")


def _decode(raw: bytes, charset: str | None, code: str) -> str:
    name = (charset or "utf-8").strip().lower()
    utf8 = name in ("utf-8", "utf8")
    try:
        decoded = raw.decode("utf-8-sig" if utf8 else name)
    except LookupError:  # no such codec, or one that is not a text encoding (base64, zlib)
        raise ApiError(415, "unsupported_media_type", f"unknown charset {charset!r}",
                       [{"field": "Content-Type"}]) from None
    except (UnicodeError, ValueError):
        raise ApiError(400, code, f"the body is not valid {charset or 'UTF-8'} text") from None
    if not utf8 and _has_surrogate(decoded):  # strict UTF-8 never yields one; unicode_escape can
        raise ApiError(400, code, f"the body holds {LONE_SURROGATE}")
    return decoded


def parse_json(raw: bytes, charset: str | None = None) -> Any:
    """The JSON value of the body; 400 `invalid_json` naming what is wrong (with its position when it is syntax)."""
    return parse_json_text(raw, charset)[0]


def parse_json_text(raw: bytes, charset: str | None = None) -> tuple[Any, str]:
    """parse_json's value with the body's text, which is JSON of that very value (a run stores it as it is)."""
    source = _decode(raw, charset, "invalid_json")
    digits = jsontext.digits_zeroed(source)
    try:
        if b"0e" in digits or b"0E" in digits or _LONG_RUN in digits:  # a number a double may not hold
            value = json.loads(source, parse_constant=_constant, parse_float=_float, parse_int=_int)
        elif jsontext.LONG_INT in digits or (value := _fast(source)) is _NOT_READ:  # json reads them exactly
            value = json.loads(source, parse_constant=_constant)
    except RecursionError:
        raise ApiError(400, "invalid_json", f"the body is nested more than {MAX_DEPTH} levels deep") from None
    except _Refused as err:
        raise ApiError(400, "invalid_json", f"the body is not valid JSON: {err}") from None
    except json.JSONDecodeError as err:
        raise ApiError(400, "invalid_json", f"the body is not valid JSON: {err.msg} at line {err.lineno}, "
                                            f"column {err.colno}") from None
    except ValueError as err:  # an integer of more digits than Python converts
        raise ApiError(400, "invalid_json", f"the body is not valid JSON: {err}") from None
    if _too_deep(source, value):
        raise ApiError(400, "invalid_json", f"the body is nested more than {MAX_DEPTH} levels deep")
    if _SURROGATE.search(source):
        if _has_surrogate(value):
            raise ApiError(400, "invalid_json", f"the body holds {LONE_SURROGATE}")
    return value, source


def _fast(source: str) -> Any:
    """orjson's value (a sixth of json's time on an 8 KB order), or _NOT_READ for what it refuses: NaN, lone
    surrogates, nesting beyond 1024 levels, which json's parse then refuses or reads as before."""
    try:
        return orjson.loads(source)
    except orjson.JSONDecodeError:
        return _NOT_READ


def _constant(name: str):
    raise _Refused(f"{name} is not a number in JSON")


def _float(literal: str) -> float:
    value = float(literal)
    if value in (float("inf"), float("-inf")):
        raise _Refused(f"the number {literal[:30]} is too large")
    return value


def _int(literal: str) -> int:
    value = int(literal)
    if len(literal) > 300:
        try:
            float(value)
        except OverflowError:  # beyond a double: JavaScript would read it as Infinity
            raise _Refused(f"the number {literal[:30]}... is too large") from None
    return value


def _too_deep(source: str, value: Any) -> bool:
    if source.count("[") + source.count("{") <= MAX_DEPTH:  # too few brackets to nest that deep
        return False
    level = [value] if isinstance(value, (dict, list)) else []
    for _ in range(MAX_DEPTH):  # one level of containers per pass
        level = [c for x in level for c in (x.values() if isinstance(x, dict) else x) if isinstance(c, (dict, list))]
        if not level:
            return False
    return True


def _has_surrogate(value: Any) -> bool:
    """Whether a string, or any key or string in a JSON value, holds a lone surrogate (UTF-8 cannot encode it)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
    return False
