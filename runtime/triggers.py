"""The deployed trigger nodes the maintenance pass acts on (event.schedule, event.poll, event.file, ...).

Every pass of every process asks which flows have such a trigger. A version's document never changes, so each
process reads a version's document once and keeps its trigger nodes; a pass then reads only the small list of
deployed versions (workspace, flow, version, deploy time), not every document again. With thousands of deployed
flows that is the difference between a pass of milliseconds and one that parses every flow each time.
"""
from __future__ import annotations

import datetime as dt
import threading
import weakref
from dataclasses import dataclass
from typing import Collection

from sqlalchemy import select, tuple_

from runtime.models import Flow, FlowVersion, Workspace

READ_AT_ONCE = 200  # documents read per query when a pass meets versions it has not seen


@dataclass(frozen=True)
class Trigger:
    workspace: str
    flow_id: str
    version: int
    deployed_at: dt.datetime
    node: dict  # the node of the document: id, type, config


class _Known:
    """Per process: (workspace, flow, version) -> the enabled trigger nodes of that version's document."""

    def __init__(self):
        self._nodes: dict[tuple[str, str, int], tuple[dict, ...]] = {}
        self._lock = threading.Lock()

    def missing(self, keys: list[tuple[str, str, int]]) -> list[tuple[str, str, int]]:
        with self._lock:
            return [k for k in keys if k not in self._nodes]

    def learn(self, key: tuple[str, str, int], document: dict) -> None:
        nodes = tuple(n for n in (document or {}).get("nodes") or () if isinstance(n, dict)
                      and str(n.get("type", "")).startswith("event.") and not n.get("disabled"))
        with self._lock:
            self._nodes[key] = nodes

    def nodes(self, key: tuple[str, str, int]) -> tuple[dict, ...]:
        with self._lock:
            return self._nodes.get(key, ())

    def keep_only(self, keys: set[tuple[str, str, int]]) -> None:
        """Versions no longer deployed are forgotten, so the cache holds at most the deployed ones."""
        with self._lock:
            for key in [k for k in self._nodes if k not in keys]:
                del self._nodes[key]


_known: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # per engine: a process may run several Runtimes


def deployed(rt, types: Collection[str], workspace: str | None = None) -> list[Trigger]:
    """The enabled nodes of `types` in the deployed version of every flow of every workspace not suspended (of
    `workspace` only, when given: control.emit's subscribers)."""
    known = _known.setdefault(rt.engine, _Known())
    query = select(Flow.workspace, Flow.id, Flow.deployed_version, FlowVersion.created_at).join(
        FlowVersion, (FlowVersion.workspace == Flow.workspace) & (FlowVersion.flow_id == Flow.id)
        & (FlowVersion.version == Flow.deployed_version)).join(
        Workspace, Workspace.id == Flow.workspace).where(Workspace.status != "suspended")
    with rt.read_sessions() as s:
        rows = s.execute(query if workspace is None else query.where(Flow.workspace == workspace)).all()
        keys = [(w, f, v) for w, f, v, _ in rows]
        missing = known.missing(keys)
        for start in range(0, len(missing), READ_AT_ONCE):
            chunk = missing[start:start + READ_AT_ONCE]
            for w, f, v, document in s.execute(select(
                    FlowVersion.workspace, FlowVersion.flow_id, FlowVersion.version, FlowVersion.document).where(
                    tuple_(FlowVersion.workspace, FlowVersion.flow_id, FlowVersion.version).in_(chunk))):
                known.learn((w, f, v), document)
    if workspace is None:  # a whole pass: what it did not see is no longer deployed
        known.keep_only(set(keys))
    wanted = set(types)
    return [Trigger(w, f, v, at, node) for w, f, v, at in rows
            for node in known.nodes((w, f, v)) if node.get("type") in wanted]
