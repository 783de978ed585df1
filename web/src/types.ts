// The shapes the server speaks (docs/api.md): the flow document, node types, problems, runs.
import type { RunStatus, StepStatus } from "./runStatus";

export interface Position {
  x: number;
  y: number;
}

export interface FlowNode {
  id: string;
  type: string;
  type_version: number;
  name?: string;
  notes?: string;
  disabled?: boolean;
  config: Record<string, unknown>;
  position: Position;
}

export interface FlowEdge {
  id: string;
  source: string;
  source_port: string;
  target: string;
  target_port: string;
}

export interface FlowDoc {
  schema: string;
  id: string;
  name: string;
  description?: string;
  params?: Record<string, unknown>;
  settings?: Record<string, unknown>;
  nodes: FlowNode[];
  edges: FlowEdge[];
  viewport?: { x: number; y: number; zoom: number };
  [key: string]: unknown;
}

export interface Port {
  name: string;
  label?: string;
  record?: string | null;
}

export type JsonSchema = {
  type?: string | string[];
  title?: string;
  description?: string;
  enum?: unknown[];
  default?: unknown;
  format?: string;
  writeOnly?: boolean;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: boolean | JsonSchema;
  minimum?: number;
  maximum?: number;
  $ref?: string;
  definitions?: Record<string, JsonSchema>;
  $defs?: Record<string, JsonSchema>;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  [key: string]: unknown;
};

export interface NodeType {
  type: string;
  version: number;
  category: string;
  title: string;
  description: string;
  icon?: string;
  inputs: Port[];
  outputs: Port[];
  dynamic_outputs: string | null;
  expressions: string[];
  /** Config paths naming something outside the node: "connection", "lookup", "record", "webhook" or "template". */
  references?: Record<string, string>;
  /** The config field whose preview runs the node itself (transform.map: "expression"). */
  preview?: string | null;
  /** What the canvas shows under a node's title: a template over the config (editor/summary.ts renders it). */
  summary?: string;
  config_schema: JsonSchema;
}

export interface Problem {
  code: string;
  message: string;
  severity: "error" | "warning";
  node?: string;
  edge?: string;
  field?: string;
  position?: number;
  line?: number;
  column?: number;
}

export interface FlowSummary {
  id: string;
  name: string;
  description?: string;
  revision: number;
  updated_at: string;
  deployed_version: number | null;
  node_count: number;
}

export interface FlowRecord {
  flow: FlowDoc;
  revision: number;
  updated_at?: string;
  deployed_version: number | null;
  problems: Problem[];
}

export type { RunStatus, StepStatus }; // runStatus.ts lists them

export interface Step {
  id: string | number;
  seq?: number;
  started_at?: string | null;
  finished_at?: string | null;
  node_id: string;
  node_type: string;
  status: StepStatus;
  attempt: number;
  port: string | null;
  duration_ms: number | null;
  input: unknown;
  output: unknown;
  error: unknown;
  truncated?: boolean;
}

export interface Run {
  id: string | number;
  flow_id: string;
  version: number;
  status: RunStatus;
  input: unknown;
  output: unknown;
  error: unknown;
  duration_ms: number | null;
  business_key?: string | null;
  attempt?: number;
  created_at?: string;
  started_at?: string | null;
  finished_at?: string | null;
  trigger?: "webhook" | "manual" | "replay" | "schedule" | "poll" | "file" | "event";
  replay_of?: string | number | null;
  start_node?: string | null;
  /** a dry run: connectors stopped before the call, nothing was written (issue 13) */
  dry_run?: boolean;
  steps?: Step[];
}

export interface NodeStats {
  in: number;
  out: number;
  failed: number;
  avg_ms: number | null;
  p95_ms: number | null;
}

export interface FlowStats {
  flow_id: string;
  window_s: number;
  since: string;
  until: string;
  runs: Record<string, number>;
  nodes: Record<string, NodeStats>;
  edges: { source: string; source_port: string; messages: number }[];
  /** the version the figures are of (null: all versions together) */
  version?: number | null;
  /** runs per version in the window, newest version first */
  versions?: { version: number; runs: Record<string, number> }[];
}

export interface TemplateParam {
  type?: string;
  default?: unknown;
  description?: string;
  required?: boolean;
}

export interface TemplateSummary {
  id: string;
  name: string;
  description: string;
  source: "bundled" | "partner" | "imported";
  flow_id: string;
  params: Record<string, TemplateParam>;
  connections: { name: string; system: string }[];
  lookups: string[];
  samples: string[];
  /** The newest version offered (bundled templates: 1), and the flows installed from it (issue 13). */
  version?: number;
  installs?: { flow_id: string; version: number; upgrade: boolean }[];
}

export interface ImportResult {
  flow_id: string;
  deployed_version: number | null;
  params: Record<string, unknown>;
  lookups_added: string[];
  missing_connections: string[];
  problems: Problem[];
}

export const FLOW_SCHEMA = "crossdock.flow/1";

/** A workspace role (designer/access.py); "admin" stands for a partner admin in GET /api/v1/workspaces. */
export type Role = "consultant" | "mapper" | "operator" | "viewer" | "admin";

export interface SessionUser {
  id: number | string;
  email: string;
  name: string;
  partner_id: string;
  partner_admin: boolean;
  must_change_password: boolean;
}

export interface SessionWorkspace {
  id: string;
  name: string;
  role: Role;
  status: string;
}

/** POST/GET /api/v1/session. */
export interface Session {
  user: SessionUser;
  csrf_token: string;
  workspaces: SessionWorkspace[];
}

/** GET /api/v1/branding: the partner's brand, shown on every page. */
export interface Branding {
  product_name: string;
  logo_url: string | null;
  colors: { primary?: string | null; accent?: string | null };
  support: { email?: string | null; url?: string | null };
  white_label: boolean;
}
