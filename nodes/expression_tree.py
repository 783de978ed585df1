"""The parse tree of a JSONata expression as flows/ reads it without parsing itself (flows/target_fields.py: the
target fields of a mapping, for the version diff and the three-way merge of a template upgrade): the tree of
nodes/expression, or None for text that is not JSONata or too long to read."""
from __future__ import annotations

import functools
from typing import Any

from nodes.expression.compiler.syntax import parse

MAX_SOURCE = 200_000  # characters of an expression to read


@functools.lru_cache(maxsize=1024)
def tree(source: Any) -> Any | None:
    """Cached by text: a diff of two versions reads each mapping twice. Callers must not change the tree."""
    if not isinstance(source, str) or len(source) > MAX_SOURCE:
        return None
    try:
        return parse(source)
    except Exception:  # the parser raises its own and plain Python errors alike: not JSONata we can read
        return None
