"""Who owns what: a partner's customer workspaces (create, rename, suspend and activate, settings such as
the egress allow-list, delete with every row they hold); the partner's users are runtime/members.py.
Every function takes the acting partner and treats another partner's workspace or user as
absent, so that the API answers another tenant's ids with 404."""
from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING, Any, Callable

from sqlalchemy import delete, exists, select
from sqlalchemy.exc import IntegrityError

from runtime import accounts, connections, egress, intake, keys, lookups
from runtime.deployments import iso
from runtime.identity_models import AuditEntry
from runtime.models import Base, Workspace, utcnow
from runtime.store import removal

if TYPE_CHECKING:
    from runtime.wiring import Runtime

WORKSPACE_ID = re.compile(r"[a-z0-9-]{2,64}\Z")
STATUSES = ("active", "suspended")
MAX_NAME = 200
HOST_PORT = re.compile(r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?):(?P<port>\d{1,5})\Z")
MAX_ALLOW = 100
KEPT = ("audit_entries",)  # a deleted workspace's history stays readable by its partner


class Refused(ValueError):
    """A request tenancy turns down: `kind` is "invalid" (400), "not_found" (404) or "conflict" (409);
    `code` the API's error code and `field` what it concerns."""

    def __init__(self, kind: str, code: str, field: str, message: str):
        super().__init__(message)
        self.kind, self.code, self.field, self.message = kind, code, field, message


# --- workspaces

def describe(ws: Workspace, role: str | None = None) -> dict:
    """The workspace as the API shows it; its settings (internal hosts it may reach) to partner admins only."""
    out = {"id": ws.id, "name": ws.name, "status": ws.status, "partner_id": ws.partner_id, "role": role,
           "created_at": iso(ws.created_at)}
    if role == accounts.ADMIN_ROLE:
        out["settings"] = ws.settings or {}
    return out


def list_workspaces(rt: Runtime, partner_id: str, roles: dict[str, str]) -> list[dict]:
    """The workspaces in `roles` ({workspace: the caller's role}) that belong to the partner, by id."""
    with rt.sessions() as s:
        rows = s.scalars(select(Workspace).where(Workspace.partner_id == partner_id, Workspace.id.in_(list(roles)))
                         .order_by(Workspace.id)).all()
    return [describe(ws, roles[ws.id]) for ws in rows]


def get(rt: Runtime, partner_id: str, workspace: str) -> Workspace:
    with rt.sessions() as s:
        ws = s.get(Workspace, workspace) if isinstance(workspace, str) else None
    if ws is None or ws.partner_id != partner_id:
        raise Refused("not_found", "not_found", "workspace", f"no workspace {workspace!r}")
    return ws


def create(rt: Runtime, partner_id: str, workspace: Any, name: Any = None,
           setup: Callable[[str], list[str]] | None = None) -> tuple[dict, list[str]]:
    """A new active workspace of the partner; `setup(workspace)` then fills it (the API installs a template)
    and returns the flow ids it made. When setup raises, the workspace is deleted again and nothing stays."""
    if not isinstance(workspace, str) or not WORKSPACE_ID.match(workspace):
        raise Refused("invalid", "invalid_argument", "id", "a workspace id is 2-64 lower-case letters, digits or '-'")
    name = _name(workspace if name is None else name)
    taken = Refused("conflict", "conflict", "id", f"the workspace id {workspace!r} is taken")
    try:
        with rt.sessions.begin() as s:
            if s.get(Workspace, workspace) is not None:
                raise taken
            # the audit log keeps a deleted workspace's history under its id: a new workspace must not inherit it
            if s.scalar(select(exists().where(AuditEntry.workspace == workspace))):
                raise Refused("conflict", "conflict", "id", f"the workspace id {workspace!r} was used before")
            s.add(Workspace(id=workspace, name=name, partner_id=partner_id, status="active", created_at=utcnow()))
    except IntegrityError:  # two creates raced past the check (PostgreSQL reads committed rows only)
        raise taken from None
    accounts.forget()
    installed: list[str] = []
    if setup is not None:
        try:
            installed = setup(workspace)
        except Exception:
            remove(rt, partner_id, workspace)
            raise
    return describe(get(rt, partner_id, workspace), accounts.ADMIN_ROLE), installed


def update(rt: Runtime, partner_id: str, workspace: str, changes: Any) -> dict:
    """Apply {"name"?, "status"?, "settings"?}; settings are replaced whole."""
    if not isinstance(changes, dict):
        raise Refused("invalid", "invalid_argument", "", "the body is a JSON object")
    unknown = sorted(set(changes) - {"name", "status", "settings"})
    if unknown:
        raise Refused("invalid", "invalid_argument", unknown[0], f"a workspace has no field {unknown[0]!r}")
    values = {}
    if "name" in changes:
        values["name"] = _name(changes["name"])
    if "status" in changes:
        if changes["status"] not in STATUSES:
            raise Refused("invalid", "invalid_argument", "status", f"status is one of {list(STATUSES)}")
        values["status"] = changes["status"]
    if "settings" in changes:
        values["settings"] = check_settings(changes["settings"])
    with rt.sessions.begin() as s:
        ws = s.get(Workspace, workspace)
        if ws is None or ws.partner_id != partner_id:
            raise Refused("not_found", "not_found", "workspace", f"no workspace {workspace!r}")
        for key, value in values.items():
            setattr(ws, key, value)
    forget()
    return describe(get(rt, partner_id, workspace), accounts.ADMIN_ROLE)


def check_settings(settings: Any) -> dict | None:
    """{"egress": {"allow": ["host:port" | "CIDR", ...]}}: what connectors of the workspace may reach
    besides public addresses (runtime/egress.py reads it)."""
    if settings is None:
        return None
    if not isinstance(settings, dict):
        raise Refused("invalid", "invalid_settings", "settings", "settings is an object")
    _only(settings, ("egress",), "settings")
    policy = settings.get("egress")
    if policy is None:
        return {}
    if not isinstance(policy, dict):
        raise Refused("invalid", "invalid_settings", "settings.egress", 'egress is {"allow": [...]}')
    _only(policy, ("allow",), "settings.egress")
    allow = policy.get("allow") or []
    if not isinstance(allow, list) or len(allow) > MAX_ALLOW:
        raise Refused("invalid", "invalid_settings", "settings.egress.allow",
                      f"allow is a list of at most {MAX_ALLOW} host:port or CIDR entries")
    checked = []
    for i, entry in enumerate(allow):
        checked.append(_allow_entry(entry, f"settings.egress.allow[{i}]"))
    return {"egress": {"allow": checked}}


def _allow_entry(entry: Any, field: str) -> str:
    """One entry as stored: checked here and by the parser connectors use (runtime/egress.py), so the
    policy saved is the policy enforced."""
    if isinstance(entry, str) and not egress.problems({"egress": {"allow": [entry]}}):
        checked = _checked_entry(entry.strip())
        if checked is not None:
            return checked
    raise Refused("invalid", "invalid_settings", field,
                  f"{entry!r} is neither host:port (e.g. erp.internal:8443, [::1]:80) nor an address range "
                  "(e.g. 10.0.0.0/8, or one address)")


def _checked_entry(entry: str) -> str | None:
    if "/" in entry:
        try:
            return str(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            return None
    try:
        return str(ipaddress.ip_address(entry))  # one address: a range of one, any port
    except ValueError:
        pass
    m = HOST_PORT.match(entry)
    if m is None or not 1 <= int(m.group("port")) <= 65535:
        return None
    host = m.group("host")
    if host.startswith("["):
        try:
            host = f"[{ipaddress.IPv6Address(host[1:-1])}]"
        except ValueError:
            return None
    return f"{host.lower()}:{int(m.group('port'))}"


def remove(rt: Runtime, partner_id: str, workspace: str) -> None:
    """Delete the workspace and every row it holds, in every table, in one transaction; the audit log stays.
    Tables are found by their `workspace` column, so a table added later is not forgotten."""
    with rt.sessions.begin() as s:
        ws = s.get(Workspace, workspace, with_for_update=True)
        if ws is None or ws.partner_id != partner_id:
            raise Refused("not_found", "not_found", "workspace", f"no workspace {workspace!r}")
        removal.remove_workspace(s, workspace)  # only the run store writes the run tables
        owned = [t for t in Base.metadata.sorted_tables
                 if "workspace" in t.c and t.name not in KEPT and t.name not in removal.TABLES]
        for table in reversed(owned):  # those that refer to others first
            s.execute(delete(table).where(table.c.workspace == workspace))
        s.execute(delete(Workspace).where(Workspace.id == workspace))
    forget()


def forget() -> None:
    """This process's caches of workspace state: webhook routes, egress policies, key rows, identities
    and statuses, connections and lookup rows. Other processes see a change within their caches' bounds (2-5 s)."""
    intake.forget_routes()
    egress.forget()
    keys.forget()
    accounts.forget()
    connections._resolved.forget()  # their modules have no forget() of their own yet
    lookups._rows.forget()


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_NAME or "\x00" in value:
        raise Refused("invalid", "invalid_argument", "name", f"a name is 1-{MAX_NAME} characters")
    return value.strip()


def _only(value: dict, allowed: tuple[str, ...], field: str) -> None:
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise Refused("invalid", "invalid_settings", f"{field}.{unknown[0]}", f"{field} has no field {unknown[0]!r}")
