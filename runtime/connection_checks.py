"""Testing a workspace connection (the Connections page's "Test" button, issue 13): one call per kind that checks
reachability and credentials without a side effect, and a result a person can read: `reachable`,
`bad_credentials`, `unreachable`, `egress_denied` or `refused` (an answer that is none of those), never an
exception. HTTP systems get a GET of a harmless authenticated read (PROBES: the sandbox's `whoami`, which real
products have as "who am I" or company info); sql a read-only `SELECT 1`; folder and sftp a listing."""
from __future__ import annotations

import time
from typing import Any

import requests
from sqlalchemy import text

from nodes import connector_http, file_stores, http_client, remote_errors, sql_sessions, sql_targets
from nodes.base import NodeError
from runtime import connections, databases, egress

TIMEOUT_S = 10.0  # one test waits at most this long for the system
# what each HTTP system kind reads, after the connection's base URL; http: the base URL itself
PROBES = {"erp": "whoami", "oms": "whoami", "wms": "whoami", "tms": "whoami", "http": ""}
DENIED = (401, 403)


def check(rt, workspace: str, name: str) -> dict[str, Any] | None:
    """The test's result, or None when the workspace has no such connection."""
    try:
        conn = connections.resolve(rt, workspace, name)
    except KeyError as err:
        if connections.get_row(rt, workspace, name) is None:
            return None
        return _result("bad_credentials", str(err.args[0] if err.args else err))  # secrets it cannot decrypt
    started = time.perf_counter()
    system = conn["system"]
    if system in PROBES:
        result = _http(rt, workspace, conn)
    elif system == "sql":
        result = _sql(rt, workspace, conn)
    else:
        result = _files(rt, workspace, conn)
    return {**result, "connection": name, "system": system,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1)}


def _result(outcome: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"ok": outcome == "reachable", "outcome": outcome, "message": message, **extra}


def _http(rt, workspace: str, conn: dict) -> dict[str, Any]:
    auth = conn.get("auth") or {}
    headers = {"Accept": "application/json"}
    headers.update(connector_http.auth_headers(auth.get("type", "none"), auth.get("header") or "X-API-Key",
                                               lambda key: str(auth.get(key, ""))))
    probe = PROBES[conn["system"]]
    url = conn["base_url"].rstrip("/") + ("/" + probe if probe else "")
    session = http_client.session(egress.policy(rt, workspace))
    try:
        response = http_client.send(session, "GET", url, headers=headers, timeout=TIMEOUT_S)
    except http_client.EgressDenied as err:
        return _result("egress_denied", err.reason, url=url)
    except requests.Timeout:
        return _result("unreachable", f"no answer from {url} within {TIMEOUT_S:g} s", url=url)
    except requests.RequestException as err:
        return _result("unreachable", f"cannot reach {remote_errors.masked_url(url)}: {type(err).__name__}",
                       url=url)
    status = response.status_code
    shown = {"url": remote_errors.masked_url(url), "status": status}
    if status in DENIED:
        return _result("bad_credentials", f"the system refused the credentials ({status} {response.reason})",
                       **shown)
    if status >= 500 or status == 429:
        return _result("refused", f"the system answered {status} {response.reason}; try again later", **shown)
    if status == 404 and probe:
        return _result("reachable", "the system answers; it has no test read, so the credentials are checked on "
                       "the first call", **shown)
    if status >= 400 and probe:
        return _result("refused", f"the system answered {status} {response.reason}", **shown)
    said = connector_http.parsed(response) if status < 300 else None
    anonymous = isinstance(said, dict) and said.get("authenticated") is False and auth.get("type", "none") == "none"
    return _result("reachable", "reachable; the system takes calls without credentials" if anonymous
                   else "reachable, credentials accepted", **shown)


def _sql(rt, workspace: str, conn: dict) -> dict[str, Any]:
    try:
        url = sql_targets.url_of(conn)
        guard = databases.provider(rt, workspace)()  # as the SQL nodes: never Crossdock's own database
        with sql_sessions.transaction(url, guard, TIMEOUT_S, read_only=True) as db:
            db.execute(text("SELECT 1"))
    except NodeError as err:
        return _result(_outcome(err), err.message)
    except ValueError as err:
        return _result("refused", str(err))
    return _result("reachable", f"connected to {sql_targets.where(url)}, credentials accepted")


def _files(rt, workspace: str, conn: dict) -> dict[str, Any]:
    try:
        with file_stores.opened(conn, roots=tuple(rt.settings.file_dirs), egress=egress.policy(rt, workspace),
                                timeout_s=TIMEOUT_S) as store:
            listed = store.list("", ("*",))
    except NodeError as err:
        return _result(_outcome(err), err.message)
    return _result("reachable", f"the folder lists {len(listed)} file(s)")


def _outcome(err: NodeError) -> str:
    """A node's failure as a test outcome: a password or key refused, or the place unreachable."""
    text_ = err.message.lower()
    if err.code == "egress_denied":
        return "egress_denied"
    if any(word in text_ for word in ("password", "authentication", "permission denied", "access denied")):
        return "bad_credentials"
    if err.code in ("connection_error", "timeout", "file_error", "host_key_missing"):
        return "unreachable"
    return "refused"
