"""Upgrades flow documents written under an older schema id to the current one (`document.load` calls it).

Each step turns a document of one schema id into the next; `upgrade` chains them. Only the current
schema exists so far, so the table is empty. Unknown ids pass through untouched for `document.load`
to report as a problem: upgrading never raises.
"""
from __future__ import annotations

from typing import Any, Callable

CURRENT = "crossdock.flow/1"

# from-schema id -> function returning a new document one schema later (never mutating its argument).
STEPS: dict[str, Callable[[dict], dict]] = {}


def upgrade(doc: Any) -> Any:
    """`doc` moved step by step to CURRENT; anything that is not a known old document is returned as is."""
    seen: set[str] = set()
    while isinstance(doc, dict):
        schema = doc.get("schema")
        # a step that does not move the schema id forward would loop for ever; stop instead
        if not isinstance(schema, str) or schema == CURRENT or schema not in STEPS or schema in seen:
            break
        seen.add(schema)
        doc = STEPS[schema](doc)
    return doc
