"""HTTP conventions the four systems share: request parsing, errors, paging, ETags and idempotency keys.

Each system renders errors and pages in its own style; this module only decides what went wrong.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from flask import current_app, jsonify, request
from sqlalchemy import bindparam, func, select
from sqlalchemy.engine import Connection, Engine

from sandbox import clock, store


class Problem(Exception):
    """A client error; the system the request went to renders it in its own error format."""

    def __init__(self, status: int, code: str, message: str, field_name: str | None = None, **extra: Any):
        super().__init__(message)
        self.status, self.code, self.message, self.field, self.extra = status, code, message, field_name, extra


def engine() -> Engine:
    return current_app.extensions["sandbox.engine"]


def body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise Problem(400, "invalid_body", "The request body must be a JSON object.")
    return data


def _path(at: str, name: str) -> str:
    return f"{at}.{name}" if at else name


def text(obj: dict, name: str, required: bool = True, default: str | None = None, at: str = "") -> str | None:
    """A string field; `at` is where `obj` sits in the body (lines[2]), so errors name the full path."""
    value = obj.get(name)
    name = _path(at, name)
    if value is None or value == "":
        if required:
            raise Problem(422, "missing_field", f"'{name}' is required.", name)
        return default
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise Problem(422, "invalid_field", f"'{name}' must be a string.", name)
    return str(value)


def integer(obj: dict, name: str, required: bool = True, minimum: int | None = None,
            default: int | None = None, at: str = "") -> int | None:
    value = obj.get(name)
    name = _path(at, name)
    if value is None:
        if required:
            raise Problem(422, "missing_field", f"'{name}' is required.", name)
        return default
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise Problem(422, "invalid_field", f"'{name}' must be a whole number.", name)
    if minimum is not None and value < minimum:
        raise Problem(422, "invalid_field", f"'{name}' must be at least {minimum}.", name)
    return value


def number(obj: dict, name: str, required: bool = True, default: float | None = None, at: str = "") -> float | None:
    value = obj.get(name)
    name = _path(at, name)
    if value is None:
        if required:
            raise Problem(422, "missing_field", f"'{name}' is required.", name)
        return default
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value != value or value < 0:
        raise Problem(422, "invalid_field", f"'{name}' must be a non-negative number.", name)
    return float(value)


def items(obj: dict, name: str, required: bool = True) -> list[dict]:
    value = obj.get(name)
    if value is None and not required:
        return []
    if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
        raise Problem(422, "invalid_field", f"'{name}' must be a non-empty list of objects.", name)
    return value


def query_int(name: str, default: int, minimum: int = 0, maximum: int = 1000) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise Problem(400, "invalid_query", f"'{name}' must be a whole number.", name) from None
    if not minimum <= value <= maximum:
        raise Problem(400, "invalid_query", f"'{name}' must be between {minimum} and {maximum}.", name)
    return value


@dataclass
class Page:
    rows: list
    total: int
    offset: int
    limit: int
    more: bool = field(init=False)

    def __post_init__(self):
        self.more = self.offset + len(self.rows) < self.total


def page(conn: Connection, query, offset: int, limit: int, params: dict | None = None) -> Page:
    """One page of a select ordered by the caller, with the total the caller's filters match. `query` may be a
    Listing (its filters' values in `params`)."""
    if isinstance(query, Listing):
        params = {**(params or {}), "page_offset": offset, "page_limit": limit}
        total = conn.execute(query.count, params).scalar()
        rows = conn.execute(query.rows, params).mappings().all()
        return Page(list(rows), total, offset, limit)
    total = conn.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar()
    rows = conn.execute(query.offset(offset).limit(limit)).mappings().all()
    return Page(list(rows), total, offset, limit)


class Listing:
    """A list query whose filters are bind parameters, with its count and its page built once (a list a client
    reads on every call, such as a lookup by number before a write)."""

    def __init__(self, query):
        self.count = select(func.count()).select_from(query.order_by(None).subquery())
        self.rows = query.offset(bindparam("page_offset")).limit(bindparam("page_limit"))


def etag(version: int) -> str:
    return f'"{version}"'


def check_if_match(version: int) -> None:
    """Optimistic concurrency: a stale If-Match gets 412, as HTTP says; no If-Match means last write wins."""
    wanted = request.headers.get("If-Match")
    if wanted is None or wanted.strip() == "*":
        return
    tags = {t.strip().removeprefix("W/") for t in wanted.split(",")}
    if etag(version) not in tags:
        raise Problem(412, "precondition_failed",
                      f"The record has changed (current ETag {etag(version)}); read it again and retry.")


def with_etag(payload: dict, version: int, status: int = 200, location: str | None = None):
    response = jsonify(payload)
    response.status_code = status
    response.headers["ETag"] = etag(version)
    if location:
        response.headers["Location"] = urljoin(request.host_url, location)  # absolute, as clients expect
    return response


def request_hash(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


_KEYED = select(store.idempotency_keys).where(store.idempotency_keys.c.system == bindparam("system"),
                                              store.idempotency_keys.c.key == bindparam("key"))  # built once


def replay(conn: Connection, system: str, data: Any):
    """The stored response for this request's Idempotency-Key, or None when the key is new or absent."""
    key = request.headers.get("Idempotency-Key")
    if not key:
        return None
    row = conn.execute(_KEYED, {"system": system, "key": key}).mappings().first()
    if row is None:
        return None
    if row["request_hash"] != request_hash([request.method, request.path, data]):
        raise Problem(422, "idempotency_key_reused",
                      "This Idempotency-Key was already used with a different request.", "Idempotency-Key")
    response = jsonify(row["body"])
    response.status_code = row["status"]
    response.headers["Idempotent-Replayed"] = "true"
    if row["location"]:
        response.headers["Location"] = row["location"]
    return response


def remember(conn: Connection, system: str, data: Any, response) -> None:
    """Store a successful response under the request's Idempotency-Key, in the same transaction."""
    key = request.headers.get("Idempotency-Key")
    if key and response.status_code < 400:
        conn.execute(store.idempotency_keys.insert(), dict(  # the values as parameters: a statement built once
            system=system, key=key, request_hash=request_hash([request.method, request.path, data]),
            status=response.status_code, body=response.get_json(), location=response.headers.get("Location"),
            created_at=clock.stamp(conn, system)))
