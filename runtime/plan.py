"""A deployed flow version compiled for execution: node modules, prepared configs (JSONata compiled
once, inline secrets decrypted: runtime/secrets.py), the wiring by named port and each node's retry policy.
Plans are cached per version."""
from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from flows import document, graph
from nodes import catalog
from nodes.expression import Expression, ExpressionError
from nodes.expression import compile as compile_expression
from runtime import databases as database_policy
from runtime import egress as egress_policy
from runtime import secrets

log = logging.getLogger(__name__)


class PlanError(Exception):
    """A deployed document that can no longer be planned (e.g. a node type was removed)."""


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    backoff_s: float

    def delay(self, attempt: int, retry_after_s: float | None = None) -> float:
        """Exponential backoff after failed attempt `attempt` (1-based); a server's Retry-After wins if longer."""
        backoff = min(self.backoff_s * (2 ** (attempt - 1)), 300.0)
        return max(backoff, retry_after_s or 0.0)


@dataclass
class PlannedNode:
    id: str
    type: str
    module: ModuleType
    prepared: Any
    retry: RetryPolicy
    error_wired: bool


@dataclass
class Plan:
    workspace: str
    flow_id: str
    version: int
    document: dict
    params: dict
    nodes: dict[str, PlannedNode]
    wires: dict[tuple[str, str], list[tuple[str, str]]]  # (node, out port) -> [(node, in port)]
    business_key: Expression | None = None
    sequence_key: Expression | None = None
    extras: dict = field(default_factory=dict)
    correlation: Correlation | None = None  # the document thread's keys (runtime/threads.py), when it has any

    def targets(self, node_id: str, port: str) -> list[tuple[str, str]]:
        return self.wires.get((node_id, port), [])


class _PrepareEnv:
    def __init__(self, params: dict, egress=None, databases=None):
        self.params = params
        self.egress = egress  # () -> the workspace's current egress policy (nodes/http_client.Egress), or None
        self.databases = databases  # () -> what its SQL nodes may reach (nodes/sql_targets.Guard), or None


def param_values(doc: dict, overrides: dict | None = None) -> dict:
    values = {name: (p or {}).get("default") for name, p in (doc.get("params") or {}).items()}
    values.update(overrides or {})
    return values


def compile_for(rt, doc: dict, workspace: str, flow_id: str, version: int) -> Plan:
    """`compile` as the runtime `rt` plans: its retry default, its keys for the secrets, the workspace's egress."""
    return compile(doc, workspace, flow_id, version, *runtime_args(rt, workspace))


def runtime_args(rt, workspace: str) -> tuple:
    """The last arguments of `compile` (default_retry, settings, egress, databases) as the runtime `rt` gives them."""
    return (rt.settings.default_retry, rt.settings, egress_policy.provider(rt, workspace),
            database_policy.provider(rt, workspace))


def compile(doc: dict, workspace: str, flow_id: str, version: int, default_retry: dict, settings=None,
            egress=None, databases=None) -> Plan:
    """The plan of a version; `settings` decrypt its inline secrets (without them a sealed secret is a
    PlanError), `egress` gives connectors their workspace's policy (without it: public addresses only)."""
    loaded, problems = document.load(doc)
    if loaded is None:
        raise PlanError("; ".join(p.message for p in problems))
    params = param_values(loaded)
    flow_settings = loaded.get("settings") or {}
    flow_retry = {**default_retry, **(flow_settings.get("retry") or {})}
    wires = graph.successors(loaded)  # skips disabled nodes and duplicate edges
    nodes: dict[str, PlannedNode] = {}
    for n in loaded["nodes"]:
        if n.get("disabled"):
            continue
        try:
            module = catalog.get(n["type"], n.get("type_version", 1))
            config = catalog.load_config(module.SPEC, _revealed(settings, module.SPEC, n.get("config")))
            prepare = getattr(module, "prepare", None)
            prepared = prepare(config, _PrepareEnv(params, egress, databases)) if prepare else config
        except Exception as err:  # KeyError for unknown types, ValidationError for bad config, NodeError from prepare
            raise PlanError(f"node {n['id']}: {err}") from None
        # what the node itself says (its schema's filled-in defaults must not shadow the flow's settings)
        own = (n.get("config") or {}).get("retry")
        retry = {**flow_retry, **(own if isinstance(own, dict) else {})}
        nodes[n["id"]] = PlannedNode(
            id=n["id"], type=n["type"], module=module, prepared=prepared,
            retry=RetryPolicy(int(retry.get("max_attempts", 3)), float(retry.get("backoff_s", 1.0))),
            error_wired=bool(wires.get((n["id"], "error"))))
    keys = run_keys(flow_settings)
    return Plan(workspace, flow_id, version, loaded, params, nodes, wires,
                business_key=keys.business_key, sequence_key=keys.sequence_key,
                correlation=correlation(flow_settings, loaded.get("name") or flow_id))


def _revealed(settings, spec, config):
    if settings is not None:
        return secrets.revealed_config(settings, spec, config)
    if any(secrets.PREFIX in str(v) for v in (config or {}).values()):
        raise PlanError("the flow has encrypted secrets and no key was given to decrypt them")
    return config


@dataclass(frozen=True)
class RunKeys:
    """What intake needs of a version to store a run: its business and sequence key expressions."""
    business_key: Expression | None
    sequence_key: Expression | None


def run_keys(settings: dict | None) -> RunKeys:
    """The key expressions of a flow's settings: a few microseconds where compiling the plan takes
    seconds for a big flow, so a webhook can be stored before any worker has planned its version."""
    settings = settings if isinstance(settings, dict) else {}
    return RunKeys(business_key=_key(settings.get("business_key") or settings.get("sequence_key")),
                   sequence_key=_key(settings.get("sequence_key")))


def _key(source: str | None) -> Expression | None:
    if not source:
        return None
    try:
        return compile_expression(source)
    except ExpressionError as err:
        raise PlanError(f"settings key {source!r}: {err.message}") from None


@dataclass(frozen=True)
class Correlation:
    """A version's correlation keys (settings.correlation: key kind -> JSONata) and the label of its runs in a
    document thread (settings.thread_label, else the flow's name); runtime/threads.py evaluates them."""
    keys: tuple[tuple[str, Expression], ...]
    label: str


def correlation(settings: dict | None, name: str) -> Correlation | None:
    """The correlation keys of a flow's settings, compiled; None when it declares none (its runs join no thread)."""
    settings = settings if isinstance(settings, dict) else {}
    declared = settings.get("correlation") or {}
    if not isinstance(declared, dict) or not declared:
        return None
    keys = []
    for kind, source in sorted(declared.items()):
        try:
            keys.append((kind, compile_expression(source)))
        except ExpressionError as err:
            raise PlanError(f"settings.correlation.{kind} {source!r}: {err.message}") from None
    return Correlation(tuple(keys), str(settings.get("thread_label") or name)[:100])


def evaluate_key(expr: Expression | None, message: Any) -> str | None:
    """The business or sequence key of a message; None when it has none (never raises)."""
    if expr is None:
        return None
    try:
        value = expr.evaluate(message, {})
    except ExpressionError:
        return None
    if value is None or isinstance(value, (dict, list)):
        return None
    return str(value).replace("\x00", "")[:200]  # PostgreSQL text cannot hold NUL


class PlanCache:
    """Compiled plans by (workspace, flow, version): versions are immutable, so entries never go stale.

    Built once per process: a second caller of a plan being built waits for it instead of compiling it
    again. `warm` builds in the background (at deploy, at worker start), so no request has to."""

    def __init__(self, size: int = 256):
        self._plans: OrderedDict[tuple, Plan] = OrderedDict()
        self._keys: OrderedDict[tuple, RunKeys] = OrderedDict()
        self._building: dict[tuple, threading.Event] = {}
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: tuple, build) -> Plan:
        while True:
            plan, event, mine = self._claim(key)
            if plan is not None:
                return plan
            if mine:
                return self._build(key, build, event)
            event.wait()  # another caller builds it; then look again: built, or failed and ours to try

    def cached(self, key: tuple) -> Plan | None:
        with self._lock:
            return self._plans.get(key)

    def full(self) -> bool:
        with self._lock:
            return len(self._plans) >= self._size

    def warm(self, key: tuple, build) -> threading.Thread | None:
        """Build the plan of `key` on a background thread, unless it is built or being built; from this
        call on, a caller of `get` waits for that build instead of starting its own."""
        with self._lock:
            if key in self._plans or key in self._building:
                return None
            done = self._building[key] = threading.Event()

        def run() -> None:
            try:
                self._build(key, build, done)
            except Exception:  # the run that needs it fails `not_runnable` with the reason
                log.warning("could not plan %s in advance", key, exc_info=True)

        thread = threading.Thread(target=run, name=f"crossdock-plan-{key}", daemon=True)
        thread.start()
        return thread

    def _claim(self, key: tuple) -> tuple[Plan | None, threading.Event | None, bool]:
        """The cached plan; or the build to wait for; or, when nobody builds it, the caller's turn (mine)."""
        with self._lock:
            plan = self._plans.get(key)
            if plan is not None:
                self._plans.move_to_end(key)
                return plan, None, False
            pending = self._building.get(key)
            if pending is not None:
                return None, pending, False
            done = self._building[key] = threading.Event()
            return None, done, True

    def _build(self, key: tuple, build, done: threading.Event) -> Plan:
        try:
            plan = build()
            with self._lock:
                self._plans[key] = plan
                while len(self._plans) > self._size:
                    self._plans.popitem(last=False)
            return plan
        finally:
            with self._lock:
                self._building.pop(key, None)
            done.set()

    def keys(self, key: tuple, settings) -> RunKeys:
        """The run keys of `key`: from its plan when this process has one, else from `settings()`
        (the version's settings, read on demand), compiled once."""
        with self._lock:
            plan = self._plans.get(key)
            if plan is not None:
                return RunKeys(plan.business_key, plan.sequence_key)
            found = self._keys.get(key)
            if found is not None:
                self._keys.move_to_end(key)
                return found
        found = run_keys(settings())
        with self._lock:
            self._keys[key] = found
            while len(self._keys) > self._size:
                self._keys.popitem(last=False)
        return found
