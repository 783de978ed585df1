"""A fallback to the interpreter is counted by reason and logged once per expression: Unsupported (on
purpose) apart from an unexpected compiler error (a bug, or a changed jsonata-python)."""
from __future__ import annotations

import logging

import pytest

import nodes.expression as expression
from nodes.expression import fallback
from nodes.expression.compiler import CompilerError, Unsupported, compile_closures
from nodes.expression.compiler import builder


@pytest.fixture(autouse=True)
def fresh_counts():
    fallback.reset()
    yield
    fallback.reset()


def test_a_compiled_expression_counts_nothing():
    assert expression.compile("a.b").engine == "compiled"
    assert expression.fallbacks() == {reason: 0 for reason in fallback.REASONS}


def test_unsupported_is_counted_and_logged_once_per_expression(monkeypatch, caplog):
    def refuse(self, node):
        raise Unsupported("string literals, for this test")
    monkeypatch.setattr(builder.Builder, "_string", refuse)
    caplog.set_level(logging.WARNING, logger="crossdock.expression")
    for _ in range(3):
        e = expression.compile('"x" & a')
        assert e.engine == "interpreter" and e.evaluate({"a": "y"}) == "xy"
    expression.compile('"other"')
    assert expression.fallbacks()["unsupported"] == 4
    assert expression.fallbacks()["compiler_error"] == 0
    logged = [r.getMessage() for r in caplog.records]
    assert len(logged) == 2  # once per distinct expression
    assert "unsupported" in logged[0] and "string literals, for this test" in logged[0] and '\'"x" & a\'' in logged[0]


def test_an_unexpected_compiler_error_is_counted_apart_and_names_the_exception(monkeypatch, caplog):
    def crash(self, node):
        raise AttributeError("'Node' object has no attribute 'lhs'")
    monkeypatch.setattr(builder.Builder, "_binary", crash)
    with pytest.raises(CompilerError):
        compile_closures("a + 1")
    caplog.set_level(logging.WARNING, logger="crossdock.expression")
    e = expression.compile("a + 1")
    assert e.engine == "interpreter" and e.evaluate({"a": 1}) == 2  # still right, but slower
    assert expression.fallbacks()["compiler_error"] == 1 and expression.fallbacks()["unsupported"] == 0
    message, = [r.getMessage() for r in caplog.records]
    assert "compiler_error" in message and "AttributeError" in message and "'a + 1'" in message
    assert caplog.records[0].levelno == logging.WARNING


def test_a_long_expression_is_logged_by_its_first_characters(monkeypatch, caplog):
    monkeypatch.setattr(builder.Builder, "_string", lambda self, node: (_ for _ in ()).throw(Unsupported("x")))
    caplog.set_level(logging.WARNING, logger="crossdock.expression")
    source = '"' + "a" * 500 + '"'
    expression.compile(source)
    message, = [r.getMessage() for r in caplog.records]
    assert len(message) < 250 and message.endswith("...'")


def test_a_parse_the_interpreter_accepts_counts_as_rejected_valid(monkeypatch):
    from nodes.expression import compiler

    def broken(source):
        raise RuntimeError("the parser changed")
    monkeypatch.setattr(compiler, "parse", broken)
    assert expression.compile("a").engine == "interpreter"
    assert expression.fallbacks()["rejected_valid"] == 1


def test_an_invalid_expression_is_an_error_not_a_fallback():
    with pytest.raises(expression.ExpressionError):
        expression.compile("a +")
    assert sum(expression.fallbacks().values()) == 0


def test_a_binding_shadowing_a_builtin_is_counted_once_per_expression():
    e = expression.compile("$sum ? $sum : 0")
    assert e.engine == "compiled" and e.evaluate({}, {"x": 1}) is not None
    assert expression.fallbacks()["shadowed_builtin"] == 0
    for _ in range(2):
        assert e.evaluate({}, {"sum": 7}) == 7  # the binding wins, as in the interpreter
    assert expression.fallbacks()["shadowed_builtin"] == 1
