"""Each system's own log of the API requests it received: system, method, path and arrival time (epoch seconds, this
machine's clock), the newest LIMIT kept in memory. A test asserts from it what a client did to the system (how fast
control.throttle let calls through), as a real system's access log would show it. `GET /_requests?system=erp&since=
<epoch s>` lists them oldest first; `DELETE /_requests` empties the log. Test control like /_reset, not a product
API."""
from __future__ import annotations

import collections
import threading
import time

from flask import Blueprint, Flask, current_app, jsonify, request

from sandbox import store
from sandbox.rest import Problem

LIMIT = 20_000
bp = Blueprint("sandbox_requests", __name__)


class RequestLog:
    def __init__(self, limit: int = LIMIT):
        self._entries: collections.deque[dict] = collections.deque(maxlen=limit)
        self._lock = threading.Lock()

    def record(self, system: str, method: str, path: str, at: float) -> None:
        with self._lock:
            self._entries.append({"system": system, "method": method, "path": path, "at": at})

    def entries(self, system: str | None = None, since: float | None = None) -> list[dict]:
        with self._lock:
            found = list(self._entries)
        return [e for e in found if (system is None or e["system"] == system) and (since is None or e["at"] >= since)]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def install(app: Flask) -> None:
    """Log every request to a system's API (not its test control, /<sys>/api/_...) as it arrives."""
    log = RequestLog()
    app.extensions["sandbox.requests"] = log

    @app.before_request
    def _record():
        at = time.time()
        parts = request.path.split("/", 4)  # "", system, "api", rest
        if len(parts) >= 4 and parts[1] in store.SYSTEMS and parts[2] == "api" and not parts[3].startswith("_"):
            log.record(parts[1], request.method, request.path, at)

    app.register_blueprint(bp)


@bp.get("/_requests")
def list_requests():
    system = request.args.get("system") or None
    try:
        since = float(request.args["since"]) if request.args.get("since") else None
    except ValueError:
        raise Problem(422, "invalid_field", "'since' must be epoch seconds, e.g. 1795000000.5", "since") from None
    entries = current_app.extensions["sandbox.requests"].entries(system, since)
    return jsonify({"requests": entries, "count": len(entries)})


@bp.delete("/_requests")
def clear_requests():
    current_app.extensions["sandbox.requests"].clear()
    return jsonify({"cleared": True})
