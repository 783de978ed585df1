"""The functions a mapping may call besides JSONata's own library: `$lookup(table, key[, default])` reads a row of
the workspace's cross-reference tables through the step's Context (read-only, bounded per evaluation), and
`$convertUnit(value, from, to[, factor])` converts by the fixed factor table of flows/mapping_model. Bound by
nodes.base.bindings on every step and preview, so what the mapper writes runs the same everywhere.

`$lookup` is also JSONata's own `$lookup(object, key)`. Ours is bound only for an expression that calls it with a
table name written as a string (`$lookup("uom", ...)`, as the mapper writes it); there the compiled engine leaves the
shadowed built-in to the interpreter (nodes/expression/compiler), and an object or array first still gets the
library's own function. Every other expression keeps JSONata's `$lookup` and the compiled engine."""
from __future__ import annotations

import re
from typing import Any, Callable

from flows.mapping_model import convert
from nodes.expression.jsonata_internals import JLambda, reference_lookup

NAMES = ("lookup", "convertUnit")  # reserved like $run: a flow param of these names is shadowed
MAX_LOOKUPS = 10_000  # $lookup calls per evaluation
MAX_KEY = 500  # characters of a key
TABLE_CALL = re.compile(r"\$lookup\(\s*[\"']")  # $lookup("table", ...): runtime/lookups.py finds a table's users so


def bindings(lookup: Callable[[str, str], Any], source: str | None = None) -> dict[str, Any]:
    """The function values for one evaluation of `source` (None: any); `lookup(table, key)` is the Context's."""
    calls = [0]

    def lookup_row(table: Any = None, key: Any = None, default: Any = None) -> Any:
        if isinstance(table, (dict, list)) or table is None:
            return reference_lookup(table, key)  # JSONata's own $lookup(object, key)
        if key is None:
            return default
        if not isinstance(table, str) or not table:
            raise ValueError("$lookup: the table is a name (a string)")
        if isinstance(key, bool) or not isinstance(key, (str, int, float)):
            raise ValueError("$lookup: the key is a string or number")
        text = str(int(key)) if isinstance(key, float) and key.is_integer() else str(key)
        if len(text) > MAX_KEY:
            raise ValueError(f"$lookup: a key has at most {MAX_KEY} characters")
        calls[0] += 1
        if calls[0] > MAX_LOOKUPS:
            raise ValueError(f"$lookup: at most {MAX_LOOKUPS} lookups per evaluation")
        found = lookup(table, text)
        return default if found is None else found

    def convert_unit(value: Any = None, source: Any = None, target: Any = None, factor: Any = None) -> Any:
        return convert(value, source, target, factor)

    functions = {"convertUnit": JLambda(convert_unit)}
    if source is None or TABLE_CALL.search(source):
        functions["lookup"] = JLambda(lookup_row)
    return functions
