// Customer workspaces of the partner: list, create (optionally installing a template in the same step),
// rename, suspend and activate, delete after typing the id, and the egress allow-list connectors may reach.
import { useEffect, useState } from "react";
import { workspace } from "../api";
import { when } from "../pages/RunList";
import type { TemplateSummary } from "../types";
import { adminApi, ApiError, type Workspace } from "./adminApi";
import { Modal, TypedConfirm } from "./Dialog";

const ID = /^[a-z0-9-]{2,64}$/; // runtime/tenancy.py WORKSPACE_ID

/** A full page load into another workspace: the app's own links keep the current one. */
function workspaceHref(path: string, ws: string): string {
  return `${path}?workspace=${encodeURIComponent(ws)}`;
}

export function Workspaces({ onChanged }: { onChanged: () => void }) {
  const [list, setList] = useState<Workspace[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [dialog, setDialog] = useState<null | { kind: "create" } | { kind: "rename" | "egress" | "delete"; ws: Workspace }>(null);

  const refresh = () => adminApi.workspaces().then(setList, (e) => setError((e as Error).message));
  useEffect(() => {
    refresh();
  }, []);

  const setStatus = async (ws: Workspace, status: "active" | "suspended") => {
    try {
      await adminApi.updateWorkspace(ws.id, { status });
      onChanged();
      await refresh();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const close = () => {
    setDialog(null);
    refresh();
    onChanged(); // the header's workspace switcher lists them
  };

  return (
    <>
      <div className="create-row">
        <button className="btn primary" onClick={() => setDialog({ kind: "create" })} data-testid="ws-create">New workspace</button>
        <span className="hint admin-intro">One workspace per customer: its flows, connections, runs and keys stay apart from every other customer's.</span>
      </div>
      {error && <div className="banner error" data-testid="admin-error">{error}</div>}
      {list === null ? (
        <p className="hint">Loading…</p>
      ) : (
        <table className="grid" data-testid="ws-table">
          <thead>
            <tr>
              <th>Workspace</th>
              <th>Name</th>
              <th>Status</th>
              <th>Created</th>
              <th className="actions" />
            </tr>
          </thead>
          <tbody>
            {list.map((ws) => (
              <tr key={ws.id} data-ws-id={ws.id}>
                <td>
                  <a href={workspaceHref("/flows", ws.id)} data-testid="ws-open"><code>{ws.id}</code></a>
                </td>
                <td data-testid="ws-name">{ws.name}</td>
                <td>
                  <span className={`pill ${ws.status === "active" ? "deployed" : "st-bad"}`} data-testid="ws-status">{ws.status}</span>
                </td>
                <td className="hint">{ws.created_at ? when(ws.created_at) : "–"}</td>
                <td className="actions">
                  <button className="btn small" onClick={() => setDialog({ kind: "rename", ws })} data-testid="ws-rename">Rename</button>{" "}
                  <button className="btn small" onClick={() => setDialog({ kind: "egress", ws })} data-testid="ws-egress">Egress</button>{" "}
                  {ws.status === "active" ? (
                    <button className="btn small" onClick={() => setStatus(ws, "suspended")} data-testid="ws-suspend">Suspend</button>
                  ) : (
                    <button className="btn small" onClick={() => setStatus(ws, "active")} data-testid="ws-activate">Activate</button>
                  )}{" "}
                  <button className="btn small danger" onClick={() => setDialog({ kind: "delete", ws })} data-testid="ws-delete">Delete</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {dialog?.kind === "create" && <CreateDialog taken={(list || []).map((w) => w.id)} onClose={close} />}
      {dialog?.kind === "rename" && <RenameDialog ws={dialog.ws} onClose={close} />}
      {dialog?.kind === "egress" && <EgressDialog ws={dialog.ws} onClose={close} />}
      {dialog?.kind === "delete" && (
        <TypedConfirm
          what="workspace"
          name={dialog.ws.id}
          consequence={`Every flow, version, run, connection, lookup table and API key of ${dialog.ws.name} is deleted. Its audit log stays.`}
          onConfirm={async () => {
            await adminApi.deleteWorkspace(dialog.ws.id);
            // the address named the workspace just deleted: continue in the user's default one
            if (new URLSearchParams(location.search).get("workspace") === dialog.ws.id) history.replaceState(null, "", location.pathname);
          }}
          onClose={close}
        />
      )}
    </>
  );
}

function CreateDialog({ taken, onClose }: { taken: string[]; onClose: () => void }) {
  const [id, setId] = useState("");
  const [name, setName] = useState("");
  const [templates, setTemplates] = useState<TemplateSummary[] | null>(null);
  const [template, setTemplate] = useState("");
  const [params, setParams] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<{ id: string; installed: string[] } | null>(null);

  useEffect(() => {
    // the gallery is read in a workspace: this page's when the partner holds it, else any of theirs
    const ws = taken.includes(workspace()) ? workspace() : taken[0];
    if (ws) adminApi.templates(ws).then(setTemplates, () => setTemplates([]));
    else setTemplates([]);
    // keyed by the ids: the array itself is made anew at each draw
  }, [taken.join(" ")]);
  const chosen = templates?.find((t) => t.id === template);
  const pick = (tid: string) => {
    setTemplate(tid);
    const t = templates?.find((x) => x.id === tid);
    setParams(Object.fromEntries(Object.entries(t?.params || {}).map(([k, d]) => [k, d.default == null ? "" : typeof d.default === "string" ? d.default : JSON.stringify(d.default)])));
  };
  const idProblem = !id ? null : !ID.test(id) ? "2-64 lower-case letters, digits or '-'." : taken.includes(id) ? "A workspace with this id exists already." : null;

  const submit = async () => {
    setBusy(true);
    setError(null);
    const values: Record<string, unknown> = {};
    for (const [k, text] of Object.entries(params)) {
      if (text === "") continue;
      const type = chosen?.params[k]?.type;
      values[k] = type === "number" || type === "integer" ? Number(text) : type === "boolean" ? text === "true" : type === "object" || type === "array" ? JSON.parse(text) : text;
    }
    try {
      const r = await adminApi.createWorkspace({ id, name: name || id, ...(template ? { template, params: values } : {}) });
      setDone({ id: r.workspace.id, installed: r.installed || [] });
    } catch (e) {
      const more = e instanceof ApiError ? e.details.map((d) => d.message).filter(Boolean) : [];
      setError(more.length ? `${(e as Error).message}: ${more.join("; ")}` : (e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal title="New customer workspace" onClose={onClose} testId="ws-create-dialog">
      {done ? (
        <div data-testid="ws-created">
          <p>
            Workspace <code>{done.id}</code> created{done.installed.length ? ", with the flows " : "."}
            {done.installed.map((f, i) => (
              <span key={f}>
                {i > 0 && ", "}
                <code data-testid="ws-installed-flow">{f}</code>
              </span>
            ))}
          </p>
          <footer>
            <button className="btn" onClick={onClose}>Close</button>
            <a className="btn primary" href={workspaceHref("/flows", done.id)} data-testid="ws-go">Open workspace</a>
          </footer>
        </div>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (id && !idProblem) submit();
          }}
        >
          <label className="field">
            <span className="field-label">Id<span className="req">*</span> <span className="hint">in addresses and webhook paths; cannot change</span></span>
            <input type="text" value={id} onChange={(e) => setId(e.target.value.trim())} autoFocus data-testid="ws-id" />
            {idProblem && <span className="field-error">{idProblem}</span>}
          </label>
          <label className="field">
            <span className="field-label">Name</span>
            <input type="text" value={name} onChange={(e) => setName(e.target.value)} placeholder={id} data-testid="ws-new-name" />
          </label>
          <label className="field">
            <span className="field-label">Install a template</span>
            <select value={template} onChange={(e) => pick(e.target.value)} data-testid="ws-template">
              <option value="">None (empty workspace)</option>
              {(templates || []).map((t) => (
                <option key={t.id} value={t.id}>{t.name}</option>
              ))}
            </select>
            {chosen && <span className="hint">{chosen.description}</span>}
            {templates?.length === 0 && <span className="hint">No template gallery until the partner has a workspace: create this one, then install from its Templates page.</span>}
          </label>
          {chosen &&
            Object.entries(chosen.params).map(([k, d]) => (
              <label className="field" key={k}>
                <span className="field-label">{k} <span className="hint">{d.type || "string"}</span></span>
                <input type="text" value={params[k] ?? ""} onChange={(e) => setParams({ ...params, [k]: e.target.value })} data-testid={`ws-param-${k}`} />
                {d.description && <span className="hint">{d.description}</span>}
              </label>
            ))}
          {error && <div className="banner error" data-testid="ws-create-error">{error}</div>}
          <footer>
            <button className="btn" type="button" onClick={onClose}>Cancel</button>
            <button className="btn primary" type="submit" disabled={!id || !!idProblem || busy} data-testid="ws-create-submit">
              {busy ? "Creating…" : "Create"}
            </button>
          </footer>
        </form>
      )}
    </Modal>
  );
}

function RenameDialog({ ws, onClose }: { ws: Workspace; onClose: () => void }) {
  const [name, setName] = useState(ws.name);
  const [error, setError] = useState<string | null>(null);
  const save = async () => {
    try {
      await adminApi.updateWorkspace(ws.id, { name: name.trim() });
      onClose();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <Modal title={`Rename ${ws.id}`} onClose={onClose} testId="ws-rename-dialog">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (name.trim()) save();
        }}
      >
        <label className="field">
          <span className="field-label">Name</span>
          <input type="text" value={name} onChange={(e) => setName(e.target.value)} autoFocus data-testid="ws-rename-input" />
        </label>
        {error && <div className="banner error">{error}</div>}
        <footer>
          <button className="btn" type="button" onClick={onClose}>Cancel</button>
          <button className="btn primary" type="submit" disabled={!name.trim()} data-testid="ws-rename-save">Save</button>
        </footer>
      </form>
    </Modal>
  );
}

const ALLOW_ENTRY = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):\d{1,5}$|^[0-9a-fA-F:.]+\/\d{1,3}$/;

function EgressDialog({ ws, onClose }: { ws: Workspace; onClose: () => void }) {
  const [text, setText] = useState((ws.settings?.egress?.allow || []).join("\n"));
  const [error, setError] = useState<string | null>(null);
  const entries = text.split(/[\n,]+/).map((s) => s.trim()).filter(Boolean);
  const bad = entries.filter((e) => !ALLOW_ENTRY.test(e));
  const save = async () => {
    try {
      const settings = { ...(ws.settings || {}), egress: { ...(ws.settings?.egress || {}), allow: entries } };
      await adminApi.updateWorkspace(ws.id, { settings });
      onClose();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <Modal title={`Egress allow-list of ${ws.id}`} onClose={onClose} testId="ws-egress-dialog">
      <p className="hint">
        Connectors may not reach loopback, link-local or private addresses. List here, one a line, the <code>host:port</code> or CIDR
        ranges this workspace's connectors may reach anyway (e.g. <code>10.0.4.12:8080</code>, <code>10.20.0.0/16</code>).
      </p>
      <textarea className="json-input admin-egress" rows={6} value={text} onChange={(e) => setText(e.target.value)} data-testid="ws-egress-input" />
      {bad.length > 0 && <span className="field-error">Not a host:port or CIDR: {bad.join(", ")}</span>}
      {error && <div className="banner error">{error}</div>}
      <footer>
        <button className="btn" type="button" onClick={onClose}>Cancel</button>
        <button className="btn primary" onClick={save} disabled={bad.length > 0} data-testid="ws-egress-save">Save</button>
      </footer>
    </Modal>
  );
}
