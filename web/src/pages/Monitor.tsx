// Monitor mode: the deployed flow drawn read-only with live figures per node and edge, and its latest runs. The figures
// are of one version, the deployed one by default (a selector picks another); following the deployed version, the page
// switches to a new one's graph and counts when the flow is deployed again (the flow.deployed live event).
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { ReactFlowProvider } from "@xyflow/react";
import { api, ApiError } from "../api";
import { Canvas, type Selection } from "../editor/Canvas";
import type { NodeMonitor } from "../editor/nodes";
import { subscribe, type LiveEvent } from "../live";
import type { FlowDoc, NodeType, Run } from "../types";
import { OPEN_STATUSES, statusClass, statusLabel, TERMINAL_STATUSES } from "../runStatus";
import { editMode } from "../access";
import { AppNav, Link } from "./AppNav";
import { MonitorState } from "./monitorState";
import { StatusPill, when } from "./RunList";

const WINDOWS: [number, string][] = [
  [300, "5 min"],
  [3600, "1 hour"],
  [86400, "24 hours"],
];
const EMPTY: Selection = { nodes: new Set(), edges: new Set() };
const NO_PROBLEMS = new Map();
const NO_STEPS = new Map();
const RECENT = 15;
const REFRESH_MS = 30_000;

declare global {
  interface Window {
    __crossdockMonitor?: { ready: boolean; events: number; renders: number; version: number | null; nodes: () => Record<string, NodeMonitor> };
  }
}

export function Monitor({ flowId, nodeTypes, navigate }: { flowId: string; nodeTypes: NodeType[]; navigate: (path: string) => void }) {
  const specs = useMemo(() => new Map(nodeTypes.map((t) => [t.type, t])), [nodeTypes]);
  const [shown, setShown] = useState<{ version: number; doc: FlowDoc } | null>(null); // the document drawn, of its version
  const doc = shown?.doc ?? null;
  const [deployed, setDeployed] = useState<number | null>(null); // the flow's deployed version, kept current live
  const [picked, setPicked] = useState<number | null>(null); // another version to look at; null: follow the deployed
  const version = picked ?? deployed; // the version drawn and counted
  const [versions, setVersions] = useState<number[]>([]); // versions with runs in the window
  const [error, setError] = useState<string | null>(null);
  const [windowS, setWindowS] = useState(300);
  const [connected, setConnected] = useState(false);
  const [selection, setSelection] = useState<Selection>(EMPTY);
  const [tick, setTick] = useState(0); // one re-render per batch of events
  const [recent, setRecent] = useState<Run[]>([]);
  const [rate, setRate] = useState(0);
  const state = useRef(new MonitorState(null));
  const renders = useRef(0);
  const rateWindow = useRef<[number, number][]>([]);

  useEffect(() => {
    let cancelled = false;
    // another flow: nothing of the last one's versions carries over
    setDeployed(null);
    setPicked(null);
    setShown(null);
    setVersions([]);
    api.getFlow(flowId).then(
      (rec) => {
        if (cancelled) return;
        if (rec.deployed_version == null) setError(`“${rec.flow.name}” is not deployed: there is nothing to monitor yet.`);
        else setDeployed(rec.deployed_version);
      },
      (e) => setError(e instanceof ApiError && e.status === 404 ? `There is no flow “${flowId}”.` : (e as Error).message),
    );
    return () => {
      cancelled = true;
    };
  }, [flowId]);

  // The version's document; its figures start again from nothing (the baseline below fills them in).
  useEffect(() => {
    if (version == null) return;
    let cancelled = false;
    if (state.current.version !== version) {
      state.current = new MonitorState(version);
      setTick((t) => t + 1);
    }
    api.getVersion(flowId, version).then(
      (d) => !cancelled && setShown({ version, doc: d }),
      (e) => !cancelled && setError((e as Error).message),
    );
    return () => {
      cancelled = true;
    };
  }, [flowId, version]);

  // Baseline from /stats of the version (again every 30 s, when the window changes); events are applied on top.
  useEffect(() => {
    if (version == null) return;
    let cancelled = false;
    const load = () =>
      api.flowStats(flowId, windowS, version).then(
        (s) => {
          if (cancelled || s.version !== state.current.version) return;
          state.current.setBaseline(s);
          setVersions((s.versions || []).map((v) => v.version));
          setTick((t) => t + 1);
        },
        () => undefined,
      );
    load();
    const timer = setInterval(load, REFRESH_MS);
    return () => {
      cancelled = true;
      clearInterval(timer);
    };
  }, [flowId, windowS, version]);

  useEffect(() => {
    api.listRuns({ flow_id: flowId, limit: RECENT }).then((r) => setRecent(r.runs), () => undefined);
  }, [flowId]);

  const windowRef = useRef(windowS);
  windowRef.current = windowS;
  const pickedRef = useRef(picked);
  pickedRef.current = picked;
  const onBatch = useCallback((batch: LiveEvent[]) => {
    // a new deployment: followed at once (the events after it already count for the new version)
    const at = batch.map((e) => e.event).lastIndexOf("flow.deployed");
    if (at >= 0 && typeof batch[at].version === "number") {
      const next = batch[at].version!;
      setDeployed(next);
      if (pickedRef.current === null && state.current.version !== next) state.current = new MonitorState(next);
    }
    const st = state.current;
    st.apply(at >= 0 && pickedRef.current === null ? batch.slice(at + 1) : batch);
    st.prune(windowRef.current);
    // events per second over the last 5 s of batches
    const now = Date.now();
    rateWindow.current = [...rateWindow.current.filter(([t]) => now - t < 5000), [now, batch.length]];
    setRecent((prev) => mergeRuns(prev, batch));
    setTick((t) => t + 1);
  }, []);

  useEffect(() => {
    const timer = setInterval(() => {
      const now = Date.now();
      rateWindow.current = rateWindow.current.filter(([t]) => now - t < 5000);
      setRate(Math.round(rateWindow.current.reduce((a, [, n]) => a + n, 0) / 5));
    }, 1000);
    return () => clearInterval(timer);
  }, []);

  useEffect(() => {
    const sub = subscribe({ flowId, onBatch, onStatus: setConnected, intervalMs: 200 });
    return () => sub.close();
  }, [flowId, onBatch]);

  // the figures are recomputed once per batch (tick), not per event
  const monitor = useMemo(() => (doc ? state.current.nodes(doc) : new Map<string, NodeMonitor>()), [doc, tick]);
  const edgeLabels = useMemo(() => (doc ? state.current.edges(doc) : new Map<string, string>()), [doc, tick]);
  const runs = useMemo(() => state.current.runs(), [tick]);
  renders.current++;

  useEffect(() => {
    window.__crossdockMonitor = {
      ready: !!doc && (window.__crossdockMonitor?.ready || false),
      events: state.current.eventsSeen,
      renders: renders.current,
      version,
      nodes: () => Object.fromEntries(monitor),
    };
  });

  const selected = selection.nodes.size === 1 ? [...selection.nodes][0] : null;
  const selNode = selected && doc ? doc.nodes.find((n) => n.id === selected) : null;
  const selFigures = selected ? monitor.get(selected) : undefined;

  return (
    <div className="editor monitor-page">
      <AppNav
        current="/monitor"
        navigate={navigate}
        title={
          <>
            <span className="flow-title" data-testid="flow-title">{doc?.name || flowId}</span>
            {version != null && (
              <span className={`pill${version === deployed ? " deployed" : ""}`} data-testid="monitor-version" data-version={version}>
                {version === deployed ? `deployed v${version}` : `v${version} (deployed: v${deployed})`}
              </span>
            )}
            <span className={`live-dot${connected ? " on" : ""}`} data-testid="live-state" data-connected={connected}>
              {connected ? "Live" : "Connecting…"}
            </span>
          </>
        }
      >
        <label className="inline-label">
          Version
          <select value={picked ?? ""} onChange={(e) => setPicked(e.target.value ? Number(e.target.value) : null)} data-testid="version-pick">
            <option value="">{deployed != null ? `v${deployed} · deployed (follows deploys)` : "deployed"}</option>
            {[...new Set([...versions, ...(picked != null ? [picked] : [])])]
              .filter((v) => v !== deployed || picked === v)
              .sort((a, b) => b - a)
              .map((v) => (
                <option key={v} value={v}>v{v}</option>
              ))}
          </select>
        </label>
        <label className="inline-label">
          Window
          <select value={windowS} onChange={(e) => setWindowS(Number(e.target.value))} data-testid="window">
            {WINDOWS.map(([s, label]) => (
              <option key={s} value={s}>{label}</option>
            ))}
          </select>
        </label>
        <Link to={`/runs?flow_id=${encodeURIComponent(flowId)}`} navigate={navigate} className="btn">All runs</Link>
        <Link to={`/flows/${encodeURIComponent(flowId)}`} navigate={navigate} className="btn" testId="open-editor">
          {editMode() === "view" ? "Open flow" : "Edit flow"}
        </Link>
      </AppNav>
      {error ? (
        <div className="page-message" data-testid="monitor-error">{error}</div>
      ) : !doc ? (
        <div className="page-message">Loading…</div>
      ) : (
        <div className="workspace">
          <div className="center">
            <ReactFlowProvider key={shown?.version}>
              <Canvas
                doc={doc}
                specs={specs}
                selection={selection}
                problemsByNode={NO_PROBLEMS}
                problemsByEdge={NO_PROBLEMS}
                steps={NO_STEPS}
                apply={() => undefined}
                onSelect={setSelection}
                onDropType={() => undefined}
                onInit={() => undefined}
                onReady={() => {
                  window.__crossdockMonitor = { ...(window.__crossdockMonitor as NonNullable<Window["__crossdockMonitor"]>), ready: true };
                }}
                readOnly
                monitor={monitor}
                edgeLabels={edgeLabels}
              />
            </ReactFlowProvider>
          </div>
          <aside className="inspector side-panel" data-testid="monitor-panel">
            <div className="insp-head">
              <span className="insp-title" data-testid="figures-version">Last {WINDOWS.find(([s]) => s === windowS)?.[1]} · v{version}</span>
              <span className="hint" data-testid="event-rate">{connected ? `${rate.toLocaleString("en-US")} events/s` : ""}</span>
            </div>
            <div className="insp-body">
              <div className="stat-tiles">
                {[...TERMINAL_STATUSES, ...OPEN_STATUSES].map((s) => (
                  <div key={s} className={`stat-tile ${statusClass(s)}`} data-testid={`runs-${s}`}>
                    <b>{(runs[s] || 0).toLocaleString("en-US")}</b>
                    <span>{statusLabel(s)}</span>
                  </div>
                ))}
              </div>
              {selNode && selFigures && (
                <div className="node-figures" data-testid="node-figures">
                  <h4>{selNode.name || selNode.id}</h4>
                  <table className="kv-table">
                    <tbody>
                      <tr><th>Attempts in</th><td>{selFigures.in}</td></tr>
                      <tr><th>Succeeded</th><td>{selFigures.out}</td></tr>
                      <tr><th>Failed</th><td>{selFigures.failed}</td></tr>
                      <tr><th>Average</th><td>{selFigures.avg_ms == null ? "–" : `${selFigures.avg_ms.toFixed(1)} ms`}</td></tr>
                      <tr><th>p95</th><td>{selFigures.p95_ms == null ? "–" : `${selFigures.p95_ms.toFixed(1)} ms`}</td></tr>
                      <tr><th>Running now</th><td>{selFigures.running}</td></tr>
                    </tbody>
                  </table>
                </div>
              )}
              <h4 className="section-title">Latest runs</h4>
              {recent.length === 0 ? (
                <p className="hint">No runs yet. Runs appear here as they start.</p>
              ) : (
                <ul className="recent-runs" data-testid="recent-runs">
                  {recent.map((r) => (
                    <li key={String(r.id)} data-run-id={r.id}>
                      <Link to={`/runs/${r.id}`} navigate={navigate}>#{String(r.id)}</Link>
                      <span className="recent-key">{r.business_key || ""}</span>
                      <span className="hint" data-testid="recent-version">v{r.version}</span>
                      <StatusPill status={r.status} />
                      <span className="hint">{r.created_at ? when(r.created_at, true) : ""}</span>
                    </li>
                  ))}
                </ul>
              )}
            </div>
          </aside>
        </div>
      )}
    </div>
  );
}

/** The latest runs list kept current from run events (newest first, at most RECENT). */
function mergeRuns(prev: Run[], batch: LiveEvent[]): Run[] {
  let list = prev;
  let changed = false;
  for (const e of batch) {
    if (!e.event.startsWith("run.")) continue;
    const id = String(e.run_id);
    const i = list.findIndex((r) => String(r.id) === id);
    const status = (e.status || "queued") as Run["status"];
    if (!changed) {
      list = [...list];
      changed = true;
    }
    if (i >= 0) list[i] = { ...list[i], status, business_key: e.business_key ?? list[i].business_key };
    else
      list.unshift({
        id: e.run_id, flow_id: e.flow_id, version: e.version || 0, status, input: undefined, output: undefined, error: null,
        duration_ms: null, business_key: e.business_key, created_at: new Date(e.ts).toISOString(),
      });
  }
  return changed ? list.slice(0, RECENT) : prev;
}
