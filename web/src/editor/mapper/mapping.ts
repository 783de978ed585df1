// The mapping the mapper edits (the contract of POST /mappings/compile and /parse) and the pure changes to it:
// where a target field's rule lives, setting and removing one, and element-wise array mappings.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export type Rule =
  | { kind: "field"; path: string }
  | { kind: "constant"; value: Json }
  | { kind: "concat"; parts: Rule[]; separator: string }
  | { kind: "default"; path: string; value: Json }
  | { kind: "date"; path: string; format: string; from?: string | null }
  | { kind: "number"; path: string; multiply: number; round: number | null }
  | { kind: "unit"; path: string; from: string; to: string; factor?: number | null }
  | { kind: "lookup"; table: string; path: string; default: Json }
  | { kind: "if"; path: string; equals: Json; then: Rule; else: Rule }
  | { kind: "sum"; array: string; path: string };

export type RuleKind = Rule["kind"];

export interface FieldMap {
  target: string;
  rule: Rule;
}

/** One target element per source element; its fields' paths are relative to the elements. */
export interface ArrayMap {
  target: string;
  source: string;
  fields: FieldMap[];
}

export interface Mapping {
  version: 1;
  fields: FieldMap[];
  arrays: ArrayMap[];
}

export const EMPTY_MAPPING: Mapping = { version: 1, fields: [], arrays: [] };

/** A target field as the trees address it: top level (`array` null) or inside an array mapping's elements. */
export interface TargetRef {
  array: string | null;
  path: string;
}

/** Where a target tree path sits in the mapping: top level, inside one array's elements, or beyond the mapper. */
export function targetRef(path: string): TargetRef | null {
  const at = path.indexOf("[].");
  if (at < 0) return { array: null, path };
  const rest = path.slice(at + 3);
  return rest.includes("[]") ? null : { array: path.slice(0, at), path: rest };
}

export function normalise(m: Partial<Mapping> | null | undefined): Mapping {
  return { version: 1, fields: m?.fields ? [...m.fields] : [], arrays: m?.arrays ? m.arrays.map((a) => ({ ...a, fields: [...(a.fields || [])] })) : [] };
}

export function ruleOf(m: Mapping, ref: TargetRef): Rule | null {
  const fields = ref.array === null ? m.fields : m.arrays.find((a) => a.target === ref.array)?.fields || [];
  return fields.find((f) => f.target === ref.path)?.rule || null;
}

export function arrayOf(m: Mapping, target: string): ArrayMap | null {
  return m.arrays.find((a) => a.target === target) || null;
}

function setIn(fields: FieldMap[], path: string, rule: Rule | null): FieldMap[] {
  const at = fields.findIndex((f) => f.target === path);
  if (rule === null) return at < 0 ? fields : fields.filter((_, i) => i !== at);
  if (at < 0) return [...fields, { target: path, rule }];
  return fields.map((f, i) => (i === at ? { target: path, rule } : f));
}

/** The mapping with `ref`'s rule set (null removes it); a field inside an array needs the array mapped first. */
export function withRule(m: Mapping, ref: TargetRef, rule: Rule | null): Mapping {
  if (ref.array === null) return { ...m, fields: setIn(m.fields, ref.path, rule) };
  return { ...m, arrays: m.arrays.map((a) => (a.target === ref.array ? { ...a, fields: setIn(a.fields, ref.path, rule) } : a)) };
}

/** The mapping with target array `target` fed element-wise from `source` (null removes it and its fields). */
export function withArray(m: Mapping, target: string, source: string | null): Mapping {
  if (source === null) return { ...m, arrays: m.arrays.filter((a) => a.target !== target) };
  const existing = arrayOf(m, target);
  if (existing) return { ...m, arrays: m.arrays.map((a) => (a === existing ? { ...a, source } : a)) };
  return { ...m, arrays: [...m.arrays, { target, source, fields: [] }] };
}

/** A source path relative to a source array's elements ("lines[].sku" under "lines" is "sku"), or null. */
export function relativeTo(sourceArray: string, path: string): string | null {
  const prefix = `${sourceArray}[].`;
  return path.startsWith(prefix) ? path.slice(prefix.length) : null;
}

/** A rule's source path, for rules that read one field (what a drop onto a mapped target replaces). */
export function withPath(rule: Rule, path: string): Rule {
  switch (rule.kind) {
    case "field":
    case "default":
    case "date":
    case "number":
    case "unit":
    case "lookup":
    case "if":
      return { ...rule, path };
    default:
      return { kind: "field", path };
  }
}

/** A new rule of `kind`, keeping what the previous rule read (its path), so switching kinds loses little. */
export function ruleOfKind(kind: RuleKind, previous: Rule | null, lookupTable = ""): Rule {
  const path = previous && "path" in previous ? previous.path : "";
  switch (kind) {
    case "field":
      return { kind, path };
    case "constant":
      return { kind, value: "" };
    case "concat":
      return { kind, parts: [{ kind: "field", path }, { kind: "constant", value: "" }], separator: " " };
    case "default":
      return { kind, path, value: "" };
    case "date":
      return { kind, path, format: "[Y0001]-[M01]-[D01]" };
    case "number":
      return { kind, path, multiply: 1, round: 2 };
    case "unit":
      return { kind, path, from: "kg", to: "lb" };
    case "lookup":
      return { kind, table: lookupTable, path, default: null };
    case "if":
      return { kind, path, equals: "", then: { kind: "constant", value: "" }, else: path ? { kind: "field", path } : { kind: "constant", value: "" } };
    case "sum":
      return { kind, array: "", path: "" };
  }
}

function show(v: Json): string {
  return typeof v === "string" ? `"${v}"` : JSON.stringify(v);
}

/** A rule as one short line for the target tree, e.g. `lookup uom(uom)`. */
export function describe(rule: Rule): string {
  switch (rule.kind) {
    case "field":
      return rule.path;
    case "constant":
      return show(rule.value);
    case "concat":
      return rule.parts.map(describe).join(` & ${show(rule.separator)} & `);
    case "default":
      return `${rule.path} or ${show(rule.value)}`;
    case "date":
      return `${rule.path} as ${rule.format}`;
    case "number":
      return `${rule.path} × ${rule.multiply}${rule.round != null ? `, ${rule.round} dp` : ""}`;
    case "unit":
      return `${rule.path} ${rule.from}→${rule.to}`;
    case "lookup":
      return `lookup ${rule.table || "?"}(${rule.path})`;
    case "if":
      return `if ${rule.path} = ${show(rule.equals)} then ${describe(rule.then)} else ${describe(rule.else)}`;
    case "sum":
      return `sum ${rule.array}.${rule.path}`;
  }
}

/** The target a compile problem's field names ("mapping.arrays[0].fields[1].rule.path" -> "lines[].itemNo"). */
export function targetNamed(m: Mapping, field: string | undefined): string | null {
  const at = /^(?:mapping\.)?(?:fields\[(\d+)\]|arrays\[(\d+)\](?:\.fields\[(\d+)\])?)/.exec(field || "");
  if (!at) return null;
  if (at[1] !== undefined) return m.fields[Number(at[1])]?.target ?? null;
  const array = m.arrays[Number(at[2])];
  if (!array) return null;
  return at[3] === undefined ? `${array.target}[]` : `${array.target}[].${array.fields[Number(at[3])]?.target ?? "?"}`;
}
