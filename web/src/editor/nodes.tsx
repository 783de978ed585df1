// One renderer per node category; each draws its handles from the SPEC's named ports and its summary from
// the SPEC's summary template, so a node type needs no code here (docs/extending.md).
import { memo, useEffect, useRef } from "react";
import { Handle, Position, useUpdateNodeInternals, type Node, type NodeProps } from "@xyflow/react";
import type { FlowNode, NodeType, Port, Problem, Step } from "../types";
import { statusClass, statusMark } from "../runStatus";
import { outputPorts } from "./document";
import { renderSummary } from "./summary";

export interface NodeData extends Record<string, unknown> {
  node: FlowNode;
  spec: NodeType | undefined;
  problems: Problem[] | undefined;
  step: Step | undefined;
  /** Output ports a validation problem says lead nowhere (unwired_route). */
  unwired: string[] | undefined;
  /** Monitor mode only: live figures over the sliding window. */
  monitor?: NodeMonitor;
}

/** What monitor mode draws on a node: attempts in, succeeded out, failed, timings, steps running now. */
export interface NodeMonitor {
  in: number;
  out: number;
  failed: number;
  avg_ms: number | null;
  p95_ms: number | null;
  running: number;
  /** The newest attempt failed (the node is drawn red until one succeeds). */
  lastFailed: boolean;
}

export function monitorKey(m: NodeMonitor): string {
  return `${m.in},${m.out},${m.failed},${m.avg_ms},${m.p95_ms},${m.running},${m.lastFailed}`;
}

function ms(v: number | null): string {
  if (v == null) return "–";
  return v >= 1000 ? `${(v / 1000).toFixed(1)} s` : `${v < 10 ? v.toFixed(1) : Math.round(v)} ms`;
}

function MonitorStrip({ m }: { m: NodeMonitor }) {
  return (
    <div className="cd-monitor" data-testid="monitor-strip" data-in={m.in} data-out={m.out} data-failed={m.failed}>
      <span title="Attempts started in the window"><b data-testid="mon-in">{m.in}</b> in</span>
      <span title="Attempts succeeded"><b data-testid="mon-out">{m.out}</b> out</span>
      <span className={m.failed ? "mon-bad" : ""} title="Attempts failed"><b data-testid="mon-failed">{m.failed}</b> failed</span>
      <span className="mon-time" title="Average and 95th percentile step time">avg {ms(m.avg_ms)} · p95 {ms(m.p95_ms)}</span>
    </div>
  );
}

export type CanvasNode = Node<NodeData>;

// Small stroke icons drawn inline: no icon font, no glyphs missing from the system fonts.
const ICON_PATH: Record<string, string> = {
  event: "M9 1 3 9h4l-1 6 6-8H8l1-6z",
  connector: "M2 5h10M9 2l3 3-3 3M14 11H4M7 8l-3 3 3 3",
  transform: "M10 2.5c-2 0-2.5 1-2.8 3L6 13.5c-.3 1.5-1 2-2.5 2M4.5 7h6",
  branch: "M4 2v5c0 2 1 3 3 3h5M4 7v7M10 7.5 12.5 10 10 12.5",
  control: "M8 2 14 8 8 14 2 8z",
  edi: "M3 2h7l3 3v9H3zM5.5 7h5M5.5 9.5h5M5.5 12h3",
  unknown: "M5.5 6a2.5 2.5 0 1 1 3.5 2.3c-.6.3-1 .8-1 1.5M8 12.5v.5",
};

export function CategoryIcon({ category }: { category: string }) {
  return (
    <span className="cd-node-icon" aria-hidden="true">
      <svg viewBox="0 0 16 16" width="13" height="13" fill="none" stroke="currentColor" strokeWidth="1.7" strokeLinecap="round" strokeLinejoin="round">
        <path d={ICON_PATH[category] || ICON_PATH.unknown} />
      </svg>
    </span>
  );
}

function clip(text: string, max = 60): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? flat.slice(0, max - 1) + "…" : flat;
}

function Ports({ id, inputs, outputs, unwired }: { id: string; inputs: Port[]; outputs: Port[]; unwired?: string[] }) {
  const update = useUpdateNodeInternals();
  const key = inputs.map((p) => p.name).join(",") + "|" + outputs.map((p) => p.name).join(",");
  const drawn = useRef(key);
  useEffect(() => {
    // React Flow measures handles on mount; only a later change of ports (a rule added) needs a re-measure
    if (drawn.current !== key) {
      drawn.current = key;
      update(id);
    }
  }, [id, key, update]);
  const labelled = outputs.length > 1;
  const flagged = new Set(unwired || []);
  return (
    <>
      {inputs.map((p, i) => (
        <Handle
          key={p.name}
          id={p.name}
          type="target"
          position={Position.Left}
          className="port port-in"
          style={{ top: inputs.length === 1 ? 22 : 22 + i * 16 }}
          title={p.label || p.name}
        />
      ))}
      {outputs.length > 0 && (
        <div className={labelled ? "ports" : "ports ports-single"}>
          {outputs.map((p) => (
            <div
              key={p.name}
              className={`port-row${p.name === "error" ? " port-error" : ""}${flagged.has(p.name) ? " port-problem" : ""}`}
              data-port={p.name}
            >
              {labelled && <span className="port-label" title={p.label || undefined}>{p.name}</span>}
              <Handle id={p.name} type="source" position={Position.Right} className="port port-out" title={p.label || p.name} />
            </div>
          ))}
        </div>
      )}
    </>
  );
}

function Frame({ data, selected, category }: { data: NodeData; selected?: boolean; category: string }) {
  const { node, spec, problems, step, monitor } = data;
  const summary = renderSummary(spec?.summary, node.config, spec?.config_schema);
  const errors = problems?.filter((p) => p.severity === "error").length || 0;
  const warnings = (problems?.length || 0) - errors;
  const outputs = outputPorts(spec, node.config);
  const cls = ["cd-node", `cat-${category}`, selected ? "selected" : "", errors ? "has-error" : warnings ? "has-warning" : "", node.disabled ? "disabled" : "", monitor ? "monitored" : "", monitor?.lastFailed ? "mon-failing" : "", monitor?.running ? "mon-running" : ""];
  return (
    <div className={cls.filter(Boolean).join(" ")} data-node-id={node.id} data-status={step?.status || ""} data-monitor={monitor ? (monitor.lastFailed ? "failing" : monitor.running ? "running" : "ok") : undefined}>
      <div className="cd-node-head">
        <CategoryIcon category={category} />
        <span className="cd-node-name" title={node.name || node.id}>
          {node.name || node.id}
        </span>
        {problems && problems.length > 0 && (
          <span
            className={`cd-badge ${errors ? "bad" : "warn"}`}
            data-testid="problem-badge"
            title={problems.map((p) => p.message).join("\n")}
          >
            {problems.length}
          </span>
        )}
        {step && (
          <span className={`cd-status ${statusClass(step.status)}`} data-testid="step-status" title={`${step.status}${step.duration_ms != null ? ` in ${step.duration_ms} ms` : ""}`}>
            {statusMark(step.status)}
          </span>
        )}
      </div>
      {node.disabled && <div className="cd-node-disabled">disabled</div>}
      <div className="cd-node-type">{spec ? (node.name && node.name !== spec.title ? `${spec.title} · ${spec.type}` : spec.type) : `unknown type ${node.type}`}</div>
      {summary && (
        <div className="cd-node-summary">
          <code>{summary}</code>
        </div>
      )}
      {node.notes && <div className="cd-node-notes">{clip(node.notes, 90)}</div>}
      {monitor && <MonitorStrip m={monitor} />}
      <Ports id={node.id} inputs={spec?.inputs || []} outputs={outputs} unwired={data.unwired} />
    </div>
  );
}

// One node component per category (its colour and icon); what each shows under its title is its type's
// SPEC summary template (summary.ts), never fields read here.
function categoryNode(category: string) {
  return memo(function CategoryNode({ data, selected }: NodeProps<CanvasNode>) {
    return <Frame data={data} selected={selected} category={category} />;
  });
}

export const nodeTypes = {
  event: categoryNode("event"),
  connector: categoryNode("connector"),
  transform: categoryNode("transform"),
  branch: categoryNode("branch"),
  control: categoryNode("control"),
  edi: categoryNode("edi"),
  unknown: categoryNode("unknown"),
};

export function rendererFor(spec: NodeType | undefined): keyof typeof nodeTypes {
  const cat = spec?.category;
  return cat && cat in nodeTypes ? (cat as keyof typeof nodeTypes) : "unknown";
}
