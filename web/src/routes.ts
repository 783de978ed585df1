// The app's pages by path, listed once: main.tsx picks the page from this table, and AppNav draws its links
// from the entries with a `nav` label. The server answers every path outside /api/, /hooks/, /static/ and
// /socket.io with the app (web/canvas.py), so a path missing here is this app's not-found page.

/** Who sees a header link: everyone, a partner admin, or whoever may read the audit log. */
export type Audience = "all" | "partner_admin" | "audit";

export type Page = "flows" | "login" | "editor" | "monitor" | "runs" | "run" | "templates" | "admin" | "trading-partners" | "threads" | "exceptions" | "dashboard" | "alerts" | "reports" | "connections" | "lookups";

export interface RouteDef {
  /** A path; ":id" is one segment, passed to the page decoded. */
  path: string;
  page: Page;
  /** The label of its header link, if it has one. */
  nav?: string;
  audience?: Audience;
  /** The header groups its links: building flows, operating them, then administration. */
  group?: "build" | "operate";
}

export const ROUTES: readonly RouteDef[] = [
  { path: "/", page: "flows" },
  { path: "/login", page: "login" },
  { path: "/flows", page: "flows", nav: "Flows", audience: "all", group: "build" },
  { path: "/flows/:id", page: "editor" },
  { path: "/monitor/:id", page: "monitor" },
  { path: "/templates", page: "templates", nav: "Templates", audience: "all", group: "build" },
  { path: "/connections", page: "connections", nav: "Connections", audience: "all", group: "build" },
  { path: "/lookups", page: "lookups", nav: "Lookups", audience: "all", group: "build" },
  { path: "/trading-partners", page: "trading-partners", nav: "Trading partners", audience: "all", group: "build" },
  { path: "/runs", page: "runs", nav: "Runs", audience: "all", group: "operate" },
  { path: "/runs/:id", page: "run" },
  { path: "/dashboard", page: "dashboard", nav: "Dashboard", audience: "all", group: "operate" },
  { path: "/exceptions", page: "exceptions", nav: "Exceptions", audience: "all", group: "operate" },
  { path: "/threads", page: "threads", nav: "Threads", audience: "all", group: "operate" },
  { path: "/alerts", page: "alerts", nav: "Alerts", audience: "all", group: "operate" },
  { path: "/reports", page: "reports", nav: "Reports", audience: "all", group: "operate" },
  { path: "/admin/workspaces", page: "admin", nav: "Workspaces", audience: "partner_admin" },
  { path: "/admin/users", page: "admin", nav: "Users", audience: "partner_admin" },
  { path: "/admin/keys", page: "admin", nav: "Keys", audience: "partner_admin" },
  { path: "/admin/audit", page: "admin", nav: "Audit", audience: "audit" },
  { path: "/admin/branding", page: "admin", nav: "Branding", audience: "partner_admin" },
];

/** The page a path shows; `id` is the ":id" segment, or an admin page's own name. */
export interface Match {
  page: Page | "not-found";
  id: string;
  /** The table's path that matched (the path asked for, when none did). */
  path: string;
}

function pattern(path: string): RegExp {
  const body = path.replace(/\/$/, "").replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(":id", "([^/]+)");
  return new RegExp(`^${body}/?$`);
}

const COMPILED = ROUTES.map((r) => ({ route: r, re: pattern(r.path) }));

export function match(path: string): Match {
  for (const { route, re } of COMPILED) {
    const m = re.exec(path);
    if (!m) continue;
    const id = m[1] !== undefined ? safeDecode(m[1]) : route.page === "admin" ? route.path.split("/").pop()! : "";
    return { page: route.page, id, path: route.path };
  }
  return { page: "not-found", id: "", path };
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The header links of these audiences, in table order, as [path, label]. */
export function navLinks(...audiences: Audience[]): [string, string][] {
  return ROUTES.filter((r) => r.nav && audiences.includes(r.audience || "all")).map((r) => [r.path, r.nav!]);
}

/** The header group of a linked path: "build", "operate", or "admin" for the rest. */
export function navGroup(path: string): string {
  return ROUTES.find((r) => r.path === path)?.group || "admin";
}
