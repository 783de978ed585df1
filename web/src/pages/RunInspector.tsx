// The run inspector: the run drawn on the flow version it ran on, each step's input and output side by side,
// errors, attempts and a timing waterfall; replay the run, or re-run from a step with edited input. Steps are named
// by their node's name (its id where it has none), and the flow is fitted to the canvas when it opens.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { ReactFlowProvider } from "@xyflow/react";
import { api, ApiError } from "../api";
import { Canvas, fitDocument, type Selection } from "../editor/Canvas";
import type { LiveEvent } from "../live";
import { watchRun } from "../runWatch";
import { isTerminal, statusClass } from "../runStatus";
import type { FlowDoc, NodeType, Run, Step } from "../types";
import { can } from "../access";
import { AppNav, Link } from "./AppNav";
import { JsonTree } from "./JsonTree";
import { StatusPill, duration, when } from "./RunList";

const NO_PROBLEMS = new Map();

declare global {
  interface Window {
    /** For tests: the canvas was fitted to the flow once its nodes were measured. */
    __crossdockRun?: { fitted: boolean };
  }
}

interface StepError {
  code?: string;
  class?: string;
  message?: string;
  retryable?: boolean;
}

/** A node's name in the version the run ran on, else its id (the version is not loaded yet, or the node has none). */
type NameOf = (nodeId: string) => string;

function errorOf(v: unknown): StepError | null {
  if (!v) return null;
  if (typeof v === "string") return { message: v };
  return v as StepError;
}

export function RunInspector({ runId, nodeTypes, navigate }: { runId: string; nodeTypes: NodeType[]; navigate: (path: string) => void }) {
  const specs = useMemo(() => new Map(nodeTypes.map((t) => [t.type, t])), [nodeTypes]);
  const [run, setRun] = useState<Run | null>(null);
  const [doc, setDoc] = useState<FlowDoc | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<{ kind: "ok" | "error"; text: string } | null>(null);
  const [selectedStep, setSelectedStep] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  const [live, setLive] = useState<LiveEvent | null>(null); // the newest step event of a run still going

  const load = useCallback(async () => {
    try {
      const r = await api.getRun(runId);
      setRun(r);
      return r;
    } catch (e) {
      setError(e instanceof ApiError && e.status === 404 ? `There is no run #${runId}.` : (e as Error).message);
      return null;
    }
  }, [runId]);

  useEffect(() => {
    let stop = false;
    let close = () => undefined as void;
    setLive(null);
    setDoc(null); // another run: its canvas opens anew, fitted
    (async () => {
      const r = await load();
      if (!r || stop) return;
      api.getVersion(r.flow_id, r.version).then(setDoc, (e) => setError(`The flow version this run ran on is gone: ${(e as Error).message}`));
      if (isTerminal(r.status)) return;
      // a run still going is followed by its events (and read again once the socket is up, for what
      // happened between the read above and the subscription) until it finishes
      const watch = watchRun({ flowId: r.flow_id, onRun: setRun, onEvent: (e) => e.event.startsWith("step.") && setLive(e) });
      watch.follow(r.id);
      close = watch.close;
    })();
    return () => {
      stop = true;
      close();
    };
  }, [load]);

  const steps = run?.steps || [];
  const names = useMemo(() => new Map((doc?.nodes || []).map((n) => [n.id, n.name || n.id])), [doc]);
  const nameOf: NameOf = useCallback((id: string) => names.get(id) || id, [names]);
  // drawn fitted to the canvas whatever viewport the version was saved with: once as it opens, again once its
  // nodes are measured (the first fit uses estimated sizes)
  const fitted = useMemo(() => (doc ? { ...doc, viewport: undefined } : null), [doc]);
  const flow = useRef<Parameters<typeof fitDocument>[0] | null>(null);
  // the step a node shows: its last attempt in this run
  const byNode = useMemo(() => {
    const m = new Map<string, Step>();
    for (const s of steps) m.set(s.node_id, s);
    return m;
  }, [steps]);

  // select the failed step by default, else the last one
  useEffect(() => {
    if (selectedStep !== null || !steps.length) return;
    const failed = [...steps].reverse().find((s) => s.status === "failed");
    setSelectedStep(steps.indexOf(failed || steps[steps.length - 1]));
  }, [steps, selectedStep]);

  const step = selectedStep !== null ? steps[selectedStep] : undefined;
  const selection: Selection = useMemo(() => ({ nodes: new Set(step ? [step.node_id] : []), edges: new Set() }), [step]);

  const replay = async (body: { version: "original" | "current"; from_node?: string; input?: unknown }) => {
    if (!run) return;
    setBusy(true);
    try {
      const r = await api.replay(run.id, body);
      navigate(`/runs/${r.id}`);
    } catch (e) {
      const details = e instanceof ApiError && e.details.length ? `: ${e.details.map((d) => d.message).join("; ")}` : "";
      setNotice({ kind: "error", text: `Replay refused: ${(e as Error).message}${details}` });
    } finally {
      setBusy(false);
    }
  };

  if (error) {
    return (
      <div className="flow-list-page">
        <AppNav current="/runs" navigate={navigate} />
        <div className="page-message" data-testid="run-error-page">{error}</div>
      </div>
    );
  }
  if (!run) return <div className="page-message">Loading run…</div>;
  const runError = errorOf(run.error);

  return (
    <div className="editor run-page" data-testid="run-inspector" data-run-status={run.status}>
      <AppNav
        current="/runs"
        navigate={navigate}
        title={
          <>
            <span className="flow-title" data-testid="run-title">Run #{String(run.id)}</span>
            <StatusPill status={run.status} />
            {run.dry_run && <span className="pill" title="Connectors stopped before the call; nothing was written" data-testid="run-dry">dry run</span>}
            <span className="hint">
              <Link to={`/monitor/${encodeURIComponent(run.flow_id)}`} navigate={navigate}>{doc?.name || run.flow_id}</Link> · <span data-testid="run-page-version">v{run.version}</span>
              {run.business_key && <> · key <code>{run.business_key}</code></>}
              {" · "}{run.trigger}
              {run.replay_of != null && (
                <>
                  {" of "}
                  <Link to={`/runs/${run.replay_of}`} navigate={navigate} testId="replay-of">#{String(run.replay_of)}</Link>
                </>
              )}
              {run.start_node && <> from <code>{nameOf(run.start_node)}</code></>}
              {" · "}{duration(run.duration_ms)}
            </span>
          </>
        }
      >
        {run.business_key && (doc?.settings as Record<string, unknown> | undefined)?.correlation !== undefined && (
          // a flow with correlation keys puts its runs into document threads (docs/operations.md)
          <Link to={`/threads?key=${encodeURIComponent(run.business_key)}`} navigate={navigate} className="btn" testId="run-thread">
            Document thread
          </Link>
        )}
        {can("runs:write") && (
          <>
            <button className="btn" disabled={busy || !isTerminal(run.status)} onClick={() => replay({ version: "original" })} data-testid="replay-original" title="Run the original input again on the version this run ran on">
              Replay on v{run.version}
            </button>
            <button className="btn primary" disabled={busy || !isTerminal(run.status)} onClick={() => replay({ version: "current" })} data-testid="replay-current" title="Run the original input again on the deployed version">
              Replay on current
            </button>
          </>
        )}
      </AppNav>
      {notice && (
        <div className={`toast ${notice.kind}`} data-testid="notice" onClick={() => setNotice(null)}>
          {notice.text}
        </div>
      )}
      {runError && (
        <div className="banner error" data-testid="run-error">
          <b>{runError.class || runError.code || "error"}</b> {runError.message}
          {(runError as { node?: string }).node && <span> at <code data-node-id={(runError as { node?: string }).node}>{nameOf((runError as { node?: string }).node!)}</code></span>}
        </div>
      )}
      <div className="run-layout">
        <div className="run-top">
          <div className="run-canvas">
            {fitted ? (
              <ReactFlowProvider>
                <Canvas
                  doc={fitted}
                  specs={specs}
                  selection={selection}
                  problemsByNode={NO_PROBLEMS}
                  problemsByEdge={NO_PROBLEMS}
                  steps={byNode}
                  apply={() => undefined}
                  onSelect={(sel) => {
                    const id = [...sel.nodes][0];
                    if (!id) return;
                    let i = -1;
                    steps.forEach((s, j) => s.node_id === id && (i = j));
                    if (i >= 0) setSelectedStep(i);
                  }}
                  onDropType={() => undefined}
                  onInit={(rf) => {
                    flow.current = rf;
                  }}
                  onReady={() => {
                    if (flow.current) fitDocument(flow.current, fitted, 0);
                    window.__crossdockRun = { fitted: true };
                  }}
                  readOnly
                  minimap={false}
                />
              </ReactFlowProvider>
            ) : (
              <div className="page-message">Loading flow version…</div>
            )}
          </div>
          <Waterfall run={run} steps={steps} selected={selectedStep} onSelect={setSelectedStep} nameOf={nameOf} />
        </div>
        {step ? (
          <StepDetail key={`${run.id}:${selectedStep}`} run={run} step={step} busy={busy} nameOf={nameOf} onRerun={(version, input) => replay({ version, from_node: step.node_id, input })} />
        ) : (
          <div className="step-detail hint pad">{isTerminal(run.status) ? "This run has no steps." : live ? (
            <span data-testid="live-step" data-node-id={live.node_id} data-status={live.status}>
              <code>{live.node_id ? nameOf(live.node_id) : ""}</code> {live.status}{live.attempt && live.attempt > 1 ? ` (try ${live.attempt})` : ""}…
            </span>
          ) : run.status === "queued" ? "Queued, waiting for a worker…" : "Waiting for the first step…"}</div>
        )}
      </div>
    </div>
  );
}

function Waterfall({ run, steps, selected, onSelect, nameOf }: { run: Run; steps: Step[]; selected: number | null; onSelect: (i: number) => void; nameOf: NameOf }) {
  const t0 = Date.parse(run.started_at || run.created_at || "") || (steps[0]?.started_at ? Date.parse(steps[0].started_at) : 0);
  const ends = steps.map((s) => (s.finished_at ? Date.parse(s.finished_at) : s.started_at ? Date.parse(s.started_at) + (s.duration_ms || 0) : t0));
  const span = Math.max(1, ...ends.map((e) => e - t0), run.duration_ms || 0);
  return (
    <div className="waterfall" data-testid="waterfall">
      <div className="waterfall-head">
        <span>Steps</span>
        <span className="spacer" />
        <span className="hint">{duration(span)} total</span>
      </div>
      <ol>
        {steps.map((s, i) => {
          const start = s.started_at ? Date.parse(s.started_at) - t0 : 0;
          const len = s.duration_ms ?? Math.max(0, ends[i] - t0 - start);
          return (
            <li key={String(s.id)} className={i === selected ? "active" : ""} onClick={() => onSelect(i)} data-testid="step-row" data-node-id={s.node_id} data-status={s.status}>
              <span className={`dot ${statusClass(s.status)}`} />
              <span className="wf-name" title={`${s.node_id} · ${s.node_type}`} data-testid="step-name">{nameOf(s.node_id)}</span>
              {s.attempt > 1 && <span className="tag">try {s.attempt}</span>}
              <span className="wf-track">
                <span className={`wf-bar ${statusClass(s.status)}`} style={{ left: `${(100 * Math.max(0, start)) / span}%`, width: `max(2px, ${(100 * len) / span}%)` }} />
              </span>
              <span className="wf-ms">{duration(s.duration_ms)}</span>
            </li>
          );
        })}
      </ol>
    </div>
  );
}

function StepDetail({ run, step, busy, nameOf, onRerun }: { run: Run; step: Step; busy: boolean; nameOf: NameOf; onRerun: (version: "original" | "current", input: unknown) => void }) {
  const [input, setInput] = useState<unknown>(step.input);
  const [output, setOutput] = useState<unknown>(step.output);
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState("");
  const [parseError, setParseError] = useState<string | null>(null);
  const [version, setVersion] = useState<"original" | "current">("current");
  const err = errorOf(step.error);

  const loadWhole = async () => {
    if (step.seq == null) return;
    setInput(await api.stepPayload(run.id, step.seq, "input"));
    setOutput(await api.stepPayload(run.id, step.seq, "output"));
  };

  return (
    <div className="step-detail" data-testid="step-detail" data-node-id={step.node_id}>
      <div className="step-head">
        <span className={`dot ${statusClass(step.status)}`} />
        <b data-testid="step-node" title={step.node_id}>{nameOf(step.node_id)}</b>
        <code className="hint">{step.node_type}</code>
        <StatusPill status={step.status} />
        <span className="hint">
          attempt {step.attempt} · {duration(step.duration_ms)}
          {step.started_at && ` · started ${when(step.started_at, true)}`}
          {step.port && ` · emitted on ${step.port}`}
        </span>
        <span className="spacer" />
        {step.truncated && (
          <button className="btn small" onClick={loadWhole} data-testid="load-whole">Load whole payloads</button>
        )}
        {can("runs:write") && (
          <button className="btn small" disabled={busy || !isTerminal(run.status)} data-testid="edit-rerun" onClick={() => {
            setText(JSON.stringify(input ?? null, null, 2));
            setParseError(null);
            setEditing(true);
          }}>
            Re-run from this step…
          </button>
        )}
      </div>
      {err && (
        <div className="step-error" data-testid="step-error">
          <span className="err-class" data-testid="step-error-class">{err.class || err.code || "error"}</span>
          {err.code && err.class && <code>{err.code}</code>}
          <span data-testid="step-error-message">{err.message}</span>
          {err.retryable && <span className="tag">retryable</span>}
        </div>
      )}
      {err && <RemoteExchange details={(err as { details?: unknown }).details} />}
      {editing ? (
        <div className="rerun" data-testid="rerun-editor">
          <div className="step-io">
            <section className="json-pane">
              <div className="json-pane-head"><span>Input for {nameOf(step.node_id)} (JSON)</span></div>
              <textarea className="json-input" rows={12} value={text} onChange={(e) => {
                setText(e.target.value);
                setParseError(null);
              }} data-testid="rerun-input" spellCheck={false} />
              {parseError && <div className="field-error" data-testid="rerun-parse-error">{parseError}</div>}
            </section>
            <section className="json-pane rerun-side">
              <p>
                A new run starts at <code>{nameOf(step.node_id)}</code> with this input, linked to run #{String(run.id)}, keeping its business key.
              </p>
              <label className="field">
                <span className="field-label">Flow version</span>
                <select value={version} onChange={(e) => setVersion(e.target.value as "original" | "current")} data-testid="rerun-version">
                  <option value="current">current deployed version</option>
                  <option value="original">v{run.version}, the one this run ran on</option>
                </select>
              </label>
              <div className="row">
                <button
                  className="btn primary"
                  disabled={busy}
                  data-testid="rerun-submit"
                  onClick={() => {
                    let parsed: unknown;
                    try {
                      parsed = JSON.parse(text);
                    } catch (e) {
                      setParseError(`Not JSON: ${(e as Error).message}`);
                      return;
                    }
                    onRerun(version, parsed);
                  }}
                >
                  Re-run from {nameOf(step.node_id)}
                </button>
                <button className="btn-ghost" onClick={() => setEditing(false)}>Cancel</button>
              </div>
            </section>
          </div>
        </div>
      ) : (
        <div className="step-io">
          <JsonTree title="Input" value={input} testId="step-input" />
          {output == null && err && (err as { details?: unknown }).details !== undefined ? (
            <JsonTree title="Output: none · error details" value={(err as { details?: unknown }).details} testId="step-output-pane" />
          ) : (
            <JsonTree title="Output" value={output ?? undefined} testId="step-output-pane" />
          )}
        </div>
      )}
    </div>
  );
}

/** A connector error's exchange: the remote system's own code, message and field, and the request that was sent
 * (secrets masked by the connector) next to the response it got. */
function RemoteExchange({ details }: { details: unknown }) {
  const d = (details && typeof details === "object" ? details : {}) as {
    remote?: { code: string; message: string; field?: string | null };
    request?: unknown;
    status?: number;
    body?: string;
  };
  if (!d.remote && !d.request) return null;
  let body: unknown = d.body;
  try {
    body = typeof d.body === "string" ? JSON.parse(d.body) : d.body;
  } catch {
    // a body that is not JSON is shown as the text it is
  }
  return (
    <div className="remote-exchange" data-testid="remote-exchange">
      {d.remote && (
        <div className="remote-error" data-testid="remote-error">
          <b>The system said</b> <code data-testid="remote-code">{d.remote.code}</code> {d.remote.message}
          {d.remote.field && (
            <>
              {" "}at <code data-testid="remote-field">{d.remote.field}</code>
            </>
          )}
        </div>
      )}
      <div className="step-io">
        <JsonTree title="Request sent (secrets masked)" value={d.request} testId="remote-request" />
        <JsonTree title={`Response${d.status ? ` ${d.status}` : ""}`} value={body} testId="remote-response" />
      </div>
    </div>
  );
}
