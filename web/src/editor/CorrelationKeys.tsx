// The flow's document-thread settings in the inspector: its correlation keys (settings.correlation, one
// "kind: JSONata" a line) and the label of its runs in a thread (settings.thread_label). docs/operations.md.
import { useEffect, useState } from "react";
import type { FlowDoc } from "../types";
import type { Change } from "./history";

type Keys = Record<string, string>;

function keysOf(doc: FlowDoc): Keys {
  const value = (doc.settings as Record<string, unknown> | undefined)?.correlation;
  return value && typeof value === "object" && !Array.isArray(value) ? (value as Keys) : {};
}

function format(keys: Keys): string {
  return Object.entries(keys).map(([kind, expression]) => `${kind}: ${expression}`).join("\n");
}

/** "kind: expression" lines; a line without a colon or with an empty side is left out until it has both. */
function parse(text: string): Keys {
  const keys: Keys = {};
  for (const line of text.split("\n")) {
    const at = line.indexOf(":");
    if (at < 0) continue;
    const kind = line.slice(0, at).trim();
    const expression = line.slice(at + 1).trim();
    if (kind && expression) keys[kind] = expression;
  }
  return keys;
}

function withValue(settings: Record<string, unknown> | undefined, key: string, value: unknown): Record<string, unknown> {
  const next = { ...(settings || {}) };
  if (value === "" || (typeof value === "object" && value !== null && Object.keys(value).length === 0)) delete next[key];
  else next[key] = value;
  return next;
}

export function CorrelationKeys({ doc, apply }: { doc: FlowDoc; apply: (fn: (d: FlowDoc) => FlowDoc, change?: Change) => void }) {
  const stored = keysOf(doc);
  const [text, setText] = useState(() => format(stored));
  const storedJson = JSON.stringify(stored);
  useEffect(() => {
    // the document changed from elsewhere (undo, a load): show what it holds
    if (JSON.stringify(parse(text)) !== storedJson) setText(format(JSON.parse(storedJson) as Keys));
  }, [storedJson]);
  const label = String((doc.settings as Record<string, unknown> | undefined)?.thread_label ?? "");
  return (
    <>
      <label className="field">
        <span className="field-label">Correlation keys</span>
        <textarea
          rows={3}
          className="mono"
          placeholder={"po: order.po_number\ntracking: parcels.tracking_number"}
          data-testid="flow-correlation"
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            const keys = parse(e.target.value);
            apply((d) => ({ ...d, settings: withValue(d.settings, "correlation", keys) }), { key: "flow:correlation" });
          }}
        />
        <span className="hint">One "kind: expression" a line, read on every message of a run: its runs join the document thread of each value (Threads page).</span>
      </label>
      <label className="field">
        <span className="field-label">Thread label</span>
        <input
          type="text"
          placeholder={doc.name || "e.g. shipment confirmed"}
          data-testid="flow-thread_label"
          value={label}
          onChange={(e) => apply((d) => ({ ...d, settings: withValue(d.settings, "thread_label", e.target.value) }), { key: "flow:thread_label" })}
        />
        <span className="hint">What a run of this flow is in a document's timeline; the flow name when empty.</span>
      </label>
    </>
  );
}
