// What the signed-in user may do, from the session (GET /api/v1/session), so pages hide the actions a role
// cannot take. The server is the guard (designer/access.py); this table only mirrors its role table.
import { workspace } from "./api";
import type { Role, Session } from "./types";

export type Permission =
  | "flows:read"
  | "runs:read"
  | "mappings:write"
  | "lookups:write"
  | "runs:write"
  | "flows:write"
  | "connections:write"
  | "audit:read"
  | "keys:write";

const GRANTS: Record<Exclude<Role, "admin">, Permission[]> = {
  viewer: ["flows:read", "runs:read"],
  mapper: ["flows:read", "runs:read", "mappings:write", "lookups:write"],
  operator: ["flows:read", "runs:read", "runs:write", "audit:read"],
  consultant: ["flows:read", "runs:read", "mappings:write", "lookups:write", "runs:write", "flows:write", "connections:write", "audit:read"],
};

let current: Session | null = null;

export function setSession(s: Session | null) {
  current = s;
}

export function session(): Session | null {
  return current;
}

/** The user's role in a workspace ("admin" for a partner admin), or null without a membership. */
export function roleIn(ws = workspace()): Role | null {
  if (!current) return null;
  if (current.user.partner_admin) return "admin";
  return current.workspaces.find((w) => w.id === ws)?.role ?? null;
}

/** A suspended workspace takes no changes from anyone (the server answers 403 workspace_suspended). */
export function suspended(ws = workspace()): boolean {
  return current?.workspaces.find((w) => w.id === ws)?.status === "suspended";
}

export function can(permission: Permission, ws = workspace()): boolean {
  if (!permission.endsWith(":read") && suspended(ws)) return false;
  const role = roleIn(ws);
  if (role === "admin") return true;
  return !!role && (GRANTS[role] || []).includes(permission);
}

export function isPartnerAdmin(): boolean {
  return !!current?.user.partner_admin;
}

/**
 * How the flow editor opens: "build" changes anything; "mapping" changes only what flows/edit_scope.py lets a
 * mapper change (mapping expressions, lookup fields, samples), the structure stays as it is; "view" changes nothing.
 */
export type EditMode = "build" | "mapping" | "view";

export function editMode(ws = workspace()): EditMode {
  if (can("flows:write", ws)) return "build";
  if (can("mappings:write", ws)) return "mapping";
  return "view";
}
