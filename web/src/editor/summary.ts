// What a node shows under its title: its type's SPEC summary template (flows/spec.py NodeSpec.summary) filled
// from the node's config. Pure, so that every node category draws its line the same way and a new node type
// needs a template, not canvas code.
//   {{a.b}}     the config value at that path (its schema default when the document leaves it out)
//   {{rules#}}  the length of a list or object
//   [ ... ]     a section left out when a placeholder in it is empty
import type { JsonSchema } from "../types";

const PLACEHOLDER = /\{\{\s*([^{}#]+?)\s*(#?)\s*\}\}/g;
const SECTION = /\[([^[\]]*)\]/g;
export const SUMMARY_MAX = 48;

function resolve(schema: JsonSchema | undefined, root: JsonSchema): JsonSchema | undefined {
  const ref = schema?.$ref;
  if (!ref) return schema;
  const name = ref.replace(/^#\/(definitions|\$defs)\//, "");
  return root.definitions?.[name] ?? root.$defs?.[name];
}

/** The schema of the field at `path` (dotted), following properties. */
function fieldSchema(root: JsonSchema | undefined, path: string[]): JsonSchema | undefined {
  if (!root) return undefined;
  let s: JsonSchema | undefined = root;
  for (const key of path) {
    s = resolve(resolve(s, root)?.properties?.[key], root);
    if (!s) return undefined;
  }
  return s;
}

function valueAt(config: unknown, path: string[]): unknown {
  let v: unknown = config;
  for (const key of path) {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

function text(v: unknown): string {
  if (v === undefined || v === null) return "";
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** One placeholder's text: "" when the config has nothing there (or only a secret). */
function fill(name: string, count: boolean, config: Record<string, unknown>, schema: JsonSchema | undefined): string {
  const path = name.split(".");
  const field = fieldSchema(schema, path);
  if (field?.writeOnly || field?.format === "secret") return "";
  let v = valueAt(config, path);
  if (v === undefined) v = field?.default;
  if (count) {
    if (Array.isArray(v)) return String(v.length);
    return v !== null && typeof v === "object" ? String(Object.keys(v).length) : "";
  }
  return text(v);
}

function clip(s: string, max: number): string {
  const flat = s.replace(/\s+/g, " ").trim();
  return flat.length > max ? flat.slice(0, max - 1) + "…" : flat;
}

/** The summary line of a node: `template` filled from `config`, whitespace folded, clipped to `max`. */
export function renderSummary(template: string | undefined, config: Record<string, unknown> | undefined, schema?: JsonSchema, max = SUMMARY_MAX): string {
  if (!template) return "";
  const cfg = config || {};
  const fillAll = (part: string) => part.replace(PLACEHOLDER, (_, name: string, hash: string) => fill(name, hash === "#", cfg, schema));
  // one pass over the template: a value that itself reads like a placeholder or a section stays text
  let line = "";
  let at = 0;
  for (const m of template.matchAll(SECTION)) {
    line += fillAll(template.slice(at, m.index));
    const empty = [...m[1].matchAll(PLACEHOLDER)].some(([, name, hash]) => fill(name, hash === "#", cfg, schema) === "");
    if (!empty) line += fillAll(m[1]);
    at = m.index + m[0].length;
  }
  line += fillAll(template.slice(at));
  return clip(line, max);
}
