"""What a dry run (issue 13: "Run with sample" as a dry run, `runs.dry_run`) does at each node: steps without side
effects run as in any run (triggers, transforms, branches, lookups read; control.dedupe reads the ledger through
DryLedger and claims nothing); an HTTP-speaking connector runs up to the call and stops there, its step showing the
exact request it would send (method, URL, headers with secrets masked, body: nodes/http_client.py builds it the way
it would go out); every other node that writes (SQL, files, emits, EDI registers, aggregate groups, throttle
buckets, waits) stops before it runs, its step showing the message it would get. A stopped message ends there, so
nothing downstream of a side effect runs on an answer that never came."""
from __future__ import annotations

from typing import Any

from nodes import http_client
from runtime.plan import PlannedNode

PURE_CATEGORIES = ("event", "transform", "branch")
NOT_PURE = frozenset({"transform.aggregate"})  # keeps its groups in the database
PURE_TYPES = frozenset({"control.discard", "control.dedupe"})  # dedupe: the run's ledger is a DryLedger
HTTP_CONNECTORS = frozenset({"connector.http", "connector.erp", "connector.oms", "connector.wms", "connector.tms"})


def pure(node: PlannedNode) -> bool:
    """Whether the node has no side effect (it runs as in a real run)."""
    category = node.module.SPEC.category
    return node.type in PURE_TYPES or (category in PURE_CATEGORIES and node.type not in NOT_PURE)


def run(node: PlannedNode, message: Any, ctx: Any) -> list[tuple[str, Any]]:
    """The node's emits in a dry run; a node stopped before its side effect emits nothing and notes why (the
    executor makes the note the step's output)."""
    with http_client.dry_run():  # whatever a node would send, nothing leaves the process
        if pure(node):
            return list(node.module.run(node.prepared, message, ctx))
        if node.type not in HTTP_CONNECTORS:
            ctx.note({"dry_run": {"stopped": f"{node.type} would write: stopped before it ran",
                                  "would_receive": message}})
            return []
        try:
            emits = list(node.module.run(node.prepared, message, ctx))
        except http_client.DryRunStop as stop:
            ctx.note({"dry_run": {"stopped": "before the call", "request": stop.request}})
            return []
    # it sent nothing (an `each` over no items): its answer is what it made without the system
    return emits
