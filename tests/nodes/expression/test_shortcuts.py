"""The compiler's fast paths for plain-argument built-ins (compiler/shortcuts.py), its direct $map and
$filter loop and its boolean predicates give the interpreter's result, and its error, case by case."""
from __future__ import annotations

import pytest

from nodes.expression import ExpressionError
from nodes.expression.compiler import compile_closures
from nodes.expression.interpreter import compile_interpreted

DATA = {
    "notes": [{"name": "Gift", "value": "yes"}, {"name": "Colour", "value": "green"}, {"name": "Gift", "value": "no"}],
    "one": {"a": 1, "b": None},
    "stamp": "2008-01-10T11:00:00-05:00",
    "phone": "555 625-1199",
    "lots": ["L1", "L2", "L1", "L3", "L2"],
    "lines": [{"sku": "A", "qty": 2, "lot": "L1"}, {"sku": "B", "qty": 0, "lot": "L2"},
              {"sku": "A", "qty": 3, "lot": "L2"}, {"sku": "C", "lot": "L9"}],
}

CASES = [
    "$merge(notes.{name: value})", "$merge(one)", "$merge([])", "$merge(missing)", "$merge([one, {'a': 2}])",
    "$toMillis(stamp)", '$toMillis("2026-11-25")', '$toMillis("2026-11-25T16:40:00Z")',
    '$toMillis("2026-11-25T16:40:00.123")', '$toMillis("2026")', "$toMillis(missing)",
    '$replace(phone, " ", "")', '$replace(phone, /[^0-9]/, "")', '$replace(phone, /([0-9]+)/, "<$1>")',
    '$replace(phone, "5", "$$")', '$replace(missing, "5", "x")', '$replace(phone, /5/, "")',
    '$join(lines[sku = "B"].lot, ",")', '$join("one")', '$join(lots, "-")',
    '$trim("  a \t b\n ")', '$trim("   ")', '$trim("")', "$trim(missing)",
    '$contains(phone, "625")', '$contains(phone, /6+2/)', '$contains(missing, "x")',
    '$substringAfter(stamp, "T")', '$substringAfter(stamp, "#")', '$substringAfter(missing, "T")',
    "$distinct(lots)", '$distinct("L1")', "$distinct(lines.qty)", "$distinct([])", "$distinct(missing)",
    "$map(lines, function($l) {$l.sku})", "$map(lines, function($l, $i) {$i & $l.sku})",
    "$map(lines, function($l, $i, $a) {$count($a)})", "$filter(lines, function($l) {$l.qty > 1})",
    "$filter(lines, function($l, $i) {$i > 1}).sku", "$map(lots, function($v) {$v = 'L1' ? undefined : $v})",
    "lines[qty > 1].sku", "lines[qty > 1 and sku = 'A'].lot", "lines[qty != 3].sku", "lines[sku in ['A', 'C']]",
    "lines[qty = missing]", "lines[sku = $$.lines[0].sku].qty", "lots[$ = 'L2']",
]


@pytest.mark.parametrize("source", CASES)
def test_compiled_fast_paths_match_the_interpreter(source):
    assert compile_closures(source).evaluate(DATA) == compile_interpreted(source).evaluate(DATA)


@pytest.mark.parametrize("source", [
    '$toMillis("not a date")', '$toMillis("")', '$merge([one, 1])', '$replace(phone, "", "x")',
    '$join(["a", 1])', "$distinct(1) < 'a'", "lines[qty > 'x']",
])
def test_compiled_fast_paths_fail_as_the_interpreter_does(source):
    codes = []
    for engine in (compile_closures, compile_interpreted):
        with pytest.raises(ExpressionError) as err:
            engine(source).evaluate(DATA)
        codes.append(err.value.code)
    assert codes[0] == codes[1]


@pytest.mark.parametrize("millis", [0, 951782400000, -62135596800000 + 86400000, 253402300799999, 1764088800123.7])
@pytest.mark.parametrize("picture", ["[Y0001]-[M01]-[D01]", "[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01]Z",
                                     "[D01].[M01].[Y0001] [H01]h", "[Y]-[M]-[D]", "[H01]:[m01]:[s01].[f001]"])
def test_from_millis_with_a_numeric_picture_matches_the_interpreter(millis, picture):
    source = f'$fromMillis({millis}, "{picture}")'
    assert compile_closures(source).evaluate(None) == compile_interpreted(source).evaluate(None)


@pytest.mark.parametrize("pattern", ["/[^0-9+]/", "/ /", "/6.5/", "/[a-c][0-9]/", "/[^0-9]+/", "/^5/", "/9$/",
                                     "/\\\\d/", "/(5)/", "/5|6/", "/[[:digit:]]/", "/5/i"])
@pytest.mark.parametrize("text", ["+1 555 625-1199", "a1b2c3\n9", "", "ü5é6"])
def test_replace_with_a_regex_matches_the_interpreter(pattern, text):
    source = f'$replace($, {pattern}, "")'
    assert compile_closures(source).evaluate(text) == compile_interpreted(source).evaluate(text)


@pytest.mark.parametrize("picture", ["[Y0001]-[M01]-[D01]", "[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01]Z",
                                     "[D01].[M01].[Y0001] [H01]h", "[H01]:[m01]"])
@pytest.mark.parametrize("text", ["2026-11-25", "2024-02-29T23:59:58Z", "25.11.2026 16h", "2023-02-29", "16:40",
                                  "2026-1-5", "0999-01-01", "2026-11-25x"])
def test_to_millis_with_a_numeric_picture_matches_the_interpreter(picture, text):
    assert outcome(compile_closures, f'$toMillis($, "{picture}")', text) == \
        outcome(compile_interpreted, f'$toMillis($, "{picture}")', text)


@pytest.mark.parametrize("picture", ["#,##0.00", "0.00", "#,##0", "0", "#,##0.000", "#,##0.0#", "0.00%"])
@pytest.mark.parametrize("value", [0, -0.0, 0.005, 1.005, 2.675, -2.675, -0.001, 1234567.891, 999.995, -999.995,
                                   123, -123, 0.5, 2.5, -0.5, 1e16, None])
def test_format_number_matches_the_interpreter(picture, value):
    assert outcome(compile_closures, f'$formatNumber($, "{picture}")', value) == \
        outcome(compile_interpreted, f'$formatNumber($, "{picture}")', value)


def outcome(engine, source, data):
    try:
        return engine(source).evaluate(data)
    except ExpressionError as err:
        return err.code


def test_variable_member_chains_match_the_interpreter():
    source = "($o := {'a': {'b': {'c': 1}, 'l': [{'c': 2}, {'c': 3}]}}; [$o.a.b.c, $o.a.l.c, $o.a.x.c, $missing.a.b])"
    assert compile_closures(source).evaluate(None) == compile_interpreted(source).evaluate(None)


@pytest.mark.parametrize("source", [
    '{"a": one.a, "b": one.b, "c": missing, "it\'s \\"q\\"\\n": 1, "ü": lots[0]}',
    'lines.{"sku": sku, "qty": qty}', 'lines{"all": $count($)}', '{"a": lines.qty}', '[{"x": 1}, {}]',
])
def test_literal_objects_match_the_interpreter(source):
    assert compile_closures(source).evaluate(DATA) == compile_interpreted(source).evaluate(DATA)
