"""The egress policy of a workspace: where its connectors may connect besides public addresses, from
`Workspace.settings["egress"]["allow"]` ("host:port" entries and address ranges such as "10.0.0.0/8").
nodes/http_client.py enforces it; the plan hands each connector `provider(rt, workspace)`, which reads the
policy through a per-process cache (a step needs it on every request), fresh within FRESH_S after a change made
by another process, at once after `allow` or `forget` here."""
from __future__ import annotations

import logging
from typing import Any, Callable
from urllib.parse import urlsplit

from nodes.http_client import Egress
from runtime.models import Workspace
from runtime.readthrough import ReadThrough, database

log = logging.getLogger(__name__)
FRESH_S = 2.0
_policies = ReadThrough(FRESH_S)


def problems(settings: Any) -> list[dict]:
    """What is wrong with a workspace's `settings["egress"]` (for the API that saves settings): [] when fine,
    else [{"field", "message"}]."""
    egress = settings.get("egress") if isinstance(settings, dict) else None
    if egress is None:
        return []
    if not isinstance(egress, dict) or set(egress) - {"allow"}:
        return [{"field": "settings.egress", "message": 'egress is {"allow": ["host:port" or "10.0.0.0/8", ...]}'}]
    allow = egress.get("allow", [])
    if not isinstance(allow, list):
        return [{"field": "settings.egress.allow", "message": "allow is a list of host:port entries and address "
                                                             "ranges"}]
    found = []
    for i, entry in enumerate(allow):
        try:
            Egress.parse([entry])
        except ValueError as err:
            found.append({"field": f"settings.egress.allow[{i}]", "message": str(err)})
    return found


def allow_list(settings: Any) -> list[str]:
    egress = settings.get("egress") if isinstance(settings, dict) else None
    allow = egress.get("allow") if isinstance(egress, dict) else None
    return [e for e in allow if isinstance(e, str)] if isinstance(allow, list) else []


def policy(rt, workspace: str) -> Egress:
    """The workspace's current policy; an entry that does not parse is left out (and logged), never fatal."""
    return _policies.get((database(rt.engine), rt.settings.database_schema, workspace), lambda: _load(rt, workspace))


def provider(rt, workspace: str) -> Callable[[], Egress]:
    """What a connector asks before each request (PrepareEnv.egress)."""
    return lambda: policy(rt, workspace)


def allow(rt, workspace: str, *entries: str) -> list[str]:
    """Add `entries` to the workspace's allow list (those it lacks); the list as saved."""
    Egress.parse(entries)  # ValueError before anything is written
    with rt.sessions.begin() as s:
        row = s.get(Workspace, workspace)
        if row is None:
            raise KeyError(f"no workspace {workspace!r}")
        settings = dict(row.settings or {})
        current = allow_list(settings)
        settings["egress"] = {**(settings.get("egress") if isinstance(settings.get("egress"), dict) else {}),
                              "allow": current + [e for e in entries if e not in current]}
        row.settings = settings  # a new dict: the JSON column sees the change
        saved = settings["egress"]["allow"]
    forget()
    return saved


def allow_origin(rt, workspace: str, url: str) -> list[str]:
    """Allow the host:port of `url` (e.g. the embedded sandbox systems)."""
    parts = urlsplit(url)
    host = f"[{parts.hostname}]" if ":" in (parts.hostname or "") else parts.hostname
    return allow(rt, workspace, f"{host}:{parts.port or (443 if parts.scheme == 'https' else 80)}")


def forget() -> None:
    """Read policies again (call after saving a workspace's settings)."""
    _policies.forget()


def _load(rt, workspace: str) -> Egress:
    # read_sessions: never the sessions of a caller's transaction (a template install), which a cached plan
    # would otherwise keep calling after it ended
    with rt.read_sessions() as s:
        row = s.get(Workspace, workspace)
        settings = row.settings if row is not None else None
    entries = []
    for entry in allow_list(settings):
        try:
            Egress.parse([entry])
            entries.append(entry)
        except ValueError:
            log.warning("workspace %s: egress allow entry %r is neither host:port nor an address range",
                        workspace, entry)
    return Egress.parse(entries)
