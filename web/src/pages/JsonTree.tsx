// A collapsible JSON tree with a copy button; every key and value is rendered as text.
import { useState } from "react";

function Leaf({ value }: { value: unknown }) {
  if (value === null) return <span className="jv-null">null</span>;
  if (typeof value === "string") return <span className="jv-str">{JSON.stringify(value)}</span>;
  if (typeof value === "number") return <span className="jv-num">{String(value)}</span>;
  if (typeof value === "boolean") return <span className="jv-bool">{String(value)}</span>;
  return <span>{String(value)}</span>;
}

function Branch({ name, value, depth }: { name: string | null; value: unknown; depth: number }) {
  const composite = value !== null && typeof value === "object";
  const [open, setOpen] = useState(depth < 2);
  const label = name !== null && <span className="jv-key">{name}: </span>;
  if (!composite) {
    return (
      <div className="jv-row">
        {label}
        <Leaf value={value} />
      </div>
    );
  }
  const entries: [string, unknown][] = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value as Record<string, unknown>);
  const [lb, rb] = Array.isArray(value) ? ["[", "]"] : ["{", "}"];
  return (
    <div className="jv-row">
      <button type="button" className="jv-toggle" onClick={() => setOpen(!open)} aria-expanded={open}>
        {open ? "▾" : "▸"}
      </button>
      {label}
      {open ? (
        <>
          <span className="jv-brace">{lb}</span>
          <div className="jv-children">
            {entries.map(([k, v]) => (
              <Branch key={k} name={Array.isArray(value) ? null : k} value={v} depth={depth + 1} />
            ))}
          </div>
          <span className="jv-brace">{rb}</span>
        </>
      ) : (
        <span className="jv-brace jv-collapsed" onClick={() => setOpen(true)}>
          {lb} {entries.length} {Array.isArray(value) ? (entries.length === 1 ? "item" : "items") : entries.length === 1 ? "key" : "keys"} {rb}
        </span>
      )}
    </div>
  );
}

export function JsonTree({ value, title, testId, extra }: { value: unknown; title: string; testId?: string; extra?: React.ReactNode }) {
  const [copied, setCopied] = useState(false);
  const text = value === undefined ? "" : JSON.stringify(value, null, 2);
  return (
    <section className="json-pane" data-testid={testId} data-json={text}>
      <div className="json-pane-head">
        <span>{title}</span>
        <span className="spacer" />
        {extra}
        <button
          type="button"
          className="btn-ghost small"
          disabled={value === undefined}
          onClick={() => {
            navigator.clipboard?.writeText(text).then(
              () => {
                setCopied(true);
                setTimeout(() => setCopied(false), 1500);
              },
              () => undefined,
            );
          }}
        >
          {copied ? "Copied" : "Copy"}
        </button>
      </div>
      <div className="json-tree">{value === undefined ? <span className="hint">none</span> : <Branch name={null} value={value} depth={0} />}</div>
    </section>
  );
}
