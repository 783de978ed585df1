"""HTTP API of the document thread (issue 14): a business document's timeline across flows, found by any of its
keys (PO number, order number, shipment id, tracking number) through the correlation index (runtime/threads.py)."""
from __future__ import annotations

from flask import Blueprint, request

from designer.access import requires
from designer.errors import ApiError
from designer.request_context import runtime, workspace
from flows.document import CORRELATION_KIND
from runtime import threads

bp = Blueprint("threads_api", __name__, url_prefix="/api/v1/threads")


@bp.get("")
@requires("runs:read")
def find_thread():
    key = (request.args.get("key") or "").strip()
    if not key or len(key) > threads.MAX_VALUE_LEN:
        raise ApiError(400, "invalid_argument", f"key is a document's key such as a PO number, 1-"
                                                f"{threads.MAX_VALUE_LEN} characters", [{"field": "key"}])
    kind = request.args.get("kind") or None
    if kind is not None and not CORRELATION_KIND.match(kind):
        raise ApiError(400, "invalid_argument", "kind is a key kind such as po, order, shipment or tracking",
                       [{"field": "kind"}])
    return threads.thread(runtime(), workspace(), key, kind)
