"""The AST the compiler reads (`Node`, copied out of jsonata-python's parser by the adapter,
nodes/expression/jsonata_internals.py) and `Unsupported`, the compiler's deliberate refusal."""
from __future__ import annotations

from nodes.expression.jsonata_internals import Node
from nodes.expression.jsonata_internals import parse as parse_with
from nodes.expression.patterns import compile_pattern

__all__ = ["Node", "Unsupported", "parse"]


class Unsupported(Exception):
    """The expression uses something outside the compiled subset; the interpreter evaluates it."""


def parse(source: str) -> Node:
    """The processed AST of `source`, regex literals compiled as both engines compile them; raises
    JException like the interpreter's compile does."""
    return parse_with(source, compile_pattern)
