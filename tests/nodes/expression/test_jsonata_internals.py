"""One test per jsonata-python internal that nodes/expression/jsonata_internals.py relies on: that it
exists and behaves as the adapter assumes. Run before changing the jsonata-python pin: a failure here
names the internal that moved, where the product would otherwise fall back to the (15x slower)
interpreter or give different results.
"""
from __future__ import annotations

import ast
import datetime
import inspect
from pathlib import Path

import pytest
from jsonata import Jsonata
from jsonata.datetimeutils import DateTimeUtils
from jsonata.parser import Parser
from jsonata.regex_engine import RegexFlags
from jsonata.signature import Signature
from jsonata.tokenizer import Tokenizer
from jsonata.utils import Utils

from nodes.expression import jsonata_internals as ji
from nodes.expression.patterns import compile_pattern

PINNED = "0.7.1"
PACKAGE = Path(ji.__file__).parent  # nodes/expression
# what modules other than the adapter may import from jsonata-python: its documented public API
PUBLIC = {
    "interpreter.py": {("jsonata", "JException")},  # and, through the adapter's Evaluator, Jsonata itself
    "budget.py": {("jsonata", "JException")},  # BudgetExceeded is a JException, which the library lets through
    "patterns.py": {("jsonata.regex_engine", "RegexFlags")},  # the regex_engine argument (README, Guardrails)
}


def parse(source):
    return ji.parse(source, compile_pattern)


def _params(fn) -> list[str]:
    return list(inspect.signature(fn).parameters)


def test_the_adapter_names_the_pinned_version():
    from importlib.metadata import version
    assert version("jsonata-python") == PINNED
    assert f"jsonata-python {PINNED}" in ji.__doc__


# --- the fence: nobody else knows the internals ---------------------------------------------------

def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name != "jsonata_internals.py":
            yield path.relative_to(PACKAGE).as_posix(), ast.parse(path.read_text())


def test_only_the_adapter_imports_jsonata_internals():
    """nodes/expression/compiler/ imports nothing of jsonata; other modules only the public API above."""
    bad = []
    for rel, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                bad += [f"{rel}:{node.lineno} import {a.name}" for a in node.names if a.name.split(".")[0] == "jsonata"]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "jsonata":
                allowed = PUBLIC.get(rel, set()) if not rel.startswith("compiler/") else set()
                bad += [f"{rel}:{node.lineno} from {node.module} import {a.name}" for a in node.names
                        if (node.module, a.name) not in allowed]
    assert not bad, "only nodes/expression/jsonata_internals.py may use jsonata-python's internals:\n" + "\n".join(bad)


def test_no_private_attribute_is_read_outside_the_adapter():
    """`x._name` only on the module's own objects (self, cls): a private attribute of anything else
    would be a jsonata-python internal read past the adapter."""
    bad = []
    for rel, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
                if not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                    bad.append(f"{rel}:{node.lineno} {ast.unparse(node)}")
    assert not bad, "\n".join(bad)


def test_the_adapter_is_what_the_compiler_imports():
    """The compiler reaches jsonata-python through the adapter (a guard against this test passing
    because the scan found no files)."""
    users = [rel for rel, tree in _modules() if rel.startswith("compiler/") and any(
        isinstance(n, ast.ImportFrom) and n.module == "nodes.expression.jsonata_internals" for n in ast.walk(tree))]
    assert len(users) >= 10, users


# --- the parser, driven by hand ---------------------------------------------------------------------

def test_parser_per_parse_state_is_what_the_adapter_resets():
    """_fresh_parser reuses one Parser and resets these fields, which must be all of __init__'s state
    apart from the symbol table (a new field would leak from one parse into the next)."""
    p = Parser()
    assert set(vars(p)) == {"dbg", "source", "recover", "node", "lexer", "symbol_table", "errors",
                            "ancestor_label", "ancestor_index", "ancestry"}
    assert isinstance(p.symbol_table, dict) and "(end)" in p.symbol_table


def test_parser_steps_the_adapter_drives():
    """Tokenizer(source, regex_engine), advance(), expression(0), node.id "(end)", process_ast(raw)."""
    assert _params(Tokenizer.__init__)[:3] == ["self", "path", "regex_engine"]
    p = Parser()
    p.source = "a.b"
    p.lexer = Tokenizer("a.b", compile_pattern)
    p.advance()
    raw = p.expression(0)
    assert p.node.id == "(end)"
    ast = p.process_ast(raw)
    assert isinstance(ast, Parser.Symbol) and ast.type == "path" and ast.seeking_parent is None
    assert [s.value for s in ast.steps] == ["a", "b"]
    assert p.errors == []


def test_symbol_has_every_attribute_the_adapter_copies():
    symbol = Parser.Symbol(Parser(), "x")
    attrs = set(vars(symbol))
    copied = set(ji._SCALARS) | set(ji._CHILD.values()) | set(ji._CHILDREN) | {"lhs_object"}
    raw_only = {"seeking_parent", "rhs_object", "rhs_terms", "id"}  # read before process_ast / the checks
    assert copied | raw_only <= attrs, sorted((copied | raw_only) - attrs)
    assert set(ji.Node.__slots__) == set(ji._SCALARS) | set(ji._CHILD) | set(ji._CHILDREN) | {"lhs_object"}


def test_a_parse_error_is_a_jexception_with_code_and_position():
    with pytest.raises(ji.JException) as err:
        parse("a +")
    assert err.value.error == "S0207" and isinstance(err.value.location, int)
    with pytest.raises(ji.JException) as err:
        parse("a b")
    assert err.value.error == "S0201"


def test_shared_default_operand_is_processed_once():
    """`a ?: b` shares its raw `a` node; without the adapter's copy the library negates -5 twice."""
    ast = parse("-5 ?: 99")
    assert ast.type == "condition" and ast.then.value == -5 and ast.else_.value == 99


# --- the AST shapes the compiler reads ------------------------------------------------------------

def test_ast_paths_steps_and_predicates():
    ast = parse("a.b[0][x > 1]")
    assert ast.type == "path" and ast.position == 0
    a, b = ast.steps
    assert (a.type, a.value, b.type, b.value) == ("name", "a", "name", "b")
    first, second = b.stages  # predicates of a step become its stages
    assert first.type == "filter" and first.expr.type == "number" and first.expr.value == 0
    assert second.expr.type == "binary" and second.expr.value == ">"
    assert second.expr.lhs.type == "path" and second.expr.rhs.value == 1


def test_ast_predicate_on_a_non_path():
    ast = parse("(a)[0]")
    assert ast.type == "block" and ast.predicate[0].type == "filter" and ast.predicate[0].expr.value == 0


def test_ast_keep_array_and_constructors():
    assert parse("a[]").keep_singleton_array is True
    assert parse("a.b[]").steps[1].keep_array is True
    path = parse("[1, 2].x")
    assert path.steps[0].type == "unary" and path.steps[0].value == "[" and path.steps[0].consarray is True
    assert [e.value for e in path.steps[0].expressions] == [1, 2]
    obj = parse('{"k": v}')
    assert obj.type == "unary" and obj.value == "{"
    (key, value), = obj.lhs_object
    assert (key.type, key.value, value.type) == ("string", "k", "path")


def test_ast_group_by():
    ast = parse("a{b: c}")
    assert isinstance(ast.group.position, int)
    (key, value), = ast.group.lhs_object
    assert key.type == "path" and value.type == "path"


def test_ast_focus_index_and_parent():
    focus = parse("a@$x.b").steps[0]
    assert focus.focus == "x" and focus.tuple is True
    index = parse("a#$i").steps[0]
    assert index.index == "i" and index.tuple is True
    parent = parse("a.b.%")
    step = parent.steps[2]
    assert step.type == "parent" and isinstance(step.slot.label, str)
    assert parent.steps[1].ancestor.label == step.slot.label and parent.steps[1].tuple is True


def test_ast_condition_bind_and_block():
    cond = parse("x ? 1 : 2")
    assert cond.condition.type == "path" and cond.then.value == 1 and cond.else_.value == 2
    assert parse("x ? 1").else_ is None
    block = parse("($x := 1; $x)")
    bind, var = block.expressions
    assert bind.type == "bind" and bind.lhs.value == "x" and bind.rhs.value == 1
    assert var.type == "variable" and var.value == "x"
    assert parse("$").value == "" and parse("true").value is True and parse("null").value is None


def test_ast_functions_lambdas_partials_and_apply():
    call = parse("$f(1, a)")
    assert call.type == "function" and call.procedure.value == "f" and len(call.arguments) == 2
    lam = parse("function($a, $b)<nn:n>{$a + $b}")
    assert lam.type == "lambda" and [a.value for a in lam.arguments] == ["a", "b"]
    assert lam.body.type == "binary" and lam.thunk is False
    assert lam.signature.validate([1, 2], None) == [1, 2]  # the lambda's signature: validate(args, ctx)
    with pytest.raises(ji.JException):
        lam.signature.validate(["x", 2], None)
    assert parse("function($a){$a}").signature is None
    partial = parse("$f(?, 1)")
    assert partial.type == "partial" and partial.arguments[0].type == "operator"
    assert partial.arguments[0].value == "?"
    chain = parse("a ~> $f()")
    assert chain.type == "apply" and chain.lhs.type == "path" and chain.rhs.type == "function"
    tail = parse("function($n){$n = 0 ? 0 : $f($n - 1)}").body.else_
    assert tail.type == "lambda" and tail.thunk is True and tail.body.type == "function"
    assert parse("a.$f()").steps[1].procedure.type == "variable"


def test_ast_sort_terms():
    sort = parse("a^(>b, c)").steps[1]
    assert sort.type == "sort"
    first, second = sort.terms
    assert first.descending is True and first.expression.type == "path" and second.descending is False


def test_ast_transform():
    ast = parse('| a | {"b": 1}, ["c"] |')
    assert ast.type == "transform" and ast.pattern.type == "path"
    assert ast.update.value == "{" and ast.delete.value == "["
    assert isinstance(ast.update.position, int) and isinstance(ast.delete.position, int)
    assert parse('| a | {"b": 1} |').delete is None


def test_ast_regex_literal_is_compiled_by_the_given_engine():
    ast = parse("/ab+/i")
    assert ast.type == "regex" and ast.value.search("xABBy") is not None
    assert ji.is_regex(ast.value) and not ji.is_regex("ab")


def test_ast_shared_nodes_stay_shared_and_cycles_terminate():
    ast = parse("a.b.%.c")  # ancestor and slot refer to each other's symbols
    assert ast.steps[2].slot is not None


# --- the value model ------------------------------------------------------------------------------

def test_jlist_carries_the_flags_the_library_reads():
    lst = ji.JList([1])
    assert isinstance(lst, list) and ji.JList is Utils.JList
    for flag in ("sequence", "outer_wrapper", "tuple_stream", "keep_singleton", "cons"):
        assert getattr(lst, flag) is False, flag
    seq = ji.create_sequence()
    assert isinstance(seq, ji.JList) and seq.sequence is True and seq == []


def test_null_value_and_its_conversion():
    assert Jsonata("[null]").evaluate(None) == [None]  # converted on the way out ...
    raw = Jsonata("[null]")
    raw.set_output_convert_nulls(False)
    assert raw.evaluate(None) == [ji.NULL_VALUE]  # ... the library's own null inside
    data = {"a": [ji.NULL_VALUE], "b": ji.NULL_VALUE}
    ji.recurse_nulls(data)
    assert data == {"a": [None], "b": None}
    assert ji.convert_nulls([ji.NULL_VALUE, 1]) == [None, 1]


def test_the_library_calls_back_a_function_value():
    """The protocol of compiler/runtime.py's Lambda: the library reads signature.get_min_number_of_args()
    and calls call(input, args)."""
    class Arity:
        def get_min_number_of_args(self):
            return 1

        def validate(self, args, context):
            return args

    class Double(ji.JFunction):
        def __init__(self):
            self.signature = Arity()

        def call(self, input, args):
            return args[0] * 2

    assert issubclass(ji.JFunction, ji.JFunctionCallable)
    native = ji.builtin_functions()["map"]  # as compiler/library.py's Builtin.reference calls it
    assert native.call(None, native.validate([[1, 2, 3], Double()], None)) == [2, 4, 6]
    assert ji.JLambda(lambda x: x + 1).call(None, [1]) == 2


def test_reference_functions_the_compiler_calls():
    assert _params(ji.reference_string) == ["arg", "prettify"] and ji.reference_string(1.5, None) == "1.5"
    assert ji.reference_round(2.5, 0) == 2 and ji.reference_round(0.125, 2) == 0.12
    assert ji.reference_substring("hello", 1, 3) == "ell" and ji.reference_substring("hello", -2, None) == "lo"
    original = {"a": [1, {"b": 2}]}
    clone = ji.function_clone(original)
    assert clone == original and clone["a"] is not original["a"]
    assert ji.datetime_from_millis(0, "[Y0001]-[M01]", None) == "1970-01"
    assert _params(ji.datetime_from_millis) == ["millis", "picture", "timezone"]


def test_regex_closure_is_the_match_object():
    iterator = compile_pattern("a(b)", RegexFlags(False, False)).finditer("xab ab")
    first = ji.regex_closure(iterator)
    assert (first["match"], first["start"], first["end"], first["groups"]) == ("ab", 1, 3, ["ab"])
    second = first["next"].call(None, [])
    assert second["start"] == 4
    assert second["next"].call(None, []) is None
    assert _params(Jsonata._regex_closure) == ["iterator"]


# --- the built-in table ---------------------------------------------------------------------------

def test_builtin_table():
    table = ji.builtin_functions()
    assert {"sum", "map", "replace", "fromMillis", "eval", "now"} <= set(table)
    assert {"sum", "string"} <= ji.builtin_names()
    native = table["sum"]
    assert isinstance(native, ji.JFunction) and isinstance(native.signature, Signature)
    assert native.get_number_of_args() == 1
    assert native.call(None, native.validate([[1, 2]], None)) == 3
    assert callable(native.method)  # what replace_builtin_method swaps


def test_replace_builtin_method_changes_both_engines_table():
    calls = []

    def replace(method):
        def counting(*args):
            calls.append(args)
            return method(*args)
        counting.original = method
        return counting

    ji.replace_builtin_method("trim", replace)
    try:
        assert Jsonata('$trim("  a ")').evaluate(None) == "a"
        assert calls == [("  a ",)]
    finally:
        ji.replace_builtin_method("trim", lambda method: method.original)
    assert Jsonata('$trim(" b")').evaluate(None) == "b" and len(calls) == 1


def test_signature_params_say_which_take_the_context():
    table = ji.builtin_functions()
    assert all(hasattr(p, "context") for p in table["string"].signature._params)
    assert ji.reads_context(table["string"].signature)  # <x-b?:s>: `-` means "the context if omitted"
    assert not ji.reads_context(table["sum"].signature)
    assert Signature("<(oa):o>", "transform").validate([{"a": 1}], None) == [{"a": 1}]


# --- date pictures --------------------------------------------------------------------------------

def test_analyse_picture_parts():
    assert _params(DateTimeUtils._analyse_datetime_picture) == ["picture"]
    parts = ji.analyse_picture("[Y0001]-[M01]-[D01]T[H01]:[m01]")
    assert [p.type for p in parts[:3]] == ["marker", "literal", "marker"]
    year = parts[0]
    assert (year.component, year.presentation1, year.presentation2, year.ordinal, year.width, year.names) == \
        ("Y", "0001", None, False, None, None)
    assert parts[1].value == "-"
    assert ji.analyse_picture("[D1o]")[0].ordinal is True
    assert ji.analyse_picture("[MNn]")[0].names is not None


def test_format_component():
    assert _params(DateTimeUtils._format_component) == ["date", "marker_spec", "offset_hours", "offset_minutes"]
    date = datetime.datetime(2024, 3, 5, tzinfo=datetime.timezone.utc)
    month, = ji.analyse_picture("[MNn]")
    assert ji.format_component(date, month) == "March"
    day, = ji.analyse_picture("[D1o]")
    assert ji.format_component(date, day) == "5th"


# --- the interpreter's evaluator hooks and the public API it uses ---------------------------------

def test_evaluator_hooks_see_range_and_concat():
    seen = []

    class Watching(ji.Evaluator):
        def before_range(self, lhs, rhs):
            seen.append(("range", lhs, rhs))

        def before_concat(self, lhs, rhs):
            seen.append(("concat", lhs, rhs))

        def after_concat(self, result):
            seen.append(("joined", result))

    assert Watching('[1..3] & "x"').evaluate(None) == "[1,2,3]x"
    assert seen == [("range", 1, 3), ("concat", [1, 2, 3], "x"), ("joined", "[1,2,3]x")]


def test_public_api_the_interpreter_uses():
    """interpreter.py: Jsonata(expr, regex_engine), create_frame(environment), Frame.bind, the evaluate
    entry/exit callbacks with env.is_parallel_call, set_output_convert_nulls, evaluate(data, frame)."""
    expr = Jsonata("$x + a", compile_pattern)
    frame = expr.create_frame(expr.environment)
    frame.bind("x", 1)
    entries = []
    frame.set_evaluate_entry_callback(lambda exp, input, env: entries.append(env.is_parallel_call))
    frame.set_evaluate_exit_callback(lambda exp, input, env, res: None)
    expr.set_output_convert_nulls(False)
    assert expr.evaluate({"a": 2}, frame) == 3
    assert entries and all(flag is False for flag in entries)
    err = ji.JException("T2001", 4, "+")
    assert err.error == "T2001" and err.location == 4
