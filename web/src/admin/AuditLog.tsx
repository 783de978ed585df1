// The audit log of the current workspace (or, for a partner admin, of every workspace of the partner): who
// changed what and when, newest first, filtered by action and actor, paged by the server's cursor
// (next_before), exported as CSV or JSON lines.
import { useCallback, useEffect, useState } from "react";
import { isPartnerAdmin } from "../access";
import { workspace } from "../api";
import { when } from "../pages/RunList";
import { adminApi, type AuditEntry } from "./adminApi";
import { WorkspacePick } from "./WorkspacePick";

const PAGE = 50;

/** A value of a summary in a few words: a list item that is an object (a membership) as its values. */
function words(v: unknown): string {
  if (Array.isArray(v)) return v.map((x) => (x && typeof x === "object" && !Array.isArray(x) ? Object.values(x).join(": ") : words(x))).join(", ");
  if (v && typeof v === "object") return JSON.stringify(v);
  return String(v);
}

/** A summary as a line of `key: value` pairs (a flow edit's diff: nodes added, removed, changed ...). */
function describe(summary: unknown): string {
  if (summary == null || summary === "") return "";
  if (typeof summary !== "object") return String(summary);
  return Object.entries(summary as Record<string, unknown>)
    .filter(([, v]) => v !== null && v !== undefined && !(Array.isArray(v) && v.length === 0))
    .map(([k, v]) => `${k.replace(/_/g, " ")}: ${words(v)}`)
    .join(" · ");
}

interface Filters {
  action: string;
  actor: string;
  scope: "workspace" | "partner";
}

export function AuditLog() {
  const [filters, setFilters] = useState<Filters>({ action: "", actor: "", scope: "workspace" });
  const [applied, setApplied] = useState<Filters>(filters);
  const [cursors, setCursors] = useState<(number | null)[]>([null]);
  const [entries, setEntries] = useState<AuditEntry[] | null>(null);
  const [next, setNext] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async (f: Filters, before: number | null) => {
    try {
      const r = await adminApi.audit({ limit: PAGE, before, action: f.action.trim(), actor: f.actor.trim(), scope: f.scope });
      setEntries(r.entries);
      setNext(r.next_before);
      setError(null);
    } catch (e) {
      setError((e as Error).message);
    }
  }, []);
  useEffect(() => {
    load(applied, cursors[cursors.length - 1]);
  }, [applied, cursors, load]);

  const download = async (format: "csv" | "jsonl") => {
    try {
      const blob = await adminApi.auditExport(format, { action: applied.action.trim(), actor: applied.actor.trim(), scope: applied.scope });
      const url = URL.createObjectURL(blob);
      const a = document.createElement("a");
      a.href = url;
      a.download = `audit-${applied.scope === "partner" ? "partner" : workspace()}.${format}`;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) {
      setError((e as Error).message);
    }
  };

  return (
    <>
      <form
        className="filter-row"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied(filters);
          setCursors([null]);
        }}
      >
        <label>
          Workspace
          {applied.scope === "partner" ? <select disabled><option>every workspace</option></select> : <WorkspacePick />}
        </label>
        {isPartnerAdmin() && (
          <label>
            Of
            <select
              value={filters.scope}
              onChange={(e) => {
                const f: Filters = { ...filters, scope: e.target.value as Filters["scope"] };
                setFilters(f);
                setApplied(f);
                setCursors([null]);
              }}
              data-testid="audit-scope"
            >
              <option value="workspace">this workspace</option>
              <option value="partner">every workspace of the partner</option>
            </select>
          </label>
        )}
        <label>
          Action
          <input type="search" value={filters.action} onChange={(e) => setFilters({ ...filters, action: e.target.value })} placeholder="e.g. flow.deploy" data-testid="audit-action" />
        </label>
        <label>
          Actor
          <input type="search" value={filters.actor} onChange={(e) => setFilters({ ...filters, actor: e.target.value })} placeholder="email or key:<id>" data-testid="audit-actor" />
        </label>
        <button className="btn" type="submit" data-testid="audit-filter">Filter</button>
        <span className="spacer" />
        <span className="hint admin-intro">Export</span>
        <button className="btn" type="button" onClick={() => download("csv")} data-testid="audit-export-csv">CSV</button>
        <button className="btn" type="button" onClick={() => download("jsonl")} data-testid="audit-export-jsonl">JSONL</button>
      </form>
      {error && <div className="banner error" data-testid="admin-error">{error}</div>}
      {entries === null ? (
        <p className="hint">Loading…</p>
      ) : entries.length === 0 ? (
        <p className="hint" data-testid="audit-empty">No entries.</p>
      ) : (
        <table className="grid" data-testid="audit-table">
          <thead>
            <tr>
              <th>When</th>
              {applied.scope === "partner" && <th>Workspace</th>}
              <th>Actor</th>
              <th>Action</th>
              <th>Target</th>
              <th>Summary</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => (
              <tr key={e.id} data-audit-id={e.id}>
                <td className="hint admin-nowrap">{when(e.at)}</td>
                {applied.scope === "partner" && <td><code>{e.workspace || "–"}</code></td>}
                <td>{e.actor}</td>
                <td><code data-testid="audit-entry-action">{e.action}</code></td>
                <td><code>{e.target}</code></td>
                <td className="admin-summary">{describe(e.summary)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="row gap admin-pager">
        <button className="btn" disabled={cursors.length === 1} onClick={() => setCursors(cursors.slice(0, -1))} data-testid="audit-newer">Newer</button>
        <span className="hint">page {cursors.length}</span>
        <button className="btn" disabled={next === null} onClick={() => next !== null && setCursors([...cursors, next])} data-testid="audit-older">Older</button>
      </div>
    </>
  );
}
