"""What a workspace offers a flow to reference (connections, lookup tables, webhook routes of deployed
flows), read from the store, and a flow's references checked against it with the nodes' own readers
of names (JSONata free variables, URL template placeholders)."""
from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import select

from flows import references
from flows.problem import Problem
from nodes import catalog, url_template
from nodes.expression.variables import free_variables
from runtime import connections, lookups
from runtime.models import WebhookRoute

Workspace = references.Workspace


def workspace_of(rt, workspace: str) -> Workspace:
    """The workspace's connections, non-empty lookup tables and webhook routes, as flows.references reads them."""
    with rt.sessions() as s:
        routes = {(r.method, r.path): r.flow_id for r in s.scalars(
            select(WebhookRoute).where(WebhookRoute.workspace == workspace))}
    return Workspace(workspace, connections={c["name"]: c["system"] for c in connections.list_all(rt, workspace)},
                     lookups=frozenset(t["table"] for t in lookups.tables(rt, workspace)), webhooks=routes)


def check(doc: Any, workspace: Workspace | None, known: Iterable[Problem] = ()) -> list[Problem]:
    """The references of `doc` that do not resolve; params and records are checked even without a workspace.
    A (node, field) that `known` problems already name is left out: one problem per field."""
    taken = {(p.node, p.field) for p in known if p.node is not None}
    return [p for p in references.check(doc, catalog.specs(), workspace, variables=free_variables,
                                        placeholders=_placeholders)
            if (p.node, p.field) not in taken]


def _placeholders(source: str) -> list[str]:
    return url_template.parse(source).params
