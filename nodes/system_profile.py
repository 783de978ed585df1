"""What the system connectors (connector.erp, .oms, .wms, .tms) share: a profile of named operations
(method, path, default body) sent through connector.http's request logic to a named connection."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import requests
from marshmallow import Schema, ValidationError, fields, validate

from flows.spec import Reference
from nodes import connector_http, template
from nodes.base import Context, Emit, NodeError, PrepareEnv, compile_field, evaluate_field
from nodes.expression import Expression


# What a system connector's config names outside the node: the workspace connection, and a path template
# whose {{name}} placeholders are flow params.
REFERENCES = {"connection": Reference("connection"), "path": Reference("template")}


@dataclass(frozen=True)
class Operation:
    name: str  # "upsert_sales_order"
    title: str  # what the inspector shows
    method: str
    path: str  # template after the connection's base URL; {{$.field}} from the message
    body: str | None = None  # default JSONata body; None: the message itself (not sent with GET)
    result: str | None = None  # the answer's envelope key to unwrap: "order", "data", "value"


def _template_ok(value: str) -> None:
    try:
        template.parse(value)
    except template.TemplateError as err:
        raise ValidationError(err.message) from None


def config_schema(operations: tuple[Operation, ...], system: str) -> type[Schema]:
    """The config of a system connector: which connection, which operation, and optional overrides."""

    class Config(Schema):
        connection = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_.-]{1,100}$"),
                                   metadata={"title": "Connection", "format": "connection",
                                             "description": f"Name of the workspace's {system} connection"})
        operation = fields.String(required=True, validate=validate.OneOf([o.name for o in operations]),
                                  metadata={"title": "Operation", "description": "; ".join(
                                      f"{o.name}: {o.title}" for o in operations)})
        path = fields.String(load_default=None, allow_none=True, validate=_template_ok, metadata={
            "title": "Path", "format": "template", "description": "Override of the operation's path, e.g. "
            "orders/{{$.source_id}}"})
        body = fields.String(load_default=None, allow_none=True, metadata={
            "title": "Body", "format": "jsonata", "description": "JSONata of the request body; empty: the "
            "operation's default"})
        each = fields.String(load_default=None, allow_none=True, metadata={
            "title": "For each", "format": "jsonata", "description": "JSONata giving a list: one request per "
            "item (the item is the message of path and body); the answers are collected into a list"})
        into = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(r"^[A-Za-z_]\w*$"),
                             metadata={"title": "Into field", "description": "Keep the message and put the "
                                       "answer into this field; empty: the answer replaces the message"})
        timeout_s = fields.Float(load_default=10.0, validate=validate.Range(0, 300, min_inclusive=False),
                                 metadata={"title": "Timeout (s)"})
        retry = fields.Nested(connector_http.Retry, load_default=lambda: connector_http.Retry().load({}),
                              metadata={"title": "Retry"})

    Config.__doc__ = f"The {system} operation to call and the connection to call it on."
    return Config


@dataclass
class Prepared:
    connection: str
    operation: Operation
    path: str  # template source; joined to each connection's base URL, so placeholders are encoded as path parts
    body: Expression | None
    each: Expression | None
    into: str | None
    timeout_s: float
    _local: threading.local = field(default_factory=threading.local, repr=False)
    _urls: dict = field(default_factory=dict, repr=False)  # base URL -> parsed URL template

    def url(self, base_url: str) -> template.Template:
        if base_url not in self._urls:
            self._urls[base_url] = template.parse(base_url.rstrip("/") + "/" + self.path.lstrip("/"))
        return self._urls[base_url]

    def session(self) -> requests.Session:
        if not hasattr(self._local, "session"):  # one per worker thread, kept for keep-alive
            self._local.session = requests.Session()
        return self._local.session


def prepare(operations: tuple[Operation, ...], config: dict, env: PrepareEnv) -> Prepared:
    op = next(o for o in operations if o.name == config["operation"])
    body = config.get("body") or op.body
    return Prepared(connection=config["connection"], operation=op, path=_checked_path(config.get("path") or op.path),
                    body=compile_field(body, "body") if body else None,
                    each=compile_field(config["each"], "each") if config.get("each") else None,
                    into=config.get("into"), timeout_s=config["timeout_s"])


def _checked_path(source: str) -> str:
    template.parse(source)  # a malformed placeholder fails at deploy, not on the first message
    return source


def run(prepared: Prepared, message: Any, ctx: Context) -> Emit:
    conn = _connection(prepared, ctx)
    if prepared.each is None:
        answer = _call(prepared, conn, message, ctx, ctx.idempotency_key())
    else:
        items = evaluate_field(prepared.each, message, ctx, "each")
        items = [] if items is None else items if isinstance(items, list) else [items]
        answer = [_call(prepared, conn, item, ctx, f"{ctx.idempotency_key()}-{i}") for i, item in enumerate(items)]
    if prepared.into:
        base = message if isinstance(message, dict) else {"message": message}
        yield "out", {**base, prepared.into: answer}
    else:
        yield "out", answer


def _connection(prepared: Prepared, ctx: Context) -> dict:
    try:
        return dict(ctx.connection(prepared.connection))
    except KeyError as err:
        raise NodeError("unknown_connection", str(err.args[0] if err.args else err), field="connection") from None


def _call(prepared: Prepared, conn: dict, message: Any, ctx: Context, key: str) -> Any:
    op = prepared.operation
    try:
        url = prepared.url(conn["base_url"]).render_url(ctx.params, message)
    except template.TemplateError as err:
        raise NodeError("template_error", f"path: {err.message}", field="path",
                        details={"position": err.position}) from None
    auth = conn.get("auth") or {}
    headers = {"Accept": "application/json"}
    headers.update(connector_http.auth_headers(auth.get("type", "none"), auth.get("header") or "X-API-Key",
                                               lambda name: str(auth.get(name, ""))))
    kwargs: dict[str, Any] = {}
    if op.method != "GET":
        headers["Idempotency-Key"] = key
        body = evaluate_field(prepared.body, message, ctx, "body") if prepared.body is not None else message
        if body is not None:
            kwargs["json"] = body
    answer = connector_http.send(prepared.session(), op.method, url, headers=headers, timeout_s=prepared.timeout_s,
                                 **kwargs)
    if op.result and isinstance(answer, dict) and op.result in answer:
        return answer[op.result]
    return answer
