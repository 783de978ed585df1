// The dashboard's tables: per flow its runs, failures, success rate and p50/p95 latency (its nodes' latencies
// one click away), per queue its depth and oldest job's age, and the open exceptions by class and by age.
import { useState } from "react";
import type { Dashboard } from "../api";
import { Link } from "./AppNav";
import { age, count, ms, pct, raw } from "./figures";

type Nav = (path: string) => void;

const AGE_BUCKETS: [string, string][] = [
  ["lt_1h", "under an hour"],
  ["1h_24h", "1 to 24 hours"],
  ["gt_24h", "over a day"],
];

export function FlowTable({ flows, navigate }: { flows: Dashboard["flows"]; navigate: Nav }) {
  const [open, setOpen] = useState<Set<string>>(new Set());
  if (!flows.length) return <p className="hint" data-testid="flows-empty">No runs in this window.</p>;
  const toggle = (id: string) =>
    setOpen((s) => {
      const next = new Set(s);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  return (
    <table className="grid dash-table" data-testid="flow-figures">
      <thead>
        <tr>
          <th>Flow</th>
          <th className="num">Runs</th>
          <th className="num">Failed</th>
          <th className="num">Success</th>
          <th className="num">p50</th>
          <th className="num">p95</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {flows.flatMap((f) => [
          <tr key={f.flow_id} data-testid="flow-figure" data-flow-id={f.flow_id} data-runs={f.runs} data-failed={f.failed} data-success-rate={raw(f.success_rate)}>
            <td>
              <Link to={`/monitor/${encodeURIComponent(f.flow_id)}`} navigate={navigate}>{f.name || f.flow_id}</Link>
              {f.version != null && <span className="pill deployed">v{f.version}</span>}
            </td>
            <td className="num">{count(f.runs)}</td>
            <td className={`num${f.failed ? " bad" : ""}`}>{count(f.failed)}</td>
            <td className="num">{pct(f.success_rate)}</td>
            <td className="num">{ms(f.p50_ms)}</td>
            <td className="num">{ms(f.p95_ms)}</td>
            <td className="actions">
              {f.nodes.length > 0 && (
                <button className="btn-ghost small" onClick={() => toggle(f.flow_id)} data-testid="flow-nodes-toggle">
                  {open.has(f.flow_id) ? "Hide nodes" : `Nodes (${f.nodes.length})`}
                </button>
              )}
            </td>
          </tr>,
          ...(open.has(f.flow_id)
            ? f.nodes.map((n) => (
                <tr key={`${f.flow_id}/${n.node_id}`} className="node-figure" data-testid="node-figure" data-node-id={n.node_id}>
                  <td className="node-name">{n.name || n.node_id}</td>
                  <td className="num">{count(n.count)}</td>
                  <td />
                  <td />
                  <td className="num">{ms(n.p50_ms)}</td>
                  <td className="num">{ms(n.p95_ms)}</td>
                  <td />
                </tr>
              ))
            : []),
        ])}
      </tbody>
    </table>
  );
}

export function QueueTable({ queues }: { queues: Dashboard["queues"] }) {
  if (!queues.length) return <p className="hint">No queues.</p>;
  return (
    <table className="grid dash-table" data-testid="queue-figures">
      <thead>
        <tr>
          <th>Queue</th>
          <th className="num">Depth</th>
          <th className="num">Oldest</th>
        </tr>
      </thead>
      <tbody>
        {queues.map((q) => (
          <tr key={q.queue} data-testid="queue-figure" data-queue={q.queue} data-depth={q.depth}>
            <td><code>{q.queue}</code></td>
            <td className="num">{count(q.depth)}</td>
            <td className="num">{age(q.oldest_age_s)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function ExceptionFigures({ exceptions, navigate }: { exceptions: Dashboard["exceptions"]; navigate: Nav }) {
  const classes = Object.entries(exceptions.by_class).sort((a, b) => b[1] - a[1]);
  return (
    <div className="dash-exceptions" data-testid="exception-figures" data-open={exceptions.open}>
      <div className="dash-tiles">
        {AGE_BUCKETS.map(([key, label]) => (
          <div key={key} className="dash-tile" data-testid={`exceptions-age-${key}`} data-value={exceptions.by_age[key] || 0}>
            <b>{count(exceptions.by_age[key] || 0)}</b>
            <span>{label}</span>
          </div>
        ))}
      </div>
      {classes.length === 0 ? (
        <p className="hint">No open exceptions.</p>
      ) : (
        <table className="grid dash-table" data-testid="exceptions-by-class">
          <thead>
            <tr>
              <th>Class</th>
              <th className="num">Open</th>
            </tr>
          </thead>
          <tbody>
            {classes.map(([klass, n]) => (
              <tr key={klass} data-testid="exception-class" data-class={klass} data-count={n}>
                <td>
                  <Link to={`/exceptions?class=${encodeURIComponent(klass)}`} navigate={navigate} testId={`exception-class-${klass}`}>
                    {klass.replace(/_/g, " ")}
                  </Link>
                </td>
                <td className="num">{count(n)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Link to="/exceptions" navigate={navigate} className="btn-ghost small" testId="open-workbench">Open the workbench</Link>
    </div>
  );
}
