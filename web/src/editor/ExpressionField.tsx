// A JSONata field with a sample input and a live preview of its output (POST /api/v1/preview/map).
import { useEffect, useState } from "react";
import { api, ApiError, type PreviewTarget } from "../api";
import { ExpressionEditor, type ExprError } from "./ExpressionEditor";
import { UpstreamSample, type Upstream } from "./UpstreamSample";

interface Props {
  label: string;
  path: string;
  expression: string;
  onChange: (v: string) => void;
  sample: string;
  setSample: (text: string) => void;
  lastRunInput: unknown;
  triggerSample: unknown;
  /** The node and flow the expression belongs to: previewed with the flow's params, as a run evaluates it. */
  target?: PreviewTarget;
  validationError: ExprError | null;
  open: boolean;
  /** The expression cannot be changed (the role's edit scope); it can still be read and previewed. */
  readOnly?: boolean;
  /** Whether the user may preview at all (POST /preview/map needs mappings:write). */
  previews?: boolean;
  /** A node downstream of others: its sample input is their output on a saved sample of the flow. */
  upstream?: Upstream;
}

function pretty(v: unknown): string {
  return v === undefined ? "(no output)" : JSON.stringify(v, null, 2);
}

export function ExpressionField(props: Props) {
  const { expression, sample } = props;
  const target = JSON.stringify(props.target || {}); // by value: a new object each render must not re-preview
  const [open, setOpen] = useState(props.open);
  const [result, setResult] = useState<{ output?: unknown; engine?: string; error?: ExprError; sampleError?: string; busy?: boolean }>({});

  useEffect(() => {
    if (!open) return;
    let input: unknown;
    try {
      input = sample.trim() ? JSON.parse(sample) : {};
    } catch (e) {
      setResult({ sampleError: (e as Error).message });
      return;
    }
    if (!expression.trim()) {
      setResult({});
      return;
    }
    let stale = false;
    setResult((r) => ({ ...r, busy: true }));
    const timer = setTimeout(() => {
      api
        .previewMap(expression, input, JSON.parse(target) as PreviewTarget)
        .then((r) => !stale && setResult({ output: r.output, engine: r.engine }))
        .catch((e) => {
          if (stale) return;
          if (e instanceof ApiError) {
            const d = e.details[0];
            setResult({ error: { message: d?.message || e.message, position: d?.position } });
          } else setResult({ error: { message: String(e) } });
        });
    }, 250);
    return () => {
      stale = true;
      clearTimeout(timer);
    };
  }, [expression, sample, target, open]);

  const error = result.error || props.validationError;
  return (
    <div className="expr-field" data-testid={`expr-${props.path}`}>
      <div className="field-label row">
        <span>{props.label}</span>
        <span className="tag">JSONata</span>
        {props.readOnly && <span className="tag" data-testid={`readonly-${props.path}`}>read only</span>}
        <span className="spacer" />
        {props.previews !== false && (
          <button type="button" className="btn-ghost small" onClick={() => setOpen(!open)} data-testid={`toggle-preview-${props.path}`}>
            {open ? "Hide preview" : "Preview"}
          </button>
        )}
      </div>
      <ExpressionEditor value={expression} onChange={props.onChange} error={error} testId={`editor-${props.path}`} minLines={open ? 3 : 1} readOnly={props.readOnly} />
      {error && <div className="field-error" data-testid="expr-error">{error.message}{error.position != null ? ` (at character ${error.position})` : ""}</div>}
      {open && (
        <div className="preview">
          <div className="preview-col">
            <div className="preview-head">
              <span>Sample input</span>
              <span className="spacer" />
              {props.lastRunInput != null && (
                <button type="button" className="btn-ghost small" onClick={() => props.setSample(JSON.stringify(props.lastRunInput, null, 2))}>
                  From last run
                </button>
              )}
              {props.triggerSample != null && (
                <button type="button" className="btn-ghost small" onClick={() => props.setSample(JSON.stringify(props.triggerSample, null, 2))}>
                  Trigger sample
                </button>
              )}
            </div>
            {props.upstream && <UpstreamSample upstream={props.upstream} sample={sample} setSample={props.setSample} />}
            <textarea className="json-input" spellCheck={false} value={sample} onChange={(e) => props.setSample(e.target.value)} data-testid="sample-input" placeholder='Paste a sample record, e.g. {"order": {...}}' rows={8} />
            {result.sampleError && <div className="field-error">Sample is not valid JSON: {result.sampleError}</div>}
          </div>
          <div className="preview-col">
            <div className="preview-head">
              <span>Output</span>
              {result.busy && <span className="hint">updating…</span>}
              <span className="spacer" />
              {result.engine && !result.error && (
                <span
                  className={`tag engine-${result.engine}`}
                  data-testid="preview-engine"
                  title={result.engine === "compiled"
                    ? "Compiled to Python: the fast path used by deployed flows"
                    : "Evaluated by the JSONata interpreter (the expression uses a feature outside the compiled subset)"}
                >
                  {result.engine === "compiled" ? "compiled" : "interpreter"}
                </span>
              )}
            </div>
            <pre className={`preview-out${result.error ? " stale" : ""}`} data-testid="preview-output">
              {result.error ? "—" : pretty(result.output)}
            </pre>
          </div>
        </div>
      )}
    </div>
  );
}
