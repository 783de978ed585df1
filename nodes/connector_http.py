"""connector.http: call a REST endpoint and pass its JSON answer on. A write carries an Idempotency-Key
derived from the business document; when the target replays its first answer, the output says which run
did the write (`already_done`).

The node only classifies failures (technical and retryable, or business and final); the runtime owns
the retry loop and backoff (`retry` config), so a worker never sleeps inside a step.
"""
from __future__ import annotations

import base64
import datetime
import email.utils
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import requests
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from flows.spec import SECRET_BY_NAME, NodeSpec, Port, Reference
from nodes import http_client, remote_errors, url_template
from nodes.base import TECHNICAL, Context, Emit, NodeError, PrepareEnv, compile_field, evaluate_field
from nodes.expression import Expression

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
EXCERPT = 500  # characters of a failed response's body kept in the error
CREDENTIALS = ("username", "password", "token", "key")


def _url_template(value: str) -> None:
    try:
        host = url_template.parse(value).host_placeholders()
    except url_template.TemplateError as err:
        raise ValidationError(err.message) from None
    if host:
        raise ValidationError(f"{host[0].name}: {url_template.HOST_PLACEHOLDER}")


class Auth(Schema):
    """How the request authenticates."""

    type = fields.String(load_default="none", validate=validate.OneOf(("none", "basic", "bearer", "api_key")),
                         metadata={"title": "Type"})
    username = fields.String(validate=url_template.validate_field, metadata={"title": "Username", "format": "template"})
    password = fields.String(validate=url_template.validate_field, metadata={"title": "Password", "format": "secret"})
    token = fields.String(validate=url_template.validate_field, metadata={"title": "Bearer token", "format": "secret"})
    header = fields.String(load_default="X-API-Key", validate=validate.Regexp(r"^[A-Za-z0-9-]+$"),
                           metadata={"title": "API key header"})
    key = fields.String(validate=url_template.validate_field, metadata={"title": "API key", "format": "secret"})

    @validates_schema
    def credentials(self, data: dict, **kwargs: Any) -> None:
        needed = {"basic": ("username", "password"), "bearer": ("token",), "api_key": ("key",)}
        missing = {k: [f"required for {data.get('type')} auth"]
                   for k in needed.get(data.get("type"), ()) if not data.get(k)}
        if missing:
            raise ValidationError(missing)


class Retry(Schema):
    """The retry policy the runtime applies to retryable failures."""

    max_attempts = fields.Integer(strict=True, load_default=3, validate=validate.Range(1, 20),
                                  metadata={"title": "Max attempts"})
    backoff_s = fields.Float(load_default=1.0, validate=validate.Range(0, 3600),
                             metadata={"title": "Backoff (s)", "description": "Doubles after each attempt"})


class Config(Schema):
    """The request and how to judge its answer."""

    method = fields.String(load_default="POST", validate=validate.OneOf(METHODS), metadata={"title": "Method"})
    url = fields.String(required=True, validate=[validate.Length(min=1), _url_template], metadata={
        "title": "URL", "format": "template",
        "description": "{{param}} from the flow params, {{$.order.number}} from the message"})
    headers = fields.Dict(keys=fields.String(validate=validate.Regexp(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")),
                          values=fields.String(validate=url_template.validate_field, metadata={"format": "template"}),
                          load_default=dict, metadata={"title": "Headers", "secret": SECRET_BY_NAME})
    auth = fields.Nested(Auth, load_default=lambda: Auth().load({}), metadata={"title": "Authentication"})
    body = fields.String(load_default=None, allow_none=True, metadata={
        "title": "Body", "format": "jsonata",
        "description": "JSONata of the request body; empty: the message (not sent with GET)"})
    timeout_s = fields.Float(load_default=10.0, validate=validate.Range(0, 300, min_inclusive=False),
                             metadata={"title": "Timeout (s)"})
    retry = fields.Nested(Retry, load_default=lambda: Retry().load({}), metadata={"title": "Retry"})
    ok_statuses = fields.List(fields.Integer(strict=True, validate=validate.Range(100, 599)), load_default=None,
                              allow_none=True, metadata={"title": "OK statuses",
                                                         "description": "Statuses that count as success; "
                                                         "empty: any 2xx"})


SPEC = NodeSpec(
    type="connector.http", version=1, category="connector", title="HTTP request",
    description="Calls a REST API; 5xx, 429, timeouts and connection errors are retried.",
    inputs=(Port("in"),), outputs=(Port("out", "Response", optional=True), Port("error", "Request failed")),
    config=Config, expressions=("body",), icon="globe", tags=("http", "rest"), summary="{{method}} {{url}}",
    references={path: Reference("template") for path in ("url", "headers.*", "auth.username", "auth.password",
                                                          "auth.token", "auth.key")},
)


@dataclass
class Prepared:
    method: str
    url: url_template.Template
    headers: dict[str, url_template.Template]
    auth_type: str
    auth_header: str
    credentials: dict[str, url_template.Template] = field(repr=False)  # username, password, token, key: secrets
    body: Expression | None
    timeout_s: float
    ok_statuses: frozenset[int] | None
    egress: Callable[[], http_client.Egress] | None = None  # the workspace's current policy (PrepareEnv.egress)

    def session(self) -> requests.Session:
        # one per thread and policy, shared by every node, reused for keep-alive
        return http_client.session(self.egress() if self.egress else None)


def prepare(config: dict, env: PrepareEnv) -> Prepared:
    return Prepared(
        method=config["method"], url=url_template.parse(config["url"]),
        headers={k: url_template.parse(v) for k, v in config["headers"].items()},
        auth_type=config["auth"]["type"], auth_header=config["auth"]["header"],
        credentials={k: url_template.parse(config["auth"][k]) for k in CREDENTIALS if config["auth"].get(k)},
        body=compile_field(config["body"], "body") if config.get("body") else None,
        timeout_s=config["timeout_s"],
        ok_statuses=frozenset(config["ok_statuses"]) if config.get("ok_statuses") else None,
        egress=getattr(env, "egress", None))


def run(prepared: Prepared, message: Any, ctx: Context) -> Emit:
    url = _fill(lambda: prepared.url.render_url(ctx.params, message), "url")
    headers = {"Accept": "application/json"}
    headers.update(_credentials(prepared, ctx, message))
    key = ctx.idempotency_key() if prepared.method != "GET" else None
    if key:
        headers["Idempotency-Key"] = key
    headers.update({k: _fill(lambda t=t: t.render(ctx.params, message), f"headers.{k}")
                    for k, t in prepared.headers.items()})
    kwargs: dict[str, Any] = {}
    if prepared.body is not None:
        kwargs["json"] = evaluate_field(prepared.body, message, ctx, "body")
    elif prepared.method not in ("GET", "DELETE"):
        kwargs["json"] = without_note(message)
    if isinstance(kwargs.get("json"), str) and not _json_content(headers):  # X12, CSV: the text itself
        kwargs["data"] = kwargs.pop("json").encode("utf-8")
    response = request(prepared.session(), prepared.method, url, headers=headers, timeout_s=prepared.timeout_s,
                       ok_statuses=prepared.ok_statuses, **kwargs)
    answer = parsed(response)
    if key:
        note = record_effect(ctx, key, "the target replayed its first answer to this Idempotency-Key")
        if replayed(response) and isinstance(answer, dict):
            ctx.log(note)
            answer = {**answer, NOTE: note}
    yield "out", answer


def _json_content(headers: dict[str, str]) -> bool:
    """Whether the request's Content-Type (JSON when none is set) is JSON."""
    kind = next((v for k, v in headers.items() if k.lower() == "content-type"), "application/json")
    kind = kind.split(";")[0].strip().lower()
    return kind == "application/json" or kind.endswith("+json")


NOTE = "already_done"  # the output field that says a write was found already done, and by which run


def without_note(message: Any) -> Any:
    """The message as a request body: an earlier step's note is ours, not the target's (and a body that differs
    between a delivery and its repeat would make the target refuse the reused Idempotency-Key)."""
    if isinstance(message, dict) and NOTE in message:
        return {k: v for k, v in message.items() if k != NOTE}
    return message


def replayed(response: requests.Response) -> bool:
    """The target answered from its idempotency store: the write was done before (Stripe's header)."""
    return response.headers.get("Idempotent-Replayed", "").lower() == "true"


def record_effect(ctx: Context, key: str, how: str) -> str:
    """Record in the effect ledger that the write under `key` is done; the note names the run that did it
    first (a run's own retries and the runs it replays count as itself)."""
    owner = ctx.ledger.claim(f"effect:{ctx.flow_id}:{ctx.node_id}", key, ctx.run_id)
    by = f"run {owner}" if owner is not None else "an earlier attempt of this run or of the run it replays"
    return f"already done by {by} ({how})"


def send(session: requests.Session, method: str, url: str, *, headers: dict[str, str], timeout_s: float,
         ok_statuses: frozenset[int] | None = None, **kwargs: Any) -> Any:
    """Make the request and return its parsed answer; failures become NodeErrors classified as technical
    (retryable: timeout, connection, 5xx, 429) or business. System connectors share this."""
    return parsed(request(session, method, url, headers=headers, timeout_s=timeout_s, ok_statuses=ok_statuses,
                          **kwargs))


def request(session: requests.Session, method: str, url: str, *, headers: dict[str, str], timeout_s: float,
            ok_statuses: frozenset[int] | None = None, **kwargs: Any) -> requests.Response:
    """`send`, but the accepted response itself, for callers that read its headers (Idempotent-Replayed)."""
    try:
        response = http_client.send(session, method, url, headers=headers, timeout=timeout_s, **kwargs)
    except requests.Timeout as err:
        raise NodeError("timeout", f"{method} {url}: no answer within {timeout_s} s",
                        error_class=TECHNICAL, retryable=True, details={"url": url, "reason": str(err)}) from None
    except http_client.EgressDenied as err:
        raise NodeError("egress_denied", f"{method} {url}: {err.reason}", field="url",
                        details={"url": url, "reason": err.reason}) from None
    except requests.exceptions.InvalidHeader as err:  # e.g. a line break filled in from the message
        raise NodeError("invalid_request", f"{method} {url}: {err}", field="headers") from None
    except (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema,
            requests.exceptions.MissingSchema) as err:
        raise NodeError("invalid_request", f"{method} {url}: {err}", field="url") from None
    except requests.RequestException as err:
        raise NodeError("connection_error", f"{method} {url}: {err}", error_class=TECHNICAL,
                        retryable=True, details={"url": url, "reason": str(err)}) from None
    _check(method, ok_statuses, response)
    return response


def _fill(render: Any, field_name: str) -> str:
    try:
        return render()
    except url_template.HostFromMessage as err:
        raise NodeError("egress_denied", f"{field_name}: {err.message}", field=field_name,
                        details={"position": err.position}) from None
    except url_template.TemplateError as err:
        raise NodeError("template_error", f"{field_name}: {err.message}", field=field_name,
                        details={"position": err.position}) from None


def _credentials(prepared: Prepared, ctx: Context, message: Any) -> dict[str, str]:
    def value(name: str) -> str:
        return _fill(lambda: prepared.credentials[name].render(ctx.params, message), f"auth.{name}")

    return auth_headers(prepared.auth_type, prepared.auth_header, value)


def auth_headers(kind: str, header: str, value: Any) -> dict[str, str]:
    """The headers of an auth type; `value(name)` gives a credential (username, password, token, key)."""
    if kind == "basic":
        # RFC 7617: UTF-8 is the charset servers announce and expect
        pair = f"{value('username')}:{value('password')}".encode("utf-8")
        return {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}
    if kind == "bearer":
        return {"Authorization": f"Bearer {value('token')}"}
    if kind == "api_key":
        return {header: value("key")}
    return {}


def _check(method: str, ok_statuses: frozenset[int] | None, response: requests.Response) -> None:
    status = response.status_code
    ok = status in ok_statuses if ok_statuses else 200 <= status < 300
    if ok:
        return
    where = f"{method} {remote_errors.masked_url(response.url)}"  # an api_key in the query stays out of the error
    details = {"status": status, "body": response.text[:EXCERPT], "request": remote_errors.sent(response.request)}
    if status == 429:
        retry_after = _retry_after(response.headers.get("Retry-After"))
        raise NodeError("http_429", f"{where}: 429 too many requests", error_class=TECHNICAL, retryable=True,
                        retry_after_s=retry_after, details={**details, "retry_after_s": retry_after})
    if status >= 500 or status == 408:
        raise NodeError("http_5xx" if status >= 500 else "timeout", f"{where}: {status} {response.reason}",
                        error_class=TECHNICAL, retryable=True, details=details)
    code = "http_4xx" if 400 <= status < 500 else "http_unexpected_status"
    said = remote_errors.remote(parsed(response))
    if said is None:
        raise NodeError(code, f"{where}: {status} {response.reason}", details=details)
    raise NodeError(code, remote_errors.headline(said, status, response.reason), field=said["field"],
                    details={**details, "remote": said})


def _retry_after(value: str | None) -> float | None:
    """Retry-After is either delta-seconds or an HTTP date (RFC 9110 section 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # HTTP dates are GMT
        when = when.replace(tzinfo=datetime.timezone.utc)
    return max(0.0, when.timestamp() - time.time())


def parsed(response: requests.Response) -> Any:
    if "json" in response.headers.get("Content-Type", "").lower() and response.content:
        try:
            return response.json()
        except ValueError:  # labelled JSON that is not: hand on the text
            pass
    return {"status": response.status_code, "text": response.text}
