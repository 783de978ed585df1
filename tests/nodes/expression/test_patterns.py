"""Regex literals: RE2 first (linear time, never holds the process), `regex` within the time budget for
lookaround and backreferences; and each documented difference from JavaScript (docs/expressions.md)."""
from __future__ import annotations

import threading
import time

import pytest
from jsonata.regex_engine import RegexFlags

from nodes.expression import ExpressionError
from nodes.expression.budget import Budget
from nodes.expression.compiler import compile_closures
from nodes.expression.interpreter import compile_interpreted
from nodes.expression.patterns import compile_pattern, engine_of

ENGINES = {"compiled": compile_closures, "interpreter": compile_interpreted}


@pytest.fixture(params=sorted(ENGINES))
def engine(request):
    return ENGINES[request.param]


def evaluate(engine, source, data=None, limits=None):
    return engine(source).evaluate(data, {}, budget=limits)


def test_the_redos_of_issue_9_answers_at_once_with_re2(engine):
    started = time.monotonic()
    assert evaluate(engine, '$replace($, /(a+)+$/, "")', "a" * 40 + "b") == "a" * 40 + "b"
    assert evaluate(engine, '$contains($, /^(a|aa)+$/)', "a" * 5000 + "b") is False
    assert time.monotonic() - started < 2  # backtracking would take longer than the universe's age


def test_which_engine_takes_a_pattern():
    assert engine_of(compile_pattern(r"(a+)+$", RegexFlags())) == "re2"
    assert engine_of(compile_pattern(r"\d+(?=px)", RegexFlags())) == "regex"  # lookahead
    assert engine_of(compile_pattern(r"(?<=\$)\d+", RegexFlags())) == "regex"  # lookbehind
    assert engine_of(compile_pattern(r"(\w)\1", RegexFlags())) == "regex"  # backreference
    assert engine_of(compile_pattern(r"(a|b){1,1000}c", RegexFlags())) == "re2"
    assert engine_of(compile_pattern(r"(a|b){1,2000}c", RegexFlags())) == "regex"  # over PROGRAM_MAX


def test_a_large_counted_repetition_stays_fast_on_a_large_input(engine):
    # with RE2's default memory its DFA overflowed and this took 97 s (no budget can stop RE2)
    started = time.monotonic()
    assert evaluate(engine, '$contains($pad("", 1000000, "a"), /(a|b){1,1000}c/)') is False
    assert time.monotonic() - started < 5


def test_lookaround_and_backreferences_work_as_in_javascript(engine):
    assert evaluate(engine, r'$replace("1234567", /\B(?=(\d{3})+(?!\d))/, ",")') == "1,234,567"
    assert evaluate(engine, r'$match("price $42", /(?<=\$)\d+/).match') == "42"
    assert evaluate(engine, r'$contains("hello", /(l)\1/)') is True


def test_a_catastrophic_lookahead_fails_with_the_time_budget_while_other_threads_run(engine):
    expr = engine(r'$replace($, /^(?=a)(a|aa)+$/, "")')
    outcome = []

    def hostile():
        try:
            expr.evaluate("a" * 60 + "b", {}, budget=Budget(time_ms=500))
        except ExpressionError as err:
            outcome.append(err.code)

    thread = threading.Thread(target=hostile)
    thread.start()
    steady = engine('$replace(name, /\\s+/, " ")')
    answered = 0
    while thread.is_alive():
        assert steady.evaluate({"name": "a  b"}) == "a b"
        answered += 1
        time.sleep(0.01)
    assert outcome == ["budget_time"]
    assert answered >= 10  # `regex` releases the GIL while it matches; `re` answered 0 times here


@pytest.mark.parametrize("source", ['$count($match($, /a/))', '$replace($, /a/, "b")',
                                    '$replace($, /a/, function($m){"b"})',
                                    '$count($match($, /a(?=a)/))', '$replace($, /a(?=a)/, "b")'])  # `regex`
def test_a_match_per_character_of_a_long_input_stops_at_the_time_budget(engine, source):
    with pytest.raises(ExpressionError) as err:
        evaluate(engine, source, "a" * 1_000_000, Budget(time_ms=50))
    assert err.value.code == "budget_time"


def test_flags_i_and_m(engine):
    assert evaluate(engine, '$contains("ÉCOLE", /école/i)') is True
    assert evaluate(engine, '$match("a\\nb", /^b$/m).match') == "b"
    assert evaluate(engine, '$contains("a\\nb", /^b$/)') is False


def test_unicode_escapes_are_javascripts(engine):
    assert evaluate(engine, r'$contains("café", /caf\u00e9/)') is True
    assert evaluate(engine, r'$contains("caf\\u00e9", /caf\\u00e9/)') is True  # an escaped backslash, then "u00e9"


def test_named_groups_are_accepted(engine):
    assert evaluate(engine, r'$match("2024-05", /(?<y>\d{4})-(?<m>\d\d)/).groups') == ["2024", "05"]


# Where JSONata here differs from JSONata in JavaScript (docs/expressions.md lists the same)

def test_difference_whitespace_class_is_ascii(engine):
    # JavaScript's \s also matches no-break space (U+00A0) and other Unicode spaces; RE2's does not
    assert evaluate(engine, '$contains("a\u00a0b", /a\\sb/)') is False
    assert evaluate(engine, '$contains("a\u00a0b", /a[\\s\\u00a0]b/)') is True  # the portable spelling


def test_same_as_javascript_digits_words_and_end_of_input_are_ascii_and_strict(engine):
    assert evaluate(engine, '$contains("٣", /\\d/)') is False  # Arabic-Indic three: not \d, as in JS
    assert evaluate(engine, '$contains("é", /\\w/)') is False
    assert evaluate(engine, '$contains("x\\n", /x$/)') is False  # Python's re would say true


def test_difference_lookaround_patterns_follow_python_classes(engine):
    # a pattern RE2 refuses runs on `regex`, whose \d is Unicode-aware (JavaScript's is ASCII)
    assert evaluate(engine, r'$contains("٣px", /\d(?=px)/)') is True


def test_difference_an_empty_negated_class_is_refused(engine):
    # JavaScript's [^] (any character) does not compile here: write [\s\S]
    with pytest.raises(ExpressionError) as err:
        engine('$contains("a", /[^]/)')
    assert "invalid regular expression" in err.value.message
    assert evaluate(engine, r'$contains("a\nb", /a[\s\S]b/)') is True


def test_difference_dot_matches_a_whole_code_point(engine):
    # JavaScript without the u flag sees "😀" as two UTF-16 units; here it is one character
    assert evaluate(engine, '$match("😀", /./).match') == "😀"
