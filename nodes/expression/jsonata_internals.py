"""jsonata-python's internals, in one place: the only module that knows them. Written against
jsonata-python 0.7.1, the version pinned in requirements.txt.

The compiler reuses the reference's parser (driven by hand, its AST copied into our own `Node`), its
built-in table, a few private functions (date pictures, regex match objects, signature parameters)
and the protocols its function library expects of function values and arrays. The rest of
nodes/expression talks to this module, or to the library's public API only (`Jsonata(expr,
regex_engine)`, its frames and `evaluate`, `JException`, `RegexFlags`).
tests/nodes/expression/test_jsonata_internals.py checks every assumption made here by name: an upgrade
of jsonata-python must pass it, else the compiler falls back to the interpreter (some 15x slower).
"""
from __future__ import annotations

import copy
import threading
from typing import Any, NamedTuple

from jsonata import Jsonata
from jsonata.datetimeutils import DateTimeUtils
from jsonata.functions import Functions
from jsonata.jexception import JException
from jsonata.parser import Parser
from jsonata.signature import Signature
from jsonata.tokenizer import Tokenizer
from jsonata.utils import Utils

__all__ = ["JException", "JFunction", "JFunctionCallable", "JLambda", "JList", "NULL_VALUE", "Evaluator",
           "Node", "PicturePart", "Signature", "analyse_picture", "builtin_functions", "builtin_names",
           "convert_nulls", "create_sequence", "datetime_from_millis", "format_component", "function_clone",
           "is_regex", "parse", "reads_context", "recurse_nulls", "reference_lookup", "reference_round",
           "reference_string",
           "reference_substring", "regex_closure", "replace_builtin_method"]

# --- the value model the reference's function library expects -------------------------------------

# Arrays: the library reads the flags sequence, outer_wrapper, tuple_stream, keep_singleton and cons.
JList = Utils.JList
NULL_VALUE = Utils.NULL_VALUE  # JSON null inside the library's values (None is undefined there)
# Function values: the library calls `call(input, args)` and reads `signature.get_min_number_of_args()`.
JFunction = Jsonata.JFunction
JFunctionCallable = Jsonata.JFunctionCallable
JLambda = Jsonata.JLambda  # a Python callable as a JSONata function value

recurse_nulls = Utils.recurse  # NULL_VALUE -> None, in place, inside a library result
convert_nulls = Utils.convert_nulls  # the same for a whole result, as the library's evaluate ends
create_sequence = Utils.create_sequence

# --- the reference functions the compiler calls directly ------------------------------------------
is_regex = Functions.is_regex
reference_string = Functions.string  # (value, prettify)
reference_round = Functions.round  # (number, places): half to even through Decimal
reference_substring = Functions.substring  # (string, start, length or None)
reference_lookup = Functions.lookup  # (object or array, key): $lookup, which nodes/mapping_functions overloads
function_clone = Functions.function_clone  # a deep copy through JSON, as `|...|...|` makes it
datetime_from_millis = Functions.datetime_from_millis  # (millis, picture, timezone)


def regex_closure(iterator):
    """The match object `$match` and a regex called as a function give: {match, start, end, groups,
    next}, or None when the iterator of regex matches is exhausted."""
    return Jsonata._regex_closure(iterator)


# --- the built-in function table ------------------------------------------------------------------

def builtin_functions() -> dict:
    """name -> the library's native function value, for every built-in of the function library."""
    return {name: fn for name, fn in Jsonata.static_frame.bindings.items() if isinstance(fn, JFunction)}


def builtin_names() -> frozenset[str]:
    """Every name the library binds before any expression runs ($sum, $map, ...)."""
    return frozenset(Jsonata.static_frame.bindings)


def replace_builtin_method(name: str, replace) -> None:
    """Set the Python implementation behind built-in `name` to `replace(current implementation)`.
    Both engines call the table's entry, so this changes the function for both."""
    native = Jsonata.static_frame.lookup(name)
    native.method = replace(native.method)


def reads_context(signature) -> bool:
    """Whether a built-in's signature takes the context as an argument when one is left out (`-`)."""
    return any(p.context for p in signature._params)


# --- date pictures ($fromMillis, $toMillis) -------------------------------------------------------

class PicturePart(NamedTuple):
    """One part of an analysed date picture: a literal (`value`) or a marker (`component` ...)."""
    type: str  # "literal" or "marker"
    value: Any
    component: Any
    presentation1: Any
    presentation2: Any
    ordinal: bool
    width: Any
    names: Any
    spec: Any  # the library's own part, for format_component


def analyse_picture(picture: str) -> tuple[PicturePart, ...]:
    """The parts of an XPath date picture such as "[Y0001]-[M01]-[D01]"; raises for an invalid one."""
    return tuple(PicturePart(p.type, p.value, p.component, p.presentation1, p.presentation2, p.ordinal,
                             p.width, p.names, p)
                 for p in DateTimeUtils._analyse_datetime_picture(picture).parts)


def format_component(date, part: PicturePart) -> str:
    """A marker part of a picture formatted for `date` (UTC)."""
    return DateTimeUtils._format_component(date, part.spec, 0, 0)


# --- the parser and its AST -----------------------------------------------------------------------

class Node:
    """One node of a parsed expression, copied out of the library's parser symbols: the compiler and
    flows' variable check read these fields and nothing of the parser. `type` says which are set."""
    __slots__ = ("type", "value", "position", "keep_array", "keep_singleton_array", "consarray", "tuple",
                 "focus", "index", "label", "thunk", "descending", "signature",
                 "lhs", "rhs", "expression", "expr", "condition", "then", "else_", "procedure", "body",
                 "pattern", "update", "delete", "group", "ancestor", "slot",
                 "expressions", "arguments", "steps", "predicate", "stages", "terms", "lhs_object")

    def __repr__(self) -> str:
        return f"Node({self.type}, {self.value!r})"


# scalar fields, copied as they are (`signature` is the library's validator of a lambda's signature:
# an object with validate(args, context) -> args)
_SCALARS = ("type", "value", "position", "keep_array", "keep_singleton_array", "consarray", "tuple", "focus",
            "index", "label", "thunk", "descending", "signature")
# fields holding one node: our name -> the parser symbol's attribute
_CHILD = {"lhs": "lhs", "rhs": "rhs", "expression": "expression", "expr": "expr", "condition": "condition",
          "then": "then", "else_": "_else", "procedure": "procedure", "body": "body", "pattern": "pattern",
          "update": "update", "delete": "delete", "group": "group", "ancestor": "ancestor", "slot": "slot"}
_CHILDREN = ("expressions", "arguments", "steps", "predicate", "stages", "terms")  # lists of nodes
# what a generic walk of the tree follows (flows' variable check)
CHILD_FIELDS = tuple(_CHILD)
LIST_FIELDS = _CHILDREN
PAIR_FIELDS = ("lhs_object",)  # lists of [key, value] pairs

_lock = threading.Lock()  # the parser is reused (see _fresh_parser), one parse at a time
_parser: Parser | None = None


def parse(source: str, regex_engine) -> Node:
    """The processed AST of `source`, its regex literals compiled by `regex_engine(pattern, flags)`;
    raises JException as the library's own compile does."""
    with _lock:
        parser = _fresh_parser()
        parser.source = source
        parser.lexer = Tokenizer(source, regex_engine)
        parser.advance()
        raw = parser.expression(0)
        if parser.node.id != "(end)":
            raise JException("S0201", parser.node.position, parser.node.value)
        _unshare(raw, parser, set())
        ast = parser.process_ast(raw)
        if ast.type == "parent" or ast.seeking_parent is not None:
            raise JException("S0217", ast.position, ast.type)
        if parser.errors:
            raise parser.errors[0]
        return _copy(ast, {})


def _fresh_parser() -> Parser:
    """One parser, reset for each parse (under the lock): building its symbol table was three quarters
    of a parse, and a big flow's validate checks tens of thousands of expressions. Tokens are copies
    of the table's symbols, so a parse leaves the table as it found it; the fields reset here are all
    the per-parse state that Parser.__init__ sets."""
    global _parser
    if _parser is None:
        _parser = Parser()
    p = _parser
    p.source, p.recover, p.node, p.lexer = None, False, None, None
    p.errors, p.ancestor_label, p.ancestor_index, p.ancestry = [], 0, 0, []
    return p


def _copy(symbol, memo: dict):
    """Our Node for a parser symbol (the same Node for a symbol met twice); other values as they are."""
    if not isinstance(symbol, Parser.Symbol):
        return symbol
    node = memo.get(id(symbol))
    if node is not None:
        return node
    node = memo[id(symbol)] = Node()
    for name in _SCALARS:
        setattr(node, name, getattr(symbol, name))
    for name, attr in _CHILD.items():
        setattr(node, name, _copy(getattr(symbol, attr), memo))
    for name in _CHILDREN:
        items = getattr(symbol, name)
        setattr(node, name, None if items is None else [_copy(item, memo) for item in items])
    pairs = symbol.lhs_object
    node.lhs_object = None if pairs is None else [[_copy(k, memo), _copy(v, memo)] for k, v in pairs]
    return node


# `a ?: b` and `a ?? b` put the same raw node in two places; the library's AST pass negates a `-5`
# literal in place, so it is processed twice and comes out as `5`. Copying the shared node before
# the pass keeps the suite's meaning.
_RAW_CHILD_ATTRS = ("lhs", "rhs", "expression", "condition", "then", "_else", "procedure", "body",
                    "pattern", "update", "delete")


def _unshare(node, parser, seen):
    if not isinstance(node, Parser.Symbol) or id(node) in seen:
        return
    seen.add(id(node))
    if node.type == "condition" and getattr(node, "condition", None) is not None:
        if node.then is node.condition:
            node.then = copy.deepcopy(node.then, {id(parser): parser})
        cond = node.condition
        if cond.type == "function" and cond.arguments and cond.arguments[0] is node.then:
            node.then = copy.deepcopy(node.then, {id(parser): parser})
    for attr in _RAW_CHILD_ATTRS:
        _unshare(getattr(node, attr, None), parser, seen)
    for attr in ("expressions", "arguments", "steps"):
        for child in getattr(node, attr, None) or ():
            _unshare(child, parser, seen)
    for attr in ("lhs_object", "rhs_object"):
        for pair in getattr(node, attr, None) or ():
            for child in pair:
                _unshare(child, parser, seen)
    for term in getattr(node, "rhs_terms", None) or ():
        _unshare(getattr(term, "expression", None), parser, seen)


# --- the interpreter's evaluator ------------------------------------------------------------------

class Evaluator(Jsonata):
    """The library's evaluator with a hook on the two operators that can allocate without bound (the
    range `a..b` and the concatenation `&`), which it implements as overridable methods."""

    def before_range(self, lhs, rhs) -> None:
        """Called with the range's bounds before the array is built."""

    def before_concat(self, lhs, rhs) -> None:
        """Called with both operands before they are printed and joined."""

    def after_concat(self, result: str) -> None:
        """Called with the joined string."""

    def evaluate_range_expression(self, lhs, rhs):
        self.before_range(lhs, rhs)
        return super().evaluate_range_expression(lhs, rhs)

    def evaluate_string_concat(self, lhs, rhs):
        self.before_concat(lhs, rhs)
        result = super().evaluate_string_concat(lhs, rhs)
        self.after_concat(result)
        return result
