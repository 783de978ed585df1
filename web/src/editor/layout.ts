// "Tidy up": a left-to-right layered layout of the document's nodes with dagre.
import dagre from "@dagrejs/dagre";
import type { FlowDoc } from "../types";

export function tidy(doc: FlowDoc, sizes: (id: string) => { width: number; height: number } | undefined): FlowDoc {
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: "LR", nodesep: 36, ranksep: 90, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of doc.nodes) {
    const s = sizes(n.id) || { width: 200, height: 80 };
    g.setNode(n.id, { width: s.width, height: s.height });
  }
  for (const e of doc.edges) {
    if (g.hasNode(e.source) && g.hasNode(e.target)) g.setEdge(e.source, e.target, {}, e.id);
  }
  dagre.layout(g);
  return {
    ...doc,
    nodes: doc.nodes.map((n) => {
      const p = g.node(n.id);
      const s = sizes(n.id) || { width: 200, height: 80 };
      return { ...n, position: { x: Math.round(p.x - s.width / 2), y: Math.round(p.y - s.height / 2) } };
    }),
  };
}
