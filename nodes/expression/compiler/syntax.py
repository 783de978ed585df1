"""The AST adapter: jsonata-python's parser, with the one repair the compiler needs, and the subset check.

`a ?: b` and `a ?? b` put the same raw node in two places; jsonata-python's AST pass negates a
`-5` literal in place, so it is processed twice and comes out as `5`. Copying the shared node
before the pass keeps the suite's meaning.
"""
from __future__ import annotations

import copy
import threading

from jsonata.jexception import JException
from jsonata.parser import Parser
from jsonata.tokenizer import Tokenizer

from nodes.expression.patterns import compile_pattern

_lock = threading.Lock()


class Unsupported(Exception):
    """The expression uses something outside the compiled subset; the interpreter evaluates it."""


def parse(source: str):
    """The processed AST of `source`; raises JException like the interpreter's compile does."""
    with _lock:
        parser = _fresh_parser()
        parser.source = source
        parser.lexer = Tokenizer(source, compile_pattern)
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
        return ast


_parser: Parser | None = None


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


_CHILD_ATTRS = ("lhs", "rhs", "expression", "condition", "then", "_else", "procedure", "body",
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
    for attr in _CHILD_ATTRS:
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
