// The flow list: create, open, duplicate, delete, import a JSON file, export (the changes for flows:write only);
// per flow its health: a status dot, its last run and its failures of the last 24 hours (GET /api/v1/flows/health).
import { useCallback, useEffect, useRef, useState } from "react";
import { api, ApiError, type FlowHealth } from "../api";
import { slug } from "../editor/document";
import { FLOW_SCHEMA, type FlowDoc, type FlowSummary } from "../types";
import { can } from "../access";
import { AppNav } from "./AppNav";
import "./Dashboard.css";
import { age } from "./figures";

function when(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

async function createUnique(doc: FlowDoc): Promise<FlowDoc> {
  const base = doc.id;
  for (let i = 0; i < 50; i++) {
    const candidate = { ...doc, id: i === 0 ? base : `${base}-${i + 1}` };
    try {
      return (await api.createFlow(candidate)).flow;
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 409)) throw e;
    }
  }
  throw new Error("no free flow id");
}

export function FlowList({ navigate }: { navigate: (path: string) => void }) {
  const [flows, setFlows] = useState<FlowSummary[] | null>(null);
  const [health, setHealth] = useState<Map<string, FlowHealth>>(new Map());
  const [error, setError] = useState<string | null>(null);
  const [newName, setNewName] = useState("");
  const fileInput = useRef<HTMLInputElement>(null);
  const writes = can("flows:write");

  const refresh = useCallback(() => {
    api
      .listFlows()
      .then(setFlows)
      .catch((e) => setError(e.message));
    // the list stands without its health column when that cannot be read
    api.flowsHealth().then((h) => setHealth(new Map(h.map((f) => [f.flow_id, f]))), () => undefined);
  }, []);
  useEffect(refresh, [refresh]);

  const guard = async (what: () => Promise<unknown>) => {
    setError(null);
    try {
      await what();
    } catch (e) {
      const details = e instanceof ApiError && e.details.length ? ": " + e.details.map((d) => `${d.field ? d.field + " " : ""}${d.message}`).join("; ") : "";
      setError(`${(e as Error).message}${details}`);
    }
  };

  const create = () =>
    guard(async () => {
      const name = newName.trim() || "Untitled flow";
      const doc = await createUnique({ schema: FLOW_SCHEMA, id: slug(name), name, nodes: [], edges: [] });
      navigate(`/flows/${encodeURIComponent(doc.id)}`);
    });

  const duplicate = (f: FlowSummary) =>
    guard(async () => {
      const rec = await api.getFlow(f.id);
      await createUnique({ ...rec.flow, id: `${f.id}-copy`, name: `${rec.flow.name} (copy)` });
      refresh();
    });

  const remove = (f: FlowSummary) =>
    guard(async () => {
      if (!confirm(`Delete the flow “${f.name}”? Its deployed versions stop taking new runs.`)) return;
      await api.deleteFlow(f.id);
      refresh();
    });

  const exportFlow = (f: FlowSummary) =>
    guard(async () => {
      const rec = await api.getFlow(f.id);
      const blob = new Blob([JSON.stringify(rec.flow, null, 2) + "\n"], { type: "application/json" });
      const a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = `${f.id}.flow.json`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 1000);
    });

  const importFile = (file: File) =>
    guard(async () => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(await file.text());
      } catch {
        throw new Error(`${file.name} is not a JSON file`);
      }
      const doc = ((parsed as { flow?: FlowDoc }).flow || parsed) as FlowDoc;
      if (!doc || typeof doc !== "object" || !Array.isArray(doc.nodes)) throw new Error(`${file.name} does not hold a flow document`);
      const created = await createUnique({ ...doc, id: doc.id || slug(doc.name || file.name) });
      navigate(`/flows/${encodeURIComponent(created.id)}`);
    });

  return (
    <div className="flow-list-page">
      <AppNav current="/flows" navigate={navigate} title={<span className="flow-title">Flows</span>}>
        {writes && (
          <>
            <input ref={fileInput} type="file" accept="application/json,.json" hidden data-testid="import-file" onChange={(e) => e.target.files?.[0] && importFile(e.target.files[0])} />
            <button className="btn" onClick={() => fileInput.current?.click()}>Import…</button>
          </>
        )}
      </AppNav>
      <main className="flow-list">
        {writes && (
          <form
            className="create-row"
            onSubmit={(e) => {
              e.preventDefault();
              create();
            }}
          >
            <input type="text" placeholder="New flow name, e.g. Order release: OMS to ERP" value={newName} onChange={(e) => setNewName(e.target.value)} data-testid="new-flow-name" />
            <button className="btn primary" type="submit" data-testid="create-flow">New flow</button>
          </form>
        )}
        {error && <div className="banner error" data-testid="list-error">{error}</div>}
        {flows === null ? (
          <p className="hint">Loading…</p>
        ) : flows.length === 0 ? (
          <p className="hint">{writes ? "No flows yet. Create one, or import a flow JSON file." : "No flows in this workspace yet."}</p>
        ) : (
          <table className="grid" data-testid="flow-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Id</th>
                <th className="num">Nodes</th>
                <th>Deployed</th>
                <th>Health</th>
                <th>Updated</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {flows.map((f) => (
                <tr key={f.id} data-flow-id={f.id}>
                  <td>
                    <a
                      href={`/flows/${encodeURIComponent(f.id)}`}
                      onClick={(e) => {
                        e.preventDefault();
                        navigate(`/flows/${encodeURIComponent(f.id)}`);
                      }}
                    >
                      {f.name}
                    </a>
                    {f.description && <div className="hint">{f.description}</div>}
                  </td>
                  <td><code>{f.id}</code></td>
                  <td className="num">{f.node_count}</td>
                  <td>{f.deployed_version != null ? <span className="pill deployed">v{f.deployed_version}</span> : <span className="hint">draft</span>}</td>
                  <td><HealthCell health={health.get(f.id)} /></td>
                  <td className="hint">{when(f.updated_at)}</td>
                  <td className="actions">
                    {f.deployed_version != null && (
                      <button className="btn-ghost small" onClick={() => navigate(`/monitor/${encodeURIComponent(f.id)}`)} data-testid="monitor-link">Monitor</button>
                    )}
                    {writes && <button className="btn-ghost small" onClick={() => duplicate(f)}>Duplicate</button>}
                    <button className="btn-ghost small" onClick={() => exportFlow(f)}>Export</button>
                    {writes && <button className="btn-ghost small danger" onClick={() => remove(f)} data-testid="delete-flow">Delete</button>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </main>
    </div>
  );
}

/** A flow's status dot (green ok, red failing, grey idle), its last run's time and status, its failures in 24 h. */
function HealthCell({ health }: { health?: FlowHealth }) {
  if (!health) return <span className="hint">–</span>;
  const title = health.last_status ? `last run ${health.last_status}` : "no runs yet";
  return (
    <span className="flow-health" data-testid="flow-health" data-status={health.status} data-failed={health.failed_24h} title={title}>
      <span className={`health-dot ${health.status}`} data-testid="health-dot" />
      <span className="hint" data-testid="last-run" title={health.last_run_at ? when(health.last_run_at) : undefined}>
        {health.last_run_at ? `${age(Math.max(0, (Date.now() - Date.parse(health.last_run_at)) / 1000))} ago` : "never run"}
      </span>
      {health.failed_24h > 0 && (
        <span className="failed-count" data-testid="failed-count" title="failed runs in the last 24 hours">
          {health.failed_24h} failed
        </span>
      )}
    </span>
  );
}
