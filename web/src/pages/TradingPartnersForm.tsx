// The trading-partner dialog: every field of the record (ISA/GS ids and qualifiers, version, usage, delimiters,
// 997 expectation), saved with PUT /api/v1/trading-partners/<name>. A refusal names its field: that input is
// marked and the message shown under the form; nothing is checked here that the server does not check.
import { useState, type ReactNode } from "react";
import { api, ApiError } from "../api";
import { Modal } from "../admin/Dialog";

export interface PartnerIds {
  qualifier: string;
  id: string;
  application_id: string;
}

export interface TradingPartner {
  name: string;
  description: string;
  partner: PartnerIds;
  us: PartnerIds;
  version: string;
  usage: "P" | "T";
  delimiters: { element: string; segment: string; component: string; repetition: string; suffix: string };
  ack: { expected: boolean; window_minutes: number };
  last_control_number: number;
  created_at: string;
  updated_at: string;
}

const BLANK: TradingPartner = {
  name: "",
  description: "",
  partner: { qualifier: "ZZ", id: "", application_id: "" },
  us: { qualifier: "ZZ", id: "", application_id: "" },
  version: "004010",
  usage: "T",
  delimiters: { element: "*", segment: "~", component: ">", repetition: "^", suffix: "\n" },
  ack: { expected: true, window_minutes: 1440 },
  last_control_number: 0,
  created_at: "",
  updated_at: "",
};

const SUFFIXES: [string, string][] = [
  ["\n", "line feed"],
  ["\r\n", "CR LF"],
  ["", "none"],
];

/** The body of a save: the record without what the server keeps itself; an empty GS id takes the ISA id. */
function body(p: TradingPartner) {
  const ids = (x: PartnerIds) => ({ qualifier: x.qualifier.trim(), id: x.id.trim(), ...(x.application_id.trim() ? { application_id: x.application_id.trim() } : {}) });
  return { description: p.description, partner: ids(p.partner), us: ids(p.us), version: p.version.trim(), usage: p.usage, delimiters: p.delimiters, ack: p.ack };
}

export function PartnerForm({ existing, onClose, onSaved }: { existing: TradingPartner | null; onClose: () => void; onSaved: () => void }) {
  const [p, setP] = useState<TradingPartner>(() => (existing ? structuredClone(existing) : structuredClone(BLANK)));
  const [error, setError] = useState<{ field: string; message: string } | null>(null);
  const [busy, setBusy] = useState(false);

  const set = (path: string, value: unknown) => {
    const next = structuredClone(p) as unknown as Record<string, Record<string, unknown>>;
    const [a, b] = path.split(".");
    if (b === undefined) (next as Record<string, unknown>)[a] = value;
    else next[a] = { ...next[a], [b]: value };
    setP(next as unknown as TradingPartner);
  };
  const get = (path: string): unknown => path.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown>)?.[k], p);

  const save = async () => {
    setBusy(true);
    setError(null);
    try {
      await api.saveTradingPartner<TradingPartner>(p.name.trim(), body(p));
      onSaved();
    } catch (e) {
      const field = e instanceof ApiError ? String(e.details[0]?.field ?? "") : "";
      setError({ field, message: (e as Error).message });
      setBusy(false);
    }
  };

  const text = (path: string, label: ReactNode, extra: { placeholder?: string; maxLength?: number; disabled?: boolean; required?: boolean } = {}) => (
    <label className="field">
      <span className="field-label">
        {label}
        {extra.required && <span className="req">*</span>}
      </span>
      <input
        type="text"
        value={String(get(path) ?? "")}
        onChange={(e) => set(path, e.target.value)}
        className={error?.field === path ? "invalid" : undefined}
        aria-invalid={error?.field === path}
        data-testid={`tp-${path}`}
        {...extra}
      />
    </label>
  );
  const side = (who: "partner" | "us", legend: string) => (
    <fieldset className="field-group">
      <legend>{legend}</legend>
      {text(`${who}.qualifier`, "ISA qualifier", { maxLength: 2, required: true, placeholder: "ZZ" })}
      {text(`${who}.id`, "ISA id", { maxLength: 15, required: true })}
      {text(`${who}.application_id`, "GS application id", { maxLength: 15, placeholder: "the ISA id" })}
    </fieldset>
  );

  return (
    <Modal title={existing ? `Trading partner ${existing.name}` : "New trading partner"} onClose={onClose} testId="tp-dialog">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          save();
        }}
      >
        {text("name", "Name", { disabled: !!existing, required: true, placeholder: "e.g. acme" })}
        {text("description", "Description")}
        {side("partner", "The partner's identifiers")}
        {side("us", "Ours, as the partner knows us")}
        <fieldset className="field-group">
          <legend>Envelope</legend>
          {text("version", "Version (GS08)", { placeholder: "004010 or 005010" })}
          <label className="field">
            <span className="field-label">Usage (ISA15)</span>
            <select value={p.usage} onChange={(e) => set("usage", e.target.value)} data-testid="tp-usage">
              <option value="T">Test</option>
              <option value="P">Production</option>
            </select>
          </label>
          {text("delimiters.element", "Element separator", { maxLength: 1 })}
          {text("delimiters.segment", "Segment terminator", { maxLength: 1 })}
          {text("delimiters.component", "Component separator", { maxLength: 1 })}
          {text("delimiters.repetition", "Repetition separator (005010)", { maxLength: 1 })}
          <label className="field">
            <span className="field-label">After each segment</span>
            <select value={p.delimiters.suffix} onChange={(e) => set("delimiters.suffix", e.target.value)} data-testid="tp-delimiters.suffix">
              {SUFFIXES.map(([v, label]) => (
                <option key={label} value={v}>{label}</option>
              ))}
            </select>
          </label>
        </fieldset>
        <fieldset className="field-group">
          <legend>Functional acknowledgement (997)</legend>
          <label className="field-check">
            <input type="checkbox" checked={p.ack.expected} onChange={(e) => set("ack.expected", e.target.checked)} data-testid="tp-ack.expected" />
            a 997 is expected for every interchange sent
          </label>
          <label className="field">
            <span className="field-label">Window (minutes): past it, an unacknowledged interchange becomes a dead letter</span>
            <input
              type="number"
              min={1}
              value={p.ack.window_minutes}
              disabled={!p.ack.expected}
              onChange={(e) => set("ack.window_minutes", e.target.value === "" ? 0 : Number(e.target.value))}
              className={error?.field === "ack.window_minutes" ? "invalid" : undefined}
              data-testid="tp-ack.window_minutes"
            />
          </label>
        </fieldset>
        {error && (
          <div className="banner error" data-testid="tp-error" data-field={error.field}>
            {error.message}
          </div>
        )}
        <footer>
          <button type="button" className="btn" onClick={onClose}>Cancel</button>
          <button type="submit" className="btn primary" disabled={busy || !p.name.trim()} data-testid="tp-save">Save</button>
        </footer>
      </form>
    </Modal>
  );
}
