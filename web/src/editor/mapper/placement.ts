// Where a source field dropped (or placed by keyboard) onto a target field lands in the mapping: a source list onto
// a target list maps it element by element; a field inside a target list reads the source element's field; a
// list's field onto a single number sums it; onto a target that already has a function, it becomes that
// function's input. Pure: the mapper calls it and compiles what it gives.
import { findField, type FieldNode } from "./fieldTree";
import { arrayOf, relativeTo, ruleOf, targetRef, withArray, withPath, withRule, type Mapping, type Rule } from "./mapping";

export type Placement = { mapping: Mapping } | { problem: string };

export function place(mapping: Mapping, targets: FieldNode | null, sources: FieldNode | null, targetPath: string, sourcePath: string): Placement {
  const ref = targetRef(targetPath);
  if (!ref) return { problem: `${targetPath} is inside a list inside a list: edit it in the JSONata tab.` };
  const target = findField(targets, targetPath);
  const sourceIsList = findField(sources, sourcePath)?.type === "array";
  if (ref.array === null && target?.type === "array" && !ruleOf(mapping, ref)) {
    if (!sourceIsList) return { problem: `${targetPath} is a list: drop a source list onto it (its elements map one to one).` };
    return { mapping: withArray(mapping, targetPath, sourcePath) };
  }
  const at = sourcePath.lastIndexOf("[].");
  if (ref.array !== null) {
    let next = mapping;
    let source = arrayOf(next, ref.array)?.source;
    if (!source) {
      if (at < 0) return { problem: `Map the list ${ref.array} first: drop a source list onto it.` };
      source = sourcePath.slice(0, at);
      next = withArray(next, ref.array, source);
    }
    const rel = relativeTo(source, sourcePath);
    if (rel === null || rel.includes("[]")) return { problem: `Inside ${ref.array}, map fields of each element of ${source}.` };
    const prev = ruleOf(next, ref);
    return { mapping: withRule(next, ref, prev ? withPath(prev, rel) : { kind: "field", path: rel }) };
  }
  let rule: Rule;
  if (at >= 0 && (target?.type === "number" || target?.type === "integer") && !sourcePath.slice(0, at).includes("[]")) {
    rule = { kind: "sum", array: sourcePath.slice(0, at), path: sourcePath.slice(at + 3) };
  } else {
    const path = sourcePath.replace(/\[\]/g, "");
    const prev = ruleOf(mapping, ref);
    rule = prev ? withPath(prev, path) : { kind: "field", path };
  }
  return { mapping: withRule(mapping, ref, rule) };
}
