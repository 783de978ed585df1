// The partner admin's "All customers" view of the dashboard: the partner's customer workspaces ranked worst
// health first (GET /api/v1/partner/dashboard), each opening that workspace's own dashboard.
import type { PartnerDashboard } from "../api";
import { age, count, pct } from "./figures";

/** A workspace's dashboard: a whole-page load, as the header's switcher does, since every call carries it. */
export function dashboardHref(ws: string, windowS: number): string {
  const q = new URLSearchParams({ workspace: ws, window_s: String(windowS) });
  return `/dashboard?${q}`;
}

function healthClass(health: number): string {
  if (health >= 90) return "ok";
  if (health >= 60) return "warn";
  return "bad";
}

export function CustomerHealth({ data, windowS }: { data: PartnerDashboard; windowS: number }) {
  if (!data.customers.length) return <p className="hint" data-testid="customers-empty">This partner has no customer workspaces yet.</p>;
  return (
    <table className="grid dash-table" data-testid="customer-health">
      <thead>
        <tr>
          <th className="num">#</th>
          <th>Customer</th>
          <th>Health</th>
          <th className="num">Runs</th>
          <th className="num">Failed</th>
          <th className="num">Success</th>
          <th className="num">Open exceptions</th>
          <th className="num">Oldest exception</th>
        </tr>
      </thead>
      <tbody>
        {data.customers.map((c, i) => (
          <tr key={c.workspace} data-testid="customer-row" data-workspace={c.workspace} data-health={c.health}>
            <td className="num">{i + 1}</td>
            <td>
              <a href={dashboardHref(c.workspace, windowS)} data-testid="customer-link">{c.name || c.workspace}</a>
              {c.name && c.name !== c.workspace && <div className="hint"><code>{c.workspace}</code></div>}
            </td>
            <td>
              <span className={`health-bar ${healthClass(c.health)}`} title={`${c.health} of 100`}>
                <span style={{ width: `${Math.max(0, Math.min(100, c.health))}%` }} />
              </span>
              <span className="health-figure" data-testid="customer-health-figure">{Math.round(c.health)}</span>
            </td>
            <td className="num">{count(c.runs)}</td>
            <td className={`num${c.failed ? " bad" : ""}`}>{count(c.failed)}</td>
            <td className="num">{pct(c.success_rate)}</td>
            <td className="num">{count(c.open_exceptions)}</td>
            <td className="num">{age(c.oldest_exception_age_s)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
