// The workspace's lookup (cross-reference) tables (issue 13): the tables, a table's rows to edit one by one, a
// CSV upload that creates or replaces a table and its download, and the flows whose documents use the table.
// /lookups?new=<name>&return=close starts a new table of that name (the inspector's "Create" link, in a tab of its
// own) and closes that tab once its CSV is uploaded.
import { useEffect, useState } from "react";
import { api } from "../api";
import { can } from "../access";
import { AppNav, Link } from "./AppNav";
import { goBack } from "./Connections";
import "./Connections.css";

type Rows = Record<string, unknown>;

function shown(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** A typed cell as the value to store: JSON when it reads as an object, array or number, else the text. */
function stored(text: string): unknown {
  const t = text.trim();
  if (/^[[{]/.test(t) || /^-?\d+(\.\d+)?$/.test(t)) {
    try {
      return JSON.parse(t);
    } catch {
      return text;
    }
  }
  return text;
}

export function Lookups({ navigate }: { navigate: (path: string) => void }) {
  const q = new URLSearchParams(location.search);
  const back = q.get("return");
  const [tables, setTables] = useState<{ table: string; rows: number }[] | null>(null);
  const [current, setCurrent] = useState<string | null>(q.get("table"));
  const [rows, setRows] = useState<Rows | null>(null);
  const [users, setUsers] = useState<{ flow_id: string; name: string; nodes: string[] }[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [newName, setNewName] = useState(q.get("new") || "");
  const [csv, setCsv] = useState<{ name: string; text: string } | null>(null);
  const [draft, setDraft] = useState<{ key: string; value: string }>({ key: "", value: "" });
  const writable = can("lookups:write");

  const refresh = () => api.lookupTables().then(setTables, (e) => setError((e as Error).message));
  useEffect(() => {
    refresh();
  }, []);
  useEffect(() => {
    if (!current) return;
    setRows(null);
    api.lookupRows(current).then(setRows, (e) => setError((e as Error).message));
    api.lookupUsers(current).then(setUsers, () => setUsers([]));
  }, [current]);

  const upload = async () => {
    const table = (newName || current || "").trim();
    if (!csv || !table) return;
    setError(null);
    try {
      const r = await api.importLookupCsv(table, csv.text);
      setNotice(`${r.rows} row(s) loaded into ${r.table}.`);
      setCsv(null);
      if (back) return goBack(back, navigate);
      await refresh();
      setNewName("");
      setCurrent(null);
      setCurrent(table);
    } catch (e) {
      setError((e as Error).message);
    }
  };

  const download = async () => {
    if (!current) return;
    const text = await api.lookupCsv(current);
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
    a.download = `${current}.csv`;
    a.click();
    URL.revokeObjectURL(a.href);
  };

  const putRow = async (key: string, text: string) => {
    if (!current || !key) return;
    try {
      await api.putLookupRow(current, key, stored(text));
      setRows((r) => ({ ...(r || {}), [key]: stored(text) }));
      setError(null);
    } catch (e) {
      setError((e as Error).message);
    }
  };

  const deleteRow = async (key: string) => {
    if (!current) return;
    await api.deleteLookupRow(current, key).catch((e) => setError((e as Error).message));
    setRows((r) => Object.fromEntries(Object.entries(r || {}).filter(([k]) => k !== key)));
  };

  return (
    <div className="flow-list-page">
      <AppNav current="/lookups" navigate={navigate} title={<span className="flow-title">Lookup tables</span>} />
      <main className="flow-list wide">
        <p className="hint page-intro">Cross-reference tables the lookup nodes and $lookup() read: OMS SKU to ERP item, carrier codes, units of measure. The first CSV column is the key.</p>
        {writable && (
          <div className="lookup-upload" data-testid="lookup-upload">
            <input placeholder="table name" value={newName} onChange={(e) => setNewName(e.target.value)} data-testid="lookup-new-name" />
            <input
              type="file"
              accept=".csv,text/csv"
              data-testid="lookup-file"
              onChange={async (e) => {
                const f = e.target.files?.[0];
                setCsv(f ? { name: f.name, text: await f.text() } : null);
              }}
            />
            <button className="btn primary" disabled={!csv || !(newName || current)} onClick={upload} data-testid="lookup-upload-btn">
              Upload CSV{newName ? ` as ${newName}` : current ? ` into ${current}` : ""}
            </button>
          </div>
        )}
        {error && <div className="banner error" data-testid="lookup-error">{error}</div>}
        {notice && <div className="banner" data-testid="lookup-notice">{notice}</div>}
        <div className="lookup-layout">
          <ul className="lookup-tables" data-testid="lookup-tables">
            {tables === null ? (
              <li className="hint">Loading…</li>
            ) : tables.length === 0 ? (
              <li className="hint">No tables yet: upload a CSV.</li>
            ) : (
              tables.map((t) => (
                <li key={t.table} className={t.table === current ? "active" : ""} onClick={() => setCurrent(t.table)} data-testid={`lookup-table-${t.table}`}>
                  {t.table} <span className="hint">({t.rows})</span>
                </li>
              ))
            )}
          </ul>
          {current && (
            <section data-testid="lookup-detail">
              <div className="create-row">
                <h3>{current}</h3>
                <button className="btn-ghost" onClick={download} data-testid="lookup-download">Download CSV</button>
              </div>
              <div className="lookup-users" data-testid="lookup-users">
                {users.length === 0 ? (
                  <span className="hint">No flow uses this table.</span>
                ) : (
                  <>
                    Used by:{" "}
                    {users.map((u, i) => (
                      <span key={u.flow_id}>
                        {i > 0 && ", "}
                        <Link to={`/flows/${encodeURIComponent(u.flow_id)}`} navigate={navigate}>{u.name || u.flow_id}</Link>
                        <span className="hint"> ({u.nodes.join(", ")})</span>
                      </span>
                    ))}
                  </>
                )}
              </div>
              {rows === null ? (
                <p className="hint">Loading…</p>
              ) : (
                <table className="grid lookup-rows" data-testid="lookup-rows">
                  <thead>
                    <tr>
                      <th>Key</th>
                      <th>Value</th>
                      <th />
                    </tr>
                  </thead>
                  <tbody>
                    {Object.entries(rows).map(([k, v]) => (
                      <tr key={k} data-testid={`lookup-row-${k}`}>
                        <td className="mono">{k}</td>
                        <td>
                          <input defaultValue={shown(v)} disabled={!writable} onBlur={(e) => e.target.value !== shown(v) && putRow(k, e.target.value)} />
                        </td>
                        <td>{writable && <button className="btn-ghost" onClick={() => deleteRow(k)}>Delete</button>}</td>
                      </tr>
                    ))}
                    {writable && (
                      <tr>
                        <td>
                          <input placeholder="new key" value={draft.key} onChange={(e) => setDraft({ ...draft, key: e.target.value })} data-testid="lookup-add-key" />
                        </td>
                        <td>
                          <input placeholder="value" value={draft.value} onChange={(e) => setDraft({ ...draft, value: e.target.value })} data-testid="lookup-add-value" />
                        </td>
                        <td>
                          <button
                            className="btn"
                            disabled={!draft.key}
                            data-testid="lookup-add"
                            onClick={() => putRow(draft.key, draft.value).then(() => setDraft({ key: "", value: "" }))}
                          >
                            Add
                          </button>
                        </td>
                      </tr>
                    )}
                  </tbody>
                </table>
              )}
            </section>
          )}
        </div>
      </main>
    </div>
  );
}
