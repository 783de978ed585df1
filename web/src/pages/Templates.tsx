// The template gallery: bundled, partner and imported templates with what they need; "Use template" asks for the
// parameters and installs the flow (POST /api/v1/templates/import). A flow installed from an older version of a
// template says so ("installed v1, v2 available") and offers the upgrade (pages/TemplateUpgrade.tsx).
import { useEffect, useState } from "react";
import { api, ApiError } from "../api";
import type { FlowSummary, ImportResult, TemplateParam, TemplateSummary } from "../types";
import { can } from "../access";
import { AppNav, Link } from "./AppNav";
import { UpgradeDialog } from "./TemplateUpgrade";

export function Templates({ navigate }: { navigate: (path: string) => void }) {
  const [templates, setTemplates] = useState<TemplateSummary[] | null>(null);
  const [flows, setFlows] = useState<FlowSummary[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [using, setUsing] = useState<TemplateSummary | null>(null);
  const [upgrading, setUpgrading] = useState<string | null>(null); // the flow id

  const refresh = () => {
    api.templates().then(setTemplates, (e) => setError((e as Error).message));
    api.listFlows().then(setFlows, () => undefined);
  };
  useEffect(refresh, []);
  const installed = new Map(flows.map((f) => [f.id, f]));

  return (
    <div className="flow-list-page">
      <AppNav current="/templates" navigate={navigate} title={<span className="flow-title">Templates</span>} />
      <main className="flow-list wide">
        <p className="hint page-intro">Ready-made integrations. Use one to install it as a flow of this workspace with your own parameters; it is deployed when it validates.</p>
        {error && <div className="banner error">{error}</div>}
        {templates === null ? (
          <p className="hint">Loading…</p>
        ) : templates.length === 0 ? (
          <p className="hint">No templates.</p>
        ) : (
          <div className="gallery" data-testid="gallery">
            {templates.map((t) => {
              const flow = installed.get(t.flow_id);
              return (
                <article key={t.id} className="template-card" data-template-id={t.id} data-testid="template-card">
                  <header>
                    <h3 data-testid="template-name">{t.name}</h3>
                    <span className={`pill ${t.source === "bundled" ? "" : "imported"}`}>{t.source}{(t.version ?? 1) > 1 && ` · v${t.version}`}</span>
                  </header>
                  <p className="template-desc" data-testid="template-description">{t.description}</p>
                  <dl className="template-facts">
                    <dt>Parameters</dt>
                    <dd>{Object.keys(t.params).length ? Object.keys(t.params).map((p) => <code key={p}>{p}</code>) : <span className="hint">none</span>}</dd>
                    <dt>Systems</dt>
                    <dd>{t.connections.length ? t.connections.map((c) => <span key={c.name} className="pill">{c.system.toUpperCase()} · {c.name}</span>) : <span className="hint">none</span>}</dd>
                    {t.lookups.length > 0 && (
                      <>
                        <dt>Lookups</dt>
                        <dd>{t.lookups.map((l) => <code key={l}>{l}</code>)}</dd>
                      </>
                    )}
                  </dl>
                  {(t.installs ?? []).length > 0 && (
                    <div className="template-versions">
                      {(t.installs ?? []).map((i) => (
                        <span key={i.flow_id} className="template-version" data-testid="template-version" data-flow-id={i.flow_id}>
                          {i.flow_id !== t.flow_id && <code>{i.flow_id}</code>} installed v{i.version}
                          {i.upgrade && `, v${t.version} available`}
                          {i.upgrade && can("flows:write") && (
                            <button className="btn" onClick={() => setUpgrading(i.flow_id)} data-testid="upgrade-template">Upgrade</button>
                          )}
                        </span>
                      ))}
                    </div>
                  )}
                  <footer>
                    {flow ? (
                      <span className="template-installed" data-testid="template-installed">
                        Installed as <Link to={`/flows/${encodeURIComponent(flow.id)}`} navigate={navigate}>{flow.id}</Link>
                        {flow.deployed_version != null && (
                          <>
                            {" · "}
                            <Link to={`/monitor/${encodeURIComponent(flow.id)}`} navigate={navigate}>monitor</Link>
                          </>
                        )}
                      </span>
                    ) : (
                      <span className="hint">Not installed</span>
                    )}
                    <span className="spacer" />
                    {can("flows:write") && (
                      <button className="btn primary" onClick={() => setUsing(t)} data-testid="use-template">Use template</button>
                    )}
                  </footer>
                </article>
              );
            })}
          </div>
        )}
      </main>
      {upgrading && (
        <UpgradeDialog
          flowId={upgrading}
          onClose={() => {
            setUpgrading(null);
            refresh();
          }}
        />
      )}
      {using && (
        <UseDialog
          template={using}
          taken={new Set(installed.keys())}
          navigate={navigate}
          onClose={() => {
            setUsing(null);
            refresh();
          }}
        />
      )}
    </div>
  );
}

function freeId(base: string, taken: Set<string>): string {
  if (!taken.has(base)) return base;
  for (let i = 2; ; i++) if (!taken.has(`${base}-${i}`)) return `${base}-${i}`;
}

function initial(def: TemplateParam): string {
  if (def.default === undefined || def.default === null) return "";
  return typeof def.default === "string" ? def.default : JSON.stringify(def.default);
}

function parse(def: TemplateParam, text: string): unknown {
  switch (def.type) {
    case "number":
    case "integer": {
      const n = Number(text);
      if (text.trim() === "" || Number.isNaN(n)) throw new Error("a number is needed");
      return n;
    }
    case "boolean":
      return text === "true";
    case "object":
    case "array":
      return JSON.parse(text);
    default:
      return text;
  }
}

function UseDialog({ template, taken, navigate, onClose }: { template: TemplateSummary; taken: Set<string>; navigate: (p: string) => void; onClose: () => void }) {
  const params = Object.entries(template.params);
  const [flowId, setFlowId] = useState(freeId(template.flow_id, taken));
  const [values, setValues] = useState<Record<string, string>>(Object.fromEntries(params.map(([k, d]) => [k, initial(d)])));
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<ImportResult | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const esc = (e: KeyboardEvent) => e.key === "Escape" && onClose();
    window.addEventListener("keydown", esc);
    return () => window.removeEventListener("keydown", esc);
  }, [onClose]);

  const submit = async () => {
    const out: Record<string, unknown> = {};
    const errs: Record<string, string> = {};
    for (const [k, d] of params) {
      const text = values[k] ?? "";
      if (text === "" && !d.required) continue;
      if (text === "" && d.required) {
        errs[k] = "required";
        continue;
      }
      try {
        out[k] = parse(d, text);
      } catch (e) {
        errs[k] = (e as Error).message;
      }
    }
    setFieldErrors(errs);
    if (Object.keys(errs).length) return;
    setBusy(true);
    setError(null);
    try {
      setResult(await api.importTemplate({ template: template.id, params: out, flow_id: flowId.trim() || undefined }));
    } catch (e) {
      if (e instanceof ApiError) {
        const byField: Record<string, string> = {};
        for (const d of e.details) if (d.field) byField[d.field.replace(/^params\./, "")] = d.message;
        setFieldErrors(byField);
        setError(e.message);
      } else setError(String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div className="modal" role="dialog" aria-modal="true" aria-labelledby="use-title" data-testid="use-dialog">
        <header>
          <h3 id="use-title">Use “{template.name}”</h3>
          <button className="btn-ghost" onClick={onClose} aria-label="Close">✕</button>
        </header>
        {result ? (
          <div className="modal-body" data-testid="use-result">
            <p>
              Installed as <code data-testid="installed-flow">{result.flow_id}</code>
              {result.deployed_version != null ? `, deployed as version ${result.deployed_version}.` : ", as a draft (not deployed)."}
            </p>
            {result.lookups_added.length > 0 && <p className="hint">Lookup tables added: {result.lookups_added.join(", ")}</p>}
            {result.missing_connections.length > 0 && (
              <div className="banner warn">Connections to set up before it can reach its systems: {result.missing_connections.join(", ")}</div>
            )}
            {result.problems.length > 0 && (
              <ul className="insp-problems">
                {result.problems.map((p, i) => (
                  <li key={i} className={p.severity}>{p.message}</li>
                ))}
              </ul>
            )}
            <footer>
              <button className="btn" onClick={onClose}>Close</button>
              <button className="btn" onClick={() => navigate(`/flows/${encodeURIComponent(result.flow_id)}`)} data-testid="open-installed">Open flow</button>
              {result.deployed_version != null && (
                <button className="btn primary" onClick={() => navigate(`/monitor/${encodeURIComponent(result.flow_id)}`)}>Monitor</button>
              )}
            </footer>
          </div>
        ) : (
          <form
            className="modal-body"
            onSubmit={(e) => {
              e.preventDefault();
              submit();
            }}
          >
            <p className="hint">{template.description}</p>
            <label className="field">
              <span className="field-label">Flow id</span>
              <input type="text" value={flowId} onChange={(e) => setFlowId(e.target.value)} data-testid="use-flow-id" />
              {taken.has(flowId.trim()) && <span className="field-error">A flow with this id exists already.</span>}
            </label>
            {params.length > 0 && <h4 className="section-title">Parameters</h4>}
            {params.map(([k, d]) => (
              <label className="field" key={k}>
                <span className="field-label">
                  {k}
                  {d.required && <span className="req">*</span>} <span className="hint">{d.type || "string"}</span>
                </span>
                {d.type === "boolean" ? (
                  <select value={values[k] || "false"} onChange={(e) => setValues({ ...values, [k]: e.target.value })} data-testid={`param-${k}`}>
                    <option value="true">true</option>
                    <option value="false">false</option>
                  </select>
                ) : (
                  <input
                    type={d.type === "number" || d.type === "integer" ? "number" : "text"}
                    value={values[k] ?? ""}
                    onChange={(e) => setValues({ ...values, [k]: e.target.value })}
                    data-testid={`param-${k}`}
                  />
                )}
                {d.description && <span className="hint">{d.description}</span>}
                {fieldErrors[k] && <span className="field-error">{fieldErrors[k]}</span>}
              </label>
            ))}
            {error && <div className="banner error" data-testid="use-error">{error}</div>}
            <footer>
              <button className="btn" type="button" onClick={onClose}>Cancel</button>
              <button className="btn primary" type="submit" disabled={busy} data-testid="use-submit">
                {busy ? "Installing…" : "Install"}
              </button>
            </footer>
          </form>
        )}
      </div>
    </div>
  );
}
