// The document thread: a business document (PO 4711) found by any of its keys, shown as one timeline of the
// runs of every flow that carried it or a key linked to it (order number, shipment id, tracking number), oldest
// first, each linking to its run. The key searched lives in the address (?key=), so a thread can be shared.
import { useEffect, useState } from "react";
import { api, ApiError, type Thread } from "../api";
import { subscribe } from "../live";
import { AppNav, Link } from "./AppNav";
import { StatusPill, when } from "./RunList";
import "./Threads.css";

const keyInAddress = () => new URLSearchParams(location.search).get("key") || "";

export function Threads({ navigate }: { navigate: (path: string) => void }) {
  // the app re-renders on a change of path only: a search on this page (or back and forward) sets the key here
  const [asked, setAsked] = useState(keyInAddress);
  const [key, setKey] = useState(asked);
  const [thread, setThread] = useState<Thread | null>(null);
  const [error, setError] = useState<string | null>(null);
  const search = (value: string) => {
    navigate(`/threads?key=${encodeURIComponent(value)}`);
    setKey(value);
    setAsked(value);
  };

  useEffect(() => {
    const onPop = () => {
      setAsked(keyInAddress());
      setKey(keyInAddress());
    };
    window.addEventListener("popstate", onPop);
    return () => window.removeEventListener("popstate", onPop);
  }, []);

  useEffect(() => {
    setThread(null);
    if (!asked.trim()) return;
    let current = true;
    const load = () =>
      api.thread(asked.trim()).then(
        (t) => {
          if (!current) return;
          setThread(t);
          setError(null);
        },
        (e) => current && setError(e instanceof ApiError ? e.message : String(e)),
      );
    load();
    // live: a run joins its thread when it ends (or parks), so the timeline is read again after runs end,
    // at most once a second however many end
    const sub = subscribe({ intervalMs: 1000, onBatch: (batch) => batch.some((e) => e.event === "run.finished") && load() });
    return () => {
      current = false;
      sub.close();
    };
  }, [asked]);

  return (
    <div className="flow-list-page">
      <AppNav current="/threads" navigate={navigate} title={<span className="flow-title">Document threads</span>} />
      <main className="flow-list wide">
        <form
          className="filter-row"
          onSubmit={(e) => {
            e.preventDefault();
            if (key.trim()) search(key.trim());
          }}
        >
          <label>
            Key
            <input
              type="search"
              value={key}
              placeholder="PO, order, shipment or tracking number"
              onChange={(e) => setKey(e.target.value)}
              maxLength={200}
              data-testid="thread-key"
              autoFocus
            />
          </label>
          <button className="btn primary" type="submit" data-testid="thread-search">Search</button>
        </form>
        {error && <div className="banner error" data-testid="thread-error">{error}</div>}
        {!asked.trim() ? (
          <p className="hint">Enter a key of a business document to see its timeline across flows and systems.</p>
        ) : thread === null ? (
          !error && <p className="hint">Loading…</p>
        ) : thread.entries.length === 0 ? (
          <p className="hint" data-testid="thread-empty">No run carries the key <code>{thread.key}</code>.</p>
        ) : (
          <>
            <p className="thread-keys" data-testid="thread-keys">
              {thread.keys.map((k) => (
                <KeyChip key={`${k.kind}:${k.value}`} kind={k.kind} value={k.value} search={search} current={thread.key} />
              ))}
            </p>
            {thread.truncated && (
              <div className="banner info" data-testid="thread-truncated">This document reaches further than shown: search one of its other keys.</div>
            )}
            <ol className="thread" data-testid="thread">
              {thread.entries.map((e) => (
                <li key={e.run_id} className="thread-entry" data-testid="thread-entry" data-run-id={e.run_id}>
                  <span className="thread-when hint">{when(e.created_at)}</span>
                  <div className="thread-body">
                    <div className="thread-head">
                      <strong className="thread-label" data-testid="thread-label">{e.label || e.flow_name}</strong>
                      <StatusPill status={e.status} />
                      <Link to={`/runs/${e.run_id}`} navigate={navigate} testId="thread-run-link">Run #{e.run_id}</Link>
                    </div>
                    {e.systems.length > 0 && (
                      <div className="thread-systems" data-testid="thread-systems">
                        {e.systems.map((sys) => (
                          <span key={sys.node_type} className={`thread-system ${sys.status}`} title={`${sys.node_type}: ${sys.status}`} data-system={sys.system} data-status={sys.status}>
                            {sys.system.toUpperCase()}
                          </span>
                        ))}
                      </div>
                    )}
                    <div className="hint">
                      {e.flow_name} <span>v{e.version}</span> · {e.trigger}
                      {e.keys.map((k) => (
                        <span key={`${k.kind}:${k.value}`} className="thread-run-key">
                          {" "}· {k.kind} <code>{k.value}</code>
                        </span>
                      ))}
                    </div>
                  </div>
                </li>
              ))}
            </ol>
          </>
        )}
      </main>
    </div>
  );
}

function KeyChip({ kind, value, current, search }: { kind: string; value: string; current: string; search: (key: string) => void }) {
  const label = (
    <>
      <span className="thread-kind">{kind}</span> {value}
    </>
  );
  if (value === current) return <span className="thread-chip current">{label}</span>;
  return (
    <Link to={`/threads?key=${encodeURIComponent(value)}`} navigate={() => search(value)} className="thread-chip" testId="thread-chip">
      {label}
    </Link>
  );
}
