// The Changes panel (issue 13): what changed between two versions of the flow (GET /flows/<id>/diff), the saved
// draft against the deployed version by default, or any two picked; nodes added, removed and moved, config per
// field and mappings per target field. DiffView is shared with the template upgrade dialog.
import { useEffect, useState } from "react";
import { Modal } from "../admin/Dialog";
import { api } from "../api";
import "./VersionDiff.css";

export interface FieldChange {
  field: string;
  change: "added" | "removed" | "changed";
  before: unknown;
  after: unknown;
}
export interface MappingChange extends FieldChange {
  target: string;
}
interface NodeRef {
  id: string;
  name: string;
  type: string;
}
export interface Diff {
  nodes_added: NodeRef[];
  nodes_removed: NodeRef[];
  nodes_moved: (NodeRef & { from: { x: number; y: number } | null; to: { x: number; y: number } | null })[];
  nodes_changed: (NodeRef & { fields: FieldChange[]; mappings: MappingChange[] })[];
  edges_added: string[];
  edges_removed: string[];
  flow_fields: FieldChange[];
  truncated: boolean;
  changed: boolean;
}
interface DiffAnswer {
  diff: Diff;
}
interface Version {
  version: number;
  deployed: boolean;
}

function shown(value: unknown): string {
  if (value === null || value === undefined) return "—";
  return typeof value === "string" ? value : JSON.stringify(value);
}

const at = (p: { x: number; y: number } | null) => (p ? `(${Math.round(p.x)}, ${Math.round(p.y)})` : "—");

export function DiffView({ diff }: { diff: Diff }) {
  if (!diff.changed) return <p className="hint" data-testid="diff-empty">No changes.</p>;
  return (
    <div className="version-diff" data-testid="diff-view">
      {diff.nodes_added.length + diff.nodes_removed.length > 0 && (
        <section>
          <h4>Nodes added and removed</h4>
          <table>
            <tbody>
              {diff.nodes_added.map((n) => (
                <tr key={`+${n.id}`} data-testid="diff-node-added" data-node-id={n.id} className="after">
                  <td>+ <span className="node-name">{n.name}</span> <span className="change-kind">{n.type}</span></td>
                </tr>
              ))}
              {diff.nodes_removed.map((n) => (
                <tr key={`-${n.id}`} data-testid="diff-node-removed" data-node-id={n.id} className="before">
                  <td>− <span className="node-name">{n.name}</span> <span className="change-kind">{n.type}</span></td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
      {diff.nodes_moved.length > 0 && (
        <section>
          <h4>Nodes moved</h4>
          <table>
            <tbody>
              {diff.nodes_moved.map((n) => (
                <tr key={n.id} data-testid="diff-node-moved" data-node-id={n.id}>
                  <td className="node-name">{n.name}</td>
                  <td>{at(n.from)} → {at(n.to)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
      {diff.nodes_changed.map((n) => (
        <section key={n.id} data-testid="diff-node-changed" data-node-id={n.id}>
          <h4>{n.name}</h4>
          <table>
            <thead>
              <tr><th>Field</th><th>Before</th><th>After</th></tr>
            </thead>
            <tbody>
              {n.fields.map((f) => (
                <tr key={f.field} data-testid="diff-field" data-field={f.field}>
                  <td>{f.field} <span className="change-kind">{f.change}</span></td>
                  <td className="before"><code>{shown(f.before)}</code></td>
                  <td className="after"><code>{shown(f.after)}</code></td>
                </tr>
              ))}
              {n.mappings.map((m) => (
                <tr key={`${m.field}:${m.target}`} data-testid="diff-mapping" data-target={m.target}>
                  <td>→ <strong>{m.target}</strong> <span className="change-kind">{m.change}</span></td>
                  <td className="before"><code>{shown(m.before)}</code></td>
                  <td className="after"><code>{shown(m.after)}</code></td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ))}
      {diff.edges_added.length + diff.edges_removed.length > 0 && (
        <section>
          <h4>Connections</h4>
          <table>
            <tbody>
              {diff.edges_added.map((e) => <tr key={`+${e}`} className="after" data-testid="diff-edge-added"><td>+ {e}</td></tr>)}
              {diff.edges_removed.map((e) => <tr key={`-${e}`} className="before" data-testid="diff-edge-removed"><td>− {e}</td></tr>)}
            </tbody>
          </table>
        </section>
      )}
      {diff.flow_fields.length > 0 && (
        <section>
          <h4>Flow settings</h4>
          <table>
            <tbody>
              {diff.flow_fields.map((f) => (
                <tr key={f.field} data-testid="diff-flow-field" data-field={f.field}>
                  <td>{f.field}</td>
                  <td className="before"><code>{shown(f.before)}</code></td>
                  <td className="after"><code>{shown(f.after)}</code></td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
      {diff.truncated && <p className="hint">Only the first 500 changes of each kind are listed.</p>}
    </div>
  );
}

/** The Changes panel: the saved draft against the deployed version, or any two versions picked. */
export function VersionDiff({ flowId, dirty, onClose }: { flowId: string; dirty: boolean; onClose: () => void }) {
  const [from, setFrom] = useState("deployed");
  const [to, setTo] = useState("draft");
  const [versions, setVersions] = useState<Version[]>([]);
  const [diff, setDiff] = useState<Diff | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    api.flowVersions<Version>(flowId).then(setVersions, () => undefined);
  }, [flowId]);
  useEffect(() => {
    setDiff(null);
    setError(null);
    api.flowDiff<DiffAnswer>(flowId, from, to).then((r) => setDiff(r.diff), (e) => setError((e as Error).message));
  }, [flowId, from, to]);

  const choices = [
    { value: "draft", label: "Draft (saved)" },
    { value: "deployed", label: "Deployed" },
    ...versions.map((v) => ({ value: String(v.version), label: `Version ${v.version}${v.deployed ? " (deployed)" : ""}` })),
  ];
  const pick = (value: string, set: (v: string) => void, testId: string) => (
    <select value={value} onChange={(e) => set(e.target.value)} data-testid={testId}>
      {choices.map((c) => <option key={c.value} value={c.value}>{c.label}</option>)}
    </select>
  );
  return (
    <Modal title="Changes" onClose={onClose} testId="version-diff">
      <div className="version-diff-pick">
        From {pick(from, setFrom, "diff-from")} to {pick(to, setTo, "diff-to")}
      </div>
      {dirty && <p className="hint" data-testid="diff-unsaved">Unsaved changes are not included: save the draft to see them here.</p>}
      {error && <div className="banner error" data-testid="diff-error">{error}</div>}
      {diff === null && !error ? <p className="hint">Loading…</p> : diff && <DiffView diff={diff} />}
    </Modal>
  );
}
