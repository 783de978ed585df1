"""An expression read as the mapper's mapping (flows/mapping_parse over the parse tree of nodes/expression): for the
mapper's parse endpoint, and for validation against target schemas (flows/mapping_checks), cached by text because
the canvas validates the whole document on every edit."""
from __future__ import annotations

import functools

from flows.mapping_parse import Unrepresentable, mapping_of
from nodes import expression
from nodes.expression.compiler.syntax import parse as parse_tree

MAX_SOURCE = 100_000  # characters of an expression to read


@functools.lru_cache(maxsize=4096)
def read(source: str) -> dict:
    """{"mapping", "editable": true} or {"mapping": null, "editable": false, "note", "position"}; never raises for
    a string. Callers must not change the mapping they get (it is cached)."""
    if len(source) > MAX_SOURCE:
        return _not_editable(f"the expression is longer than {MAX_SOURCE} characters")
    trouble = expression.check(source)
    if trouble is not None:
        return _not_editable(f"the expression does not compile: {trouble.message}", trouble.position)
    try:
        return {"mapping": mapping_of(parse_tree(source), source), "editable": True}
    except Unrepresentable as why:
        return _not_editable(why.note, why.position)
    except RecursionError:
        return _not_editable("the expression is nested too deeply")


def mapping(source: str) -> dict | None:
    """The mapping `source` stands for, or None when the mapper cannot show it."""
    return read(source)["mapping"] if isinstance(source, str) else None


def _not_editable(note: str, position: int | None = None) -> dict:
    return {"mapping": None, "editable": False, "note": note, "position": position}
