"""Reading what a request carries: the runtime, the workspace (resolved by designer.access), a JSON body,
integer arguments."""
from __future__ import annotations

from typing import Any

from flask import current_app, g, request

from designer import bodies
from designer.errors import ApiError

WORKSPACE_HEADER = "X-Crossdock-Workspace"
MAX_ID = 2**31 - 1  # run ids and version numbers are INTEGER columns: PostgreSQL fails on larger ones (a 500)


def runtime():
    return current_app.extensions["crossdock.runtime"]


def workspace() -> str:
    """The workspace `designer.access.requires` resolved for this request (the caller sees it)."""
    return g.workspace


def refuse_nul() -> None:
    """Before each request (web.app registers it for all): PostgreSQL text cannot hold NUL, so a NUL in the
    path, the query or the workspace header is a 400 here rather than a 500 from the database (SQLite would
    take it: the backends would differ)."""
    args = request.args.items(multi=True)
    if "\x00" in request.path or "\x00" in request.headers.get(WORKSPACE_HEADER, "") or any(
            "\x00" in k or "\x00" in v for k, v in args):
        raise ApiError(400, "invalid_argument", "the request holds a NUL character")


def raw_body() -> bytes:
    """The body's bytes; 413 when it is larger than MAX_CONTENT_LENGTH, also when it streams in without a
    Content-Length (chunked): Werkzeug stops reading such a body at the limit without saying it was cut."""
    raw = request.get_data(cache=True)
    if request.content_length is None and raw:
        request.stream.read(1)  # past the limit: the limited stream raises RequestEntityTooLarge (413)
    return raw


def body(required: bool = True) -> Any:
    """The JSON body, read strictly (designer.bodies); 415 when it declares a type other than JSON."""
    raw = raw_body()
    if not raw:
        if required:
            raise ApiError(400, "invalid_json", "the request needs a JSON body")
        return None
    if request.mimetype and not bodies.is_json(request.mimetype):
        raise ApiError(415, "unsupported_media_type", f"the body must be JSON (Content-Type: application/json), "
                                                      f"not {request.mimetype}", [{"field": "Content-Type"}])
    return bodies.parse_json(raw, request.mimetype_params.get("charset"))


def int_arg(name: str, default: int | None = None, *, minimum: int | None = None,
            maximum: int | None = None) -> int | None:
    raw = request.args.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "invalid_argument", f"{name} must be an integer", [{"field": name}]) from None
    if minimum is not None and value < minimum:
        raise ApiError(400, "invalid_argument", f"{name} must be at least {minimum}", [{"field": name}])
    if maximum is not None and value > maximum:
        raise ApiError(400, "invalid_argument", f"{name} must be at most {maximum}", [{"field": name}])
    return value
