// The API keys of the current workspace: list, create with scopes (the secret is shown once, with a copy
// button, and never again: only its hash is stored), revoke.
import { useEffect, useState } from "react";
import { when } from "../pages/RunList";
import { adminApi, type ApiKey } from "./adminApi";
import { Modal, SecretOnce } from "./Dialog";
import { WorkspacePick } from "./WorkspacePick";

export function ApiKeys() {
  const [keys, setKeys] = useState<ApiKey[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const [showRevoked, setShowRevoked] = useState(false);

  const refresh = () => adminApi.keys().then(setKeys, (e) => setError((e as Error).message));
  useEffect(() => {
    refresh();
  }, []);
  const shown = (keys || []).filter((k) => showRevoked || !k.revoked_at);

  return (
    <>
      <div className="create-row">
        <button className="btn primary" onClick={() => setCreating(true)} data-testid="key-create">New API key</button>
        <span className="hint admin-intro admin-nowrap">Keys of workspace</span>
        <WorkspacePick />
        <span className="hint admin-intro">for the systems that call its webhooks and its API</span>
        <span className="spacer" />
        <label className="row hint admin-nowrap">
          <input type="checkbox" checked={showRevoked} onChange={(e) => setShowRevoked(e.target.checked)} /> show revoked
        </label>
      </div>
      {error && <div className="banner error" data-testid="admin-error">{error}</div>}
      {keys === null ? (
        <p className="hint">Loading…</p>
      ) : shown.length === 0 ? (
        <p className="hint">No API keys.</p>
      ) : (
        <table className="grid" data-testid="key-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Key id</th>
              <th>Scopes</th>
              <th>Created</th>
              <th>Last used</th>
              <th className="actions" />
            </tr>
          </thead>
          <tbody>
            {shown.map((k) => (
              <tr key={k.id} data-key-id={k.id} className={k.revoked_at ? "admin-revoked" : undefined}>
                <td data-testid="key-name">{k.name}</td>
                <td><code>{k.id}</code></td>
                <td>{k.scopes.map((s) => <code key={s} className="admin-scope">{s}</code>)}</td>
                <td className="hint">
                  {when(k.created_at)}
                  {k.created_by && <div>{k.created_by}</div>}
                </td>
                <td className="hint">{k.last_used_at ? when(k.last_used_at) : "never"}</td>
                <td className="actions">
                  {k.revoked_at ? (
                    <span className="pill st-failed" data-testid="key-revoked">revoked {when(k.revoked_at)}</span>
                  ) : (
                    <button className="btn small danger" onClick={() => setRevoking(k)} data-testid="key-revoke">Revoke</button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {creating && (
        <CreateKey
          onClose={() => {
            setCreating(false);
            refresh();
          }}
        />
      )}
      {revoking && (
        <RevokeKey
          apiKey={revoking}
          onClose={() => {
            setRevoking(null);
            refresh();
          }}
        />
      )}
    </>
  );
}

function CreateKey({ onClose }: { onClose: () => void }) {
  const [name, setName] = useState("");
  const [all, setAll] = useState<string[]>([]);
  const [scopes, setScopes] = useState<Set<string>>(new Set(["hooks:write"]));
  const [error, setError] = useState<string | null>(null);
  const [secret, setSecret] = useState<string | null>(null);

  useEffect(() => {
    adminApi.keyScopes().then(setAll, (e) => setError((e as Error).message));
  }, []);
  const toggle = (s: string) => {
    const next = new Set(scopes);
    if (next.has(s)) next.delete(s);
    else next.add(s);
    setScopes(next);
  };
  const submit = async () => {
    setError(null);
    try {
      const r = await adminApi.createKey({ name: name.trim(), scopes: all.filter((s) => scopes.has(s)) });
      setSecret(r.secret);
    } catch (e) {
      setError((e as Error).message);
    }
  };

  return (
    <Modal title="New API key" onClose={onClose} testId="key-create-dialog">
      {secret ? (
        <>
          <SecretOnce label="Secret" secret={secret} note="Copy it now and store it where the calling system keeps its credentials: it is not shown again." />
          <footer>
            <button className="btn primary" onClick={onClose} data-testid="key-created-done">Done</button>
          </footer>
        </>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            submit();
          }}
        >
          <label className="field">
            <span className="field-label">Name<span className="req">*</span></span>
            <input type="text" value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. OMS webhooks" required autoFocus data-testid="key-name-input" />
          </label>
          <fieldset className="field-group">
            <legend>Scopes</legend>
            {all.map((s) => (
              <label key={s} className="field-check">
                <input type="checkbox" checked={scopes.has(s)} onChange={() => toggle(s)} data-testid={`key-scope-${s}`} />
                <code>{s}</code>
              </label>
            ))}
          </fieldset>
          {error && <div className="banner error" data-testid="key-create-error">{error}</div>}
          <footer>
            <button className="btn" type="button" onClick={onClose}>Cancel</button>
            <button className="btn primary" type="submit" disabled={!name.trim() || !all.some((s) => scopes.has(s))} data-testid="key-create-submit">Create</button>
          </footer>
        </form>
      )}
    </Modal>
  );
}

function RevokeKey({ apiKey, onClose }: { apiKey: ApiKey; onClose: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const revoke = async () => {
    try {
      await adminApi.revokeKey(apiKey.id);
      onClose();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <Modal title={`Revoke ${apiKey.name}`} onClose={onClose} testId="key-revoke-dialog">
      <p>Systems calling with this key are refused from now on. A revoked key cannot be restored.</p>
      {error && <div className="banner error">{error}</div>}
      <footer>
        <button className="btn" onClick={onClose}>Cancel</button>
        <button className="btn primary danger-fill" onClick={revoke} data-testid="key-revoke-confirm">Revoke</button>
      </footer>
    </Modal>
  );
}
