// The admin pages' calls to /api/v1 (workspaces, users, partner, keys, audit), typed after the issue 11
// contract. Requests carry the session cookie, the session's CSRF token and the workspace of the address.
import { session } from "../access";
import { ApiError, loginHref, workspace } from "../api";
import type { Problem, TemplateSummary } from "../types";

export type Role = "consultant" | "mapper" | "operator" | "viewer";
export const ROLES: Role[] = ["consultant", "mapper", "operator", "viewer"];

export interface Workspace {
  id: string;
  name: string;
  status: "active" | "suspended";
  partner_id: string;
  role: string;
  created_at: string;
  settings?: { egress?: { allow?: string[] } } & Record<string, unknown>;
}

export interface Membership {
  workspace: string;
  role: Role;
}

export interface User {
  id: number;
  email: string;
  name: string;
  partner_admin: boolean;
  locked: boolean;
  memberships: Membership[];
}

export interface ApiKey {
  id: string;
  name: string;
  scopes: string[];
  created_by: string;
  created_at: string;
  revoked_at: string | null;
  last_used_at: string | null;
}

export interface AuditEntry {
  id: number;
  at: string;
  workspace: string | null;
  actor: string;
  action: string;
  target: string;
  summary: unknown;
}

/** A partner's brand as stored; null (or a missing field) is the built-in default. */
export interface Branding {
  product_name?: string | null;
  logo_url?: string | null;
  colors?: { primary?: string | null; accent?: string | null } | null;
  support?: { email?: string | null; url?: string | null } | null;
}

export interface Partner {
  id: string;
  name: string;
  branding: Branding | null;
  limits: Record<string, number> | null;
}

let csrf: Promise<string> | null = null;
let startedTokenFailed = false;

/** The session's CSRF token: the one the app started with, else (after a csrf_failed) asked of GET /session. */
function csrfToken(): Promise<string> {
  const started = startedTokenFailed ? undefined : session()?.csrf_token;
  if (!csrf && started) csrf = Promise.resolve(started);
  if (!csrf) {
    csrf = fetch("/api/v1/session", { credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : {}))
      .then((s: { csrf_token?: string }) => s.csrf_token || "");
    csrf.catch(() => (csrf = null));
  }
  return csrf;
}

async function request(method: string, path: string, body?: unknown, ws?: string): Promise<Response> {
  const headers: Record<string, string> = { "X-Crossdock-Workspace": ws || workspace() };
  if (method !== "GET") headers["X-Crossdock-CSRF"] = await csrfToken();
  const init: RequestInit = { method, headers, credentials: "same-origin" };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    headers["Content-Type"] = "application/json";
  }
  const res = await fetch(`/api/v1${path}`, init);
  if (res.status === 401) location.assign(loginHref());
  if (!res.ok) {
    let err: { code?: string; message?: string; details?: Problem[] } | undefined;
    try {
      err = (await res.json())?.error;
    } catch {
      err = undefined;
    }
    if (err?.code === "csrf_failed") {
      // the session changed under us (signed in again in another tab): ask for its token next time
      csrf = null;
      startedTokenFailed = true;
    }
    throw new ApiError(res.status, err?.code || `http_${res.status}`, err?.message || res.statusText, err?.details || []);
  }
  return res;
}

async function call<T>(method: string, path: string, body?: unknown, ws?: string): Promise<T> {
  const res = await request(method, path, body, ws);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

const id = encodeURIComponent;

export const adminApi = {
  workspaces: () => call<{ workspaces: Workspace[] }>("GET", "/workspaces").then((r) => r.workspaces),
  createWorkspace: (body: { id: string; name: string; template?: string; params?: Record<string, unknown> }) =>
    call<{ workspace: Workspace; installed: string[] }>("POST", "/workspaces", body),
  updateWorkspace: (ws: string, body: { name?: string; status?: "active" | "suspended"; settings?: Record<string, unknown> }) =>
    call<{ workspace: Workspace } & Partial<Workspace>>("PATCH", `/workspaces/${id(ws)}`, body),
  deleteWorkspace: (ws: string) => call<void>("DELETE", `/workspaces/${id(ws)}`),
  /** The gallery as a workspace of the caller sees it (the bundled templates and that workspace's imports). */
  templates: (ws?: string) => call<{ templates: TemplateSummary[] }>("GET", "/templates", undefined, ws).then((r) => r.templates),

  users: () => call<{ users: User[] }>("GET", "/users").then((r) => r.users),
  createUser: (body: { email: string; name: string; password?: string; partner_admin?: boolean; memberships: Membership[] }) =>
    call<{ user: User; password?: string }>("POST", "/users", body),
  updateUser: (userId: number, body: { name?: string; partner_admin?: boolean; memberships?: Membership[]; unlock?: true; password?: string | null }) =>
    call<{ user: User; password?: string }>("PATCH", `/users/${userId}`, body),
  deleteUser: (userId: number) => call<void>("DELETE", `/users/${userId}`),

  keys: () => call<{ keys: ApiKey[] }>("GET", "/keys").then((r) => r.keys),
  keyScopes: () => call<{ scopes: string[] }>("GET", "/keys/scopes").then((r) => r.scopes),
  createKey: (body: { name: string; scopes: string[] }) => call<{ key: ApiKey; secret: string }>("POST", "/keys", body),
  revokeKey: (keyId: string) => call<void>("DELETE", `/keys/${id(keyId)}`),

  audit: (q: { limit?: number; before?: number | null; action?: string; actor?: string; scope?: "workspace" | "partner" }) => {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== null && v !== "") p.set(k, String(v));
    return call<{ entries: AuditEntry[]; next_before: number | null }>("GET", `/audit?${p}`);
  },
  /** The workspace's audit log as a file (the export needs the workspace header, so no plain link). */
  auditExport: async (format: "csv" | "jsonl", q: { action?: string; actor?: string; scope?: "workspace" | "partner" }): Promise<Blob> => {
    const p = new URLSearchParams({ format });
    for (const [k, v] of Object.entries(q)) if (v) p.set(k, v);
    return (await request("GET", `/audit/export?${p}`)).blob();
  },

  partner: () => call<Partner>("GET", "/partner"),
  savePartner: (body: { name?: string; branding?: Branding }) => call<Partner>("PUT", "/partner", body),
};

export { ApiError };
