// The rule of the selected target field, as a form: which no-code function fills it (copy a field, constant,
// concatenate, default, date format, number or unit conversion, lookup table, if/then/else, sum over lines)
// and that function's inputs. A target list instead picks the source list it is made from, element by element.
import type { ReactNode } from "react";
import { describe, ruleOfKind, type Json, type Rule, type RuleKind } from "./mapping";

const KINDS: [RuleKind, string][] = [
  ["field", "Copy a field"],
  ["constant", "Constant"],
  ["concat", "Concatenate"],
  ["default", "Field, else a default"],
  ["date", "Date format"],
  ["number", "Number conversion"],
  ["unit", "Unit of measure"],
  ["lookup", "Lookup table"],
  ["if", "If field is X then A else B"],
  ["sum", "Sum over lines"],
];
const UNITS = ["kg", "lb", "g", "oz", "m", "cm", "in", "ft", "each", "dozen", "case"];
const DATE_FORMATS = ["[Y0001]-[M01]-[D01]", "[Y0001][M01][D01]", "[D01]/[M01]/[Y0001]", "[M01]/[D01]/[Y0001]", "[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01]Z"];
export const PATHS_LIST = "mp-source-paths";
export const ARRAYS_LIST = "mp-source-arrays";

/** A typed value from what was typed: numbers and booleans for such targets, `null`, else the text. */
function valueFrom(text: string, type: string): Json {
  if (text === "null") return null;
  if ((type === "number" || type === "integer") && text.trim() !== "" && Number.isFinite(Number(text))) return Number(text);
  if (type === "boolean" && (text === "true" || text === "false")) return text === "true";
  return text;
}

function textOf(v: Json): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    <label className="field">
      <span className="field-label">{label}</span>
      {children}
    </label>
  );
}

function PathInput({ value, onChange, testId, list = PATHS_LIST }: { value: string; onChange: (v: string) => void; testId: string; list?: string }) {
  return <input type="text" className="mono" list={list} value={value} data-testid={testId} placeholder="source field, e.g. order.number" onChange={(e) => onChange(e.target.value)} />;
}

/** A nested rule (then, else, a concatenation's part): a field or a constant; anything else is shown as it is. */
function PartInput({ rule, type, onChange, testId }: { rule: Rule; type: string; onChange: (r: Rule) => void; testId: string }) {
  const simple = rule.kind === "field" || rule.kind === "constant";
  return (
    <div className="row mp-part" data-testid={testId}>
      <select value={simple ? rule.kind : "other"} onChange={(e) => onChange(e.target.value === "field" ? { kind: "field", path: "" } : { kind: "constant", value: "" })}>
        <option value="field">field</option>
        <option value="constant">text</option>
        {!simple && <option value="other">{describe(rule)}</option>}
      </select>
      {rule.kind === "field" && <PathInput value={rule.path} onChange={(path) => onChange({ kind: "field", path })} testId={`${testId}-path`} />}
      {rule.kind === "constant" && (
        <input type="text" value={textOf(rule.value)} data-testid={`${testId}-value`} onChange={(e) => onChange({ kind: "constant", value: valueFrom(e.target.value, type) })} />
      )}
    </div>
  );
}

interface Props {
  path: string;
  type: string;
  rule: Rule | null;
  lookupTables: string[] | null;
  readOnly: boolean;
  /** The type of a source field the rule reads ("number", "string", "any"…), so a typed value compares right. */
  sourceType: (path: string) => string;
  onChange: (rule: Rule | null) => void;
}

export function FieldRule({ path, type, rule, lookupTables, readOnly, sourceType, onChange }: Props) {
  const set = (patch: Partial<Rule>) => rule && onChange({ ...rule, ...patch } as Rule);
  return (
    <fieldset className="field-lock mp-rule-form" disabled={readOnly} data-testid="field-rule" data-path={path}>
      <div className="field-label row">
        <code>{path}</code>
        <span className="mp-type">{type}</span>
      </div>
      <Field label="Filled by">
        <select
          value={rule?.kind || ""}
          data-testid="rule-kind"
          onChange={(e) => onChange(e.target.value ? ruleOfKind(e.target.value as RuleKind, rule, lookupTables?.[0] || "") : null)}
        >
          <option value="">(not mapped)</option>
          {KINDS.map(([k, label]) => <option key={k} value={k}>{label}</option>)}
        </select>
      </Field>
      {rule && "path" in rule && rule.kind !== "sum" && (
        <Field label={rule.kind === "lookup" ? "Key (source field)" : "Source field"}>
          <PathInput value={rule.path} onChange={(p) => set({ path: p })} testId="rule-path" />
        </Field>
      )}
      {rule?.kind === "constant" && (
        <Field label="Value">
          <input type="text" value={textOf(rule.value)} data-testid="rule-value" onChange={(e) => set({ value: valueFrom(e.target.value, type) })} />
        </Field>
      )}
      {rule?.kind === "default" && (
        <Field label="When missing or empty">
          <input type="text" value={textOf(rule.value)} data-testid="rule-value" onChange={(e) => set({ value: valueFrom(e.target.value, type) })} />
        </Field>
      )}
      {rule?.kind === "concat" && (
        <>
          {rule.parts.map((part, i) => (
            <div className="row" key={i}>
              <PartInput rule={part} type="string" testId={`rule-part-${i}`} onChange={(r) => set({ parts: rule.parts.map((p, j) => (j === i ? r : p)) })} />
              <button type="button" className="btn-ghost small" title="Remove this part" onClick={() => set({ parts: rule.parts.filter((_, j) => j !== i) })}>✕</button>
            </div>
          ))}
          <div className="row">
            <button type="button" className="btn small" data-testid="rule-add-part" onClick={() => set({ parts: [...rule.parts, { kind: "field", path: "" }] })}>Add part</button>
            <span className="spacer" />
            <span className="field-label">Separator</span>
            <input type="text" className="mp-short" value={rule.separator} data-testid="rule-separator" onChange={(e) => set({ separator: e.target.value })} />
          </div>
        </>
      )}
      {rule?.kind === "date" && (
        <Field label="Format (JSONata picture)">
          <input type="text" className="mono" list="mp-date-formats" value={rule.format} data-testid="rule-format" onChange={(e) => set({ format: e.target.value })} />
          <datalist id="mp-date-formats">{DATE_FORMATS.map((f) => <option key={f} value={f} />)}</datalist>
        </Field>
      )}
      {rule?.kind === "date" && (
        <Field label="Source format (empty: ISO 8601)">
          <input type="text" className="mono" list="mp-date-formats" value={rule.from ?? ""} data-testid="rule-date-from" onChange={(e) => set({ from: e.target.value || null })} />
        </Field>
      )}
      {rule?.kind === "number" && (
        <div className="row">
          <Field label="Multiply by">
            <input type="number" value={rule.multiply} data-testid="rule-multiply" onChange={(e) => set({ multiply: Number(e.target.value) })} />
          </Field>
          <Field label="Decimals">
            <input type="number" min={0} max={10} value={rule.round ?? ""} data-testid="rule-round" onChange={(e) => set({ round: e.target.value === "" ? null : Number(e.target.value) })} />
          </Field>
        </div>
      )}
      {rule?.kind === "unit" && (
        <div className="row">
          {(["from", "to"] as const).map((end) => (
            <Field key={end} label={end === "from" ? "From" : "To"}>
              <select value={rule[end]} data-testid={`rule-${end}`} onChange={(e) => set({ [end]: e.target.value })}>
                {[...new Set([rule[end], ...UNITS])].map((u) => <option key={u} value={u}>{u}</option>)}
              </select>
            </Field>
          ))}
          {(rule.from === "case" || rule.to === "case") && (
            <Field label="Each per case">
              <input type="number" min={1} value={rule.factor ?? ""} data-testid="rule-factor" onChange={(e) => set({ factor: e.target.value === "" ? null : Number(e.target.value) })} />
            </Field>
          )}
        </div>
      )}
      {rule?.kind === "lookup" && (
        <>
          <Field label="Table">
            {lookupTables ? (
              <select value={rule.table} data-testid="rule-table" onChange={(e) => set({ table: e.target.value })}>
                {!lookupTables.includes(rule.table) && <option value={rule.table}>{rule.table || "(pick a table)"}</option>}
                {lookupTables.map((t) => <option key={t} value={t}>{t}</option>)}
              </select>
            ) : (
              <input type="text" value={rule.table} data-testid="rule-table" onChange={(e) => set({ table: e.target.value })} />
            )}
          </Field>
          <Field label="When the key is not in the table">
            <input type="text" value={rule.default === null ? "" : textOf(rule.default)} placeholder="(nothing)" data-testid="rule-default" onChange={(e) => set({ default: e.target.value === "" ? null : valueFrom(e.target.value, type) })} />
          </Field>
        </>
      )}
      {rule?.kind === "if" && (
        <>
          <Field label="Equals">
            <input type="text" value={textOf(rule.equals)} data-testid="rule-equals" onChange={(e) => set({ equals: valueFrom(e.target.value, sourceType(rule.path)) })} />
          </Field>
          <Field label="Then">
            <PartInput rule={rule.then} type={type} testId="rule-then" onChange={(r) => set({ then: r })} />
          </Field>
          <Field label="Else">
            <PartInput rule={rule.else} type={type} testId="rule-else" onChange={(r) => set({ else: r })} />
          </Field>
        </>
      )}
      {rule?.kind === "sum" && (
        <>
          <Field label="Over the list">
            <PathInput value={rule.array} onChange={(a) => set({ array: a })} testId="rule-array" list={ARRAYS_LIST} />
          </Field>
          <Field label="Of each element's field">
            <input type="text" className="mono" value={rule.path} data-testid="rule-path" placeholder="e.g. qty" onChange={(e) => set({ path: e.target.value })} />
          </Field>
        </>
      )}
      {rule && (
        <button type="button" className="btn small danger" data-testid="rule-remove" onClick={() => onChange(null)}>Unmap</button>
      )}
    </fieldset>
  );
}

/** A target list's form: the source list whose elements it is made from. */
export function ArrayRule({ path, source, sourceArrays, readOnly, onChange }: { path: string; source: string | null; sourceArrays: string[]; readOnly: boolean; onChange: (source: string | null) => void }) {
  return (
    <fieldset className="field-lock mp-rule-form" disabled={readOnly} data-testid="array-rule" data-path={path}>
      <div className="field-label"><code>{path}[ ]</code> one element per element of</div>
      <select value={source || ""} data-testid="array-source" onChange={(e) => onChange(e.target.value || null)}>
        <option value="">(not mapped)</option>
        {[...new Set([...(source ? [source] : []), ...sourceArrays])].map((a) => <option key={a} value={a}>{a}</option>)}
      </select>
      <p className="hint">Inside the list, each field's source paths are relative to the source element.</p>
    </fieldset>
  );
}
