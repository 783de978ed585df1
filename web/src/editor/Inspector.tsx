// The right-hand inspector: the selected node's name, notes and config form, its problems and last run.
// In mapping mode only the fields flows/edit_scope.py lets a mapper change can be edited; in view mode none.
import { lazy, Suspense, useEffect, useMemo, useState } from "react";
import { can, type EditMode } from "../access";
import { statusClass, statusLabel } from "../runStatus";
import { mapperMayEdit } from "./editScope";
import type { FlowDoc, FlowNode, NodeType, Problem, Step } from "../types";
import { CategoryIcon } from "./nodes";
// CodeMirror loads with the first expression field, not with the canvas.
const ExpressionField = lazy(() => import("./ExpressionField").then((m) => ({ default: m.ExpressionField })));
// the mapper view of a mapping field (transform.map's expression, a connector's body) loads when first opened
const Mapper = lazy(() => import("./mapper/Mapper").then((m) => ({ default: m.Mapper })));
import { mapsField } from "./mapper/fields";
import { normalise, ObjectFields, type FormContext } from "./SchemaForm";
import type { Change } from "./history";
import { CorrelationKeys } from "./CorrelationKeys"; // the document thread's settings
import type { Choices } from "./workspaceChoices";
import { DryRunNote } from "./RunDialog"; // a dry-run step's request in a line (issue 13)

interface Props {
  doc: FlowDoc;
  node: FlowNode | null;
  selectedCount: number;
  spec: NodeType | undefined;
  problems: Problem[];
  step: Step | undefined;
  samples: Map<string, string>;
  setSample: (nodeId: string, text: string) => void;
  apply: (fn: (doc: FlowDoc) => FlowDoc, change?: Change) => void;
  onDeleteSelection: () => void;
  onDuplicateSelection: () => void;
  /** The workspace's connections and lookup tables, offered by fields that name one. */
  choices: Choices;
  mode: EditMode;
}

function patchNode(doc: FlowDoc, id: string, patch: Partial<FlowNode>): FlowDoc {
  return { ...doc, nodes: doc.nodes.map((n) => (n.id === id ? { ...n, ...patch } : n)) };
}

function withSetting(settings: Record<string, unknown> | undefined, key: string, value: string): Record<string, unknown> {
  const next = { ...(settings || {}) };
  if (value) next[key] = value;
  else delete next[key];
  return next;
}

function triggerSample(doc: FlowDoc): unknown {
  const manual = doc.nodes.find((n) => n.type === "event.manual");
  return manual?.config?.sample;
}

export function Inspector(props: Props) {
  const { doc, node, spec, problems, step, apply, mode } = props;
  const building = mode === "build";
  const [tab, setTab] = useState<"config" | "run">("config");
  const [mapperField, setMapperField] = useState<string | null>(null); // the config field open in the mapper
  useEffect(() => setMapperField(null), [node?.id]);

  const ctx: FormContext | null = useMemo(() => {
    if (!node || !spec) return null;
    const nodeId = node.id;
    // the preview stands for this node of this flow: the server binds the flow's params and a run-shaped $run
    const flow = { id: doc.id, params: doc.params, nodes: [node] };
    const nodeType = node.type;
    const previews = can("mappings:write"); // POST /preview/map needs it
    // a node fed by others previews on their output over a saved sample, as a run would reach it (issue 13)
    const feeding = [...new Set(doc.edges.filter((e) => e.target === nodeId).map((e) => doc.nodes.find((n) => n.id === e.source)?.name || e.source))];
    return {
      editable: (path: string) => building || (mode === "mapping" && mapperMayEdit(nodeType, path)),
      root: spec.config_schema,
      expressions: new Set(spec.expressions.map(normalise)),
      references: spec.references,
      choices: props.choices,
      renderExpression: (path, value, onChange, label, readOnly) => {
        const vp = problems.find((p) => p.field === path && (p.position != null || p.code.includes("expression")));
        const field = (
          <Suspense key={`${nodeId}:${path}`} fallback={<pre className="json-view">{value}</pre>}>
            <ExpressionField
              key={`${nodeId}:${path}`}
              label={label}
              path={path}
              expression={value}
              onChange={onChange}
              sample={props.samples.get(nodeId) ?? (triggerSample(doc) != null ? JSON.stringify(triggerSample(doc), null, 2) : "")}
              setSample={(t) => props.setSample(nodeId, t)}
              lastRunInput={step?.input}
              triggerSample={triggerSample(doc)}
              target={{ flow, node: nodeId, field: path }}
              validationError={vp ? { message: vp.message, position: vp.position } : null}
              open={previews && spec.type === "transform.map"}
              readOnly={readOnly}
              previews={previews}
              upstream={feeding.length ? { flowId: doc.id, nodeId, field: path, document: doc, from: feeding } : undefined}
            />
          </Suspense>
        );
        if (!mapsField(nodeType, path)) return field;
        return (
          <>
            <button type="button" className="btn small" data-testid={`open-mapper-${path}`} onClick={() => setMapperField(path)}>
              Open in mapper
            </button>
            {field}
          </>
        );
      },
    };
  }, [node, spec, problems, props, step, doc, building, mode]);

  if (!node) {
    return (
      <aside className="inspector" data-testid="inspector">
        <div className="insp-head">
          <span className="insp-title">{props.selectedCount > 1 ? `${props.selectedCount} nodes selected` : "Flow"}</span>
        </div>
        {props.selectedCount > 1 ? (
          building && (
            <div className="insp-body">
              <div className="row gap">
                <button className="btn" onClick={props.onDuplicateSelection}>Duplicate</button>
                <button className="btn danger" onClick={props.onDeleteSelection}>Delete</button>
              </div>
            </div>
          )
        ) : (
          <div className="insp-body">
            <fieldset className="field-lock" disabled={!building}>
              <label className="field">
                <span className="field-label">Flow name</span>
                <input type="text" value={doc.name} data-testid="flow-name" onChange={(e) => apply((d) => ({ ...d, name: e.target.value }), { key: "flow:name" })} />
              </label>
              <label className="field">
                <span className="field-label">Description</span>
                <textarea rows={3} value={doc.description || ""} onChange={(e) => apply((d) => ({ ...d, description: e.target.value }), { key: "flow:description" })} />
              </label>
              {(["business_key", "sequence_key"] as const).map((key) => (
                <label className="field" key={key}>
                  <span className="field-label">{key === "business_key" ? "Business key" : "Sequence key"}</span>
                  <input
                    type="text"
                    className="mono"
                    placeholder="e.g. order.number"
                    data-testid={`flow-${key}`}
                    value={String((doc.settings as Record<string, unknown> | undefined)?.[key] ?? "")}
                    onChange={(e) => apply((d) => ({ ...d, settings: withSetting(d.settings, key, e.target.value) }), { key: `flow:${key}` })}
                  />
                  <span className="hint">
                    {key === "business_key"
                      ? "Message path shown and searched in run history (PO 4711)."
                      : "Runs with the same value execute in arrival order; others in parallel."}
                  </span>
                </label>
              ))}
              <CorrelationKeys doc={doc} apply={apply} />
              <div className="field">
                <span className="field-label">Flow id</span>
                <code className="mono">{doc.id}</code>
              </div>
              <p className="hint">
                {building
                  ? "Drag node types from the palette, wire output ports to input ports, and select a node to configure it."
                  : "Select a node to see its configuration."}
              </p>
            </fieldset>
          </div>
        )}
      </aside>
    );
  }

  const category = spec?.category || "unknown";
  const config = node.config || {};
  const mapperOpen = mapperField !== null && mapsField(node.type, mapperField);
  const mapperMayWrite = !!mapperField && (building || (mode === "mapping" && mapperMayEdit(node.type, mapperField)));
  return (
    <aside className="inspector" data-testid="inspector">
      <div className={`insp-head cat-${category}`}>
        <CategoryIcon category={category} />
        <span className="insp-title">{spec?.title || node.type}</span>
        <code className="mono muted" title="node id">{node.id}</code>
      </div>
      <div className="tabs">
        <button className={tab === "config" ? "tab active" : "tab"} onClick={() => setTab("config")}>Configure</button>
        <button className={tab === "run" ? "tab active" : "tab"} onClick={() => setTab("run")} data-testid="tab-run">
          Last run {step && <span className={`dot ${statusClass(step.status)}`} />}
        </button>
      </div>
      {tab === "config" ? (
        <div className="insp-body">
          {spec?.description && <p className="hint">{spec.description}</p>}
          <fieldset className="field-lock" disabled={!building}>
            <label className="field">
              <span className="field-label">Name</span>
              <input type="text" value={node.name || ""} data-testid="node-name" onChange={(e) => apply((d) => patchNode(d, node.id, { name: e.target.value }), { key: `name:${node.id}` })} />
            </label>
            <label className="field">
              <span className="field-label">Notes</span>
              <textarea rows={2} value={node.notes || ""} data-testid="node-notes" placeholder="What this step is for, who owns it…" onChange={(e) => apply((d) => patchNode(d, node.id, { notes: e.target.value }), { key: `notes:${node.id}` })} />
            </label>
          </fieldset>
          {problems.length > 0 && (
            <ul className="insp-problems">
              {problems.map((p, i) => (
                <li key={i} className={p.severity}>
                  {p.field && <code>{p.field}</code>} {p.message}
                </li>
              ))}
            </ul>
          )}
          {ctx && spec ? (
            <div className="config-form" data-testid="config-form">
              <ObjectFields
                schema={spec.config_schema}
                value={config}
                path=""
                ctx={ctx}
                onChange={(v) => apply((d) => patchNode(d, node.id, { config: v }), { key: `config:${node.id}` })}
              />
            </div>
          ) : (
            <p className="field-error">This node type is not in the catalogue; its config cannot be edited.</p>
          )}
          <label className="field field-check">
            <input type="checkbox" checked={!!node.disabled} disabled={!building} data-testid="node-disabled" onChange={(e) => apply((d) => patchNode(d, node.id, { disabled: e.target.checked || undefined }))} />
            <span className="field-label">Disabled</span>
            <span className="hint check-hint">Messages stop here; nodes after it are reached only through other routes.</span>
          </label>
        </div>
      ) : (
        <div className="insp-body" data-testid="run-output">
          {!step ? (
            <p className="hint">No result for this node yet. Use “Run with sample” after deploying.</p>
          ) : (
            <>
              <div className="row gap">
                <span className={`pill ${statusClass(step.status)}`}>{statusLabel(step.status)}</span>
                {step.port && <span className="hint">to port <code>{step.port}</code></span>}
                {step.duration_ms != null && <span className="hint">{step.duration_ms} ms</span>}
              </div>
              {step.error != null && (
                <>
                  <div className="field-label">Error</div>
                  <pre className="json-view error">{typeof step.error === "string" ? step.error : JSON.stringify(step.error, null, 2)}</pre>
                </>
              )}
              <div className="field-label">Input</div>
              <pre className="json-view">{JSON.stringify(step.input, null, 2)}</pre>
              <div className="field-label">Output</div>
              <DryRunNote output={step.output} />
              <pre className="json-view" data-testid="step-output">{JSON.stringify(step.output, null, 2)}</pre>
            </>
          )}
        </div>
      )}
      {mapperOpen && mapperField && (
        <Suspense fallback={null}>
          <Mapper
            key={`${node.id}:${mapperField}`}
            doc={doc}
            nodeId={node.id}
            field={mapperField}
            expression={typeof config[mapperField] === "string" ? (config[mapperField] as string) : ""}
            readOnly={!mapperMayWrite}
            lookupTables={props.choices.lookup}
            onChange={(expression) =>
              apply((d) => patchNode(d, node.id, { config: { ...(d.nodes.find((n) => n.id === node.id)?.config || {}), [mapperField]: expression } }), { key: `mapper:${node.id}` })
            }
            onClose={() => setMapperField(null)}
          />
        </Suspense>
      )}
    </aside>
  );
}
