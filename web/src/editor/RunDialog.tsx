// "Run with sample" (issue 13): the user picks the sample explicitly (the manual trigger's sample, the input of the
// flow's last run, or a message pasted here; nothing is reused quietly), and a flow that writes somewhere runs as
// a dry run unless the user chooses a real run and confirms the systems it will write to, named here.
import { useEffect, useState } from "react";
import { Modal } from "../admin/Dialog";
import { api } from "../api";
import type { FlowDoc, Run } from "../types";
import "./RunDialog.css";

export interface RunChoice {
  input: unknown;
  dry_run: boolean;
}

/** Node types without side effects: they run in a dry run as in a real one (runtime/dry_steps.py's list). */
const PURE_PREFIXES = ["event.", "transform.", "branch."];
const NOT_PURE = new Set(["transform.aggregate"]);
const PURE = new Set(["control.discard", "control.dedupe"]);

/** What each node that writes somewhere writes to, as a person reads it: "ERP “erp-main” (node Create order)". */
export function writers(doc: FlowDoc): string[] {
  return doc.nodes
    .filter((n) => !n.disabled && !PURE.has(n.type) && (NOT_PURE.has(n.type) || !PURE_PREFIXES.some((p) => n.type.startsWith(p))))
    .map((n) => {
      const config = (n.config || {}) as Record<string, unknown>;
      const system = n.type.startsWith("connector.") ? n.type.slice("connector.".length).toUpperCase() : n.type;
      const where = typeof config.connection === "string" ? ` “${config.connection}”` : typeof config.url === "string" ? ` ${config.url}` : "";
      return `${system}${where} (node ${n.name || n.id})`;
    });
}

type Source = "trigger" | "last" | "pasted";

export function RunDialog({ doc, onRun, onClose }: { doc: FlowDoc; onRun: (c: RunChoice) => void; onClose: () => void }) {
  const manual = doc.nodes.find((n) => n.type === "event.manual");
  const triggerSample = (manual?.config as Record<string, unknown> | undefined)?.sample;
  const [last, setLast] = useState<Run | null>(null);
  const [source, setSource] = useState<Source | null>(null);
  const [pasted, setPasted] = useState("{\n  \n}");
  const writes = writers(doc);
  const [dry, setDry] = useState(writes.length > 0);
  const [confirmed, setConfirmed] = useState(false);

  useEffect(() => {
    api
      .lastRun(doc.id)
      .then((r) => (r ? api.getRun(r.id) : null))
      .then(setLast, () => setLast(null));
  }, [doc.id]);

  let input: unknown = undefined;
  let problem: string | null = source ? null : "Choose the sample to run with.";
  if (source === "trigger") input = triggerSample;
  else if (source === "last") input = last?.input;
  else if (source === "pasted") {
    try {
      input = JSON.parse(pasted);
    } catch (e) {
      problem = `The message is not JSON: ${(e as Error).message}`;
    }
  }
  if (!dry && writes.length && !confirmed) problem = problem || "Confirm the systems this run writes to.";

  const option = (value: Source, label: string, preview: unknown, enabled: boolean) => (
    <label className={`run-source${enabled ? "" : " disabled"}`}>
      <input type="radio" name="run-source" disabled={!enabled} checked={source === value} onChange={() => setSource(value)} data-testid={`run-source-${value}`} />
      <span>{label}</span>
      {enabled && preview !== undefined && <code className="run-preview">{JSON.stringify(preview).slice(0, 160)}</code>}
    </label>
  );

  return (
    <Modal title="Run with sample" onClose={onClose} testId="run-dialog">
      <div className="run-dialog">
        <fieldset>
          <legend>Sample</legend>
          {option("trigger", "The manual trigger's sample", triggerSample, triggerSample !== undefined)}
          {option("last", last ? `The input of the last run (#${last.id}${last.dry_run ? ", a dry run" : ""})` : "The input of the last run (none yet)", last?.input, !!last)}
          {option("pasted", "This message:", undefined, true)}
          {source === "pasted" && <textarea className="json-input" rows={6} value={pasted} onChange={(e) => setPasted(e.target.value)} data-testid="run-pasted" />}
        </fieldset>
        <fieldset>
          <legend>Mode</legend>
          <label className="run-source">
            <input type="radio" name="run-mode" checked={dry} onChange={() => setDry(true)} data-testid="run-dry" />
            <span>Dry run: connectors stop before the call and show the request they would send; nothing is written</span>
          </label>
          <label className="run-source">
            <input type="radio" name="run-mode" checked={!dry} onChange={() => setDry(false)} data-testid="run-real" />
            <span>Real run</span>
          </label>
          {!dry && writes.length > 0 && (
            <div className="banner warn" data-testid="run-writes">
              This run writes to {writes.length === 1 ? "this system" : `these ${writes.length} systems`}:
              <ul>
                {writes.map((w) => (
                  <li key={w}>{w}</li>
                ))}
              </ul>
              <label>
                <input type="checkbox" checked={confirmed} onChange={(e) => setConfirmed(e.target.checked)} data-testid="run-confirm" /> Yes, send this sample to them
              </label>
            </div>
          )}
        </fieldset>
        {problem && <div className="hint" data-testid="run-problem">{problem}</div>}
        <footer>
          <button className="btn" onClick={onClose}>Cancel</button>
          <button className="btn primary" disabled={!!problem} onClick={() => onRun({ input, dry_run: dry })} data-testid="run-go">
            {dry ? "Dry run" : "Run"}
          </button>
        </footer>
      </div>
    </Modal>
  );
}

/** Above a step's output in a dry run: what the connector would have sent, in a line, before the JSON. */
export function DryRunNote({ output }: { output: unknown }) {
  const dry = (output as { dry_run?: { stopped?: string; request?: { method?: string; url?: string } } } | null)?.dry_run;
  if (!dry || typeof dry !== "object") return null;
  return (
    <div className="banner warn dry-note" data-testid="step-dry-run">
      Dry run, stopped {dry.stopped}
      {dry.request ? `: would send ${dry.request.method} ${dry.request.url}` : ""}
    </div>
  );
}
