"""JSONata regex literals: RE2 (linear time) first, the `regex` module within the time budget for the
few patterns RE2 refuses (lookaround, backreferences) or would run slowly (very large programs).

Python's `re` backtracks while holding the GIL: `/(a+)+$/` on 40 "a"s and a "b" froze every thread of
the process. RE2 matches in time linear in the input and releases the GIL; `regex` takes a timeout on
every call and releases the GIL while it matches, so a hostile lookahead costs its own evaluation its
time budget and nothing else. jsonata-python takes `compile_pattern` as its `regex_engine`; both
engines' regex literals come from its parser. Where this differs from JavaScript: docs/expressions.md.
"""
from __future__ import annotations

import re

import re2
import regex
from jsonata.regex_engine import RegexFlags

from nodes.expression import budget

_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # a refused pattern is normal (it goes to `regex`), not worth a log line
# RE2 is linear, but when its DFA cache (part of max_mem) overflows it falls back to a slow NFA:
# /(a|b){1,1000}c/ on 1 MB of "a" took 97 s with the default 8 MB, 0.17 s with 32 MB. Past
# PROGRAM_MAX instructions a pattern goes to `regex`, where the time budget holds.
_RE2_OPTIONS.max_mem = 32 << 20
PROGRAM_MAX = 5000

# JavaScript's \uXXXX (RE2 spells it \x{XXXX}); an escaped backslash before it is not an escape
_JS_UNICODE_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\u([0-9a-fA-F]{4})")


class LinearPattern:
    """An RE2 pattern as jsonata-python calls it. Each match is linear, but a call can yield a match per
    character of a long input ($match, $replace build a value per match in Python): the deadline is
    checked every CHECK_EVERY matches."""
    __slots__ = ("_compiled", "pattern", "groups")
    CHECK_EVERY = 1024

    def __init__(self, compiled):
        self._compiled = compiled
        self.pattern = compiled.pattern
        self.groups = compiled.groups

    def search(self, string, *args):
        return self._compiled.search(string, *args)

    def match(self, string, *args):
        return self._compiled.match(string, *args)

    def fullmatch(self, string, *args):
        return self._compiled.fullmatch(string, *args)

    def finditer(self, string, *args):
        meter = budget.current()
        for n, m in enumerate(self._compiled.finditer(string, *args), 1):
            if not n % self.CHECK_EVERY:
                meter.check_time()
            yield m

    def sub(self, repl, string, count=0):
        if not callable(repl):
            return self._compiled.sub(repl, string, count)
        meter, calls = budget.current(), 0

        def timed(m):
            nonlocal calls
            calls += 1
            if not calls % self.CHECK_EVERY:
                meter.check_time()
            return repl(m)
        return self._compiled.sub(timed, string, count)

    def split(self, string, maxsplit=0):
        return self._compiled.split(string, maxsplit)

    def __deepcopy__(self, memo):
        return self  # immutable

    def __repr__(self) -> str:
        return f"/{self.pattern}/"


class BoundedPattern:
    """A `regex` pattern behind the interface jsonata-python calls (search, finditer, sub, split, match),
    each call bounded by the remaining time of the evaluation that runs it."""
    __slots__ = ("_compiled", "pattern", "groups")

    def __init__(self, compiled):
        self._compiled = compiled
        self.pattern = compiled.pattern
        self.groups = compiled.groups

    def search(self, string, *args):
        return _bounded(self._compiled.search, string, *args)

    def match(self, string, *args):
        return _bounded(self._compiled.match, string, *args)

    def fullmatch(self, string, *args):
        return _bounded(self._compiled.fullmatch, string, *args)

    def finditer(self, string, *args):
        meter = budget.current()
        try:
            matches = self._compiled.finditer(string, *args, timeout=meter.remaining_s(), concurrent=True)
            for n, m in enumerate(matches, 1):
                if not n % LinearPattern.CHECK_EVERY:
                    meter.check_time()
                yield m
        except TimeoutError:
            raise meter.time_out() from None

    def sub(self, repl, string, count=0):
        if callable(repl):
            meter, calls = budget.current(), 0

            def timed(m):
                nonlocal calls
                calls += 1
                if not calls % LinearPattern.CHECK_EVERY:
                    meter.check_time()
                return repl(m)
            return _bounded(self._compiled.sub, timed, string, count)
        return _bounded(self._compiled.sub, repl, string, count)

    def split(self, string, maxsplit=0):
        return _bounded(self._compiled.split, string, maxsplit)

    def __deepcopy__(self, memo):
        return self  # immutable

    def __repr__(self) -> str:
        return f"/{self.pattern}/"


def _bounded(method, *args):
    meter = budget.current()
    try:
        return method(*args, timeout=meter.remaining_s(), concurrent=True)
    except TimeoutError:
        raise meter.time_out() from None


def compile_pattern(pattern: str, flags: RegexFlags):
    """jsonata-python's RegexEngine, with JSONata's `i` and `m` flags."""
    inline = ("i" if flags.case_insensitive else "") + ("m" if flags.multiline else "")
    linear = _JS_UNICODE_ESCAPE.sub(r"\1\\x{\2}", pattern)
    try:
        compiled = re2.compile(f"(?{inline}){linear}" if inline else linear, _RE2_OPTIONS)
        if compiled.programsize <= PROGRAM_MAX:
            return LinearPattern(compiled)
    except re2.error:
        pass
    f = regex.V0
    if flags.case_insensitive:
        f |= regex.IGNORECASE
    if flags.multiline:
        f |= regex.MULTILINE
    try:
        return BoundedPattern(regex.compile(pattern, f))
    except regex.error as err:
        raise ValueError(f"invalid regular expression /{pattern}/: {err}") from None


def engine_of(pattern) -> str:
    """"re2" or "regex": which engine matches a compiled literal (for tests and the docs' table)."""
    return "regex" if isinstance(pattern, BoundedPattern) else "re2"
