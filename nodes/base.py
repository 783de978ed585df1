"""The contract between node types and the runtime that executes them.

A node module has `SPEC` (flows.spec.NodeSpec), an optional `prepare(config, env) -> prepared` that
does once per deployed version what must not be done per message (compile JSONata), and
`run(prepared, message, ctx)` which yields `(port, message)` pairs. What a node needs from the
runtime is declared here as Protocols and passed in as `ctx`; nodes never import the runtime.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Mapping, Protocol

from nodes import expression, mapping_functions

TECHNICAL = "technical"  # timeout, 5xx, connection: retrying may help
BUSINESS = "business"  # unknown SKU, missing ship-to, mapping error: a person must fix data or flow


class NodeError(Exception):
    """A step failed. The runtime retries it if `retryable` and attempts remain, else routes the
    message to the node's `error` port, or to the dead-letter queue when that port is not wired."""

    def __init__(self, code: str, message: str, *, error_class: str = BUSINESS, retryable: bool = False,
                 field: str | None = None, retry_after_s: float | None = None, details: Any = None):
        super().__init__(message)
        self.code = code  # "http_5xx", "timeout", "mapping_error", "unknown_sku", ...
        self.message = message
        self.error_class = error_class
        self.retryable = retryable
        self.field = field  # config field or message path it concerns
        self.retry_after_s = retry_after_s  # a server's Retry-After, honoured over our backoff
        self.details = details  # JSON-able extra, e.g. {"position": 12, "status": 503}

    def to_dict(self) -> dict:
        d = {"code": self.code, "message": self.message, "class": self.error_class, "retryable": self.retryable}
        if self.field:
            d["field"] = self.field
        if self.details is not None:
            d["details"] = self.details
        return d


class Wait(Exception):
    """The step cannot go on yet, and that is no failure (a throttle without a token, a wait for a later
    document, an aggregate's open group). The runtime records the step `waiting`, keeps the message at the
    node and parks the run `queued`; the node runs again with the same message and attempt after `after_s`
    seconds, or sooner when another step wakes the run (Context.wake). State the node needs on its next try
    lives in the database, never in the exception."""

    def __init__(self, reason: str, after_s: float, details: Any = None):
        super().__init__(reason)
        self.reason = reason
        self.after_s = max(0.0, float(after_s))
        self.details = details  # JSON-able, shown on the step: {"until": ..., "key": ...}

    def to_dict(self) -> dict:
        d = {"reason": self.reason, "after_s": round(self.after_s, 3)}
        if self.details is not None:
            d["details"] = self.details
        return d


class Ledger(Protocol):
    def claim(self, scope: str, key: str, run_id: str) -> str | None:
        """Record `key` in `scope` for run_id; return None if new, or the run id that claimed it first."""


class TradingPartners(Protocol):
    """The workspace's EDI trading partners (issue 15), as edi.read and edi.write use them."""

    def get(self, partner: str) -> Mapping[str, Any]:
        """The workspace's trading-partner record by its name (ids, qualifiers, delimiters, version,
        usage indicator, ack expectation); KeyError when there is none."""

    def next_control_number(self, partner: str) -> int:
        """The next interchange control number for partner, unique and never repeated, across processes.
        Used for ISA13 (and GS06 of the single group edi.write puts in an interchange)."""

    def sent(self, partner: str, control_number: int, groups: list[dict]) -> None:
        """Register an interchange we sent (its groups with functional id, control number, set count) so a 997
        can be matched."""

    def acknowledged(self, partner: str, ack: Mapping[str, Any]) -> list[dict]:
        """Match a received 997 record to what we sent; return the matched groups with their new status."""


@dataclass(frozen=True)
class Gathered:
    """What Aggregates.gather found: whether the message is the group owner's (it emits the result), whether its
    part was new, and, once the group left `open` (complete or timed_out), the parts in order and the missing
    positions. The owner of an open group waits `wait_s` at most (to the deadline) for it."""
    group: str
    status: str  # open | complete | timed_out
    owner: bool
    owner_run: str
    stored: bool  # False: this part was stored before (a retry, a replay, a redelivery)
    completed: bool  # this part was the last one missing
    received: int
    wait_s: float = 0.0
    age_s: float = 0.0  # since the group's first part
    parts: list | None = None  # in position order, once the group is closed
    missing: list[int] | None = None


class Aggregates(Protocol):
    """transform.aggregate's groups, kept in the database (runtime/aggregates.py), per flow and node of the step."""

    def gather(self, correlation: str, position: int, count: int, part: Any, timeout_s: float) -> Gathered:
        """Store `part` at `position` of the group `correlation` (opened with `count` and a deadline `timeout_s`
        from now, owned by this run and position, if there is none); once. For the owner's message, close the group
        when it is complete or past its deadline and return its parts. NodeError when the part does not fit
        (count differs, position out of range, group already closed)."""


class Throttles(Protocol):
    """control.throttle's token buckets (runtime/throttles.py): one per workspace and target system, shared by every
    flow of the workspace in every process."""

    def take(self, target: str, rate_per_s: float, burst: int, concurrent: int | None = None,
             hold_s: float = 0.0) -> float:
        """Take a token from the workspace's bucket for `target` (with `concurrent`, also one of that many slots,
        held `hold_s` seconds): 0.0 when taken, else the seconds until one may be, having taken nothing."""


class BusinessEvents(Protocol):
    """Business events between the flows of a workspace (control.emit; runtime/business_events.py)."""

    def emit(self, name: str, key: str | None, payload: Any) -> dict:
        """Store the event `name` (key None: the run's business key) and one run of every deployed flow of the
        workspace whose event.subscribe takes it, in one transaction, then enqueue those runs. Once per step: a
        retry or replay of the step returns its first event (`duplicate`: true) and starts nothing. The receipt:
        {id, name, key, hops, subscribers, runs, duplicate}. NodeError `event_loop` past the chain limit."""


class Waits(Protocol):
    """control.wait's state in the database (runtime/waits.py), for the step's flow, node and run."""

    def wait(self, key: str, timeout_s: float) -> Mapping[str, Any]:
        """This run's wait for `key` at this node: made the first time (deadline now + timeout_s), found again when
        the run runs the node again; an arrival held for the key is taken. {"status": "waiting" | "completed"
        (an arrival matched: in "arrival") | "timed_out", "arrival", "deadline", "waited_s", "remaining_s"}."""

    def arrive(self, key: str, arrival: Any, hold_s: float) -> Mapping[str, Any]:
        """Deliver `arrival` to the oldest run waiting for `key` at this node, else hold it for hold_s. The same
        arrival (its run and branch) again answers what was done the first time: {"key", "age_s"} and
        "delivered_to" (a run id) with "wait_status", or "held_until", or "unmatched" (no hold, nobody waits)."""


class Context(Protocol):
    """What a running step may use. The runtime implements it; tests may pass a simple object."""

    workspace: str
    flow_id: str
    flow_version: int
    run_id: str
    node_id: str
    attempt: int  # 1 for the first try
    in_port: str  # the input port the message came in on ("in" for nodes with one)
    params: Mapping[str, Any]  # the flow's params with their values, also bound as $name in JSONata
    ledger: Ledger
    trading_partners: TradingPartners
    waits: Waits  # control.wait's waits and arrivals
    business_events: BusinessEvents  # control.emit
    throttles: Throttles

    def idempotency_key(self, business_key: str | None = None) -> str:
        """Stable across retries and replays of the same (flow, business key, node)."""

    def note(self, value: Any) -> None:
        """Say what became of a message that ends at this node without going out (an aggregate's part gathered
        into its group): the step's output shows it, since no message does."""

    def wake(self, run_id: str) -> bool:
        """Make a run parked by Wait due now and give it a job; False when it is not parked (running or
        finished). A wake that comes while that run still runs is lost: it then tries again at its after_s."""

    def respond(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        """Answer the webhook caller of a `respond: sync` trigger."""

    def connection(self, name: str) -> Mapping[str, Any]:
        """A named connection of the workspace (base URL, credentials), secrets decrypted."""

    def lookup(self, table: str, key: str) -> Any:
        """The value for `key` in the workspace's cross-reference `table`, or None when there is none."""

    def log(self, message: str) -> None: ...


class PrepareEnv(Protocol):
    """What `prepare` gets: the flow params, so expressions can be checked against them."""

    params: Mapping[str, Any]


Emit = Iterator[tuple[str, Any]]


def bindings(ctx: Context, source: str | None = None) -> dict[str, Any]:
    """The JSONata variables of a step: each flow param as `$name`, and `$run` (id, flow, node, attempt).
    `$run` is reserved: a param of that name is shadowed, as are the mapping functions `$lookup` and
    `$convertUnit` (nodes/mapping_functions.py)."""
    run = {"id": ctx.run_id, "flow": ctx.flow_id, "node": ctx.node_id, "attempt": ctx.attempt}
    functions = mapping_functions.bindings(lambda table, key: ctx.lookup(table, key), source)
    return {**dict(ctx.params or {}), **functions, "run": run}


def compile_field(source: str, field: str, code: str = "expression_invalid") -> expression.Expression:
    """Compile the JSONata of config `field` in `prepare`; a NodeError naming the field if it does not compile."""
    try:
        return expression.compile(source)
    except expression.ExpressionError as err:
        raise NodeError(code, f"{field}: {err.code}: {err.message}", field=field, details=err.to_dict()) from None


def evaluate_field(expr: expression.Expression, data: Any, ctx: Context, field: str,
                   code: str = "expression_error") -> Any:
    """Evaluate a compiled config expression on a message; a business NodeError (not retryable) if it fails,
    carrying the JSONata code and position, because only a fix to the flow or the data can help."""
    try:
        return expr.evaluate(data, bindings(ctx, expr.source))
    except expression.ExpressionError as err:
        raise NodeError(code, f"{field}: {err.code}: {err.message}", field=field, details=err.to_dict()) from None
