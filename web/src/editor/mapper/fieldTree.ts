// The field trees the mapper shows: built from a JSON Schema (a connector's body, a canonical record), inferred
// from sample records, or both merged. Paths are dotted; an array's element fields sit under `name[]`
// ("lines[].sku"). Bounded in depth and width: a schema or sample is user data.

import type { Json } from "./mapping";

export interface FieldNode {
  name: string;
  /** Dotted path from the record's root, `[]` after an array ("lines[].sku"). */
  path: string;
  type: string;
  required: boolean;
  description?: string;
  children: FieldNode[];
}

type Schema = Record<string, unknown>;

const MAX_DEPTH = 8;
const MAX_CHILDREN = 300;

function deref(schema: unknown, root: Schema, seen: number): Schema {
  let s = (schema && typeof schema === "object" ? schema : {}) as Schema;
  for (let hops = 0; typeof s.$ref === "string" && hops < 10 + seen; hops++) {
    const ref = s.$ref as string;
    if (!ref.startsWith("#/")) return {};
    let at: unknown = root;
    for (const part of ref.slice(2).split("/")) at = at && typeof at === "object" ? (at as Schema)[part.replace(/~1/g, "/").replace(/~0/g, "~")] : undefined;
    s = (at && typeof at === "object" ? at : {}) as Schema;
  }
  if (Array.isArray(s.allOf)) {
    const merged: Schema = { ...s, properties: { ...((s.properties as Schema) || {}) }, required: [...((s.required as string[]) || [])] };
    for (const part of s.allOf) {
      const p = deref(part, root, seen);
      Object.assign(merged.properties as Schema, p.properties || {});
      (merged.required as string[]).push(...((p.required as string[]) || []));
      if (!merged.type && p.type) merged.type = p.type;
      if (!merged.items && p.items) merged.items = p.items;
    }
    return merged;
  }
  for (const key of ["anyOf", "oneOf"]) {
    const options = s[key];
    if (Array.isArray(options) && !s.type && !s.properties) {
      const pick = options.map((o) => deref(o, root, seen)).find((o) => o.properties || o.items || (o.type && o.type !== "null"));
      if (pick) return { ...pick, description: s.description ?? pick.description };
    }
  }
  return s;
}

function typeOf(s: Schema): string {
  const t = Array.isArray(s.type) ? s.type.find((x) => x !== "null") : s.type;
  if (typeof t === "string") return t;
  if (s.properties) return "object";
  if (s.items) return "array";
  return "any";
}

function fromSchema(schema: unknown, root: Schema, name: string, path: string, required: boolean, depth: number): FieldNode {
  const s = deref(schema, root, 0);
  const type = typeOf(s);
  const node: FieldNode = { name, path, type, required, children: [] };
  if (typeof s.description === "string") node.description = s.description;
  if (depth >= MAX_DEPTH) return node;
  if (type === "object" && s.properties && typeof s.properties === "object") {
    const req = new Set(Array.isArray(s.required) ? (s.required as string[]) : []);
    for (const [key, sub] of Object.entries(s.properties as Schema).slice(0, MAX_CHILDREN)) {
      node.children.push(fromSchema(sub, root, key, path ? `${path}.${key}` : key, req.has(key), depth + 1));
    }
  } else if (type === "array" && s.items) {
    const item = fromSchema(s.items, root, "", `${path}[]`, false, depth + 1);
    node.children = item.children;
    if (!item.children.length) node.type = `array of ${item.type}`;
  }
  return node;
}

/** The tree of a JSON Schema's record (the root node has path ""), or null without a schema. */
export function schemaTree(schema: unknown): FieldNode | null {
  if (!schema || typeof schema !== "object") return null;
  return fromSchema(schema, schema as Schema, "", "", true, 0);
}

function jsonType(v: Json): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v === "number" ? "number" : typeof v;
}

function infer(into: FieldNode, value: Json, depth: number): void {
  if (depth >= MAX_DEPTH) return;
  if (Array.isArray(value)) {
    for (const item of value.slice(0, 20)) if (item && typeof item === "object" && !Array.isArray(item)) inferObject(into, item, `${into.path}[]`, depth);
    if (!into.children.length && value.length) into.type = `array of ${jsonType(value[0])}`;
    return;
  }
  if (value && typeof value === "object") inferObject(into, value, into.path, depth);
}

function inferObject(into: FieldNode, value: { [key: string]: Json }, base: string, depth: number): void {
  for (const [key, v] of Object.entries(value).slice(0, MAX_CHILDREN)) {
    let child = into.children.find((c) => c.name === key);
    if (!child) {
      if (into.children.length >= MAX_CHILDREN) return;
      child = { name: key, path: base ? `${base}.${key}` : key, type: jsonType(v), required: false, children: [] };
      into.children.push(child);
    } else if (child.type === "null" || child.type === "any") child.type = jsonType(v);
    infer(child, v, depth + 1);
  }
}

/** The tree inferred from sample records (their union), or null without samples. */
export function sampleTree(samples: unknown[]): FieldNode | null {
  const objects = samples.filter((s) => s && typeof s === "object" && !Array.isArray(s)) as { [key: string]: Json }[];
  if (!objects.length) return null;
  const root: FieldNode = { name: "", path: "", type: "object", required: true, children: [] };
  for (const s of objects.slice(0, 10)) inferObject(root, s, "", 0);
  return root;
}

/** `a` with the fields only `b` has added (a schema tree completed by what samples or a mapping carry). */
export function mergeTrees(a: FieldNode | null, b: FieldNode | null): FieldNode | null {
  if (!a || !b) return a || b;
  const children = a.children.map((c) => {
    const other = b.children.find((x) => x.name === c.name);
    return other ? mergeTrees(c, other)! : c;
  });
  for (const c of b.children) if (!a.children.some((x) => x.name === c.name) && children.length < MAX_CHILDREN) children.push(c);
  return { ...a, children };
}

/** A tree holding just the given paths (targets a mapping names that no schema describes). */
export function pathsTree(paths: string[]): FieldNode {
  const root: FieldNode = { name: "", path: "", type: "object", required: false, children: [] };
  for (const p of paths.slice(0, MAX_CHILDREN)) {
    let at = root;
    const parts = p.split(".");
    parts.forEach((raw, i) => {
      const isArray = raw.endsWith("[]");
      const name = isArray ? raw.slice(0, -2) : raw;
      const path = at.path ? `${at.path}${at.type === "array" ? "[]" : ""}.${name}` : name;
      let child = at.children.find((c) => c.name === name);
      if (!child) {
        child = { name, path, type: isArray ? "array" : i === parts.length - 1 ? "any" : "object", required: false, children: [] };
        at.children.push(child);
      }
      at = child;
    });
  }
  return root;
}

/** The node at a tree path, or null. */
export function findField(tree: FieldNode | null, path: string): FieldNode | null {
  if (!tree) return null;
  for (const c of tree.children) {
    if (c.path === path) return c;
    if (path.startsWith(c.path)) {
      const hit = findField(c, path);
      if (hit) return hit;
    }
  }
  return null;
}

/** Every path in a tree, depth first (the choices of a path field). */
export function allPaths(tree: FieldNode | null): string[] {
  const out: string[] = [];
  const walk = (n: FieldNode) => {
    for (const c of n.children) {
      out.push(c.path);
      walk(c);
    }
  };
  if (tree) walk(tree);
  return out;
}

/** The value at a tree path in a record, arrays giving the list of their elements' values. */
export function valueAt(record: unknown, path: string): unknown {
  if (!path) return record;
  let values: unknown[] = [record];
  let many = false;
  for (const raw of path.split(".")) {
    const isArray = raw.endsWith("[]");
    const key = isArray ? raw.slice(0, -2) : raw;
    values = values.map((v) => (v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>)[key] : undefined));
    if (isArray) {
      many = true;
      values = values.flatMap((v) => (Array.isArray(v) ? v : []));
    }
  }
  return many ? values : values[0];
}
