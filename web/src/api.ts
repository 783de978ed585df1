// The one module that talks to the server (docs/api.md); everything else calls these functions.
// It holds what every call carries: the session's CSRF token and the workspace (the address's `?workspace=`,
// else the signed-in user's default); a 401 from any call sends the browser to the login page.
import type { Branding, FlowDoc, FlowRecord, FlowStats, FlowSummary, ImportResult, NodeType, Problem, Run, Session, SessionWorkspace, TemplateSummary } from "./types";

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public details: Problem[] = [],
  ) {
    super(message);
  }
}

const WORKSPACE_HEADER = "X-Crossdock-Workspace";
const CSRF_HEADER = "X-Crossdock-CSRF";

let csrfToken: string | null = null;
let defaultWorkspace = "default";
let partner: string | null = null; // the signed-in user's: the login page they come back to wears its brand

/** The workspace a user lands in: `default` when they may see it, else their first (as the server picks). */
export function defaultWorkspaceOf(workspaces: SessionWorkspace[]): string {
  if (!workspaces.length || workspaces.some((w) => w.id === "default")) return "default";
  return workspaces[0].id;
}

function remember(s: Session): Session {
  csrfToken = s.csrf_token;
  defaultWorkspace = defaultWorkspaceOf(s.workspaces);
  partner = s.user.partner_id;
  return s;
}

export function workspace(): string {
  return new URLSearchParams(location.search).get("workspace") || defaultWorkspace;
}

/** The login page's address for coming back here afterwards, under the brand of the partner last signed in. */
export function loginHref(next = location.pathname + location.search): string {
  const q = new URLSearchParams();
  if (next && next !== "/" && !next.startsWith("/login")) q.set("next", next);
  if (partner && partner !== "default") q.set("partner", partner);
  const query = q.toString();
  return query ? `/login?${query}` : "/login";
}

interface CallOptions {
  headers?: Record<string, string>;
  /** A 401 is the answer itself (the login form, the session probe), not a reason to leave the page. */
  anonymous?: boolean;
}

/** A call made in another workspace than the page's (one the user sees). */
const inWorkspace = (ws?: string): CallOptions => (ws ? { headers: { [WORKSPACE_HEADER]: ws } } : {});

async function call<T>(method: string, path: string, body?: unknown, opts: CallOptions = {}): Promise<T> {
  const headers: Record<string, string> = { [WORKSPACE_HEADER]: workspace(), ...opts.headers };
  if (method !== "GET" && method !== "HEAD" && csrfToken) headers[CSRF_HEADER] = csrfToken;
  const init: RequestInit = { method, headers, credentials: "same-origin" };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    headers["Content-Type"] = "application/json";
  }
  const res = await fetch(`/api/v1${path}`, init);
  if (res.status === 204) return undefined as T;
  let payload: unknown = null;
  try {
    payload = await res.json();
  } catch {
    payload = null;
  }
  if (!res.ok) {
    const err = (payload as { error?: { code?: string; message?: string; details?: Problem[] } })?.error;
    if (res.status === 401 && !opts.anonymous) location.assign(loginHref());
    throw new ApiError(res.status, err?.code || `http_${res.status}`, err?.message || res.statusText, err?.details || []);
  }
  return payload as T;
}

/** A request whose body is text of its own type (a CSV upload to a lookup table), answered as `call` answers. */
async function callText<T>(method: string, path: string, text: string, contentType: string): Promise<T> {
  const headers: Record<string, string> = { [WORKSPACE_HEADER]: workspace(), "Content-Type": contentType };
  if (csrfToken) headers[CSRF_HEADER] = csrfToken;
  const res = await fetch(`/api/v1${path}`, { method, headers, body: text, credentials: "same-origin" });
  const payload = await res.json().catch(() => null);
  if (!res.ok) {
    const err = (payload as { error?: { code?: string; message?: string; details?: Problem[] } })?.error;
    if (res.status === 401) location.assign(loginHref());
    throw new ApiError(res.status, err?.code || `http_${res.status}`, err?.message || res.statusText, err?.details || []);
  }
  return payload as T;
}

/** Signing in and out (designer/session_api.py). */
export const sessionApi = {
  current: () => call<Session>("GET", "/session", undefined, { anonymous: true }).then(remember),
  login: (email: string, password: string) => call<Session>("POST", "/session", { email, password }, { anonymous: true }).then(remember),
  logout: () =>
    call<void>("DELETE", "/session", undefined, { anonymous: true }).finally(() => {
      csrfToken = null;
    }),
  changePassword: (current_password: string, new_password: string) => call<void>("POST", "/session/password", { current_password, new_password }),
};

/** The partner's brand: the signed-in user's partner, else `partner` (a login page link may name it). */
export function getBranding(partner?: string | null): Promise<Branding> {
  return call<Branding>("GET", `/branding${partner ? `?partner=${encodeURIComponent(partner)}` : ""}`, undefined, { anonymous: true });
}

// A flow requested while the app script starts, handed to the first getFlow for it (saves a round trip on open).
const prefetched = new Map<string, Promise<FlowRecord>>();

export const api = {
  prefetchFlow: (id: string) => {
    const p = call<FlowRecord>("GET", `/flows/${encodeURIComponent(id)}`);
    p.catch(() => undefined);
    prefetched.set(id, p);
  },
  nodeTypes: () => call<{ node_types: NodeType[] }>("GET", "/node-types").then((r) => r.node_types),
  listFlows: () => call<{ flows: FlowSummary[] }>("GET", "/flows").then((r) => r.flows),
  getFlow: (id: string) => {
    const early = prefetched.get(id);
    prefetched.delete(id);
    return early || call<FlowRecord>("GET", `/flows/${encodeURIComponent(id)}`);
  },
  createFlow: (doc: FlowDoc) => call<FlowRecord>("POST", "/flows", doc),
  saveFlow: (doc: FlowDoc, revision: number | null) =>
    call<FlowRecord>("PUT", `/flows/${encodeURIComponent(doc.id)}`, doc, { headers: revision === null ? {} : { "If-Match": `"${revision}"` } }),
  deleteFlow: (id: string) => call<void>("DELETE", `/flows/${encodeURIComponent(id)}`),
  // as a saved draft is checked: what it names that the workspace lacks is a warning until deploy
  validate: (doc: FlowDoc) => call<{ valid: boolean; problems: Problem[] }>("POST", "/flows/validate?draft=true", doc),
  deploy: (id: string) => call<{ flow_id: string; version: number }>("POST", `/flows/${encodeURIComponent(id)}/deploy`, {}),
  startRun: (id: string, input?: unknown) =>
    call<{ run: Run }>("POST", `/flows/${encodeURIComponent(id)}/runs`, input === undefined ? {} : { input }).then((r) => r.run),
  getRun: (id: string | number) => call<{ run: Run }>("GET", `/runs/${encodeURIComponent(String(id))}`).then((r) => r.run),
  lastRun: (flowId: string) =>
    call<{ runs: Run[] }>("GET", `/runs?flow_id=${encodeURIComponent(flowId)}&limit=1`).then((r) => r.runs[0] || null),
  previewMap: (expression: string, input: unknown, target: PreviewTarget = {}) =>
    call<{ output: unknown; engine: string }>("POST", "/preview/map", { expression, input, ...target }),
  connections: () => call<{ connections: { name: string; system: string }[] }>("GET", "/connections").then((r) => r.connections),
  lookupTables: () => call<{ tables: { table: string; rows: number }[] }>("GET", "/lookups").then((r) => r.tables),
  // the Connections and Lookups pages and the editor's run dialog (issue 13)
  startRunWith: (id: string, body: { input?: unknown; dry_run?: boolean }) =>
    call<{ run: Run }>("POST", `/flows/${encodeURIComponent(id)}/runs`, body).then((r) => r.run),
  connectionList: <T,>() => call<{ connections: T[] }>("GET", "/connections").then((r) => r.connections),
  saveConnection: <T,>(name: string, body: unknown) => call<T>("PUT", `/connections/${encodeURIComponent(name)}`, body),
  deleteConnection: (name: string) => call<void>("DELETE", `/connections/${encodeURIComponent(name)}`),
  testConnection: <T,>(name: string) => call<T>("POST", `/connections/${encodeURIComponent(name)}/test`),
  lookupRows: (table: string) =>
    call<{ rows: Record<string, unknown> }>("GET", `/lookups/${encodeURIComponent(table)}`).then((r) => r.rows),
  lookupUsers: (table: string) =>
    call<{ flows: { flow_id: string; name: string; nodes: string[] }[] }>("GET", `/lookups/${encodeURIComponent(table)}/flows`).then((r) => r.flows),
  lookupCsv: async (table: string) => {
    const res = await fetch(`/api/v1/lookups/${encodeURIComponent(table)}?format=csv`, { headers: { [WORKSPACE_HEADER]: workspace() }, credentials: "same-origin" });
    if (!res.ok) throw new ApiError(res.status, `http_${res.status}`, res.statusText, []);
    return res.text();
  },
  importLookupCsv: (table: string, csv: string) =>
    callText<{ table: string; rows: number }>("POST", `/lookups/${encodeURIComponent(table)}/import`, csv, "text/csv"),
  deleteLookupRow: (table: string, key: string) =>
    call<void>("DELETE", `/lookups/${encodeURIComponent(table)}/rows/${encodeURIComponent(key)}`),
  flowStats: (id: string, windowS = 300, version?: number | "all") =>
    call<FlowStats>("GET", `/flows/${encodeURIComponent(id)}/stats?window_s=${windowS}${version === undefined ? "" : `&version=${version}`}`),
  getVersion: (id: string, version: number) =>
    call<{ flow: FlowDoc; version: number }>("GET", `/flows/${encodeURIComponent(id)}/versions/${version}`).then((r) => r.flow),
  listRuns: (filter: RunFilter) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(filter)) if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
    return call<{ runs: Run[]; next: string | null }>("GET", `/runs?${q}`);
  },
  stepPayload: (runId: string | number, seq: number, kind: "input" | "output") =>
    call<{ data: unknown }>("GET", `/runs/${encodeURIComponent(String(runId))}/steps/${seq}/${kind}`).then((r) => r.data),
  replay: (runId: string | number, body: { version: "original" | "current"; from_node?: string; input?: unknown }) =>
    call<{ run: Run }>("POST", `/runs/${encodeURIComponent(String(runId))}/replay`, body).then((r) => r.run),
  templates: () => call<{ templates: TemplateSummary[] }>("GET", "/templates").then((r) => r.templates),
  importTemplate: (body: { template: string; params?: Record<string, unknown>; flow_id?: string }) =>
    call<ImportResult>("POST", "/templates/import", body),
  // version diff and template upgrades (issue 13; shapes in editor/VersionDiff.tsx, pages/TemplateUpgrade.tsx)
  flowVersions: <T,>(id: string) => call<{ versions: T[] }>("GET", `/flows/${encodeURIComponent(id)}/versions`).then((r) => r.versions),
  flowDiff: <T,>(id: string, from: string, to: string) =>
    call<T>("GET", `/flows/${encodeURIComponent(id)}/diff?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`),
  upgradePreview: <T,>(id: string) => call<T>("GET", `/flows/${encodeURIComponent(id)}/upgrade`),
  upgradeFlow: <T,>(id: string, body: { to_version: number; revision: number; resolutions: Record<string, "ours" | "theirs"> }) =>
    call<T>("POST", `/flows/${encodeURIComponent(id)}/upgrade`, body),
  // EDI trading partners (pages/TradingPartners.tsx; the shapes are in pages/TradingPartnersForm.tsx)
  tradingPartners: <T,>() => call<{ trading_partners: T[] }>("GET", "/trading-partners").then((r) => r.trading_partners),
  saveTradingPartner: <T,>(name: string, body: unknown) => call<T>("PUT", `/trading-partners/${encodeURIComponent(name)}`, body),
  deleteTradingPartner: (name: string) => call<void>("DELETE", `/trading-partners/${encodeURIComponent(name)}`),
  // the document thread: a business document's runs across flows, by any of its keys (pages/Threads.tsx)
  thread: (key: string) => call<Thread>("GET", `/threads?key=${encodeURIComponent(key)}`),
  // the exception workbench: dead letters and business exceptions, grouped, handled, retried (pages/Exceptions.tsx)
  exceptions: (filter: ExceptionFilter) => call<{ exceptions: WorkbenchException[]; next: number | null }>("GET", `/exceptions?${query(filter)}`),
  exceptionGroups: (filter: ExceptionFilter) =>
    call<{ groups: ExceptionGroup[] }>("GET", `/exceptions/groups?${query(filter)}`).then((r) => r.groups),
  // `ws`: the exception's own workspace when it is not the page's (the partner-wide view acts in each one's)
  exception: (id: number, ws?: string) =>
    call<{ exception: WorkbenchException }>("GET", `/exceptions/${id}`, undefined, inWorkspace(ws)).then((r) => r.exception),
  assignException: (id: number, assignee: string | null, ws?: string) =>
    call<{ exception: WorkbenchException }>("POST", `/exceptions/${id}/assign`, { assignee }, inWorkspace(ws)).then((r) => r.exception),
  commentException: (id: number, text: string, ws?: string) =>
    call<{ exception: WorkbenchException }>("POST", `/exceptions/${id}/comments`, { text }, inWorkspace(ws)).then((r) => r.exception),
  resolveExceptions: (choice: ExceptionChoice, ws?: string) =>
    call<{ resolved: number; remaining: number }>("POST", "/exceptions/resolve", choice, inWorkspace(ws)),
  retryExceptions: (choice: ExceptionChoice, ws?: string) => call<RetryResult>("POST", "/exceptions/retry", choice, inWorkspace(ws)),
  dryRunExceptions: (choice: ExceptionChoice, ws?: string) =>
    call<{ results: DryResult[]; remaining: number }>("POST", "/exceptions/dry-run", choice, inWorkspace(ws)),
  // alerts: rules and what they raised (pages/Alerts.tsx)
  alertRules: () => call<{ rules: AlertRule[] }>("GET", "/alert-rules").then((r) => r.rules),
  createAlertRule: (rule: AlertRuleIn) => call<{ rule: AlertRule }>("POST", "/alert-rules", rule).then((r) => r.rule),
  saveAlertRule: (id: number, rule: AlertRuleIn) => call<{ rule: AlertRule }>("PUT", `/alert-rules/${id}`, rule).then((r) => r.rule),
  deleteAlertRule: (id: number) => call<void>("DELETE", `/alert-rules/${id}`),
  alerts: (status?: string) => call<{ alerts: Alert[] }>("GET", `/alerts?${query({ status, limit: 200 })}`).then((r) => r.alerts),
  acknowledgeAlert: (id: number) => call<{ alert: Alert }>("POST", `/alerts/${id}/acknowledge`).then((r) => r.alert),
  resolveAlert: (id: number) => call<{ alert: Alert }>("POST", `/alerts/${id}/resolve`).then((r) => r.alert),
  // the SLA report of a month (pages/Reports.tsx); the CSV and PDF are links: slaReportHref
  slaReport: (month: string, customer: string) => call<{ report: SlaReport }>("GET", `/reports/sla?${query({ month, workspace: customer })}`).then((r) => r.report),
  putLookupRow: (table: string, key: string, value: unknown) =>
    call<unknown>("PUT", `/lookups/${encodeURIComponent(table)}/rows/${encodeURIComponent(key)}`, { value }),
  interchanges: <T,>(name: string) =>
    call<{ interchanges: T[] }>("GET", `/trading-partners/${encodeURIComponent(name)}/interchanges?limit=20`).then((r) => r.interchanges),
  // the mapper (editor/mapper): a mapping to readable JSONata and back, a node's fields, its preview on saved samples
  compileMapping: (mapping: unknown) => call<{ expression: string }>("POST", "/mappings/compile", { mapping }).then((r) => r.expression),
  parseMapping: <M,>(expression: string) => call<ParsedMapping<M>>("POST", "/mappings/parse", { expression }),
  mappingContext: (flowId: string, nodeId: string) =>
    call<MappingContext>("GET", `/flows/${encodeURIComponent(flowId)}/nodes/${encodeURIComponent(nodeId)}/mapping-context`),
  previewSamples: (flowId: string, nodeId: string, body: { document?: FlowDoc; expression: string; limit: number; field?: string }) =>
    call<{ results: SamplePreview[] }>("POST", `/flows/${encodeURIComponent(flowId)}/nodes/${encodeURIComponent(nodeId)}/preview-samples`, body)
      .then((r) => r.results),
  // the dashboard, the partner's customers by health, the KPIs and the flow list's health (pages/Dashboard.tsx)
  dashboard: (windowS: number) => call<Dashboard>("GET", `/dashboard?window_s=${windowS}`),
  partnerDashboard: (windowS: number) => call<PartnerDashboard>("GET", `/partner/dashboard?window_s=${windowS}`),
  kpis: (from: string, to: string) => call<KpiReport>("GET", `/kpis?${query({ from, to })}`),
  flowsHealth: () => call<{ flows: FlowHealth[] }>("GET", "/flows/health").then((r) => r.flows),
};

function query(filter: object): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(filter)) if (v !== undefined && v !== null) q.set(k, String(v));
  return q.toString();
}

/** GET /api/v1/exceptions' arguments; `assignee: ""` is the unassigned. */
export interface ExceptionFilter {
  status?: "open" | "resolved" | "all";
  flow_id?: string;
  class?: string;
  business_key?: string;
  assignee?: string;
  root_cause?: string;
  since?: string;
  until?: string;
  /** "partner": across the partner's customer workspaces (partner admins; lists and groups only) */
  scope?: "partner";
  /** with scope "partner": only this workspace */
  workspace?: string;
}

export type ExceptionChoice = { ids: number[] } | { filter: ExceptionFilter };

export interface WorkbenchException {
  id: number;
  workspace: string;
  run_id: number;
  flow_id: string;
  node_id: string;
  error_class: string;
  class: string;
  code: string;
  message: string;
  root_cause: string;
  business_key: string | null;
  status: "open" | "resolved";
  assignee: string | null;
  comment_count: number;
  resolution: string | null;
  resolved_by: string | null;
  retry: { run_id: number; status: string | null } | null;
  created_at: string;
  resolved_at: string | null;
  payload?: unknown;
  comments?: { by: string; at: string; text: string }[];
}

export interface ExceptionGroup {
  workspace: string;
  root_cause: string;
  class: string;
  flow_id: string;
  code: string;
  count: number;
  oldest: string;
  newest: string;
  sample_id: number;
}

export interface RetryResult {
  retries: { run_id: number; replays: number; exceptions: number[] }[];
  busy: number[];
  problems: { id: number; code: string; message: string }[];
  remaining: number;
}

/** POST /api/v1/exceptions/dry-run: a record walked through the current version up to its first write. */
export interface DryResult {
  id: number;
  run_id: number;
  flow_id: string;
  version: number | null;
  outcome: string;
  error?: { code: string; message: string } | null;
  steps: {
    node_id: string;
    node_type: string;
    status: "succeeded" | "failed" | "stopped";
    input?: unknown;
    before?: { status: string; output?: unknown; error?: { message?: string } | null } | null;
    after?: unknown;
    changed?: boolean;
    error?: { code: string; message: string } | null;
  }[];
}

/** The node a preview stands for: the flow (its id, params and that node, as the editor holds them) and the field. */
export interface PreviewTarget {
  flow?: { id: string; params?: Record<string, unknown>; nodes: unknown[] };
  node?: string;
  field?: string;
}

export interface ThreadKey {
  kind: string;
  value: string;
}

/** GET /api/v1/threads: the runs that carry the key searched or a key linked to it, oldest first. */
export interface Thread {
  key: string;
  kind: string | null;
  keys: ThreadKey[];
  entries: {
    run_id: number;
    flow_id: string;
    flow_name: string;
    version: number;
    label: string | null;
    status: string;
    trigger: string;
    business_key: string | null;
    created_at: string;
    finished_at: string | null;
    keys: ThreadKey[];
    /** The systems the run called through connector steps, in order. */
    systems: { system: string; node_type: string; status: string }[];
  }[];
  truncated: boolean;
}

export interface RunFilter {
  flow_id?: string;
  status?: string;
  key?: string;
  since?: string;
  until?: string;
  /** "true": dry runs only, "false": real runs only */
  dry_run?: string;
  limit?: number;
  before?: string | null;
}

/** POST /api/v1/mappings/parse: the mapping an expression holds, or why the mapper can only show it. */
export type ParsedMapping<M> = { mapping: M; editable: true } | { mapping: null; editable: false; note: string };

/** GET /api/v1/flows/<id>/nodes/<node>/mapping-context: what a mapping reads and what it must produce. */
export interface MappingContext {
  source: { schema: unknown; samples: unknown[] };
  target: { schema_id: string | null; schema: unknown };
}

/** One saved sample through the mapping being edited, beside the deployed version's output. */
export interface SamplePreview {
  sample: string | number;
  input: unknown;
  output: unknown;
  deployed_output: unknown;
  differs: string[];
  error: { code: string; message: string } | null;
}

/** The "summary" of GET /api/v1/kpis; rates are 0..1, null where nothing was there to measure. */
export interface KpiSummary {
  orders: number;
  shipments: number;
  order_cycle_time_h: number | null;
  fulfillment_accuracy: number | null;
  backorder_rate: number | null;
  on_time_shipment_rate: number | null;
  return_rate: number | null;
}

export interface KpiReport {
  from: string;
  to: string;
  summary: KpiSummary;
  by_day: (KpiSummary & { day: string })[];
  by_warehouse: (KpiSummary & { warehouse: string })[];
}

/** GET /api/v1/dashboard: a workspace's figures over the last window_s seconds. */
export interface Dashboard {
  window_s: number;
  generated_at: string;
  bucket_s: number;
  runs: { total: number; succeeded: number; failed: number; success_rate: number | null; per_minute: { t: string; succeeded: number; failed: number }[] };
  flows: {
    flow_id: string;
    name: string;
    version: number | null;
    runs: number;
    failed: number;
    success_rate: number | null;
    p50_ms: number | null;
    p95_ms: number | null;
    nodes: { node_id: string; name: string; count: number; p50_ms: number | null; p95_ms: number | null }[];
  }[];
  queues: { queue: string; depth: number; oldest_age_s: number | null }[];
  exceptions: { open: number; by_class: Record<string, number>; by_age: Record<string, number> };
  kpis: KpiSummary;
}

/** GET /api/v1/partner/dashboard: the partner's customer workspaces, worst health first. */
export interface PartnerDashboard {
  window_s: number;
  customers: {
    workspace: string;
    name: string;
    health: number;
    runs: number;
    failed: number;
    success_rate: number | null;
    open_exceptions: number;
    oldest_exception_age_s: number | null;
  }[];
}

/** GET /api/v1/flows/health: per flow its last run and failures of the last 24 hours. */
export interface FlowHealth {
  flow_id: string;
  last_run_at: string | null;
  last_status: string | null;
  failed_24h: number;
  status: "ok" | "failing" | "idle";
}

/** The address of an SLA report's download (a plain link: the session cookie authenticates it). */
export function slaReportHref(month: string, customer: string, format: "csv" | "pdf"): string {
  return `/api/v1/reports/sla?${query({ month, workspace: customer, format })}`;
}

export type AlertKind = "failures" | "latency" | "queue_age" | "absence";

/** POST/PUT /api/v1/alert-rules (PUT replaces the rule whole). */
export interface AlertRuleIn {
  name: string;
  kind: AlertKind;
  params: Record<string, string | number>;
  channels: { webhooks?: string[]; emails?: string[] };
  enabled: boolean;
  every_s: number;
}

export interface AlertRule extends AlertRuleIn {
  id: number;
  evaluated_at: string | null;
  error: string | null;
  created_at: string;
  updated_at: string;
}

export interface AlertDelivery {
  id: number;
  event: "fired" | "resolved";
  channel: "webhook" | "email";
  target: string;
  status: "pending" | "sent" | "failed";
  attempts: number;
  last_error: string | null;
  sent_at: string | null;
}

/** GET /api/v1/alerts: one open (or resolved) alert of a rule and key. */
export interface Alert {
  id: number;
  rule_id: number;
  rule_name: string;
  kind: AlertKind;
  key: string;
  status: "firing" | "acknowledged" | "resolved";
  detail: Record<string, unknown> | null;
  count: number;
  first_seen: string;
  last_seen: string;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  resolved_at: string | null;
  resolved_by: string | null;
  deliveries: AlertDelivery[];
}

/** GET /api/v1/reports/sla: one workspace's month (docs/operations.md, SLA report). */
export interface SlaReport {
  workspace: string;
  workspace_name: string;
  month: string;
  brand: string;
  availability: {
    endpoints: { endpoint: string; system: string; calls: number; unavailable: number; availability: number | null }[];
    calls: number;
    overall: number | null;
    intake: { webhook_runs: number; platform_faults: number; availability: number | null };
  };
  runs: { total: number; succeeded: number; failed: number; unfinished: number; success_rate: number | null };
  exceptions: { opened: number; resolved: number; open_at_end: number; resolve_median_s: number | null; resolve_p95_s: number | null };
  kpis: Record<string, number | null>;
}
