"""The contract between node types and the runtime that executes them.

A node module has `SPEC` (flows.spec.NodeSpec), an optional `prepare(config, env) -> prepared` that
does once per deployed version what must not be done per message (compile JSONata), and
`run(prepared, message, ctx)` which yields `(port, message)` pairs. What a node needs from the
runtime is declared here as Protocols and passed in as `ctx`; nodes never import the runtime.
"""
from __future__ import annotations

from typing import Any, Iterator, Mapping, Protocol

from nodes import expression

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


class Context(Protocol):
    """What a running step may use. The runtime implements it; tests may pass a simple object."""

    workspace: str
    flow_id: str
    flow_version: int
    run_id: str
    node_id: str
    attempt: int  # 1 for the first try
    params: Mapping[str, Any]  # the flow's params with their values, also bound as $name in JSONata
    ledger: Ledger
    trading_partners: TradingPartners

    def idempotency_key(self, business_key: str | None = None) -> str:
        """Stable across retries and replays of the same (flow, business key, node)."""

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


def bindings(ctx: Context) -> dict[str, Any]:
    """The JSONata variables of a step: each flow param as `$name`, and `$run` (id, flow, node, attempt).
    `$run` is reserved: a param of that name is shadowed."""
    run = {"id": ctx.run_id, "flow": ctx.flow_id, "node": ctx.node_id, "attempt": ctx.attempt}
    return {**dict(ctx.params or {}), "run": run}


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
        return expr.evaluate(data, bindings(ctx))
    except expression.ExpressionError as err:
        raise NodeError(code, f"{field}: {err.code}: {err.message}", field=field, details=err.to_dict()) from None
