"""What the system connectors (connector.erp, .oms, .wms, .tms) share: a product's operations (method, path,
default body, mapping to and from the canonical shape) sent through connector.http's request logic to a named
connection. Which product's operations is the node's `product` (nodes/product.py).

Every write is effectively once: it carries an Idempotency-Key derived from the business document (the run's
business key, never the delivery), and each operation says how a repeat is recognised: the system replays the
first answer for the same key (`key`), or does not honour keys and the connector reads the target's state before
writing (`lookup`), or repeating it changes nothing (`natural`: a set, a status). A write found already done is
not sent again; the message says so (`already_done`: "already done by run N", from the effect ledger)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlsplit

import requests
from flows.spec import Reference
from nodes import connector_http, http_client, url_template
from nodes.base import Context, Emit, NodeError, PrepareEnv, compile_field, evaluate_field
from nodes.expression import Expression


def references(system: str) -> dict[str, Reference]:
    """What a system connector's config names outside the node: a workspace connection (of `system`, or a
    generic http one), and a path template and a product whose {{name}} placeholders are flow params."""
    return {"connection": Reference("connection", systems=(system, "http")), "path": Reference("template"),
            "product": Reference("template")}


REPEATS = ("key", "lookup", "natural")
NOTE = connector_http.NOTE


@dataclass(frozen=True)
class Operation:
    name: str  # "upsert_sales_order"
    title: str  # what the inspector shows
    method: str
    path: str  # template after the connection's base URL; {{$.field}} from the message
    body: str | None = None  # default JSONata body; None: the message itself (not sent with GET)
    result: str | None = None  # the answer's envelope key to unwrap: "order", "data", "value"
    repeat: str | None = None  # writes: how a repeat is recognised, one of REPEATS
    existing: tuple[str, str | None] | None = None  # `lookup`: (path over the request body, list envelope key)
    # Where the product's shape differs from the canonical contract of the operation: the canonical request body
    # to the product's, and the product's answer (after `result`, all pages) to the canonical one.
    request: Callable[[Any], Any] | None = None
    response: Callable[[Any], Any] | None = None
    path_data: str = "message"  # what `path` and `read_after` render over: the message, or the request "body"
    read_after: str | None = None  # a write that answers without the record (204): GET it here afterwards

    def __post_init__(self):
        if self.path_data not in ("message", "body"):
            raise ValueError(f"{self.name}: path_data is 'message' or 'body'")
        if self.method != "GET" and self.repeat not in REPEATS:
            raise ValueError(f"{self.name}: a write must say how a repeat is recognised ({', '.join(REPEATS)})")
        if (self.repeat == "lookup") != (self.existing is not None):
            raise ValueError(f"{self.name}: `existing` goes with repeat='lookup', and only with it")


@dataclass
class Prepared:
    connection: str
    operation: Operation
    path: str  # template source; joined to each connection's base URL, so placeholders are encoded as path parts
    body: Expression | None
    each: Expression | None
    into: str | None
    timeout_s: float
    _urls: dict = field(default_factory=dict, repr=False)  # (base URL, path) -> parsed URL template
    egress: Any = None  # the workspace's current policy: () -> http_client.Egress (PrepareEnv.egress)
    profile: Any = None  # the product's nodes.product.Profile: auth types, paging, error shape; None: plain

    def url(self, base_url: str, path: str | None = None) -> url_template.Template:
        path = self.path if path is None else path
        if (base_url, path) not in self._urls:
            self._urls[(base_url, path)] = url_template.parse(base_url.rstrip("/") + "/" + path.lstrip("/"))
        return self._urls[(base_url, path)]

    def session(self) -> requests.Session:
        # one per thread and policy, shared by every node, kept for keep-alive
        return http_client.session(self.egress() if self.egress else None)


def prepare(operations: tuple[Operation, ...], config: dict, env: PrepareEnv, profile: Any = None) -> Prepared:
    op = next(o for o in operations if o.name == config["operation"])
    body = config.get("body") or op.body
    if op.read_after:
        _checked_path(op.read_after)
    return Prepared(connection=config["connection"], operation=op, path=_checked_path(config.get("path") or op.path),
                    body=compile_field(body, "body") if body else None,
                    each=compile_field(config["each"], "each") if config.get("each") else None,
                    into=config.get("into"), timeout_s=config["timeout_s"], egress=getattr(env, "egress", None),
                    profile=profile)


def _checked_path(source: str) -> str:
    url_template.parse(source)  # a malformed placeholder fails at deploy, not on the first message
    return source


def run(prepared: Prepared, message: Any, ctx: Context) -> Emit:
    conn = _connection(prepared, ctx)
    if prepared.each is None:
        answer, note = _call(prepared, conn, message, ctx, ctx.idempotency_key())
    else:
        items = evaluate_field(prepared.each, message, ctx, "each")
        items = [] if items is None else items if isinstance(items, list) else [items]
        calls = [_call(prepared, conn, item, ctx, f"{ctx.idempotency_key()}-{i}") for i, item in enumerate(items)]
        answer = [a for a, _ in calls]
        notes = [n for _, n in calls if n]
        note = (notes[0] if len(notes) == len(calls) else f"{len(notes)} of {len(calls)} {notes[0]}") if notes else None
    if note:
        ctx.log(note)
    if prepared.into:
        base = message if isinstance(message, dict) else {"message": message}
        base = {k: v for k, v in base.items() if k != NOTE}  # an earlier step's note is not this step's
        yield "out", {**base, prepared.into: answer, **({NOTE: note} if note else {})}
    elif note and isinstance(answer, dict):
        yield "out", {**answer, NOTE: note}
    else:
        yield "out", answer


def _connection(prepared: Prepared, ctx: Context) -> dict:
    try:
        conn = dict(ctx.connection(prepared.connection))
    except KeyError as err:
        raise NodeError("unknown_connection", str(err.args[0] if err.args else err), field="connection") from None
    kind = (conn.get("auth") or {}).get("type", "none")
    if prepared.profile is not None and kind not in prepared.profile.auth:
        raise NodeError("auth_unsupported", f"connection {prepared.connection}: {prepared.profile.id} takes "
                        f"{', '.join(prepared.profile.auth)} auth, not {kind}", field="connection")
    return conn


def _call(prepared: Prepared, conn: dict, message: Any, ctx: Context, key: str) -> tuple[Any, str | None]:
    """One operation: (its canonical answer, a note when the write was found already done)."""
    try:
        return _operate(prepared, conn, message, ctx, key)
    except NodeError as err:
        raise _explained(prepared, err) from None


def _operate(prepared: Prepared, conn: dict, message: Any, ctx: Context, key: str) -> tuple[Any, str | None]:
    op = prepared.operation
    auth = conn.get("auth") or {}
    headers = {"Accept": "application/json"}
    headers.update(connector_http.auth_headers(auth.get("type", "none"), auth.get("header") or "X-API-Key",
                                               lambda name: str(auth.get(name, ""))))
    if op.method == "GET":
        url = _url(prepared, conn, None, message, ctx)
        return _canonical(op, _pages(prepared, conn, _send(prepared, "GET", url, headers), op.result, headers)), None
    headers["Idempotency-Key"] = key
    body = (evaluate_field(prepared.body, message, ctx, "body") if prepared.body is not None
            else connector_http.without_note(message))
    if op.request is not None:
        body = _mapped(op.request, body, "request")
    data = body if op.path_data == "body" else message
    url = _url(prepared, conn, None, data, ctx)
    kwargs = {"json": body} if body is not None else {}
    if op.repeat == "lookup" and not http_client.dry():  # a dry run shows the write, not the read before it
        found = _existing(prepared, conn, body, ctx, headers)  # the target's state, before writing
        if found is not None:
            return _canonical(op, found), connector_http.record_effect(ctx, key, "found in the target before writing")
        try:
            response = connector_http.request(prepared.session(), op.method, url, headers=headers,
                                              timeout_s=prepared.timeout_s, **kwargs)
        except NodeError as err:
            # a concurrent or earlier write the lookup could not see yet: the target refuses the duplicate
            found = _existing(prepared, conn, body, ctx, headers) if _status(err) == 409 else None
            if found is None:
                raise
            return _canonical(op, found), connector_http.record_effect(ctx, key, "the target refused a duplicate")
        replayed = False
    else:
        response = connector_http.request(prepared.session(), op.method, url, headers=headers,
                                          timeout_s=prepared.timeout_s, **kwargs)
        replayed = connector_http.replayed(response)
    if op.read_after:  # the product answers a write without the record: read it
        reading = {k: v for k, v in headers.items() if k != "Idempotency-Key"}
        answer = _unwrap(op.result, _send(prepared, "GET", _url(prepared, conn, op.read_after, data, ctx), reading))
    else:
        answer = _unwrap(op.result, connector_http.parsed(response))
    answer = _canonical(op, answer)
    if op.repeat == "natural":
        return answer, None
    note = connector_http.record_effect(ctx, key, "the target replayed its first answer to this Idempotency-Key")
    return answer, note if replayed else None


def _mapped(transform: Callable[[Any], Any], value: Any, which: str) -> Any:
    try:
        return transform(value)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as err:
        raise NodeError(f"{which}_unmappable", f"the {which} does not fit the operation's contract "
                        f"({type(err).__name__}: {err})", field="body" if which == "request" else None) from None


def _canonical(op: Operation, answer: Any) -> Any:
    return answer if op.response is None else _mapped(op.response, answer, "response")


MAX_PAGES = 100  # a list that never ends is the target's bug; stop reading rather than loop


def _pages(prepared: Prepared, conn: dict, answer: Any, envelope: str | None, headers: dict) -> Any:
    """A list answer with every page after the first appended, as the product's paging says where the next is.
    A next page elsewhere than the connection's origin is refused: the request carries the connection's credentials."""
    paging = prepared.profile.paging if prepared.profile is not None else "none"
    items = _unwrap(envelope, answer)
    if paging == "none" or not isinstance(items, list):
        return items
    items = list(items)
    for _ in range(MAX_PAGES):
        following = _next_page(paging, answer)
        if not following:
            break
        if _origin(following) != _origin(conn["base_url"]):
            raise NodeError("egress_denied", f"connection {prepared.connection}: the next page is at another origin "
                            f"({_origin(following)})", field="connection", details={"url": following})
        answer = _send(prepared, "GET", following, headers)
        page = _unwrap(envelope, answer)
        items += page if isinstance(page, list) else []
    return items


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _next_page(paging: str, answer: Any) -> str | None:
    if not isinstance(answer, dict):
        return None
    if paging == "odata":
        found = answer.get("@odata.nextLink")
    elif answer.get("hasMore"):
        links = answer.get("links") if isinstance(answer.get("links"), list) else []
        found = next((l.get("href") for l in links if isinstance(l, dict) and l.get("rel") == "next"), None)
    else:
        found = None
    return found if isinstance(found, str) and found else None


def _explained(prepared: Prepared, err: NodeError) -> NodeError:
    """A 4xx answer with the product's own error code and message in it, so the run shows why, not only that."""
    reader = prepared.profile.error if prepared.profile is not None else None
    details = err.details if isinstance(err.details, dict) else {}
    if reader is None or not isinstance(details.get("body"), str):
        return err
    try:
        found = reader(json.loads(details["body"]))
    except (ValueError, TypeError, KeyError, AttributeError, IndexError):
        found = None
    if not found:
        return err
    code, text = found
    if not details.get("remote"):  # else the remote system's own code and message are in the headline already
        err.args = (f"{err.message}: {code}: {text}",)
        err.message = err.args[0]
    err.details = {**details, "product_code": code}
    return err


def _url(prepared: Prepared, conn: dict, path: str | None, data: Any, ctx: Context) -> str:
    try:
        return prepared.url(conn["base_url"], path).render_url(ctx.params, data)
    except url_template.HostFromMessage as err:  # a base URL with a {{$...}} in its host
        raise NodeError("egress_denied", f"connection {prepared.connection}: {err.message}", field="connection",
                        details={"position": err.position}) from None
    except url_template.TemplateError as err:
        raise NodeError("template_error", f"path: {err.message}", field="path",
                        details={"position": err.position}) from None


def _send(prepared: Prepared, method: str, url: str, headers: dict) -> Any:
    return connector_http.send(prepared.session(), method, url, headers=headers, timeout_s=prepared.timeout_s)


def _unwrap(key: str | None, answer: Any) -> Any:
    if key and isinstance(answer, dict) and key in answer:
        return answer[key]
    return answer


def _existing(prepared: Prepared, conn: dict, body: Any, ctx: Context, headers: dict) -> Any:
    """What the write would create, read from the target (the first match of the operation's lookup over the
    request body), or None when it is not there."""
    path, envelope = prepared.operation.existing
    found = _unwrap(envelope, _send(prepared, "GET", _url(prepared, conn, path, body, ctx),
                                    {k: v for k, v in headers.items() if k != "Idempotency-Key"}))
    if isinstance(found, list):
        return found[0] if found else None
    return found or None


def _status(err: NodeError) -> int | None:
    return err.details.get("status") if isinstance(err.details, dict) else None
