// A form generated from a node type's config JSON Schema; JSONata fields get the expression editor.
import { useEffect, useState, type ReactNode } from "react";
import { hrefFor } from "../pages/AppNav";
import type { JsonSchema } from "../types";

export interface FormContext {
  root: JsonSchema;
  /** Normalised config paths holding JSONata, e.g. "expression", "rules[].when". */
  expressions: Set<string>;
  renderExpression: (path: string, value: string, onChange: (v: string) => void, label: string, readOnly: boolean) => ReactNode;
  /** Whether the field at a config path may be changed (the role's edit scope); every field when absent. */
  editable?: (path: string) => boolean;
  /** Normalised config path -> what it names outside the node (SPEC references), e.g. "connection". */
  references?: Record<string, string>;
  /** What the workspace has, by reference kind; a kind without a list stays a text field. */
  choices?: Record<string, string[] | null>;
}

const NOUNS: Record<string, string> = { connection: "connection", lookup: "lookup table" };

const PAGES: Record<string, string> = { connection: "/connections", lookup: "/lookups" };

/** The page that creates a `kind` named `name` (empty: the user names it) and closes once it is saved. */
function createHref(kind: string, name: string): string {
  const q = new URLSearchParams({ new: name, return: "close" });
  return hrefFor(`${PAGES[kind]}?${q}`);
}

const SECRET_NAME = /(password|secret|token|api_key|apikey|private_key)/i;

function resolve(schema: JsonSchema, root: JsonSchema): JsonSchema {
  let s = schema;
  for (let i = 0; i < 8 && s?.$ref; i++) {
    const name = s.$ref.split("/").pop()!;
    s = { ...(root.definitions?.[name] || root.$defs?.[name] || {}), ...Object.fromEntries(Object.entries(s).filter(([k]) => k !== "$ref")) };
  }
  const alts = s?.anyOf || s?.oneOf;
  if (alts && !s.type) {
    const pick = alts.find((a) => a.type !== "null") || alts[0];
    s = { ...resolve(pick, root), ...Object.fromEntries(Object.entries(s).filter(([k]) => k !== "anyOf" && k !== "oneOf")) };
  }
  return s || {};
}

function kind(s: JsonSchema): string {
  const ty = Array.isArray(s.type) ? s.type.find((x) => x !== "null") : s.type;
  if (s.enum) return "enum";
  return ty || "any";
}

export function normalise(path: string): string {
  return path.replace(/\[\d+\]/g, "[]");
}

function label(name: string, s: JsonSchema): string {
  return s.title || name.replace(/_/g, " ").replace(/^\w/, (c) => c.toUpperCase());
}

function JsonField({ value, onChange, testId }: { value: unknown; onChange: (v: unknown) => void; testId: string }) {
  const [text, setText] = useState(() => (value === undefined ? "" : JSON.stringify(value, null, 2)));
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let current: unknown;
    try {
      current = text.trim() ? JSON.parse(text) : undefined;
    } catch {
      return;
    }
    if (JSON.stringify(current) !== JSON.stringify(value)) setText(value === undefined ? "" : JSON.stringify(value, null, 2));
    // only outside changes (undo, another field) should replace the text being typed
  }, [value]);
  return (
    <>
      <textarea
        className="json-input"
        spellCheck={false}
        value={text}
        data-testid={testId}
        rows={Math.min(12, Math.max(3, text.split("\n").length))}
        onChange={(e) => {
          setText(e.target.value);
          try {
            const parsed = e.target.value.trim() ? JSON.parse(e.target.value) : undefined;
            setError(null);
            onChange(parsed);
          } catch (err) {
            setError((err as Error).message);
          }
        }}
      />
      {error && <div className="field-error">Not valid JSON: {error}</div>}
    </>
  );
}

/** A string-to-string map (HTTP headers): rows of name and value; rows with an empty name are kept only while typing. */
function KeyValueField({ value, onChange, testId, secretNames }: { value: Record<string, unknown>; onChange: (v: Record<string, string> | undefined) => void; testId: string; secretNames: boolean }) {
  const [rows, setRows] = useState<[string, string][]>(() => Object.entries(value || {}).map(([k, v]) => [k, String(v)]));
  useEffect(() => {
    const current = Object.fromEntries(rows.filter(([k]) => k));
    if (JSON.stringify(current) !== JSON.stringify(value || {})) setRows(Object.entries(value || {}).map(([k, v]) => [k, String(v)]));
    // only outside changes (undo) replace the rows being edited
  }, [value]);
  const commit = (next: [string, string][]) => {
    setRows(next);
    const obj = Object.fromEntries(next.filter(([k]) => k));
    onChange(Object.keys(obj).length ? obj : {});
  };
  return (
    <div className="kv" data-testid={testId}>
      {rows.map(([k, v], i) => (
        <div className="kv-row" key={i}>
          <input type="text" placeholder="name" value={k} onChange={(e) => commit(rows.map((r, j) => (j === i ? [e.target.value, r[1]] : r)))} />
          <input
            type={secretNames && SECRET_NAME.test(k) ? "password" : "text"}
            placeholder="value"
            value={v}
            onChange={(e) => commit(rows.map((r, j) => (j === i ? [r[0], e.target.value] : r)))}
          />
          <button type="button" className="btn-ghost small danger" title="Remove" onClick={() => commit(rows.filter((_, j) => j !== i))}>
            ✕
          </button>
        </div>
      ))}
      <button type="button" className="btn small" onClick={() => setRows([...rows, ["", ""]])}>
        + Add
      </button>
    </div>
  );
}

/** A name of something the workspace has (a connection, a lookup table): picked from what exists; a name that
 * is not there stays selected, marked missing, so a typo in an imported flow is seen and fixed here. */
function ReferenceField({ kind, value, names, required, onChange, testId }: { kind: string; value: string; names: string[]; required: boolean; onChange: (v: string | undefined) => void; testId: string }) {
  const noun = NOUNS[kind] || kind;
  const missing = value !== "" && !names.includes(value);
  return (
    <>
      <select value={value} data-testid={testId} className={missing ? "missing" : undefined} onChange={(e) => onChange(e.target.value === "" && !required ? undefined : e.target.value)}>
        {(value === "" || !required) && <option value="">{`(choose a ${noun})`}</option>}
        {missing && <option value={value}>{`${value} (missing)`}</option>}
        {names.map((n) => (
          <option key={n} value={n}>
            {n}
          </option>
        ))}
      </select>
      {missing && (
        <div className="field-warn" data-testid={`${testId}-missing`}>
          {`No ${noun} “${value}” in this workspace`}
          {kind === "lookup" ? " (or it has no rows)" : ""}
          {names.length ? `: pick one of ${names.join(", ")}.` : "."}
        </div>
      )}
      {!names.length && !missing && <span className="hint">{`This workspace has no ${noun}s yet.`}</span>}
      {PAGES[kind] && (
        // a new tab on the Connections or Lookups page, the dialog open for the missing name; it closes itself once
        // saved, and this editor reads the workspace's names again when its window regains focus
        <a className="ref-create" href={createHref(kind, missing ? value : "")} target="_blank" rel="opener" data-testid={`${testId}-create`}>
          {missing ? `Create ${noun} “${value}”` : `+ New ${noun}`}
        </a>
      )}
    </>
  );
}

function SecretField({ value, onChange, testId }: { value: string; onChange: (v: string) => void; testId: string }) {
  const [shown, setShown] = useState(false);
  return (
    <div className="secret">
      <input type={shown ? "text" : "password"} value={value} autoComplete="off" data-testid={testId} onChange={(e) => onChange(e.target.value)} />
      <button type="button" className="btn-ghost small" onClick={() => setShown(!shown)}>
        {shown ? "Hide" : "Show"}
      </button>
    </div>
  );
}

interface FieldProps {
  name: string;
  path: string;
  schema: JsonSchema;
  value: unknown;
  required: boolean;
  onChange: (v: unknown) => void;
  ctx: FormContext;
}

function Field(props: FieldProps) {
  const { path, schema, value, ctx } = props;
  const locked = ctx.editable ? !ctx.editable(path) : false;
  if (kind(resolve(schema, ctx.root)) === "string" && ctx.expressions.has(normalise(path))) {
    const text = label(props.name, resolve(schema, ctx.root));
    return <div className="field field-expr">{ctx.renderExpression(path, typeof value === "string" ? value : "", (v) => props.onChange(v), text, locked)}</div>;
  }
  const field = <EditableField {...props} />;
  // a disabled fieldset disables every control inside it, however deep (lists, key-value rows, buttons)
  return locked ? (
    <fieldset className="field-lock" disabled data-testid={`locked-${path}`}>
      {field}
    </fieldset>
  ) : (
    field
  );
}

function EditableField({ name, path, schema, value, required, onChange, ctx }: FieldProps) {
  const s = resolve(schema, ctx.root);
  const k = kind(s);
  const text = label(name, s);
  const testId = `field-${path}`;
  let control: ReactNode;
  if (k === "enum") {
    control = (
      <select value={value === undefined ? "" : JSON.stringify(value)} data-testid={testId} onChange={(e) => onChange(e.target.value === "" ? undefined : JSON.parse(e.target.value))}>
        {!required && <option value="">(default{s.default !== undefined ? `: ${String(s.default)}` : ""})</option>}
        {/* a value outside the choices (a {{param}} naming one) stays itself, never shown as the first choice */}
        {value !== undefined && !s.enum!.some((opt) => JSON.stringify(opt) === JSON.stringify(value)) && (
          <option value={JSON.stringify(value)}>{String(value)}</option>
        )}
        {s.enum!.map((opt) => (
          <option key={JSON.stringify(opt)} value={JSON.stringify(opt)}>
            {String(opt)}
          </option>
        ))}
      </select>
    );
  } else if (k === "boolean") {
    return (
      <label className="field field-check">
        <input type="checkbox" checked={value === undefined ? !!s.default : !!value} data-testid={testId} onChange={(e) => onChange(e.target.checked)} />
        <span className="field-label">{text}</span>
        {s.description && <span className="hint check-hint">{s.description}</span>}
      </label>
    );
  } else if (k === "number" || k === "integer") {
    control = (
      <input
        type="number"
        value={typeof value === "number" ? value : ""}
        placeholder={s.default !== undefined ? String(s.default) : ""}
        step={k === "integer" ? 1 : "any"}
        min={s.minimum}
        max={s.maximum}
        data-testid={testId}
        onChange={(e) => onChange(e.target.value === "" ? undefined : k === "integer" ? parseInt(e.target.value, 10) : parseFloat(e.target.value))}
      />
    );
  } else if (k === "string" && ctx.choices?.[ctx.references?.[normalise(path)] ?? ""]) {
    const refKind = ctx.references![normalise(path)];
    control = <ReferenceField kind={refKind} value={typeof value === "string" ? value : ""} names={ctx.choices![refKind]!} required={required} onChange={onChange} testId={testId} />;
  } else if (k === "string") {
    const secret = s.format === "password" || s.format === "secret" || s.writeOnly || SECRET_NAME.test(name);
    control = secret ? (
      <SecretField value={typeof value === "string" ? value : ""} onChange={onChange} testId={testId} />
    ) : (
      <input type="text" value={typeof value === "string" ? value : ""} placeholder={s.default !== undefined ? String(s.default) : ""} data-testid={testId} onChange={(e) => onChange(e.target.value === "" && !required ? undefined : e.target.value)} />
    );
  } else if (k === "object" && s.properties) {
    return (
      <fieldset className="field-group">
        <legend>{text}</legend>
        <ObjectFields schema={s} value={(value as Record<string, unknown>) || {}} path={path} onChange={onChange} ctx={ctx} />
      </fieldset>
    );
  } else if (k === "object" && !s.properties && typeof s.additionalProperties === "object" && kind(resolve(s.additionalProperties, ctx.root)) === "string") {
    // several inputs: a div, not a label (a label would name every control inside it after itself)
    return (
      <div className="field">
        <span className="field-label">{text}</span>
        <KeyValueField value={(value as Record<string, unknown>) || {}} onChange={onChange} testId={testId} secretNames />
        {s.description && <span className="hint">{s.description}</span>}
      </div>
    );
  } else if (k === "array" && s.items) {
    return <ListField name={name} path={path} schema={s} value={Array.isArray(value) ? value : []} onChange={onChange} ctx={ctx} />;
  } else {
    control = <JsonField value={value} onChange={onChange} testId={testId} />;
  }
  return (
    <label className="field">
      <span className="field-label">
        {text}
        {required && <span className="req">*</span>}
      </span>
      {control}
      {s.description && <span className="hint">{s.description}</span>}
    </label>
  );
}

function ListField({ name, path, schema, value, onChange, ctx }: { name: string; path: string; schema: JsonSchema; value: unknown[]; onChange: (v: unknown) => void; ctx: FormContext }) {
  const item = resolve(schema.items!, ctx.root);
  const blank = () => (kind(item) === "object" ? {} : kind(item) === "number" || kind(item) === "integer" ? 0 : "");
  const set = (i: number, v: unknown) => onChange(value.map((x, j) => (j === i ? v : x)));
  const move = (i: number, d: number) => {
    const next = [...value];
    [next[i], next[i + d]] = [next[i + d], next[i]];
    onChange(next);
  };
  return (
    <fieldset className="field-group field-list" data-testid={`list-${path}`}>
      <legend>{label(name, schema)}</legend>
      {schema.description && <div className="hint">{schema.description}</div>}
      {value.map((v, i) => (
        <div className="list-item" key={i}>
          <div className="list-item-head">
            <span>#{i + 1}</span>
            <span className="spacer" />
            <button type="button" className="btn-ghost small" disabled={i === 0} onClick={() => move(i, -1)} title="Move up">↑</button>
            <button type="button" className="btn-ghost small" disabled={i === value.length - 1} onClick={() => move(i, 1)} title="Move down">↓</button>
            <button type="button" className="btn-ghost small danger" onClick={() => onChange(value.filter((_, j) => j !== i))} title="Remove">✕</button>
          </div>
          {kind(item) === "object" && item.properties ? (
            <ObjectFields schema={item} value={(v as Record<string, unknown>) || {}} path={`${path}[${i}]`} onChange={(nv) => set(i, nv)} ctx={ctx} />
          ) : (
            <Field name={`${name} ${i + 1}`} path={`${path}[${i}]`} schema={item} value={v} required onChange={(nv) => set(i, nv)} ctx={ctx} />
          )}
        </div>
      ))}
      <button type="button" className="btn small" data-testid={`add-${path}`} onClick={() => onChange([...value, blank()])}>
        + Add {(item.title || label(name, schema).replace(/s$/, "")).toLowerCase()}
      </button>
    </fieldset>
  );
}

export function ObjectFields({ schema, value, path, onChange, ctx }: { schema: JsonSchema; value: Record<string, unknown>; path: string; onChange: (v: Record<string, unknown>) => void; ctx: FormContext }) {
  const required = new Set(schema.required || []);
  return (
    <>
      {Object.entries(schema.properties || {}).map(([key, sub]) => (
        <Field
          key={key}
          name={key}
          path={path ? `${path}.${key}` : key}
          schema={sub}
          value={value[key]}
          required={required.has(key)}
          ctx={ctx}
          onChange={(v) => {
            const next = { ...value };
            if (v === undefined) delete next[key];
            else next[key] = v;
            onChange(next);
          }}
        />
      ))}
    </>
  );
}
