// The exception workbench (issue 14): open dead letters and business exceptions, filtered (class, flow, business
// key, assignee, age), grouped by root cause ("20 × unknown_sku: 'ipod2008green' is not in lookup table ..."),
// assigned, commented and resolved; the cause fixed here (a lookup row) and then one, a selection or everything
// matching retried. A retry that succeeds resolves its exceptions; the page reads again as runs end.
// A partner admin can look across all its customer workspaces ("All customers": a workspace column and filter); every
// action is then made in each exception's own workspace.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { api, ApiError, workspace, type DryResult, type ExceptionChoice, type ExceptionFilter, type ExceptionGroup, type RetryResult, type WorkbenchException } from "../api";
import { isPartnerAdmin, session } from "../access";
import { subscribe } from "../live";
import { AppNav, Link } from "./AppNav";
import { StatusPill, when } from "./RunList";
import "./Exceptions.css";

const CLASSES = {
  Technical: ["timeout", "connection", "5xx", "4xx", "mapping_error", "budget", "unrouted"],
  Business: ["unknown_sku", "missing_ship_to", "credit_hold", "invalid_quantity"],
};
const AGES: Record<string, number | null> = { "any age": null, "last hour": 1, "last 24 hours": 24, "last 7 days": 168 };
const OLDER: Record<string, number> = { "older than a day": 24, "older than a week": 168 };

const message = (e: unknown) => (e instanceof ApiError ? e.message : String(e));
const hoursAgo = (h: number) => new Date(Date.now() - h * 3600_000).toISOString();
/** The first quoted value of a root cause: the key a lookup row would add ('ipod2008green'). */
const quoted = (cause: string) => /'([^']{1,200})'/.exec(cause)?.[1] || "";
const quotedTable = (cause: string) => /lookup table '([^']{1,100})'/.exec(cause)?.[1] || "";
/** A filter as a change takes it: in one workspace, so without the partner-wide view's scope. */
const inOne = ({ scope: _s, workspace: _w, ...f }: ExceptionFilter): ExceptionFilter => f;
/** ids by the workspace they belong to. */
function byWorkspace(ids: number[], items: WorkbenchException[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const id of ids) {
    const ws = items.find((x) => x.id === id)?.workspace || workspace();
    out.set(ws, [...(out.get(ws) || []), id]);
  }
  return out;
}

export function Exceptions({ navigate }: { navigate: (path: string) => void }) {
  const [partnerWide, setPartnerWide] = useState(() => isPartnerAdmin() && new URLSearchParams(location.search).get("scope") === "partner");
  const [customer, setCustomer] = useState(""); // the partner-wide view narrowed to one workspace
  const [status, setStatus] = useState<"open" | "resolved" | "all">("open");
  const [klass, setKlass] = useState(() => new URLSearchParams(location.search).get("class") || ""); // the dashboard links a class
  const [flow, setFlow] = useState("");
  const [businessKey, setBusinessKey] = useState("");
  const [assignee, setAssignee] = useState("");
  const [age, setAge] = useState("any age");
  const [cause, setCause] = useState("");
  const [groups, setGroups] = useState<ExceptionGroup[]>([]);
  const [items, setItems] = useState<WorkbenchException[] | null>(null);
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [open, setOpen] = useState<WorkbenchException | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [dry, setDry] = useState<DryResult[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const filter = useMemo<ExceptionFilter>(() => {
    const f: ExceptionFilter = { status };
    if (klass) f.class = klass;
    if (flow.trim()) f.flow_id = flow.trim();
    if (businessKey.trim()) f.business_key = businessKey.trim();
    if (assignee === "-") f.assignee = "";
    else if (assignee.trim()) f.assignee = assignee.trim();
    if (AGES[age]) f.since = hoursAgo(AGES[age]!);
    if (OLDER[age]) f.until = hoursAgo(OLDER[age]);
    if (cause) f.root_cause = cause;
    if (partnerWide) f.scope = "partner";
    if (partnerWide && customer) f.workspace = customer;
    return f;
  }, [status, klass, flow, businessKey, assignee, age, cause, partnerWide, customer]);

  const latest = useRef(0); // answers of an older read (the filter changed since) are dropped
  const load = useCallback(() => {
    const { root_cause: _, ...ungrouped } = filter;
    const mine = ++latest.current;
    Promise.all([api.exceptionGroups(ungrouped), api.exceptions(filter)]).then(
      ([g, list]) => {
        if (mine !== latest.current) return;
        setGroups(g);
        setItems(list.exceptions);
        setError(null);
      },
      (e) => mine === latest.current && setError(message(e)),
    );
  }, [filter]);

  // read again as runs end: in the page's workspace, or (partner-wide) in each customer workspace listed, at most 20
  const listening = useMemo(
    () => (partnerWide ? [...new Set([...(items || []).map((x) => x.workspace), ...groups.map((g) => g.workspace)])].sort().slice(0, 20) : [workspace()]),
    [partnerWide, items, groups],
  );
  const listeningKey = listening.join(",");
  useEffect(() => {
    load();
  }, [load]);
  useEffect(() => {
    const subs = listeningKey.split(",").map((ws) =>
      subscribe({ workspace: ws, intervalMs: 1000, onBatch: (batch) => batch.some((e) => e.event === "run.finished") && load() }),
    );
    return () => subs.forEach((sub) => sub.close());
  }, [load, listeningKey]);

  const act = async (what: () => Promise<string>) => {
    try {
      setNotice(await what());
      setError(null);
      setSelected(new Set());
      setDry(null); // what it showed is history once exceptions were retried or resolved
      load();
    } catch (e) {
      setError(message(e));
    }
  };
  // a choice per workspace: [workspace, {ids} or {filter}], each sent to its own workspace
  type Choices = [string | undefined, ExceptionChoice][];
  const selectedChoices = (): Choices => [...byWorkspace(ids, items || [])].map(([ws, list]) => [ws, { ids: list }]);
  const matchingChoices = (f: ExceptionFilter): Choices =>
    partnerWide
      ? [...new Set(groups.map((g) => g.workspace))].map((ws) => [ws, { filter: inOne({ ...f, status: "open" }) }])
      : [[undefined, { filter: inOne({ ...f, status: "open" }) }]];
  const retry = (choices: Choices) =>
    act(async () => {
      const all: RetryResult[] = [];
      for (const [ws, choice] of choices) all.push(await api.retryExceptions(choice, ws));
      const started = all.reduce((n, r) => n + r.retries.length, 0);
      const remaining = all.reduce((n, r) => n + r.remaining, 0);
      const problems = all.flatMap((r) => r.problems);
      const more = remaining ? ` (${remaining} more match: retry again)` : "";
      const failed = problems.length ? `; ${problems.length} could not be retried: ${problems[0].message}` : "";
      return `Retrying ${started} run(s)${more}${failed}`;
    });
  const dryRun = (choices: Choices) =>
    Promise.all(choices.map(([ws, choice]) => api.dryRunExceptions(choice, ws))).then(
      (rs) => setDry(rs.flatMap((r) => r.results)),
      (e) => setError(message(e)),
    );
  const resolve = (choices: Choices) =>
    act(async () => {
      let n = 0;
      for (const [ws, choice] of choices) n += (await api.resolveExceptions(choice, ws)).resolved;
      return `Resolved ${n}`;
    });
  const toggle = (id: number) =>
    setSelected((s) => {
      const next = new Set(s);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const ids = [...selected];

  return (
    <div className="flow-list-page">
      <AppNav current="/exceptions" navigate={navigate} title={<span className="flow-title">Exceptions</span>} />
      <main className="flow-list wide exceptions">
        <div className="filter-row" data-testid="exception-filters">
          {isPartnerAdmin() && (
            <label>
              View
              <select
                value={partnerWide ? "partner" : "workspace"}
                onChange={(e) => {
                  setPartnerWide(e.target.value === "partner");
                  setCustomer("");
                  setSelected(new Set());
                }}
                data-testid="filter-scope"
              >
                <option value="workspace">this workspace</option>
                <option value="partner">all customers</option>
              </select>
            </label>
          )}
          {partnerWide && (
            <label>
              Customer
              <select value={customer} onChange={(e) => setCustomer(e.target.value)} data-testid="filter-workspace">
                <option value="">any</option>
                {(session()?.workspaces || []).map((w) => (
                  <option key={w.id} value={w.id}>{w.name && w.name !== w.id ? `${w.id} · ${w.name}` : w.id}</option>
                ))}
              </select>
            </label>
          )}
          <label>
            Status
            <select value={status} onChange={(e) => setStatus(e.target.value as typeof status)} data-testid="filter-status">
              <option value="open">open</option>
              <option value="resolved">resolved</option>
              <option value="all">all</option>
            </select>
          </label>
          <label>
            Class
            <select value={klass} onChange={(e) => setKlass(e.target.value)} data-testid="filter-class">
              <option value="">any</option>
              {Object.entries(CLASSES).map(([group, names]) => (
                <optgroup key={group} label={group}>
                  {names.map((n) => (
                    <option key={n} value={n}>{n.replace(/_/g, " ")}</option>
                  ))}
                </optgroup>
              ))}
            </select>
          </label>
          <label>
            Flow
            <input value={flow} onChange={(e) => setFlow(e.target.value)} placeholder="flow id" maxLength={64} data-testid="filter-flow" />
          </label>
          <label>
            Business key
            <input value={businessKey} onChange={(e) => setBusinessKey(e.target.value)} placeholder="e.g. PO 4711" maxLength={200} data-testid="filter-key" />
          </label>
          <label>
            Assignee
            <input value={assignee} onChange={(e) => setAssignee(e.target.value)} placeholder="name, or - for nobody" maxLength={200} data-testid="filter-assignee" />
          </label>
          <label>
            Age
            <select value={age} onChange={(e) => setAge(e.target.value)} data-testid="filter-age">
              {[...Object.keys(AGES), ...Object.keys(OLDER)].map((a) => (
                <option key={a}>{a}</option>
              ))}
            </select>
          </label>
        </div>
        {error && <div className="banner error" data-testid="exception-error">{error}</div>}
        {notice && <div className="banner info" data-testid="exception-notice">{notice}</div>}

        <h3>By root cause</h3>
        {groups.length === 0 ? (
          <p className="hint" data-testid="groups-empty">Nothing matches.</p>
        ) : (
          <ul className="exception-groups" data-testid="exception-groups">
            {groups.map((g) => (
              <li key={`${g.workspace}:${g.flow_id}:${g.root_cause}`} className={g.root_cause === cause ? "current" : ""} data-testid="exception-group" data-count={g.count} data-workspace={g.workspace}>
                <strong className="group-count" data-testid="group-count">{g.count}</strong>
                <span className="group-class">{g.class.replace(/_/g, " ")}</span>
                <span className="group-cause" data-testid="group-cause" title={g.root_cause}>{g.root_cause}</span>
                <span className="hint">{partnerWide ? `${g.workspace} · ` : ""}{g.flow_id} · since {when(g.oldest, true)}</span>
                <span className="group-actions">
                  <button className="btn" onClick={() => setCause(g.root_cause === cause ? "" : g.root_cause)} data-testid="group-show">
                    {g.root_cause === cause ? "Show all" : "Show"}
                  </button>
                  {status !== "resolved" && (
                    <button className="btn" onClick={() => dryRun([[g.workspace, { filter: inOne({ ...filter, root_cause: g.root_cause, flow_id: g.flow_id, status: "open" }) }]])} data-testid="group-dry-run">
                      Dry run
                    </button>
                  )}
                  {status !== "resolved" && (
                    <button className="btn primary" onClick={() => retry([[g.workspace, { filter: inOne({ ...filter, root_cause: g.root_cause, flow_id: g.flow_id, status: "open" }) }]])} data-testid="group-retry">
                      Retry all {g.count}
                    </button>
                  )}
                </span>
                {g.root_cause === cause && quotedTable(g.root_cause) && g.workspace === workspace() && <LookupFix cause={g.root_cause} onDone={(text) => setNotice(text)} onError={setError} />}
              </li>
            ))}
          </ul>
        )}

        {dry && <DryRunResults results={dry} onClose={() => setDry(null)} />}

        <div className="exception-toolbar">
          <h3>{cause ? "Exceptions of this cause" : "Exceptions"}</h3>
          <button className="btn" disabled={!ids.length} onClick={() => retry(selectedChoices())} data-testid="retry-selected">Retry selected</button>
          <button className="btn" disabled={!ids.length} onClick={() => dryRun(selectedChoices())} data-testid="dry-run-selected">Dry run selected</button>
          <button className="btn" disabled={!ids.length} onClick={() => resolve(selectedChoices())} data-testid="resolve-selected">Resolve selected</button>
          <AssignBox disabled={!ids.length} onAssign={(name) => act(async () => {
            const of = new Map((items || []).map((x) => [x.id, x.workspace]));
            await Promise.all(ids.map((id) => api.assignException(id, name || null, of.get(id))));
            return name ? `Assigned ${ids.length} to ${name}` : `Unassigned ${ids.length}`;
          })} />
          <button className="btn primary" disabled={!items?.length || status === "resolved"} onClick={() => retry(matchingChoices(filter))} data-testid="retry-matching">
            Retry all matching
          </button>
        </div>
        {items === null ? (
          !error && <p className="hint">Loading…</p>
        ) : items.length === 0 ? (
          <p className="hint" data-testid="exceptions-empty">No exceptions match.</p>
        ) : (
          <table className="runs-table exception-table" data-testid="exception-table">
            <thead>
              <tr>
                <th />
                <th>Created</th>
                {partnerWide && <th>Workspace</th>}
                <th>Flow</th>
                <th>Class</th>
                <th>Business key</th>
                <th>Error</th>
                <th>Assignee</th>
                <th>State</th>
                <th>Run</th>
              </tr>
            </thead>
            <tbody>
              {items.map((x) => (
                <tr key={x.id} data-testid="exception-row" data-id={x.id} data-status={x.status} data-workspace={x.workspace}>
                  <td>
                    <input type="checkbox" checked={selected.has(x.id)} onChange={() => toggle(x.id)} aria-label={`select ${x.id}`} />
                  </td>
                  <td className="hint">{when(x.created_at, true)}</td>
                  {partnerWide && <td data-testid="exception-workspace">{x.workspace}</td>}
                  <td>{x.flow_id}</td>
                  <td>{x.class.replace(/_/g, " ")}</td>
                  <td>{x.business_key || ""}</td>
                  <td className="exception-message">
                    <button className="linklike" onClick={() => api.exception(x.id, x.workspace).then(setOpen, (e) => setError(message(e)))} data-testid="exception-open">
                      {x.message}
                    </button>
                  </td>
                  <td>{x.assignee || ""}</td>
                  <td data-testid="exception-state">
                    {x.status === "resolved" ? `resolved (${x.resolution || "manual"})` : "open"}
                    {x.retry && (
                      <span className="hint"> · retry <StatusPill status={x.retry.status || "queued"} /></span>
                    )}
                  </td>
                  <td>
                    <Link to={x.workspace && x.workspace !== workspace() ? `/runs/${x.run_id}?workspace=${encodeURIComponent(x.workspace)}` : `/runs/${x.run_id}`} navigate={navigate}>#{x.run_id}</Link>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {open && <Detail item={open} onClose={() => setOpen(null)} onChange={(x) => { setOpen(x); load(); }} onError={setError} />}
      </main>
    </div>
  );
}

function AssignBox({ disabled, onAssign }: { disabled: boolean; onAssign: (name: string) => void }) {
  const [name, setName] = useState("");
  return (
    <span className="assign-box">
      <input value={name} onChange={(e) => setName(e.target.value)} placeholder="assignee" maxLength={200} data-testid="assign-name" />
      <button className="btn" disabled={disabled} onClick={() => onAssign(name.trim())} data-testid="assign-selected">Assign</button>
    </span>
  );
}

/** The fix for a lookup miss: the missing key with the value it should map to, written to the table named. */
function LookupFix({ cause, onDone, onError }: { cause: string; onDone: (text: string) => void; onError: (text: string) => void }) {
  const table = quotedTable(cause);
  const [key, setKey] = useState(quoted(cause));
  const [value, setValue] = useState("");
  return (
    <form
      className="lookup-fix"
      data-testid="lookup-fix"
      onSubmit={(e) => {
        e.preventDefault();
        api.putLookupRow(table, key, value).then(
          () => onDone(`Added ${key} → ${value} to lookup table ${table}; now retry.`),
          (err) => onError(message(err)),
        );
      }}
    >
      Fix: add to lookup table <code>{table}</code>
      <input value={key} onChange={(e) => setKey(e.target.value)} maxLength={200} data-testid="fix-key" aria-label="key" />
      →
      <input value={value} onChange={(e) => setValue(e.target.value)} maxLength={200} placeholder="value" data-testid="fix-value" aria-label="value" />
      <button className="btn" type="submit" disabled={!key || !value} data-testid="fix-save">Add row</button>
    </form>
  );
}

function Detail({ item, onClose, onChange, onError }: { item: WorkbenchException; onClose: () => void; onChange: (x: WorkbenchException) => void; onError: (text: string) => void }) {
  const [text, setText] = useState("");
  return (
    <section className="exception-detail" data-testid="exception-detail">
      <header>
        <strong>Exception #{item.id}</strong> <span className="hint">{item.code} at {item.node_id}</span>
        <button className="btn" onClick={onClose}>Close</button>
      </header>
      <p className="exception-headline">{item.message}</p>
      <ul className="exception-comments" data-testid="exception-comments">
        {(item.comments || []).map((c, i) => (
          <li key={i}>
            <span className="hint">{c.by} · {when(c.at, true)}</span> {c.text}
          </li>
        ))}
      </ul>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          api.commentException(item.id, text, item.workspace).then((x) => {
            setText("");
            onChange(x);
          }, (err) => onError(message(err)));
        }}
      >
        <input value={text} onChange={(e) => setText(e.target.value)} placeholder="comment" maxLength={2000} data-testid="comment-text" />
        <button className="btn" type="submit" disabled={!text.trim()} data-testid="comment-add">Comment</button>
        {item.status === "open" && (
          <button className="btn" type="button" onClick={() => api.resolveExceptions({ ids: [item.id] }, item.workspace).then(() => api.exception(item.id, item.workspace).then(onChange), (err) => onError(message(err)))} data-testid="detail-resolve">
            Resolve
          </button>
        )}
      </form>
      <details>
        <summary>Message</summary>
        <pre>{JSON.stringify(item.payload, null, 2)}</pre>
      </details>
    </section>
  );
}

const brief = (v: unknown) => (v === undefined ? "" : JSON.stringify(v)).slice(0, 300);

/** A dry run's records: per step the original run's output (before) and the current version's (after), and
 * where it stopped: the first node that would write, with what it would be sent. */
function DryRunResults({ results, onClose }: { results: DryResult[]; onClose: () => void }) {
  return (
    <section className="dry-run" data-testid="dry-run">
      <header>
        <strong>Dry run</strong> <span className="hint">{results.length} record(s) through the current version; nothing was written</span>
        <button className="btn" onClick={onClose}>Close</button>
      </header>
      {results.map((r) => (
        <details key={r.id} className="dry-record" data-testid="dry-record" data-outcome={r.outcome} open={results.length <= 3}>
          <summary>
            Exception #{r.id} (run #{r.run_id}, v{r.version ?? "?"}): <b>{r.outcome.replace(/_/g, " ")}</b>
            {r.error && <span className="hint"> · {r.error.message}</span>}
          </summary>
          <table className="runs-table">
            <thead>
              <tr>
                <th>Node</th>
                <th>Now</th>
                <th>Before</th>
                <th>After</th>
              </tr>
            </thead>
            <tbody>
              {r.steps.map((st, i) => (
                <tr key={i} data-testid="dry-step" data-node-id={st.node_id} data-status={st.status} data-changed={st.changed ? "true" : "false"}>
                  <td>{st.node_id}</td>
                  <td>{st.status === "stopped" ? "would write: stops here" : st.status}{st.changed ? " · changed" : ""}</td>
                  <td><code>{st.before ? (st.before.error?.message || brief(st.before.output)) : "(not reached)"}</code></td>
                  <td><code>{st.status === "stopped" ? `sends ${brief(st.input)}` : st.error ? st.error.message : brief(st.after)}</code></td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      ))}
    </section>
  );
}
