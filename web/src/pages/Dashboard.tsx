// The dashboard (issue 14): a workspace's runs over time, success rate, latency per flow and node, queues,
// open exceptions and business KPIs over a chosen window; for a partner admin also "All customers", the
// partner's workspaces ranked by health. Figures are read again when runs end (live events, at most every
// few seconds), when the window changes, or on Refresh; never by a polling loop.
import { useCallback, useEffect, useRef, useState } from "react";
import { api, ApiError, type Dashboard as DashboardData, type KpiReport, type PartnerDashboard } from "../api";
import { isPartnerAdmin } from "../access";
import { subscribe } from "../live";
import { AppNav } from "./AppNav";
import { CustomerHealth } from "./CustomerHealth";
import { ExceptionFigures, FlowTable, QueueTable } from "./DashboardTables";
import { count, day, pct, raw } from "./figures";
import { KpiTables, KpiTiles } from "./Kpis";
import { RunsChart } from "./RunsChart";
import "./Dashboard.css";

export const WINDOWS: [number, string][] = [
  [900, "15 min"],
  [3600, "1 hour"],
  [21600, "6 hours"],
  [86400, "24 hours"],
  [604800, "7 days"],
];
const DEFAULT_WINDOW_S = 3600;
const LIVE_BATCH_MS = 5000; // at most one reload per 5 s however many runs end

type View = "workspace" | "customers";

const message = (e: unknown) => (e instanceof ApiError ? e.message : String(e));

function initialWindow(): number {
  const asked = Number(new URLSearchParams(location.search).get("window_s"));
  return WINDOWS.some(([s]) => s === asked) ? asked : DEFAULT_WINDOW_S;
}

/** The address keeps a window and view other than the first ones, so a reload or a link shows the same. */
function remember(windowS: number, view: View) {
  const q = new URLSearchParams(location.search);
  if (windowS === DEFAULT_WINDOW_S) q.delete("window_s");
  else q.set("window_s", String(windowS));
  if (view === "customers") q.set("view", "customers");
  else q.delete("view");
  const query = q.toString();
  const to = query ? `${location.pathname}?${query}` : location.pathname;
  if (to !== location.pathname + location.search) history.replaceState(null, "", to);
}

export function Dashboard({ navigate }: { navigate: (path: string) => void }) {
  const partnerAdmin = isPartnerAdmin();
  const [view, setView] = useState<View>(() => (partnerAdmin && new URLSearchParams(location.search).get("view") === "customers" ? "customers" : "workspace"));
  const [windowS, setWindowS] = useState(initialWindow);
  const [data, setData] = useState<DashboardData | null>(null);
  const [kpis, setKpis] = useState<KpiReport | null>(null);
  const [kpiError, setKpiError] = useState<string | null>(null);
  const [customers, setCustomers] = useState<PartnerDashboard | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [connected, setConnected] = useState(false);
  const seq = useRef(0); // answers to an older window or view arriving late are dropped

  const load = useCallback(() => {
    const mine = ++seq.current;
    const fresh = () => mine === seq.current;
    if (view === "customers") {
      api.partnerDashboard(windowS).then(
        (c) => {
          if (!fresh()) return;
          setCustomers(c);
          setError(null);
        },
        (e) => fresh() && setError(message(e)),
      );
      return;
    }
    api.dashboard(windowS).then(
      (d) => {
        if (!fresh()) return;
        setData(d);
        setError(null);
        const end = new Date(d.generated_at);
        api.kpis(day(new Date(end.getTime() - d.window_s * 1000)), day(end)).then(
          (k) => {
            if (!fresh()) return;
            setKpis(k);
            setKpiError(null);
          },
          (e) => fresh() && setKpiError(message(e)),
        );
      },
      (e) => fresh() && setError(message(e)),
    );
  }, [view, windowS]);

  useEffect(() => {
    remember(windowS, view);
    load();
  }, [load, windowS, view]);

  useEffect(() => {
    if (view !== "workspace") return;
    const sub = subscribe({
      intervalMs: LIVE_BATCH_MS,
      onStatus: setConnected,
      onBatch: (batch) => batch.some((e) => e.event === "run.finished" || e.event === "run.queued") && load(),
    });
    return () => sub.close();
  }, [view, load]);

  const shown = view === "customers" ? customers : data;
  return (
    <div className="flow-list-page">
      <AppNav
        current="/dashboard"
        navigate={navigate}
        title={
          <span className="flow-title">Dashboard</span>
        }
      />
      {/* the page's own controls sit under the header, which the app's many links fill */}
      <div className="tabs dash-bar">
        {partnerAdmin && (
          <>
            <button className={`tab${view === "workspace" ? " active" : ""}`} onClick={() => setView("workspace")} data-testid="tab-workspace">This workspace</button>
            <button className={`tab${view === "customers" ? " active" : ""}`} onClick={() => setView("customers")} data-testid="tab-customers">All customers</button>
          </>
        )}
        <span className="spacer" />
        {view === "workspace" && (
          <span className={`live-dot${connected ? " on" : ""}`} data-testid="live-state" data-connected={connected}>
            {connected ? "Live" : "Connecting…"}
          </span>
        )}
        <label className="inline-label">
          Window
          <select value={windowS} onChange={(e) => setWindowS(Number(e.target.value))} data-testid="dashboard-window">
            {WINDOWS.map(([s, label]) => (
              <option key={s} value={s}>{label}</option>
            ))}
          </select>
        </label>
        <button className="btn small" onClick={load} data-testid="dashboard-refresh">Refresh</button>
      </div>
      <main
        className="flow-list wide dashboard"
        data-testid="dashboard"
        data-view={view}
        data-window={shown ? shown.window_s : ""}
        data-generated={view === "workspace" && data ? data.generated_at : ""}
      >
        {error && <div className="banner error" data-testid="dashboard-error">{error}</div>}
        {view === "customers" ? (
          customers ? <CustomerHealth data={customers} windowS={windowS} /> : !error && <p className="hint">Loading…</p>
        ) : !data ? (
          !error && <p className="hint">Loading…</p>
        ) : (
          <WorkspaceFigures data={data} kpis={kpis} kpiError={kpiError} navigate={navigate} />
        )}
      </main>
    </div>
  );
}

function WorkspaceFigures({ data, kpis, kpiError, navigate }: { data: DashboardData; kpis: KpiReport | null; kpiError: string | null; navigate: (path: string) => void }) {
  const r = data.runs;
  const perBucket = data.bucket_s >= 3600 ? "per hour" : "per minute";
  return (
    <>
      <div className="dash-tiles" data-testid="run-tiles">
        <div className="dash-tile" data-testid="runs-total" data-value={r.total}><b>{count(r.total)}</b><span>Runs</span></div>
        <div className="dash-tile ok" data-testid="runs-succeeded" data-value={r.succeeded}><b>{count(r.succeeded)}</b><span>Succeeded</span></div>
        <div className={`dash-tile${r.failed ? " bad" : ""}`} data-testid="runs-failed" data-value={r.failed}><b>{count(r.failed)}</b><span>Failed</span></div>
        <div className="dash-tile" data-testid="success-rate" data-value={raw(r.success_rate)}><b>{pct(r.success_rate)}</b><span>Success rate</span></div>
        <div className={`dash-tile${data.exceptions.open ? " warn" : ""}`} data-testid="exceptions-open" data-value={data.exceptions.open}>
          <b>{count(data.exceptions.open)}</b><span>Open exceptions</span>
        </div>
      </div>
      <h4 className="section-title">Runs {perBucket}</h4>
      <RunsChart data={data} />
      <h4 className="section-title">Business KPIs</h4>
      <KpiTiles summary={data.kpis} />
      <div className="dash-columns">
        <section>
          <h4 className="section-title">Flows</h4>
          <FlowTable flows={data.flows} navigate={navigate} />
        </section>
        <section>
          <h4 className="section-title">Queues</h4>
          <QueueTable queues={data.queues} />
          <h4 className="section-title">Open exceptions by age and class</h4>
          <ExceptionFigures exceptions={data.exceptions} navigate={navigate} />
        </section>
      </div>
      <KpiTables report={kpis} error={kpiError} />
    </>
  );
}
