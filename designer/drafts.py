"""Flow drafts: create, read, save with optimistic concurrency (a revision number), delete, validate.

A draft may have graph problems (the canvas shows them); it must always be a well-formed document.
Inline secrets are stored encrypted and shown masked (runtime/secrets.py); a save sending the mask keeps them.
"""
from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from designer import references
from designer.errors import ApiError
from flows import document, graph, mapping_checks
from flows.problem import WARNING, Problem
from nodes import catalog, expression, mapping_reader, target_schemas
from runtime import intake, secrets
from runtime.deployments import iso
from runtime.models import Flow, WebhookRoute, utcnow

if TYPE_CHECKING:
    from runtime.wiring import Runtime


def check(doc: Any, workspace: references.Workspace | None = None, *, draft: bool = False) -> list[Problem]:
    """Graph and config problems, then what the flow names that does not resolve: params and records always,
    connections, lookup tables and webhook paths against `workspace` when given. Errors block deploy; on a
    `draft` the references are warnings, since a draft may be saved before its connection exists."""
    return _with_references(_own_problems(doc), doc, workspace, draft)


def _own_problems(doc: Any) -> list[Problem]:
    """What the document alone decides: graph, config and expression problems, mappings against their targets."""
    return graph.validate(doc, catalog.specs(), expression.check) + _shared_webhook_routes(doc) + _mappings(doc)


def _mappings(doc: Any) -> list[Problem]:
    """Mappings against the schema of what they feed: unmapped required fields, constants of the wrong type."""
    return mapping_checks.check(doc, target_schemas.schemas(), mapping_reader.mapping)


def _load_checked(doc: Any) -> tuple[dict, list[Problem]]:
    """The document to store, or 400; with its own problems, from the same single load."""
    loaded, problems = graph.checked(doc, catalog.specs(), expression.check)
    loaded = _loaded_or_400(loaded, problems)
    return loaded, problems + _shared_webhook_routes(loaded) + _mappings(loaded)


def _with_references(problems: list[Problem], doc: Any, workspace: references.Workspace | None,
                     draft: bool) -> list[Problem]:
    unresolved = references.check(doc, workspace, problems)
    if draft:
        unresolved = [dataclasses.replace(p, severity=WARNING) for p in unresolved]
    return problems + unresolved


class _Revisions:
    """The own problems of recent draft revisions. A revision never changes (a save makes the next one), so
    GET reads them here instead of validating the whole document again (640 ms for 1,000 nodes); the
    references are checked on every GET, since the workspace changes under a draft."""

    def __init__(self, size: int = 512):
        self._found: OrderedDict[tuple, tuple[Problem, ...]] = OrderedDict()
        self._size, self._lock = size, threading.Lock()

    def problems(self, f: Flow) -> list[Problem]:
        key = self._key(f)
        with self._lock:
            found = self._found.get(key)
            if found is not None:
                self._found.move_to_end(key)
                return list(found)
        found = _own_problems(f.document)
        self.remember(f, found)
        return found

    def remember(self, f: Flow, problems: list[Problem]) -> None:
        with self._lock:
            self._found[self._key(f)] = tuple(problems)
            while len(self._found) > self._size:
                self._found.popitem(last=False)

    @staticmethod
    def _key(f: Flow) -> tuple:
        # created_at too: a flow deleted and created again starts at revision 1 once more
        return f.workspace, f.id, f.revision, f.created_at, f.updated_at


_revisions = _Revisions()


def _shared_webhook_routes(doc: Any) -> list[Problem]:
    """Two webhook triggers of one flow on one method and path: a deploy could route only one of them."""
    nodes = doc.get("nodes") if isinstance(doc, dict) else None
    seen: dict[tuple[str, str], str | None] = {}
    problems = []
    for node in nodes if isinstance(nodes, list) else []:
        if not isinstance(node, dict) or node.get("type") != "event.webhook" or node.get("disabled"):
            continue
        config = node.get("config")
        if not isinstance(config, dict) or not isinstance(config.get("path"), str):
            continue
        node_id = node.get("id") if isinstance(node.get("id"), str) else None
        route = (str(config.get("method", "POST")).upper(), config["path"].strip("/"))
        if route in seen:
            problems.append(Problem("webhook_duplicate", f"{route[0]} /{route[1]} is the path of node "
                                                         f"{seen[route]!r} too", node=node_id, field="path"))
        seen.setdefault(route, node_id)
    return problems


def load_or_400(doc: Any) -> dict:
    return _loaded_or_400(*document.load(doc))


def _loaded_or_400(loaded: dict | None, problems: list[Problem]) -> dict:
    """`loaded`, or a 400 with the schema `problems` that kept it from loading."""
    if loaded is not None:  # name and description are text columns too, and PostgreSQL text refuses NUL
        problems = [Problem(document.INVALID, "Must not contain NUL characters.", field=k)
                    for k in ("name", "description") if "\x00" in loaded.get(k, "")]
    if loaded is None or problems:
        raise ApiError(400, "invalid_document", "the flow document is not valid", [p.to_dict() for p in problems])
    return loaded


def summary(f: Flow) -> dict:
    return {"id": f.id, "name": f.name, "description": f.description, "revision": f.revision,
            "updated_at": iso(f.updated_at), "deployed_version": f.deployed_version,
            "node_count": len((f.document or {}).get("nodes", []))}


def detail(f: Flow, workspace: references.Workspace | None = None) -> dict:
    return {"flow": secrets.masked(f.document), "revision": f.revision, "updated_at": iso(f.updated_at),
            "deployed_version": f.deployed_version,
            "problems": [p.to_dict() for p in _with_references(_revisions.problems(f), f.document, workspace,
                                                               draft=True)]}


def list_flows(rt: Runtime, workspace: str) -> list[dict]:
    with rt.sessions() as s:
        flows = [summary(f) for f in s.scalars(select(Flow).where(Flow.workspace == workspace))]
    # sorted here, not by the database, whose collation would put "Zed" before "alpha" on SQLite and C locales
    return sorted(flows, key=lambda f: (f["name"].casefold(), f["id"]))


def get(rt: Runtime, workspace: str, flow_id: str) -> Flow:
    with rt.sessions() as s:
        f = s.get(Flow, (workspace, flow_id))
    if f is None:
        raise ApiError(404, "not_found", f"no flow {flow_id!r} in workspace {workspace!r}")
    return f


def create(rt: Runtime, workspace: str, doc: Any) -> Flow:
    doc, problems = _load_checked(doc)
    doc, left_out = secrets.conceal(rt.settings, doc)
    if left_out:  # a masked secret with nothing stored to keep: the node lacks it now
        problems = _own_problems(doc)
    now = utcnow()
    exists = ApiError(409, "conflict", f"a flow with id {doc['id']!r} exists already", [{"field": "id"}])
    try:
        with rt.sessions.begin() as s:
            if s.get(Flow, (workspace, doc["id"])) is not None:
                raise exists
            f = Flow(workspace=workspace, id=doc["id"], name=doc["name"], description=doc.get("description", ""),
                     document=doc, revision=1, created_at=now, updated_at=now)
            s.add(f)
    except IntegrityError:
        # two creates raced past the check (PostgreSQL reads committed rows only): the key decides
        with rt.sessions() as s:
            if s.get(Flow, (workspace, doc["id"])) is None:
                raise
        raise exists from None
    _revisions.remember(f, problems)
    return f


def save(rt: Runtime, workspace: str, flow_id: str, doc: Any, if_match: int | None) -> Flow:
    doc, problems = _load_checked(doc)
    if doc["id"] != flow_id:
        raise ApiError(400, "invalid_document", "the document id differs from the flow in the URL", [{"field": "id"}])
    masked = secrets.sends_masked(doc)
    with rt.sessions.begin() as s:
        # the stored document only when a secret is sent back masked: it is read to keep that secret
        row = s.execute(select(Flow.revision, Flow.deployed_version, Flow.created_at,
                               *((Flow.document,) if masked else ())).where(
            Flow.workspace == workspace, Flow.id == flow_id)).first()
        if row is None:
            raise ApiError(404, "not_found", f"no flow {flow_id!r}")
        current, deployed_version, created_at = row[:3]
        if if_match is not None and if_match != current:
            raise ApiError(409, "conflict", f"the flow was saved by someone else (revision {current}, yours "
                                            f"{if_match}); reload it before saving", [{"field": "revision"}])
        doc, left_out = secrets.conceal(rt.settings, doc, row[3] if masked else None)
        # compare-and-set on the revision: two saves racing past the check cannot both win
        saved = dict(document=doc, name=doc["name"], description=doc.get("description", ""), revision=current + 1,
                     updated_at=utcnow())
        done = s.execute(update(Flow).where(Flow.workspace == workspace, Flow.id == flow_id,
                                            Flow.revision == current).values(**saved)).rowcount
        if not done:
            raise ApiError(409, "conflict", "the flow was saved by someone else; reload it before saving")
    if left_out:  # a masked secret with nothing stored to keep: the node lacks it now
        problems = _own_problems(doc)
    # what was written, not read back: a 50,000-node document takes a second to read and parse again
    f = Flow(workspace=workspace, id=flow_id, deployed_version=deployed_version, created_at=created_at, **saved)
    _revisions.remember(f, problems)
    return f


def remove(rt: Runtime, workspace: str, flow_id: str) -> None:
    with rt.sessions.begin() as s:
        if s.get(Flow, (workspace, flow_id)) is None:
            raise ApiError(404, "not_found", f"no flow {flow_id!r}")
        # versions stay: runs pinned to them remain readable; only routing and the draft go
        s.execute(delete(WebhookRoute).where(WebhookRoute.workspace == workspace, WebhookRoute.flow_id == flow_id))
        s.execute(delete(Flow).where(Flow.workspace == workspace, Flow.id == flow_id))
    intake.forget_routes()  # the webhook routes this process keeps (runtime/intake.py)


