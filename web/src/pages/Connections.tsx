// The workspace's connections to its systems (issue 13): the list, create and edit in a dialog, delete, and a test
// that calls the system once without a side effect (reachable, credentials accepted or refused, unreachable).
// Secrets are write-only: the server never returns one, the page shows "set" and a blank field keeps it.
// /connections?new=<name>&system=<kind>&return=close opens the dialog for a missing connection (the inspector's
// "Create" link opens it in a tab of its own) and closes that tab once it is saved (goBack).
import { useEffect, useState } from "react";
import { api, ApiError } from "../api";
import { can } from "../access";
import { Modal, TypedConfirm } from "../admin/Dialog";
import { AppNav } from "./AppNav";
import "./Connections.css";

export interface Connection {
  name: string;
  system: string;
  base_url: string;
  auth: { type: string; username?: string; header?: string; host_key?: string };
  secret_set: boolean;
}

interface TestResult {
  ok: boolean;
  outcome: string;
  message: string;
  status?: number;
  duration_ms?: number;
}

const SYSTEMS = ["erp", "oms", "wms", "tms", "http", "sql", "folder", "sftp"];
const AUTH = ["none", "basic", "bearer", "api_key"];
const OUTCOME: Record<string, string> = {
  reachable: "Reachable",
  bad_credentials: "Credentials refused",
  unreachable: "Unreachable",
  egress_denied: "Not allowed",
  refused: "Answered with an error",
};

/** After a save asked for by another page: "close" (the editor opened this tab: it reads the names again when
 * it regains focus), or an app path to go to. */
export function goBack(back: string, navigate: (path: string) => void): void {
  if (back === "close" && window.opener) window.close();
  else navigate(back.startsWith("/") ? back : location.pathname);
}

function params(): URLSearchParams {
  return new URLSearchParams(location.search);
}

export function Connections({ navigate }: { navigate: (path: string) => void }) {
  const [list, setList] = useState<Connection[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [editing, setEditing] = useState<Connection | null>(null);
  const [deleting, setDeleting] = useState<Connection | null>(null);
  const [tests, setTests] = useState<Record<string, TestResult | "testing">>({});
  const writable = can("connections:write");
  const back = params().get("return");

  const refresh = () => api.connectionList<Connection>().then(setList, (e) => setError((e as Error).message));
  useEffect(() => {
    refresh();
    const q = params();
    if (q.has("new")) setEditing({ name: q.get("new") || "", system: q.get("system") || "http", base_url: "", auth: { type: "none" }, secret_set: false });
  }, []);

  const test = async (name: string) => {
    setTests((t) => ({ ...t, [name]: "testing" }));
    try {
      const r = await api.testConnection<TestResult>(name);
      setTests((t) => ({ ...t, [name]: r }));
    } catch (e) {
      setTests((t) => ({ ...t, [name]: { ok: false, outcome: "refused", message: (e as Error).message } }));
    }
  };

  return (
    <div className="flow-list-page">
      <AppNav current="/connections" navigate={navigate} title={<span className="flow-title">Connections</span>} />
      <main className="flow-list wide">
        <div className="create-row">
          {writable && (
            <button className="btn primary" data-testid="conn-new" onClick={() => setEditing({ name: "", system: "erp", base_url: "", auth: { type: "none" }, secret_set: false })}>
              New connection
            </button>
          )}
          <span className="hint page-intro">Where the connector nodes send their calls, with the credentials they use. Secrets are never shown again once saved.</span>
        </div>
        {error && <div className="banner error">{error}</div>}
        {list === null ? (
          <p className="hint">Loading…</p>
        ) : list.length === 0 ? (
          <p className="hint" data-testid="conn-empty">No connections yet.</p>
        ) : (
          <table className="grid" data-testid="conn-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>System</th>
                <th>Address</th>
                <th>Credentials</th>
                <th>Test</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {list.map((c) => {
                const t = tests[c.name];
                return (
                  <tr key={c.name} data-testid={`conn-row-${c.name}`}>
                    <td>{c.name}</td>
                    <td>{c.system.toUpperCase()}</td>
                    <td className="mono">{c.base_url}</td>
                    <td>
                      {c.auth.type}
                      {c.auth.username ? ` · ${c.auth.username}` : ""}
                      {c.secret_set && <span className="pill" data-testid="secret-set"> secret set</span>}
                    </td>
                    <td className="conn-test">
                      {writable && (
                        <button className="btn-ghost" disabled={t === "testing"} onClick={() => test(c.name)} data-testid={`conn-test-${c.name}`}>
                          {t === "testing" ? "Testing…" : "Test"}
                        </button>
                      )}
                      {t && t !== "testing" && (
                        <span className={`conn-result ${t.ok ? "st-ok" : "st-bad"}`} title={t.message} data-testid={`conn-result-${c.name}`} data-outcome={t.outcome}>
                          {OUTCOME[t.outcome] || t.outcome}: {t.message}
                        </span>
                      )}
                    </td>
                    <td>
                      {writable && (
                        <>
                          <button className="btn-ghost" onClick={() => setEditing(c)} data-testid={`conn-edit-${c.name}`}>Edit</button>
                          <button className="btn-ghost" onClick={() => setDeleting(c)}>Delete</button>
                        </>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </main>
      {editing && (
        <ConnectionForm
          start={editing}
          isNew={!list?.some((c) => c.name === editing.name)}
          onClose={() => setEditing(null)}
          onSaved={(c) => {
            setEditing(null);
            if (back) return goBack(back, navigate);
            refresh();
            test(c.name);
          }}
        />
      )}
      {deleting && (
        <TypedConfirm
          what="connection"
          name={deleting.name}
          consequence="Nodes that name it fail until a connection of that name exists again."
          onClose={() => setDeleting(null)}
          onConfirm={async () => {
            await api.deleteConnection(deleting.name);
            setDeleting(null);
            refresh();
          }}
        />
      )}
    </div>
  );
}

function ConnectionForm({ start, isNew, onClose, onSaved }: { start: Connection; isNew: boolean; onClose: () => void; onSaved: (c: Connection) => void }) {
  const [name, setName] = useState(start.name);
  const [system, setSystem] = useState(start.system);
  const [baseUrl, setBaseUrl] = useState(start.base_url);
  const [auth, setAuth] = useState<Record<string, string>>({ type: start.auth.type, username: start.auth.username || "", header: start.auth.header || "", host_key: start.auth.host_key || "" });
  const [secrets, setSecrets] = useState<Record<string, string>>({});
  const [error, setError] = useState<{ message: string; field?: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const type = auth.type || "none";
  const secretFields = type === "basic" ? ["password"] : type === "bearer" ? ["token"] : type === "api_key" ? ["key"] : [];

  const save = async () => {
    setBusy(true);
    setError(null);
    const body = { system, base_url: baseUrl, auth: { ...Object.fromEntries(Object.entries(auth).filter(([, v]) => v)), ...Object.fromEntries(Object.entries(secrets).filter(([, v]) => v)) } };
    try {
      onSaved(await api.saveConnection<Connection>(name, body));
    } catch (e) {
      const field = e instanceof ApiError ? (e.details?.[0] as { field?: string } | undefined)?.field : undefined;
      setError({ message: (e as Error).message, field });
      setBusy(false);
    }
  };

  const input = (label: string, value: string, set: (v: string) => void, testId: string, extra: Record<string, unknown> = {}) => (
    <label className="field">
      <span>{label}</span>
      <input value={value} onChange={(e) => set(e.target.value)} data-testid={testId} className={error?.field && testId.endsWith(error.field) ? "invalid" : ""} {...extra} />
    </label>
  );

  return (
    <Modal title={isNew ? "New connection" : `Connection ${start.name}`} onClose={onClose} testId="conn-form">
      <div className="conn-form">
        {input("Name", name, setName, "conn-name", { disabled: !isNew, placeholder: "erp-main" })}
        <label className="field">
          <span>System</span>
          <select value={system} onChange={(e) => setSystem(e.target.value)} data-testid="conn-system">
            {SYSTEMS.map((s) => (
              <option key={s} value={s}>{s}</option>
            ))}
          </select>
        </label>
        {input(system === "sql" ? "Database URL" : system === "folder" ? "Folder" : "Base URL", baseUrl, setBaseUrl, "conn-base_url", { placeholder: "https://erp.example.com/api" })}
        <label className="field">
          <span>Authentication</span>
          <select value={type} onChange={(e) => setAuth({ ...auth, type: e.target.value })} data-testid="conn-auth">
            {AUTH.map((a) => (
              <option key={a} value={a}>{a}</option>
            ))}
          </select>
        </label>
        {type === "basic" && input("Username", auth.username, (v) => setAuth({ ...auth, username: v }), "conn-username")}
        {type === "api_key" && input("Header", auth.header, (v) => setAuth({ ...auth, header: v }), "conn-header", { placeholder: "X-API-Key" })}
        {secretFields.map((f) =>
          input(f === "key" ? "API key" : f[0].toUpperCase() + f.slice(1), secrets[f] || "", (v) => setSecrets({ ...secrets, [f]: v }), `conn-${f}`, {
            type: "password",
            autoComplete: "new-password",
            placeholder: start.secret_set ? "set · leave empty to keep" : "",
          }),
        )}
        {error && <div className="banner error" data-testid="conn-error">{error.message}</div>}
        <footer>
          <button className="btn" onClick={onClose}>Cancel</button>
          <button className="btn primary" onClick={save} disabled={busy || !name} data-testid="conn-save">Save</button>
        </footer>
      </div>
    </Modal>
  );
}
