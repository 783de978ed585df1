// Alerts: the workspace's alert rules (list, create, edit, enable or disable, delete; consultants) and the alerts
// they raised with their deliveries (acknowledge, resolve; operators), over /api/v1/alert-rules and /api/v1/alerts.
// Rules are evaluated by the workers' maintenance pass, so the list is read again when runs end and every 15 s.
import { useCallback, useEffect, useState } from "react";
import { can } from "../access";
import { api, ApiError, type Alert, type AlertKind, type AlertRule, type AlertRuleIn } from "../api";
import { subscribe } from "../live";
import { AppNav } from "./AppNav";
import { when } from "./RunList";
import "./Alerts.css";

interface ParamField {
  name: string;
  label: string;
  numeric?: boolean;
  options?: string[];
  placeholder?: string;
}

/** What each kind of rule takes (docs/api.md, alert rules); seconds throughout, as the API has them. */
const PARAMS: Record<AlertKind, ParamField[]> = {
  failures: [
    { name: "count", label: "At least (exceptions)", numeric: true, placeholder: "1" },
    { name: "window_s", label: "Within (seconds)", numeric: true, placeholder: "300" },
    { name: "error_class", label: "Error class", options: ["", "technical", "business"] },
    { name: "code", label: "Error code", placeholder: "any" },
    { name: "flow_id", label: "Flow", placeholder: "any" },
  ],
  latency: [
    { name: "threshold_s", label: "Slower than (seconds)", numeric: true },
    { name: "window_s", label: "Within (seconds)", numeric: true, placeholder: "300" },
    { name: "count", label: "At least (runs)", numeric: true, placeholder: "1" },
    { name: "flow_id", label: "Flow", placeholder: "any" },
  ],
  queue_age: [{ name: "threshold_s", label: "Waiting longer than (seconds)", numeric: true }],
  absence: [
    { name: "after_label", label: "After (thread label)", placeholder: "Order released to ERP and WMS" },
    { name: "after_flow", label: "or after (flow)" },
    { name: "expect_label", label: "Expect (thread label)", placeholder: "Shipment confirmed by the WMS" },
    { name: "expect_flow", label: "or expect (flow)" },
    { name: "key_kind", label: "Same key", placeholder: "po" },
    { name: "window_s", label: "Within (seconds)", numeric: true, placeholder: "14400" },
    { name: "lookback_s", label: "Look back (seconds)", numeric: true, placeholder: "604800" },
  ],
};
const KINDS: AlertKind[] = ["failures", "latency", "queue_age", "absence"];
const STATUSES = ["", "firing", "acknowledged", "resolved"];

const message = (e: unknown) => (e instanceof ApiError ? `${e.message}${e.details[0]?.field ? ` (${e.details[0].field})` : ""}` : String(e));

export function Alerts({ navigate }: { navigate: (path: string) => void }) {
  const [rules, setRules] = useState<AlertRule[] | null>(null);
  const [alerts, setAlerts] = useState<Alert[] | null>(null);
  const [status, setStatus] = useState("");
  const [editing, setEditing] = useState<AlertRule | "new" | null>(null);
  const [error, setError] = useState<string | null>(null);
  const writeRules = can("flows:write");
  const handle = can("runs:write");

  const load = useCallback(() => {
    api.alertRules().then(setRules, (e) => setError(message(e)));
    api.alerts(status || undefined).then(setAlerts, (e) => setError(message(e)));
  }, [status]);

  useEffect(() => {
    load();
    const timer = window.setInterval(load, 15_000);
    const sub = subscribe({ intervalMs: 2000, onBatch: (batch) => batch.some((e) => e.event === "run.finished") && load() });
    return () => {
      window.clearInterval(timer);
      sub.close();
    };
  }, [load]);

  const act = (p: Promise<unknown>) => p.then(load, (e) => setError(message(e)));

  return (
    <div className="flow-list-page">
      <AppNav current="/alerts" navigate={navigate} title={<span className="flow-title">Alerts</span>}>
        <button className="btn" onClick={load} data-testid="alerts-refresh">Refresh</button>
      </AppNav>
      <main className="flow-list wide">
        {error && (
          <div className="banner error" data-testid="alerts-error">
            {error}
            <button className="btn-ghost small" onClick={() => setError(null)}>Dismiss</button>
          </div>
        )}
        <section className="alerts-section">
          <div className="alerts-head">
            <h2>Rules</h2>
            {writeRules && editing === null && (
              <button className="btn primary" onClick={() => setEditing("new")} data-testid="rule-new">New rule</button>
            )}
          </div>
          {editing !== null && (
            <RuleForm
              rule={editing === "new" ? null : editing}
              onDone={() => {
                setEditing(null);
                load();
              }}
            />
          )}
          {rules === null ? (
            <p className="hint">Loading…</p>
          ) : rules.length === 0 ? (
            <p className="hint" data-testid="rules-empty">No alert rules yet.</p>
          ) : (
            <table className="grid" data-testid="rule-table">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Kind</th>
                  <th>When</th>
                  <th>Tells</th>
                  <th>Enabled</th>
                  <th>Evaluated</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {rules.map((r) => (
                  <RuleRow key={r.id} rule={r} writable={writeRules} onEdit={() => setEditing(r)} act={act} />
                ))}
              </tbody>
            </table>
          )}
        </section>
        <section className="alerts-section">
          <div className="alerts-head">
            <h2>Alerts</h2>
            <label className="alerts-filter">
              Status{" "}
              <select value={status} onChange={(e) => setStatus(e.target.value)} data-testid="alert-status-filter">
                {STATUSES.map((s) => (
                  <option key={s} value={s}>{s || "all"}</option>
                ))}
              </select>
            </label>
          </div>
          {alerts === null ? (
            <p className="hint">Loading…</p>
          ) : alerts.length === 0 ? (
            <p className="hint" data-testid="alerts-empty">No alerts{status ? ` ${status}` : ""}.</p>
          ) : (
            <table className="grid" data-testid="alert-table">
              <thead>
                <tr>
                  <th>Rule</th>
                  <th>Key</th>
                  <th>Status</th>
                  <th>Count</th>
                  <th>First seen</th>
                  <th>Last seen</th>
                  <th>Deliveries</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {alerts.map((a) => (
                  <tr key={a.id} data-testid="alert-row" data-alert-id={a.id} data-rule-id={a.rule_id} data-status={a.status}>
                    <td>
                      {a.rule_name} <span className="pill">{a.kind}</span>
                    </td>
                    <td><code title={a.detail ? JSON.stringify(a.detail) : undefined}>{a.key}</code></td>
                    <td>
                      <span className={`pill alert-${a.status}`} data-testid="alert-status">{a.status}</span>
                      {a.acknowledged_by && <div className="hint">ack: {a.acknowledged_by}</div>}
                      {a.resolved_by && <div className="hint">resolved: {a.resolved_by}</div>}
                    </td>
                    <td>{a.count}</td>
                    <td>{when(a.first_seen)}</td>
                    <td>{when(a.last_seen)}</td>
                    <td>
                      {a.deliveries.map((d) => (
                        <div key={d.id} className={`hint delivery-${d.status}`} title={d.last_error || undefined}>
                          {d.event} → {d.channel} {d.target}: {d.status}
                        </div>
                      ))}
                    </td>
                    <td className="alert-actions">
                      {handle && a.status === "firing" && (
                        <button className="btn small" onClick={() => act(api.acknowledgeAlert(a.id))} data-testid="alert-acknowledge">Acknowledge</button>
                      )}
                      {handle && a.status !== "resolved" && (
                        <button className="btn small" onClick={() => act(api.resolveAlert(a.id))} data-testid="alert-resolve">Resolve</button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      </main>
    </div>
  );
}

function body(rule: AlertRule, changes: Partial<AlertRuleIn> = {}): AlertRuleIn {
  const { name, kind, params, channels, enabled, every_s } = rule;
  return { name, kind, params, channels, enabled, every_s, ...changes };
}

function RuleRow({ rule, writable, onEdit, act }: { rule: AlertRule; writable: boolean; onEdit: () => void; act: (p: Promise<unknown>) => void }) {
  const [confirming, setConfirming] = useState(false);
  const targets = [...(rule.channels.webhooks || []), ...(rule.channels.emails || [])];
  return (
    <tr data-testid="rule-row" data-rule-id={rule.id} data-enabled={String(rule.enabled)}>
      <td data-testid="rule-name">{rule.name}</td>
      <td>{rule.kind}</td>
      <td className="hint">
        {Object.entries(rule.params)
          .map(([k, v]) => `${k} ${v}`)
          .join(" · ")}
      </td>
      <td className="hint">{targets.join(", ") || "–"}</td>
      <td>
        <span className={`pill${rule.enabled ? " st-ok" : ""}`}>{rule.enabled ? "on" : "off"}</span>{" "}
        {writable && (
          <button className="btn-ghost small" onClick={() => act(api.saveAlertRule(rule.id, body(rule, { enabled: !rule.enabled })))} data-testid="rule-toggle">
            {rule.enabled ? "Disable" : "Enable"}
          </button>
        )}
      </td>
      <td className="hint">
        {rule.evaluated_at ? when(rule.evaluated_at) : "not yet"}
        {rule.error && <div className="alert-rule-error">{rule.error}</div>}
      </td>
      <td className="alert-actions">
        {writable && (
          <>
            <button className="btn small" onClick={onEdit} data-testid="rule-edit">Edit</button>
            {confirming ? (
              <>
                <button className="btn small danger" onClick={() => act(api.deleteAlertRule(rule.id))} data-testid="rule-delete-confirm">Delete with its alerts</button>
                <button className="btn-ghost small" onClick={() => setConfirming(false)}>Keep</button>
              </>
            ) : (
              <button className="btn-ghost small danger" onClick={() => setConfirming(true)} data-testid="rule-delete">Delete</button>
            )}
          </>
        )}
      </td>
    </tr>
  );
}

const lines = (text: string) =>
  text
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean);

function RuleForm({ rule, onDone }: { rule: AlertRule | null; onDone: () => void }) {
  const [name, setName] = useState(rule?.name || "");
  const [kind, setKind] = useState<AlertKind>(rule?.kind || "failures");
  const [params, setParams] = useState<Record<string, string>>(() =>
    Object.fromEntries(Object.entries(rule?.params || {}).map(([k, v]) => [k, String(v)])),
  );
  const [webhooks, setWebhooks] = useState((rule?.channels.webhooks || []).join("\n"));
  const [emails, setEmails] = useState((rule?.channels.emails || []).join("\n"));
  const [everyS, setEveryS] = useState(String(rule?.every_s ?? 60));
  const [enabled, setEnabled] = useState(rule?.enabled ?? true);
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);

  const submit = () => {
    const chosen: Record<string, string | number> = {};
    for (const f of PARAMS[kind]) {
      const v = (params[f.name] || "").trim();
      if (v) chosen[f.name] = f.numeric ? Number(v) : v;
    }
    const channels: AlertRuleIn["channels"] = {};
    if (lines(webhooks).length) channels.webhooks = lines(webhooks);
    if (lines(emails).length) channels.emails = lines(emails);
    const out: AlertRuleIn = { name: name.trim(), kind, params: chosen, channels, enabled, every_s: Number(everyS) || 60 };
    setSaving(true);
    (rule ? api.saveAlertRule(rule.id, out) : api.createAlertRule(out)).then(onDone, (e) => {
      setSaving(false);
      setError(message(e));
    });
  };

  return (
    <form
      className="filter-row rule-form"
      data-testid="rule-form"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <label>
        Name
        <input value={name} onChange={(e) => setName(e.target.value)} maxLength={200} required data-testid="rule-name-input" />
      </label>
      <label>
        Kind
        <select value={kind} onChange={(e) => setKind(e.target.value as AlertKind)} disabled={!!rule} data-testid="rule-kind">
          {KINDS.map((k) => (
            <option key={k} value={k}>{k}</option>
          ))}
        </select>
      </label>
      {PARAMS[kind].map((f) => (
        <label key={f.name}>
          {f.label}
          {f.options ? (
            <select value={params[f.name] || ""} onChange={(e) => setParams({ ...params, [f.name]: e.target.value })} data-testid={`rule-param-${f.name}`}>
              {f.options.map((o) => (
                <option key={o} value={o}>{o || "any"}</option>
              ))}
            </select>
          ) : (
            <input
              type={f.numeric ? "number" : "text"}
              min={f.numeric ? 1 : undefined}
              value={params[f.name] || ""}
              placeholder={f.placeholder}
              onChange={(e) => setParams({ ...params, [f.name]: e.target.value })}
              data-testid={`rule-param-${f.name}`}
            />
          )}
        </label>
      ))}
      <label>
        Webhooks (one a line)
        <textarea rows={2} value={webhooks} onChange={(e) => setWebhooks(e.target.value)} data-testid="rule-webhooks" />
      </label>
      <label>
        E-mails (one a line)
        <textarea rows={2} value={emails} onChange={(e) => setEmails(e.target.value)} data-testid="rule-emails" />
      </label>
      <label>
        Every (seconds)
        <input type="number" min={10} max={86400} value={everyS} onChange={(e) => setEveryS(e.target.value)} data-testid="rule-every" />
      </label>
      <label className="rule-enabled">
        Enabled
        <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} />
      </label>
      <button className="btn primary" type="submit" disabled={saving || !name.trim()} data-testid="rule-save">
        {rule ? "Save rule" : "Create rule"}
      </button>
      <button className="btn-ghost" type="button" onClick={onDone}>Cancel</button>
      {error && <div className="banner error rule-error" data-testid="rule-error">{error}</div>}
    </form>
  );
}
