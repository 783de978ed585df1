// Pure operations on the flow document: the canvas keeps only this document and derives everything else.
import type { FlowDoc, FlowEdge, FlowNode, NodeType, Port, Problem } from "../types";

export function uniqueId(base: string, taken: Set<string>): string {
  const stem = base.replace(/[^a-zA-Z0-9_-]+/g, "_").replace(/^_+|_+$/g, "") || "node";
  let n = 1;
  while (taken.has(`${stem}_${n}`)) n++;
  return `${stem}_${n}`;
}

/** Output ports of a node: ports the config adds (rules[].port) first, then the static ones. */
export function outputPorts(spec: NodeType | undefined, config: Record<string, unknown>): Port[] {
  if (!spec) return [];
  const statics = spec.outputs;
  const names = new Set(statics.map((p) => p.name));
  const dynamic: Port[] = [];
  if (spec.dynamic_outputs) {
    const [key, sub] = spec.dynamic_outputs.split("[].");
    const items = config?.[key];
    if (Array.isArray(items)) {
      for (const item of items) {
        const name = item && typeof item === "object" ? (item as Record<string, unknown>)[sub] : undefined;
        if (typeof name === "string" && name && !names.has(name)) {
          names.add(name);
          dynamic.push({ name, label: name });
        }
      }
    }
  }
  return [...dynamic, ...statics];
}

// Output port names per document node object: nodes are immutable, so the answer never goes stale.
const outputCache = new WeakMap<FlowNode, Set<string>>();

export function outputNames(spec: NodeType, node: FlowNode): Set<string> {
  let names = outputCache.get(node);
  if (!names) outputCache.set(node, (names = new Set(outputPorts(spec, node.config).map((p) => p.name))));
  return names;
}

export function defaultConfig(spec: NodeType): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, prop] of Object.entries(spec.config_schema?.properties || {})) {
    if (prop.default !== undefined) out[key] = structuredClone(prop.default);
  }
  return out;
}

export function addNode(doc: FlowDoc, spec: NodeType, position: { x: number; y: number }): [FlowDoc, string] {
  const id = uniqueId(spec.type.split(".").pop() || "node", new Set(doc.nodes.map((n) => n.id)));
  const node: FlowNode = {
    id,
    type: spec.type,
    type_version: spec.version,
    name: spec.title,
    config: defaultConfig(spec),
    position: { x: Math.round(position.x), y: Math.round(position.y) },
  };
  return [{ ...doc, nodes: [...doc.nodes, node] }, id];
}

export function updateNode(doc: FlowDoc, id: string, patch: Partial<FlowNode>): FlowDoc {
  return { ...doc, nodes: doc.nodes.map((n) => (n.id === id ? { ...n, ...patch } : n)) };
}

export function moveNodes(doc: FlowDoc, moves: Map<string, { x: number; y: number }>): FlowDoc {
  return {
    ...doc,
    nodes: doc.nodes.map((n) => {
      const p = moves.get(n.id);
      return p ? { ...n, position: { x: Math.round(p.x), y: Math.round(p.y) } } : n;
    }),
  };
}

export function removeElements(doc: FlowDoc, nodeIds: Set<string>, edgeIds: Set<string>): FlowDoc {
  return {
    ...doc,
    nodes: doc.nodes.filter((n) => !nodeIds.has(n.id)),
    edges: doc.edges.filter((e) => !edgeIds.has(e.id) && !nodeIds.has(e.source) && !nodeIds.has(e.target)),
  };
}

export function connect(
  doc: FlowDoc,
  c: { source: string; sourcePort: string; target: string; targetPort: string },
): [FlowDoc, string | null] {
  if (c.source === c.target) return [doc, null];
  const dup = doc.edges.some(
    (e) => e.source === c.source && e.source_port === c.sourcePort && e.target === c.target && e.target_port === c.targetPort,
  );
  if (dup) return [doc, null];
  const id = uniqueId("e", new Set(doc.edges.map((e) => e.id)));
  const edge: FlowEdge = { id, source: c.source, source_port: c.sourcePort, target: c.target, target_port: c.targetPort };
  return [{ ...doc, edges: [...doc.edges, edge] }, id];
}

export function reconnect(
  doc: FlowDoc,
  edgeId: string,
  c: { source: string; sourcePort: string; target: string; targetPort: string },
): FlowDoc {
  return {
    ...doc,
    edges: doc.edges.map((e) =>
      e.id === edgeId ? { ...e, source: c.source, source_port: c.sourcePort, target: c.target, target_port: c.targetPort } : e,
    ),
  };
}

/** Drops edges whose source port no longer exists (a choice rule was renamed or removed). */
export function pruneEdges(doc: FlowDoc, specs: Map<string, NodeType>): FlowDoc {
  const byId = new Map(doc.nodes.map((n) => [n.id, n]));
  const edges = doc.edges.filter((e) => {
    const node = byId.get(e.source);
    const spec = node && specs.get(node.type);
    if (!node || !spec) return true;
    return outputNames(spec, node).has(e.source_port);
  });
  return edges.length === doc.edges.length ? doc : { ...doc, edges };
}

export interface Clip {
  nodes: FlowNode[];
  edges: FlowEdge[];
}

export function copySelection(doc: FlowDoc, ids: Set<string>): Clip {
  return {
    nodes: doc.nodes.filter((n) => ids.has(n.id)),
    edges: doc.edges.filter((e) => ids.has(e.source) && ids.has(e.target)),
  };
}

/** Pastes a clip with fresh ids, offset from the originals; returns the new node ids. */
export function paste(doc: FlowDoc, clip: Clip, offset: number): [FlowDoc, string[]] {
  const taken = new Set(doc.nodes.map((n) => n.id));
  const edgeIds = new Set(doc.edges.map((e) => e.id));
  const rename = new Map<string, string>();
  const nodes = clip.nodes.map((n) => {
    const id = uniqueId(n.id.replace(/_\d+$/, ""), taken);
    taken.add(id);
    rename.set(n.id, id);
    return { ...structuredClone(n), id, position: { x: n.position.x + offset, y: n.position.y + offset } };
  });
  const edges = clip.edges.map((e) => {
    const id = uniqueId("e", edgeIds);
    edgeIds.add(id);
    return { ...e, id, source: rename.get(e.source)!, target: rename.get(e.target)! };
  });
  return [{ ...doc, nodes: [...doc.nodes, ...nodes], edges: [...doc.edges, ...edges] }, nodes.map((n) => n.id)];
}

export function slug(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 40) || "flow"
  );
}

/** A schema problem names a path ("nodes[2].config"); give it the node or edge id there so the canvas can mark it. */
export function locateProblem(p: Problem, doc: FlowDoc): Problem {
  if (p.node || p.edge || !p.field) return p;
  const m = /^(nodes|edges)\[(\d+)\]/.exec(p.field);
  if (!m) return p;
  const item = (m[1] === "nodes" ? doc.nodes : doc.edges)[Number(m[2])];
  if (!item?.id) return p;
  return m[1] === "nodes" ? { ...p, node: item.id } : { ...p, edge: item.id };
}
