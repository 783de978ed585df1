// The mapper: a node's mapping field (transform.map's expression, a connector's body) edited as source fields
// dropped onto target fields with no-code rules, beside the JSONata editor. The node config keeps only the
// JSONata: the mapper writes it through POST /mappings/compile on each change and reads it back through
// /mappings/parse; an expression the mapper cannot show stays as it is, read only here, with the reason.
import { useEffect, useMemo, useRef, useState, type KeyboardEvent as KeyEvent } from "react";
import { api, ApiError, type MappingContext, type SamplePreview } from "../../api";
import type { FlowDoc } from "../../types";
import { ExpressionEditor } from "../ExpressionEditor";
import { useEscapeCloses } from "../../dialogStack";
import { allPaths, findField, mergeTrees, pathsTree, sampleTree, schemaTree } from "./fieldTree";
import { ArrayRule, ARRAYS_LIST, FieldRule, PATHS_LIST } from "./FieldRule";
import { arrayOf, EMPTY_MAPPING, normalise, relativeTo, ruleOf, targetNamed, targetRef, withArray, withRule, type Mapping } from "./mapping";
import { place } from "./placement";
import { SourceTree } from "./SourceTree";
import { TargetTree } from "./TargetTree";
import "./mapper.css";

const SAMPLES = 5;

interface Props {
  doc: FlowDoc;
  nodeId: string;
  field: string;
  expression: string;
  readOnly: boolean;
  lookupTables: string[] | null;
  onChange: (expression: string) => void;
  onClose: () => void;
}

type Parsed = { state: "reading" } | { state: "editable" } | { state: "beyond"; note: string };

function message(e: unknown): string {
  if (e instanceof ApiError) {
    const d = e.details[0];
    return d ? `${d.field ? `${d.field}: ` : ""}${d.message}` : e.message;
  }
  return String(e);
}

function mappedPaths(m: Mapping): string[] {
  return [...m.fields.map((f) => f.target), ...m.arrays.flatMap((a) => [`${a.target}[]`, ...a.fields.map((f) => `${a.target}[].${f.target}`)])];
}

function withExpression(doc: FlowDoc, nodeId: string, field: string, expression: string): FlowDoc {
  return { ...doc, nodes: doc.nodes.map((n) => (n.id === nodeId ? { ...n, config: { ...(n.config || {}), [field]: expression } } : n)) };
}

export function Mapper(props: Props) {
  const { doc, nodeId, field, expression } = props;
  const flowId = doc.id;
  const [ctx, setCtx] = useState<MappingContext | null>(null);
  const [ctxError, setCtxError] = useState<string | null>(null);
  const [parsed, setParsed] = useState<Parsed>({ state: "reading" });
  const [mapping, setMapping] = useState<Mapping>(EMPTY_MAPPING);
  const [results, setResults] = useState<SamplePreview[]>([]);
  const [previewing, setPreviewing] = useState(false);
  const [previewError, setPreviewError] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [picked, setPicked] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [extraTargets, setExtraTargets] = useState<string[]>([]);
  const [newTarget, setNewTarget] = useState("");
  const [tab, setTab] = useState<"map" | "jsonata">("map");
  const written = useRef<string | null>(null); // the last expression the mapper wrote: not read back again
  const compiles = useRef(0);
  const onChange = useRef(props.onChange);
  onChange.current = props.onChange;
  const docRef = useRef(doc);
  docRef.current = doc;

  useEffect(() => {
    let stale = false;
    api
      .mappingContext(flowId, nodeId)
      .then((c) => !stale && setCtx(c))
      .catch((e) => !stale && setCtxError(message(e)));
    return () => {
      stale = true;
    };
  }, [flowId, nodeId]);

  // read the expression back whenever it changed other than by the mapper (on open, in the JSONata tab, undo)
  useEffect(() => {
    if (expression === written.current) return;
    compiles.current++; // a compile still in flight must not overwrite what was typed or undone meanwhile
    if (!expression.trim()) {
      setMapping(EMPTY_MAPPING);
      setParsed({ state: "editable" });
      return;
    }
    let stale = false;
    const timer = setTimeout(() => {
      api
        .parseMapping<Mapping>(expression)
        .then((r) => {
          if (stale) return;
          if (r.editable) {
            setMapping(normalise(r.mapping));
            setParsed({ state: "editable" });
          } else setParsed({ state: "beyond", note: r.note });
        })
        .catch((e) => !stale && setParsed({ state: "beyond", note: `The mapper could not read this expression: ${message(e)}` }));
    }, written.current === null ? 0 : 300);
    return () => {
      stale = true;
      clearTimeout(timer);
    };
  }, [expression]);

  // the saved samples through the expression as it is now, beside the deployed version's output
  useEffect(() => {
    if (!expression.trim()) return setPreviewing(false);
    let stale = false;
    setPreviewing(true);
    const timer = setTimeout(() => {
      api
        .previewSamples(flowId, nodeId, { document: withExpression(docRef.current, nodeId, field, expression), expression, limit: SAMPLES })
        .then((r) => {
          if (stale) return;
          setResults(r.slice(0, SAMPLES));
          setPreviewError(null);
          setPreviewing(false);
        })
        .catch((e) => {
          if (stale) return;
          setPreviewError(message(e));
          setPreviewing(false);
        });
    }, 200);
    return () => {
      stale = true;
      clearTimeout(timer);
    };
  }, [expression, flowId, nodeId, field]);

  useEscapeCloses(props.onClose); // when it is the topmost dialog (a Changes or Run dialog opened over it closes first)

  const sourceTree = useMemo(() => {
    const inputs = [...(ctx?.source.samples || []), ...results.map((r) => r.input)];
    return mergeTrees(schemaTree(ctx?.source.schema), sampleTree(inputs));
  }, [ctx, results]);
  const targetTree = useMemo(
    () => mergeTrees(schemaTree(ctx?.target.schema), pathsTree([...mappedPaths(mapping), ...extraTargets])),
    [ctx, mapping, extraTargets],
  );
  const sourcePaths = useMemo(() => allPaths(sourceTree), [sourceTree]);
  const sourceArrays = useMemo(() => sourcePaths.filter((p) => findField(sourceTree, p)?.type === "array"), [sourcePaths, sourceTree]);

  const editable = parsed.state === "editable" && !props.readOnly;

  /** The mapping changed: shown at once, compiled to JSONata and written to the node (a refused one is not). */
  const change = (next: Mapping) => {
    setMapping(next);
    setProblem(null);
    const mine = ++compiles.current;
    api
      .compileMapping(next)
      .then((expr) => {
        if (mine !== compiles.current) return;
        written.current = expr;
        onChange.current(expr);
      })
      .catch((e) => {
        if (mine !== compiles.current) return;
        const named = e instanceof ApiError ? targetNamed(next, e.details[0]?.field) : null;
        setProblem(named ? `${named}: ${e.details[0]?.message || e.message}` : message(e));
      });
  };

  const map = (targetPath: string, sourcePath: string) => {
    setPicked(null);
    setSelected(targetPath);
    if (!editable) return;
    const placed = place(mapping, targetTree, sourceTree, targetPath, sourcePath);
    if ("problem" in placed) setProblem(placed.problem);
    else if (placed.mapping !== mapping) change(placed.mapping);
  };

  const selectedNode = selected ? findField(targetTree, selected) : null;
  const selectedRef = selected ? targetRef(selected) : null;
  const elementSource = selectedRef?.array ? arrayOf(mapping, selectedRef.array)?.source : null;
  const offered = elementSource ? sourcePaths.map((p) => relativeTo(elementSource, p)).filter((p): p is string => !!p) : sourcePaths;
  const node = doc.nodes.find((n) => n.id === nodeId);
  // the canvas's shortcuts (Delete removes the selected node, Ctrl+A, Ctrl+D…) must not act behind the mapper;
  // save, undo and redo still do
  const keepKeys = (e: KeyEvent) => {
    const key = e.key.toLowerCase();
    if ((e.ctrlKey || e.metaKey) && (key === "s" || key === "z" || key === "y")) return;
    e.stopPropagation();
  };
  // over the canvas and the inspector, below the editor's toolbar (save and deploy stay at hand)
  const [top] = useState(() => document.querySelector(".workspace")?.getBoundingClientRect().top ?? 44);

  return (
    <div className="mapper" style={{ top }} data-testid="mapper" data-state={parsed.state} role="dialog" aria-label="Mapper" onKeyDown={keepKeys}>
      <div className="mp-head">
        <strong>Mapper</strong>
        <span className="hint">{node?.name || nodeId} · <code>{field}</code></span>
        {ctx?.target.schema_id && <span className="tag" data-testid="mapper-schema">{ctx.target.schema_id}</span>}
        <div className="tabs mp-tabs">
          <button className={tab === "map" ? "tab active" : "tab"} onClick={() => setTab("map")} data-testid="mapper-tab-map">Mapper</button>
          <button className={tab === "jsonata" ? "tab active" : "tab"} onClick={() => setTab("jsonata")} data-testid="mapper-tab-jsonata">JSONata</button>
        </div>
        <span className="spacer" />
        {previewing && <span className="hint">updating preview…</span>}
        {props.readOnly && <span className="tag">read only</span>}
        <button className="btn" onClick={props.onClose} data-testid="mapper-close">Close</button>
      </div>
      {parsed.state === "beyond" && (
        <div className="banner info" data-testid="mapper-note">
          Shown read only: {parsed.note} The expression is kept exactly as written; change it in the JSONata tab.
        </div>
      )}
      {ctxError && <div className="banner error">The node's fields could not be read: {ctxError}</div>}
      {problem && <div className="banner error" data-testid="mapper-problem">{problem}</div>}
      {previewError && <div className="banner error" data-testid="mapper-preview-error">Preview: {previewError}</div>}
      {tab === "jsonata" ? (
        <div className="mp-jsonata">
          <ExpressionEditor value={expression} onChange={props.onChange} testId="mapper-jsonata" minLines={12} readOnly={props.readOnly} />
        </div>
      ) : parsed.state === "reading" ? (
        <div className="page-message">Reading the mapping…</div>
      ) : (
        <div className="mp-body">
          <SourceTree tree={sourceTree} sample={ctx?.source.samples[0] ?? results[0]?.input} picked={picked} onPick={setPicked} onDragStart={() => setProblem(null)} disabled={!editable} />
          <div className="mp-center">
            <TargetTree tree={targetTree} mapping={mapping} results={results} selected={selected} picked={picked} disabled={!editable} onSelect={setSelected} onMap={map} />
            {editable && (
              <form
                className="row mp-add"
                onSubmit={(e) => {
                  e.preventDefault();
                  const p = newTarget.trim();
                  // a dotted name; `[]` after a segment makes it a list whose elements the following names are in
                  if (!/^[A-Za-z_$][\w$]*(\[\])?(\.[A-Za-z_$][\w$]*(\[\])?)*$/.test(p) || p.length > 200) {
                    return setProblem("A target field is a dotted name, e.g. shipTo.contact, or lines[].itemNo inside a list.");
                  }
                  setExtraTargets((t) => (t.includes(p) ? t : [...t, p]));
                  setSelected(p);
                  setNewTarget("");
                }}
              >
                <input type="text" className="mono" value={newTarget} placeholder="another target field, e.g. shipTo.contact or lines[].itemNo" data-testid="add-target" onChange={(e) => setNewTarget(e.target.value)} />
                <button className="btn small" type="submit">Add target field</button>
              </form>
            )}
          </div>
          <aside className="mp-pane mp-side">
            {selected && selectedRef && selectedNode && selectedRef.array === null && selectedNode.type === "array" ? (
              <ArrayRule
                path={selected}
                source={arrayOf(mapping, selected)?.source || null}
                sourceArrays={sourceArrays}
                readOnly={!editable}
                onChange={(source) => change(withArray(mapping, selected, source))}
              />
            ) : selected && selectedRef ? (
              <FieldRule
                path={selected}
                type={selectedNode?.type || "any"}
                rule={ruleOf(mapping, selectedRef)}
                lookupTables={props.lookupTables}
                readOnly={!editable}
                sourceType={(p) => findField(sourceTree, elementSource ? `${elementSource}[].${p}` : p)?.type || "any"}
                onChange={(rule) => {
                  if (selectedRef.array !== null && !arrayOf(mapping, selectedRef.array)) return setProblem(`Map the list ${selectedRef.array} first: drop a source list onto it.`);
                  change(withRule(mapping, selectedRef, rule));
                }}
              />
            ) : (
              <p className="hint pad">
                Drag a source field onto a target field, or pick a source field and then click a target. Select a
                target field to choose how it is filled: a constant, a lookup, a date or unit conversion, and more.
              </p>
            )}
            <datalist id={PATHS_LIST}>{offered.map((p) => <option key={p} value={p} />)}</datalist>
            <datalist id={ARRAYS_LIST}>{sourceArrays.map((p) => <option key={p} value={p} />)}</datalist>
          </aside>
        </div>
      )}
    </div>
  );
}
