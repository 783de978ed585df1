// The run list: every run of the workspace, filtered by flow, status, time and business key, paged by the
// server (cursor), kept current from live run events. A dry run (connectors stopped before the call) is marked, and
// the list can show dry runs only or real runs only.
import { useCallback, useEffect, useRef, useState } from "react";
import { api, ApiError, type RunFilter } from "../api";
import { subscribe } from "../live";
import { RUN_STATUSES, statusClass, statusLabel } from "../runStatus";
import type { FlowSummary, Run } from "../types";
import { AppNav, Link } from "./AppNav";

const PAGE = 25; // rows per page; ?limit= in the address overrides it (1 to 200)

export function when(iso: string, short = false): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return short ? d.toLocaleTimeString() : d.toLocaleString();
}

export function StatusPill({ status }: { status: string }) {
  return (
    <span className={`pill ${statusClass(status)}`} data-testid="run-status">
      {statusLabel(status)}
    </span>
  );
}

/** The run inspector's mark of a dry run, here on each row of one. */
export function DryRunPill() {
  return <span className="pill" title="Connectors stopped before the call; nothing was written" data-testid="run-dry">dry run</span>;
}

export function duration(ms: number | null | undefined): string {
  if (ms == null) return "–";
  if (ms < 1000) return `${Math.round(ms * 10) / 10} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

/** datetime-local value (the browser's zone) to the API's ISO time in UTC. */
function toIso(local: string): string | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

interface Filters {
  flow_id: string;
  status: string;
  key: string;
  since: string;
  until: string;
  dry_run: "" | "true" | "false";
}

function kind(v: string | null): Filters["dry_run"] {
  return v === "true" || v === "false" ? v : "";
}

export function RunList({ navigate }: { navigate: (path: string) => void }) {
  const initial = new URLSearchParams(location.search);
  const [filters, setFilters] = useState<Filters>({ flow_id: initial.get("flow_id") || "", status: initial.get("status") || "", key: "", since: "", until: "", dry_run: kind(initial.get("dry_run")) });
  const [applied, setApplied] = useState<Filters>(filters);
  const [flows, setFlows] = useState<FlowSummary[]>([]);
  const [runs, setRuns] = useState<Run[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [cursors, setCursors] = useState<(string | null)[]>([null]); // the cursor of each page shown so far
  const [error, setError] = useState<string | null>(null);
  const [fresh, setFresh] = useState(0);
  const loading = useRef(false);
  const pageSize = Math.min(200, Math.max(1, Number(initial.get("limit")) || PAGE));

  useEffect(() => {
    api.listFlows().then(setFlows, () => undefined);
  }, []);

  const query = useCallback(
    (f: Filters, before: string | null): RunFilter => ({
      flow_id: f.flow_id || undefined,
      status: f.status || undefined,
      key: f.key.trim() || undefined,
      since: toIso(f.since),
      until: toIso(f.until),
      dry_run: f.dry_run || undefined,
      limit: pageSize,
      before,
    }),
    [pageSize],
  );

  const load = useCallback(
    async (f: Filters, before: string | null) => {
      loading.current = true;
      try {
        const r = await api.listRuns(query(f, before));
        setRuns(r.runs);
        setNext(r.next);
        setError(null);
      } catch (e) {
        setError(e instanceof ApiError ? `${e.message}` : String(e));
      } finally {
        loading.current = false;
      }
    },
    [query],
  );

  const page = cursors.length - 1;
  useEffect(() => {
    load(applied, cursors[cursors.length - 1]);
  }, [applied, cursors, load]);

  // Live: the first page reloads (at most 5 times a second) when runs start or end; later pages stay put
  // and only note that newer runs exist.
  const pageRef = useRef(page);
  pageRef.current = page;
  const appliedRef = useRef(applied);
  appliedRef.current = applied;
  useEffect(() => {
    const sub = subscribe({
      intervalMs: 400,
      onBatch: (batch) => {
        const f = appliedRef.current;
        const relevant = batch.some((e) => (e.event === "run.queued" || e.event === "run.finished" || e.event === "run.started") && (!f.flow_id || e.flow_id === f.flow_id));
        if (!relevant) return;
        if (pageRef.current === 0 && !f.until && !loading.current) load(f, null);
        else setFresh((n) => n + batch.filter((e) => e.event === "run.queued").length);
      },
    });
    return () => sub.close();
  }, [load]);

  const apply = (f: Filters) => {
    setApplied(f);
    setCursors([null]);
    setFresh(0);
  };
  // a pick from a list applies at once; typed fields apply with Filter (Enter)
  const choose = (f: Filters) => {
    setFilters(f);
    apply(f);
  };

  return (
    <div className="flow-list-page">
      <AppNav current="/runs" navigate={navigate} title={<span className="flow-title">Runs</span>} />
      <main className="flow-list wide">
        <form
          className="filter-row"
          onSubmit={(e) => {
            e.preventDefault();
            apply(filters);
          }}
        >
          <label>
            Flow
            <select value={filters.flow_id} onChange={(e) => choose({ ...filters, flow_id: e.target.value })} data-testid="filter-flow">
              <option value="">All flows</option>
              {flows.map((f) => (
                <option key={f.id} value={f.id}>{f.name}</option>
              ))}
              {filters.flow_id && !flows.some((f) => f.id === filters.flow_id) && <option value={filters.flow_id}>{filters.flow_id}</option>}
            </select>
          </label>
          <label>
            Status
            <select value={filters.status} onChange={(e) => choose({ ...filters, status: e.target.value })} data-testid="filter-status">
              <option value="">Any status</option>
              {RUN_STATUSES.map((s) => (
                <option key={s} value={s}>{statusLabel(s)}</option>
              ))}
            </select>
          </label>
          <label>
            Kind
            <select value={filters.dry_run} onChange={(e) => choose({ ...filters, dry_run: kind(e.target.value) })} data-testid="filter-dry-run">
              <option value="">Real and dry runs</option>
              <option value="false">Real runs only</option>
              <option value="true">Dry runs only</option>
            </select>
          </label>
          <label>
            Business key
            <input type="search" value={filters.key} placeholder="e.g. PO-4711" onChange={(e) => setFilters({ ...filters, key: e.target.value })} data-testid="filter-key" />
          </label>
          <label>
            From
            <input type="datetime-local" step={1} value={filters.since} onChange={(e) => setFilters({ ...filters, since: e.target.value })} data-testid="filter-since" />
          </label>
          <label>
            Until
            <input type="datetime-local" step={1} value={filters.until} onChange={(e) => setFilters({ ...filters, until: e.target.value })} data-testid="filter-until" />
          </label>
          <button className="btn primary" type="submit" data-testid="filter-apply">Filter</button>
          <button
            className="btn-ghost"
            type="button"
            onClick={() => {
              const none: Filters = { flow_id: "", status: "", key: "", since: "", until: "", dry_run: "" };
              setFilters(none);
              apply(none);
            }}
          >
            Clear
          </button>
        </form>
        {error && <div className="banner error" data-testid="runs-error">{error}</div>}
        {fresh > 0 && page > 0 && (
          <div className="banner info" data-testid="runs-fresh">
            {fresh} newer run{fresh === 1 ? "" : "s"} since this page was loaded.
            <button className="btn small" onClick={() => apply(applied)}>Show newest</button>
          </div>
        )}
        {runs === null ? (
          <p className="hint">Loading…</p>
        ) : runs.length === 0 ? (
          <p className="hint" data-testid="runs-empty">No runs match these filters.</p>
        ) : (
          <table className="grid" data-testid="run-table">
            <thead>
              <tr>
                <th>Run</th>
                <th>Flow</th>
                <th>Status</th>
                <th>Business key</th>
                <th>Trigger</th>
                <th>Started</th>
                <th className="num">Duration</th>
              </tr>
            </thead>
            <tbody>
              {runs.map((r) => (
                <tr key={String(r.id)} data-run-id={r.id}>
                  <td>
                    <Link to={`/runs/${r.id}`} navigate={navigate} testId="run-link">#{String(r.id)}</Link>
                  </td>
                  <td>
                    <code>{r.flow_id}</code> <span className="hint">v{r.version}</span>
                  </td>
                  <td>
                    <StatusPill status={r.status} /> {r.dry_run && <DryRunPill />}
                  </td>
                  <td>{r.business_key ? <code>{r.business_key}</code> : <span className="hint">–</span>}</td>
                  <td>
                    {r.trigger || ""}
                    {r.replay_of != null && <span className="hint"> of #{String(r.replay_of)}</span>}
                  </td>
                  <td className="hint">{r.created_at ? when(r.created_at) : ""}</td>
                  <td className="num">{duration(r.duration_ms)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <div className="pager">
          <button className="btn" disabled={page === 0} onClick={() => setCursors(cursors.slice(0, -1))} data-testid="page-newer">← Newer</button>
          <span className="hint" data-testid="page-number">Page {page + 1}</span>
          <button className="btn" disabled={!next} onClick={() => setCursors([...cursors, next])} data-testid="page-older">Older →</button>
        </div>
      </main>
    </div>
  );
}
