// Upgrading an installed flow to a newer template version (issue 13): the preview of the three-way merge
// (GET /flows/<id>/upgrade) lists what of the new version applies and each conflict field by field, with the
// template's old value, the customer's and the new one; the person picks ours or theirs for each, and only then
// does the upgrade write (POST /flows/<id>/upgrade). Nothing is overwritten silently.
import { useEffect, useState } from "react";
import { Modal } from "../admin/Dialog";
import { api, ApiError } from "../api";
import { DiffView, type Diff } from "../editor/VersionDiff";

type Side = "ours" | "theirs";
interface Conflict {
  id: string;
  node?: string;
  field?: string;
  target?: string;
  table?: string;
  key?: string;
  base: unknown;
  ours: unknown;
  theirs: unknown;
}
interface Change {
  id: string;
  node?: string;
  field?: string;
  target?: string;
  table?: string;
  key?: string;
}
interface Preview {
  template_id: string;
  from_version: number;
  to_version: number;
  revision: number;
  changes: Change[];
  conflicts: Conflict[];
  diff: Diff;
  lookups: Record<string, { changed: string[] }>;
}
interface Upgraded {
  version: number;
  revision: number;
  lookups_changed: string[];
}

/** Where a change or conflict is, in words: "node erp_order, mapping field customerNo", "lookup carriers, row EXPRESS". */
function where(c: Change): string {
  if (c.table) return `lookup table ${c.table}, row ${c.key}`;
  if (c.node && c.target) return `node ${c.node}, ${c.field} → ${c.target}`;
  if (c.node) return `node ${c.node}${c.field ? `, ${c.field}` : ""}`;
  return `flow ${c.field ?? ""}${c.key ? `.${c.key}` : ""}`;
}

function shown(value: unknown): string {
  if (value === null || value === undefined) return "(none)";
  return typeof value === "string" ? value : JSON.stringify(value);
}

export function UpgradeDialog({ flowId, onClose }: { flowId: string; onClose: () => void }) {
  const [preview, setPreview] = useState<Preview | null>(null);
  const [picked, setPicked] = useState<Record<string, Side>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<Upgraded | null>(null);

  useEffect(() => {
    api.upgradePreview<Preview>(flowId).then(setPreview, (e) => setError((e as Error).message));
  }, [flowId]);

  const open = preview ? preview.conflicts.filter((c) => !picked[c.id]).length : 0;
  const apply = async () => {
    if (!preview) return;
    setBusy(true);
    setError(null);
    try {
      setDone(await api.upgradeFlow<Upgraded>(flowId, { to_version: preview.to_version, revision: preview.revision, resolutions: picked }));
    } catch (e) {
      setError(e instanceof ApiError ? `${e.message}${e.code === "conflict" ? " Close and open the upgrade again." : ""}` : String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal title={preview ? `Upgrade ${flowId}: v${preview.from_version} → v${preview.to_version}` : `Upgrade ${flowId}`} onClose={onClose} testId="upgrade-dialog">
      {error && <div className="banner error" data-testid="upgrade-error">{error}</div>}
      {done ? (
        <div data-testid="upgrade-done">
          <p>
            Upgraded to version {done.version}: the draft is saved as revision {done.revision}
            {done.lookups_changed.length > 0 && `, lookup tables ${done.lookups_changed.join(", ")} updated`}. Deploy it from the editor to run it.
          </p>
          <footer>
            <button className="btn primary" onClick={onClose}>Close</button>
          </footer>
        </div>
      ) : preview === null ? (
        !error && <p className="hint">Comparing…</p>
      ) : (
        <div className="version-diff">
          <section>
            <h4>From the new version ({preview.changes.length})</h4>
            {preview.changes.length === 0 ? (
              <p className="hint">Nothing else changes.</p>
            ) : (
              <ul data-testid="upgrade-changes">
                {preview.changes.map((c) => <li key={c.id} data-change-id={c.id}>{where(c)}</li>)}
              </ul>
            )}
          </section>
          <section>
            <h4>Conflicts ({preview.conflicts.length})</h4>
            {preview.conflicts.length === 0 ? (
              <p className="hint" data-testid="no-conflicts">None: your edits and the new version touch different things.</p>
            ) : (
              <table data-testid="conflicts">
                <thead>
                  <tr><th>Where</th><th>Template v{preview.from_version}</th><th>Yours</th><th>v{preview.to_version}</th></tr>
                </thead>
                <tbody>
                  {preview.conflicts.map((c) => (
                    <tr key={c.id} data-testid="conflict" data-conflict-id={c.id}>
                      <td>{where(c)}</td>
                      <td><code>{shown(c.base)}</code></td>
                      <td className={picked[c.id] === "ours" ? "after" : ""}>
                        <label>
                          <input type="radio" name={c.id} checked={picked[c.id] === "ours"} onChange={() => setPicked({ ...picked, [c.id]: "ours" })} data-testid="keep-ours" />{" "}
                          <code>{shown(c.ours)}</code>
                        </label>
                      </td>
                      <td className={picked[c.id] === "theirs" ? "after" : ""}>
                        <label>
                          <input type="radio" name={c.id} checked={picked[c.id] === "theirs"} onChange={() => setPicked({ ...picked, [c.id]: "theirs" })} data-testid="take-theirs" />{" "}
                          <code>{shown(c.theirs)}</code>
                        </label>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
          <details>
            <summary>The flow after the upgrade, against your draft</summary>
            <DiffView diff={preview.diff} />
          </details>
          <footer>
            <span className="hint" data-testid="upgrade-open">{open ? `${open} conflict(s) to resolve` : "Ready"}</span>
            <span className="spacer" />
            <button className="btn" onClick={onClose}>Cancel</button>
            <button className="btn primary" onClick={apply} disabled={busy || open > 0} data-testid="upgrade-apply">
              {busy ? "Upgrading…" : `Upgrade to v${preview.to_version}`}
            </button>
          </footer>
        </div>
      )}
    </Modal>
  );
}
