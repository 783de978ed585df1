// The dashboard's business KPIs (issue 14): tiles for the window's summary (order cycle time, fulfillment
// accuracy, backorder rate, on-time shipment, return rate), then the same figures per day and per warehouse.
import type { KpiReport, KpiSummary } from "../api";
import { count, hours, pct, raw } from "./figures";

interface KpiDef {
  key: keyof KpiSummary;
  label: string;
  format: (v: number | null) => string;
  /** Whether a higher value is the better one (colours nothing yet; names the direction in the tooltip). */
  higher: boolean;
}

const KPIS: KpiDef[] = [
  { key: "order_cycle_time_h", label: "Order cycle time", format: hours, higher: false },
  { key: "fulfillment_accuracy", label: "Fulfillment accuracy", format: (v) => pct(v), higher: true },
  { key: "backorder_rate", label: "Backorder rate", format: (v) => pct(v), higher: false },
  { key: "on_time_shipment_rate", label: "On-time shipment", format: (v) => pct(v), higher: true },
  { key: "return_rate", label: "Return rate", format: (v) => pct(v), higher: false },
];

const testId = (key: string) => `kpi-${key.replace(/_/g, "-")}`;

export function KpiTiles({ summary }: { summary: KpiSummary }) {
  return (
    <div className="dash-tiles kpi-tiles" data-testid="kpi-tiles">
      {KPIS.map((k) => (
        <div key={k.key} className="dash-tile" data-testid={testId(k.key)} data-value={raw(summary[k.key])} title={k.higher ? "higher is better" : "lower is better"}>
          <b>{k.format(summary[k.key])}</b>
          <span>{k.label}</span>
        </div>
      ))}
      <div className="dash-tile" data-testid="kpi-orders" data-value={summary.orders}>
        <b>{count(summary.orders)}</b>
        <span>Orders · {count(summary.shipments)} shipment{summary.shipments === 1 ? "" : "s"}</span>
      </div>
    </div>
  );
}

function KpiTable<R extends KpiSummary>({ rows, first, label, testid }: { rows: R[]; first: (r: R) => string; label: string; testid: string }) {
  if (!rows.length) return <p className="hint" data-testid={`${testid}-empty`}>No orders or shipments in this period.</p>;
  return (
    <table className="grid dash-table" data-testid={testid}>
      <thead>
        <tr>
          <th>{label}</th>
          <th className="num">Orders</th>
          <th className="num">Shipments</th>
          {KPIS.map((k) => (
            <th key={k.key} className="num">{k.label}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={first(r)} data-testid={`${testid}-row`} data-key={first(r)}>
            <td><code>{first(r)}</code></td>
            <td className="num">{count(r.orders)}</td>
            <td className="num">{count(r.shipments)}</td>
            {KPIS.map((k) => (
              <td key={k.key} className="num" data-kpi={k.key} data-value={raw(r[k.key])}>{k.format(r[k.key])}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The per-day and per-warehouse tables of GET /api/v1/kpis (its own error, so the rest of the page stands). */
export function KpiTables({ report, error }: { report: KpiReport | null; error: string | null }) {
  if (error) return <div className="banner error" data-testid="kpi-error">Could not read the KPIs: {error}</div>;
  if (!report) return <p className="hint">Loading…</p>;
  return (
    <div className="kpi-tables">
      <h4 className="section-title">Per day <span className="hint">{report.from} to {report.to} (UTC)</span></h4>
      <KpiTable rows={report.by_day} first={(r) => r.day} label="Day" testid="kpi-by-day" />
      <h4 className="section-title">Per warehouse</h4>
      <KpiTable rows={report.by_warehouse} first={(r) => r.warehouse} label="Warehouse" testid="kpi-by-warehouse" />
    </div>
  );
}
