// The React Flow canvas: draws the flow document and turns gestures into document changes, nothing more.
import { useCallback, useMemo, useRef, useState, type DragEvent } from "react";
import {
  Background,
  BackgroundVariant,
  ControlButton,
  Controls,
  MiniMap,
  Position,
  ReactFlow,
  getViewportForBounds,
  useStore,
  type ReactFlowState,
  type Connection,
  type Edge,
  type EdgeChange,
  type NodeChange,
  type ReactFlowInstance,
} from "@xyflow/react";
import type { FlowDoc, FlowEdge, FlowNode, NodeType, Problem, Step } from "../types";
import { connect, moveNodes, outputNames, outputPorts, reconnect, removeElements } from "./document";
import type { Change } from "./history";
import { monitorKey, nodeTypes, rendererFor, type CanvasNode, type NodeData, type NodeMonitor } from "./nodes";

export const DRAG_MIME = "application/x-crossdock-node-type";

export interface Selection {
  nodes: Set<string>;
  edges: Set<string>;
}

interface Props {
  doc: FlowDoc;
  specs: Map<string, NodeType>;
  selection: Selection;
  problemsByNode: Map<string, Problem[]>;
  problemsByEdge: Map<string, Problem[]>;
  steps: Map<string, Step>;
  apply: (fn: (doc: FlowDoc) => FlowDoc, change?: Change) => void;
  onSelect: (next: Selection) => void;
  onDropType: (type: string, position: { x: number; y: number }) => void;
  onInit: (rf: ReactFlowInstance<CanvasNode, Edge>) => void;
  onReady: () => void;
  /** Monitor and run pages: nothing can be moved, wired or dropped; nodes can still be selected. */
  readOnly?: boolean;
  /** Monitor mode: live figures per node, drawn over the document (never stored in it). */
  monitor?: Map<string, NodeMonitor>;
  /** Monitor mode: a label per edge (messages passed). */
  edgeLabels?: Map<string, string>;
  /** Draw the minimap (default true). */
  minimap?: boolean;
}

const CATEGORY_COLOR: Record<string, string> = {
  event: "#7c3aed",
  connector: "#0369a1",
  transform: "#0f766e",
  branch: "#b45309",
  control: "#475569",
  edi: "#be185d",
  unknown: "#9ca3af",
};

// Flows larger than this open at a readable zoom on their top-left corner instead of fitting everything,
// so only the nodes in view are drawn (a 1,000-node flow fitted whole would draw every node at once).
const LARGE_FLOW = 150;
const NODE_WIDTH = 200;

/** Size and handle positions of a node not drawn yet, from the node CSS; replaced by measurement once drawn. */
function estimate(n: FlowNode, spec: NodeType | undefined) {
  const outputs = outputPorts(spec, n.config);
  const labelled = outputs.length > 1;
  const top = 48 + (Object.keys(n.config || {}).length ? 17 : 0) + (n.notes ? 24 : 0);
  const height = top + (labelled ? 10 + outputs.length * 17 : 8);
  const handles = [
    ...(spec?.inputs || []).map((p, i) => ({ id: p.name, type: "target" as const, position: Position.Left, x: -5, y: 17 + i * 16, width: 10, height: 10 })),
    ...outputs.map((p, i) => ({
      id: p.name,
      type: "source" as const,
      position: Position.Right,
      x: NODE_WIDTH - 5,
      y: labelled ? top + 4 + i * 17 + 3 : 17,
      width: 10,
      height: 10,
    })),
  ];
  return { initialWidth: NODE_WIDTH, initialHeight: height, handles };
}

/**
 * Fits the whole document into view from its positions and known or estimated sizes. React Flow's own
 * fitView waits until every node has been measured, which never happens for nodes out of view.
 */
export function fitDocument(rf: ReactFlowInstance<CanvasNode, Edge>, doc: FlowDoc, duration = 200) {
  if (!doc.nodes.length) return;
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const n of doc.nodes) {
    const m = rf.getInternalNode(n.id)?.measured;
    const w = m?.width || NODE_WIDTH;
    const h = m?.height || 90;
    x0 = Math.min(x0, n.position.x);
    y0 = Math.min(y0, n.position.y);
    x1 = Math.max(x1, n.position.x + w);
    y1 = Math.max(y1, n.position.y + h);
  }
  const pane = document.querySelector(".react-flow")?.getBoundingClientRect();
  if (!pane) return;
  const pad = 40;
  const bounds = { x: x0 - pad, y: y0 - pad, width: x1 - x0 + 2 * pad, height: y1 - y0 + 2 * pad };
  rf.setViewport(getViewportForBounds(bounds, pane.width, pane.height, 0.05, 1.1, 0.04), { duration });
}

/** The viewport a large flow opens with: its top-left corner at a readable zoom. */
function cornerViewport(doc: FlowDoc) {
  const zoom = 0.8;
  const minX = Math.min(...doc.nodes.map((n) => n.position.x));
  const minY = Math.min(...doc.nodes.map((n) => n.position.y));
  return { x: Math.round(40 - minX * zoom), y: Math.round(40 - minY * zoom), zoom };
}

interface Cached<T, R> {
  src: T;
  key: string;
  out: R;
}

// Below this zoom node text is too small to read: it is not painted (the layout stays, so edges do not move).
const farSelector = (s: ReactFlowState) => s.transform[2] < 0.45;

export function Canvas(props: Props) {
  const far = useStore(farSelector);
  const { doc, specs, selection, problemsByNode, problemsByEdge, steps, apply, onSelect, readOnly, monitor, edgeLabels } = props;
  const measured = useRef(new Map<string, { width: number; height: number }>());
  const [measureTick, setMeasureTick] = useState(0);
  const nodeCache = useRef(new Map<string, Cached<FlowNode, CanvasNode>>());
  const edgeCache = useRef(new Map<string, Cached<FlowEdge, Edge>>());
  const edgeList = useRef<Edge[]>([]);
  const reconnecting = useRef<{ edge: string; done: boolean } | null>(null);
  const rfRef = useRef<ReactFlowInstance<CanvasNode, Edge> | null>(null);
  const readyFired = useRef(false);
  // Fit once when opening a flow that has nodes and no saved viewport; never re-fit while the user builds.
  const initialFit = useRef(doc.nodes.length > 0 && doc.nodes.length <= LARGE_FLOW && !doc.viewport);
  const initialViewport = useRef(doc.viewport || (doc.nodes.length > LARGE_FLOW ? cornerViewport(doc) : undefined));

  // Rebuild only the React Flow nodes whose document node or decorations changed, so 1,000 nodes stay cheap.
  const nodes = useMemo(() => {
    const cache = nodeCache.current;
    const next = new Map<string, Cached<FlowNode, CanvasNode>>();
    const wired = new Map<string, Set<string>>();
    for (const e of doc.edges) wired.set(e.source, (wired.get(e.source) || new Set()).add(e.source_port));
    const out = doc.nodes.map((n) => {
      const spec = specs.get(n.type);
      const problems = problemsByNode.get(n.id);
      const unwired = problems?.some((p) => p.code === "unwired_route")
        ? outputPorts(spec, n.config)
            .map((p) => p.name)
            .filter((name) => name !== "error" && !wired.get(n.id)?.has(name))
        : undefined;
      const step = steps.get(n.id);
      const mon = monitor?.get(n.id);
      const m = measured.current.get(n.id);
      const sel = selection.nodes.has(n.id);
      const key = `${mon ? monitorKey(mon) : ""}|${sel}|${problems ? problems.map((p) => p.severity + p.message).join("¦") : ""}|${step ? step.status : ""}|${unwired ? unwired.join(",") : ""}|${spec ? 1 : 0}|${m ? m.width + "x" + m.height : ""}`;
      const hit = cache.get(n.id);
      if (hit && hit.src === n && hit.key === key) {
        next.set(n.id, hit);
        return hit.out;
      }
      const data: NodeData = { node: n, spec, problems, step, unwired, monitor: mon };
      const rf: CanvasNode = { id: n.id, type: rendererFor(spec), position: n.position, data, selected: sel };
      if (m) rf.measured = m;
      else Object.assign(rf, estimate(n, spec));
      next.set(n.id, { src: n, key, out: rf });
      return rf;
    });
    nodeCache.current = next;
    return out;
    // measureTick: re-read measured sizes after React Flow reports them
  }, [doc.nodes, doc.edges, specs, selection.nodes, problemsByNode, steps, monitor, measureTick]);

  const edges = useMemo(() => {
    const cache = edgeCache.current;
    const next = new Map<string, Cached<FlowEdge, Edge>>();
    const byId = new Map(doc.nodes.map((n) => [n.id, n]));
    const hasPort = (nodeId: string, port: string, side: "in" | "out") => {
      const n = byId.get(nodeId);
      const spec = n && specs.get(n.type);
      if (!n || !spec) return true; // unknown type: leave it to React Flow and the problem list
      if (side === "in") return spec.inputs.some((p) => p.name === port);
      return outputNames(spec, n).has(port);
    };
    const out = doc.edges.map((e) => {
      const problems = problemsByEdge.get(e.id);
      const sel = selection.edges.has(e.id);
      // An edge naming a port its node does not have is still drawn (from the node's first port) so it can be seen and fixed.
      const srcOk = hasPort(e.source, e.source_port, "out");
      const tgtOk = hasPort(e.target, e.target_port, "in");
      const count = edgeLabels?.get(e.id);
      const key = `${count ?? ""}|${sel}|${problems ? problems.map((p) => p.message).join("¦") : ""}|${srcOk}|${tgtOk}`;
      const hit = cache.get(e.id);
      if (hit && hit.src === e && hit.key === key) {
        next.set(e.id, hit);
        return hit.out;
      }
      const rf: Edge = {
        id: e.id,
        source: e.source,
        sourceHandle: srcOk ? e.source_port : null,
        target: e.target,
        targetHandle: tgtOk ? e.target_port : null,
        selected: sel,
        className: [problems || !srcOk || !tgtOk ? "edge-problem" : "", e.source_port === "error" ? "edge-error-port" : ""].filter(Boolean).join(" "),
        data: { problems },
      };
      if (count !== undefined) {
        rf.label = count;
        rf.className = `${rf.className} edge-count`.trim();
        rf.labelBgPadding = [5, 2];
        rf.labelBgBorderRadius = 8;
      }
      if (!srcOk || !tgtOk) {
        rf.label = `no port “${!srcOk ? e.source_port : e.target_port}”`;
        rf.labelStyle = { fill: "#b91c1c", fontSize: 11 };
      }
      next.set(e.id, { src: e, key, out: rf });
      return rf;
    });
    edgeCache.current = next;
    // Moving a node changes no edge: keep the same array so React Flow does not re-index 1,200 connections per frame.
    const prev = edgeList.current;
    if (prev.length === out.length && out.every((e, i) => e === prev[i])) return prev;
    edgeList.current = out;
    return out;
  }, [doc.edges, doc.nodes, specs, selection.edges, problemsByEdge, edgeLabels]);

  const fireReady = useCallback(() => {
    if (readyFired.current) return;
    readyFired.current = true;
    requestAnimationFrame(() => props.onReady());
  }, [props]);

  const onNodesChange = useCallback(
    (changes: NodeChange<CanvasNode>[]) => {
      const moves = new Map<string, { x: number; y: number }>();
      let dragging = false;
      let sized = false;
      let selectNodes: Set<string> | null = null;
      for (const c of changes) {
        if (c.type === "position" && c.position) {
          moves.set(c.id, c.position);
          dragging ||= !!c.dragging;
        } else if (c.type === "position" && !c.dragging) {
          moves.set(c.id, moves.get(c.id) || { x: NaN, y: NaN });
        } else if (c.type === "dimensions" && c.dimensions) {
          measured.current.set(c.id, { width: c.dimensions.width, height: c.dimensions.height });
          sized = true;
        } else if (c.type === "select") {
          selectNodes ||= new Set(selection.nodes);
          if (c.selected) selectNodes.add(c.id);
          else selectNodes.delete(c.id);
        }
      }
      if (moves.size) {
        const real = new Map([...moves].filter(([, p]) => !Number.isNaN(p.x)));
        // a drag ends with a position change without coordinates: record the whole drag as one undo step
        apply((d) => (real.size ? moveNodes(d, real) : { ...d }), { mode: dragging ? "transient" : "record" });
      }
      if (sized) {
        setMeasureTick((t) => t + 1);
        fireReady();
      }
      if (selectNodes) onSelect({ nodes: selectNodes, edges: selection.edges });
    },
    [apply, onSelect, selection, fireReady],
  );

  const onEdgesChange = useCallback(
    (changes: EdgeChange<Edge>[]) => {
      let next: Set<string> | null = null;
      for (const c of changes) {
        if (c.type === "select") {
          next ||= new Set(selection.edges);
          if (c.selected) next.add(c.id);
          else next.delete(c.id);
        }
      }
      if (next) onSelect({ nodes: selection.nodes, edges: next });
    },
    [onSelect, selection],
  );

  const onConnect = useCallback(
    (c: Connection) => {
      if (!c.sourceHandle || !c.targetHandle) return;
      apply((d) => connect(d, { source: c.source, sourcePort: c.sourceHandle!, target: c.target, targetPort: c.targetHandle! })[0]);
    },
    [apply],
  );

  const onReconnect = useCallback(
    (old: Edge, c: Connection) => {
      if (reconnecting.current) reconnecting.current.done = true;
      if (!c.sourceHandle || !c.targetHandle || c.source === c.target) return;
      apply((d) => reconnect(d, old.id, { source: c.source, sourcePort: c.sourceHandle!, target: c.target, targetPort: c.targetHandle! }));
    },
    [apply],
  );

  const onDragOver = useCallback((e: DragEvent) => {
    if (e.dataTransfer.types.includes(DRAG_MIME)) {
      e.preventDefault();
      e.dataTransfer.dropEffect = "copy";
    }
  }, []);

  const onDrop = useCallback(
    (e: DragEvent) => {
      const type = e.dataTransfer.getData(DRAG_MIME);
      if (!type || !rfRef.current) return;
      e.preventDefault();
      const pos = rfRef.current.screenToFlowPosition({ x: e.clientX, y: e.clientY });
      props.onDropType(type, { x: pos.x - 90, y: pos.y - 20 });
    },
    [props],
  );

  const nodeColor = useCallback((n: CanvasNode) => CATEGORY_COLOR[n.type || "unknown"] || "#9ca3af", []);

  return (
    <div className={`canvas${far ? " far" : ""}${readOnly ? " read-only" : ""}`} onDragOver={readOnly ? undefined : onDragOver} onDrop={readOnly ? undefined : onDrop} data-testid="canvas">
      <ReactFlow<CanvasNode, Edge>
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={onConnect}
        onReconnect={onReconnect}
        onReconnectStart={(_, edge) => (reconnecting.current = { edge: edge.id, done: false })}
        onReconnectEnd={(_, edge) => {
          // an edge end dropped on empty canvas deletes the edge, as in Node-RED and n8n
          if (reconnecting.current && !reconnecting.current.done) apply((d) => removeElements(d, new Set(), new Set([edge.id])));
          reconnecting.current = null;
        }}
        nodesDraggable={!readOnly}
        nodesConnectable={!readOnly}
        edgesReconnectable={!readOnly}
        onNodeDoubleClick={(_, n) => {
          if (readOnly) return;
          // as in Node-RED: double-click opens the node for editing (its name field in the inspector)
          onSelect({ nodes: new Set([n.id]), edges: new Set() });
          requestAnimationFrame(() => document.querySelector<HTMLInputElement>("[data-testid=node-name]")?.select());
        }}
        onInit={(rf) => {
          rfRef.current = rf;
          props.onInit(rf);
          if (initialFit.current) fitDocument(rf, doc, 0);
          // nothing drawn (an empty flow, or no node in view) means nothing to measure
          requestAnimationFrame(() => {
            if (!document.querySelector(".react-flow__node")) fireReady();
          });
        }}
        deleteKeyCode={null}
        selectionKeyCode="Shift"
        multiSelectionKeyCode={["Meta", "Control", "Shift"]}
        defaultViewport={initialViewport.current}
        onlyRenderVisibleElements
        minZoom={0.05}
        maxZoom={2}
        snapToGrid
        snapGrid={[8, 8]}
        defaultEdgeOptions={{ type: "smoothstep" }}
        proOptions={{ hideAttribution: true }}
        elevateNodesOnSelect={false}
      >
        <Background variant={BackgroundVariant.Dots} gap={16} size={1} color="#cbd5e1" />
        <Controls showInteractive={false} showFitView={false} position="bottom-left">
          <ControlButton onClick={() => rfRef.current && fitDocument(rfRef.current, doc)} title="Fit view" aria-label="Fit view" data-testid="fit-view">
            <svg viewBox="0 0 16 16" width="12" height="12" fill="none" stroke="currentColor" strokeWidth="1.8">
              <path d="M1.5 5.5v-4h4M10.5 1.5h4v4M14.5 10.5v4h-4M5.5 14.5h-4v-4" />
            </svg>
          </ControlButton>
        </Controls>
        {props.minimap !== false && <MiniMap pannable zoomable nodeColor={nodeColor} nodeStrokeWidth={0} position="bottom-right" ariaLabel="Minimap" />}
      </ReactFlow>
    </div>
  );
}
