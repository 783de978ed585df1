"""Readable connector errors: the remote system's own code, message and field read from a refused answer (OData and
Business Central, NetSuite, RFC 9457 problem details, Shopify-style `errors`, Manhattan `messages`), and the
request that was sent with its secrets masked, so an operator sees why a system refused, next to what it was sent."""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests

EXCERPT = 2000  # characters of a request body kept beside the error
MASK = "***"
NOT_SECRET = {"idempotency-key", "x-idempotency-key"}  # the same on every retry by design; it names no credential
SECRET_HEADERS = ("authorization", "cookie", "key", "token", "secret", "password", "signature", "credential")


def remote(body: Any) -> dict | None:
    """{"code", "message", "field"} the remote system gave for a refusal, from the error shapes we know; None."""
    if not isinstance(body, dict):
        return None
    found = body.get("error")
    if isinstance(found, dict) and found.get("code"):  # OData / Business Central
        return _shape(found.get("code"), found.get("message"), found.get("target"))
    details = body.get("o:errorDetails")  # NetSuite
    if isinstance(details, list) and details and isinstance(details[0], dict):
        first = details[0]
        return _shape(first.get("o:errorCode"), first.get("detail"), first.get("o:errorPath"))
    if body.get("detail") and (body.get("type") or body.get("title")):  # RFC 9457 problem details
        params = body.get("invalidParams") or body.get("invalid-params")
        field = params[0].get("name") if isinstance(params, list) and params and isinstance(params[0], dict) else None
        code = str(body.get("type") or body.get("title")).rsplit(":", 1)[-1].rsplit("/", 1)[-1]
        return _shape(code, body.get("detail"), field)
    messages = body.get("messages")  # Manhattan
    if isinstance(messages, list) and messages and isinstance(messages[0], dict):
        return _shape(messages[0].get("messageKey"), messages[0].get("description"), messages[0].get("field"))
    errors = body.get("errors")  # Shopify and Rails-like: {"field": ["message"]} or a text
    if isinstance(errors, str):
        return _shape("error", errors, None)
    if isinstance(errors, dict) and errors:
        field, said = next(iter(errors.items()))
        text = ", ".join(map(str, said)) if isinstance(said, list) else str(said)
        return _shape("invalid", text, None if field == "base" else field)
    return None


def headline(remote_: dict, status: int, reason: str) -> str:
    """`item_not_found: Item IPOD2008GREEN does not exist (at lines[0].itemNo); HTTP 422 Unprocessable Entity`."""
    at = f" (at {remote_['field']})" if remote_.get("field") else ""
    return f"{remote_['code']}: {remote_['message']}{at}; HTTP {status} {reason}".strip()


def sent(request: requests.PreparedRequest | None) -> dict | None:
    """The request as it went out: method, URL, headers with secrets masked, body (cut to EXCERPT characters)."""
    if request is None:
        return None
    headers = {k: (MASK if _secret(k) else v) for k, v in (request.headers or {}).items()}
    body = request.body
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str):
        try:
            body = json.loads(body) if len(body) <= EXCERPT else body[:EXCERPT]
        except ValueError:
            body = body[:EXCERPT]
    return {"method": request.method, "url": masked_url(request.url or ""), "headers": headers, "body": body}


def _secret(name: str) -> bool:
    lowered = name.lower()
    return lowered not in NOT_SECRET and any(word in lowered for word in SECRET_HEADERS)


def masked_url(url: str) -> str:
    """The URL with the values of secret-looking query arguments (api_key, token, signature) masked."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if not any(_secret(k) for k, _ in pairs):
        return url
    return urlunsplit(parts._replace(query=urlencode([(k, MASK if _secret(k) else v) for k, v in pairs])))


def _shape(code: Any, message: Any, field: Any) -> dict | None:
    if not code and not message:
        return None
    return {"code": str(code or "error")[:100], "message": str(message or "")[:500],
            "field": str(field)[:200] if field else None}
