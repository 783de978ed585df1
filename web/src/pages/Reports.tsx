// Reports: a customer's SLA report of one month (GET /api/v1/reports/sla), its main figures on the page and the
// CSV and PDF to download. A partner admin picks any customer of the partner; others see their own workspaces.
import { useEffect, useState } from "react";
import { isPartnerAdmin, session } from "../access";
import { api, ApiError, slaReportHref, workspace, type SlaReport } from "../api";
import { AppNav } from "./AppNav";
import "./Reports.css";

/** This month, UTC, as YYYY-MM (the report's months are UTC calendar months). */
function thisMonth(): string {
  return new Date().toISOString().slice(0, 7);
}

const percent = (x: number | null) => (x === null ? "–" : `${(x * 100).toFixed(2)} %`);
const hours = (s: number | null) => (s === null ? "–" : s < 3600 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`);

export function Reports({ navigate }: { navigate: (path: string) => void }) {
  const [month, setMonth] = useState(thisMonth);
  const [customer, setCustomer] = useState(workspace);
  const [report, setReport] = useState<SlaReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  const customers = session()?.workspaces || [];
  const valid = /^\d{4}-\d{2}$/.test(month);

  useEffect(() => {
    setReport(null);
    setError(null);
    if (!valid) return;
    let current = true;
    api.slaReport(month, customer).then(
      (r) => current && setReport(r),
      (e) => current && setError(e instanceof ApiError ? e.message : String(e)),
    );
    return () => {
      current = false;
    };
  }, [month, customer, valid]);

  return (
    <div className="flow-list-page">
      <AppNav current="/reports" navigate={navigate} title={<span className="flow-title">Reports</span>} />
      <main className="flow-list wide">
        <div className="filter-row">
          <label>
            Month
            <input type="month" value={month} max={thisMonth()} onChange={(e) => setMonth(e.target.value)} data-testid="report-month" />
          </label>
          {(isPartnerAdmin() || customers.length > 1) && (
            <label>
              Customer
              <select value={customer} onChange={(e) => setCustomer(e.target.value)} data-testid="report-customer">
                {!customers.some((w) => w.id === customer) && <option value={customer}>{customer}</option>}
                {customers.map((w) => (
                  <option key={w.id} value={w.id}>
                    {w.name || w.id}
                  </option>
                ))}
              </select>
            </label>
          )}
          <a className={`btn${valid ? "" : " disabled"}`} href={valid ? slaReportHref(month, customer, "csv") : undefined} download data-testid="report-csv">
            Download CSV
          </a>
          <a className={`btn primary${valid ? "" : " disabled"}`} href={valid ? slaReportHref(month, customer, "pdf") : undefined} download data-testid="report-pdf">
            Download PDF
          </a>
        </div>
        {error && <div className="banner error" data-testid="report-error">{error}</div>}
        {!valid ? (
          <p className="hint">Pick a month.</p>
        ) : report === null ? (
          !error && <p className="hint">Loading…</p>
        ) : (
          <SlaSummary report={report} />
        )}
      </main>
    </div>
  );
}

function SlaSummary({ report }: { report: SlaReport }) {
  const { availability: a, runs, exceptions: x } = report;
  return (
    <section className="sla" data-testid="sla-summary" data-workspace={report.workspace}>
      <h2>
        SLA report {report.month} · {report.workspace_name}
      </h2>
      <div className="sla-figures">
        <Figure label="Endpoint availability" value={percent(a.overall)} hint={`${a.calls} connector calls`} testId="sla-availability" />
        <Figure label="Webhook intake" value={percent(a.intake.availability)} hint={`${a.intake.webhook_runs} webhook runs`} testId="sla-intake" />
        <Figure label="Runs" value={String(runs.total)} hint={`${runs.failed} failed · ${percent(runs.success_rate)} succeeded`} testId="sla-runs" />
        <Figure label="Exceptions" value={String(x.opened)} hint={`${x.resolved} resolved · ${x.open_at_end} open at month end`} testId="sla-exceptions" />
        <Figure label="Time to resolve" value={hours(x.resolve_median_s)} hint={`median · p95 ${hours(x.resolve_p95_s)}`} testId="sla-resolve" />
      </div>
      {a.endpoints.length > 0 && (
        <table className="grid sla-endpoints" data-testid="sla-endpoints">
          <thead>
            <tr>
              <th>Endpoint</th>
              <th>System</th>
              <th>Calls</th>
              <th>Unavailable</th>
              <th>Availability</th>
            </tr>
          </thead>
          <tbody>
            {a.endpoints.map((e) => (
              <tr key={`${e.system}:${e.endpoint}`} data-testid="sla-endpoint">
                <td>{e.endpoint}</td>
                <td>{e.system}</td>
                <td>{e.calls}</td>
                <td>{e.unavailable}</td>
                <td>{percent(e.availability)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p className="hint">
        Availability counts the connector calls that did not fail with a timeout, a connection error or a 5xx answer; the downloads hold every figure with its definition.
      </p>
    </section>
  );
}

function Figure({ label, value, hint, testId }: { label: string; value: string; hint: string; testId: string }) {
  return (
    <div className="sla-figure" data-testid={testId}>
      <span className="sla-label">{label}</span>
      <strong className="sla-value">{value}</strong>
      <span className="hint">{hint}</span>
    </div>
  );
}
