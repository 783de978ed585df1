// The flow editor page: toolbar, palette, canvas, inspector and problems, wired to the server through api.ts.
// How much can change follows the user's role (access.editMode): everything, mappings only, or nothing.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { ReactFlowProvider, type Edge, type ReactFlowInstance } from "@xyflow/react";
import { can, editMode, suspended, type EditMode } from "../access";
import { api, ApiError } from "../api";
import { watchRun, type RunWatch } from "../runWatch";
import { TERMINAL, type FlowDoc, type NodeType, type Problem, type Run, type Step } from "../types";
import { Canvas, fitDocument, type Selection } from "./Canvas";
import { addNode, locateProblem, pruneEdges, removeElements } from "./document";
import { useHistory } from "./history";
import { Inspector } from "./Inspector";
import type { CanvasNode } from "./nodes";
import { useClipboard } from "./clipboard";
import { Palette } from "./Palette";
import { useShortcuts } from "./shortcuts";
import { Toolbar } from "./Toolbar";
import { ProblemsPanel } from "./ProblemsPanel";
import { useWorkspaceChoices } from "./workspaceChoices";

const EMPTY: Selection = { nodes: new Set(), edges: new Set() };

interface Notice {
  kind: "info" | "ok" | "error";
  text: string;
}

declare global {
  interface Window {
    __crossdock?: { ready: boolean; readyAt?: number; mode?: EditMode; getFlow: () => FlowDoc | null; getProblems: () => Problem[]; getSelection: () => string[] };
  }
}

function stepsByNode(run: Run | null): Map<string, Step> {
  const m = new Map<string, Step>();
  for (const s of run?.steps || []) m.set(s.node_id, s);
  return m;
}

export function Editor({ flowId, nodeTypes, navigate }: { flowId: string; nodeTypes: NodeType[]; navigate: (path: string) => void }) {
  const specs = useMemo(() => new Map(nodeTypes.map((t) => [t.type, t])), [nodeTypes]);
  const mode = useMemo(() => editMode(), []);
  const building = mode === "build";
  const hist = useHistory();
  const { doc, apply } = hist;
  const [loadError, setLoadError] = useState<string | null>(null);
  const [revision, setRevision] = useState<number | null>(null);
  const [savedJson, setSavedJson] = useState("");
  const [deployed, setDeployed] = useState<number | null>(null);
  const [selection, setSelectionState] = useState<Selection>(EMPTY);
  const selectionRef = useRef(selection); // current at once, for commands that follow each other quickly
  const setSelection = useCallback((next: Selection) => {
    selectionRef.current = next;
    setSelectionState(next);
  }, []);
  const [problems, setProblems] = useState<Problem[]>([]);
  const [checking, setChecking] = useState(false);
  const [run, setRun] = useState<Run | null>(null);
  const [running, setRunning] = useState(false);
  const [busy, setBusy] = useState<string | null>(null);
  const [notice, setNotice] = useState<Notice | null>(null);
  const [conflict, setConflict] = useState(false);
  const [problemsCollapsed, setProblemsCollapsed] = useState(false);
  const [samples, setSamples] = useState(new Map<string, string>());
  const choices = useWorkspaceChoices();
  const rf = useRef<ReactFlowInstance<CanvasNode, Edge> | null>(null);
  const ready = useRef(false);
  const validation = useRef(0); // ticket of the newest validate call; older answers are dropped
  const validatedJson = useRef(""); // the document the problems shown belong to
  const runWatch = useRef<RunWatch | null>(null); // the run the Run button started, until it finishes
  useEffect(() => () => runWatch.current?.close(), []);

  const load = useCallback(async () => {
    try {
      const rec = await api.getFlow(flowId);
      hist.reset(rec.flow);
      setRevision(rec.revision);
      setSavedJson(JSON.stringify(rec.flow));
      validatedJson.current = JSON.stringify(rec.flow);
      setDeployed(rec.deployed_version);
      setProblems(rec.problems || []);
      setConflict(false);
      api
        .lastRun(flowId)
        .then((r) => (r ? api.getRun(r.id) : null))
        .then((r) => r && setRun(r))
        .catch(() => undefined);
    } catch (e) {
      setLoadError(e instanceof ApiError && e.status === 404 ? `There is no flow “${flowId}”.` : String((e as Error).message || e));
    }
    // hist.reset is stable
  }, [flowId]);

  useEffect(() => {
    load();
  }, [load]);

  const docJson = useMemo(() => (doc ? JSON.stringify(doc) : ""), [doc]);
  const dirty = !!doc && docJson !== savedJson;

  // Test hook: read-only view of what the canvas holds.
  useEffect(() => {
    window.__crossdock = {
      ready: ready.current,
      readyAt: window.__crossdock?.readyAt,
      mode,
      getFlow: () => hist.docRef.current.present,
      getProblems: () => problemsRef.current,
      getSelection: () => [...selectionRef.current.nodes],
    };
  });
  const problemsRef = useRef(problems);
  problemsRef.current = problems;

  useEffect(() => {
    const guard = (e: BeforeUnloadEvent) => {
      if (dirty) {
        e.preventDefault();
        e.returnValue = "";
      }
    };
    window.addEventListener("beforeunload", guard);
    return () => window.removeEventListener("beforeunload", guard);
  }, [dirty]);

  // Validate as you edit, debounced; a stale answer never overwrites a newer one.
  useEffect(() => {
    if (!doc || docJson === validatedJson.current) return;
    const ticket = ++validation.current;
    setChecking(true);
    const timer = setTimeout(() => {
      api
        .validate(doc)
        .then((r) => {
          if (ticket !== validation.current) return;
          validatedJson.current = docJson;
          setProblems(r.problems);
        })
        .catch(() => undefined)
        .finally(() => ticket === validation.current && setChecking(false));
    }, 350);
    return () => clearTimeout(timer);
    // docJson stands for doc
  }, [docJson]);

  const located = useMemo(() => (doc ? problems.map((p) => locateProblem(p, doc)) : problems), [problems, doc]);
  const problemsByNode = useMemo(() => {
    const m = new Map<string, Problem[]>();
    for (const p of located) if (p.node) m.set(p.node, [...(m.get(p.node) || []), p]);
    return m;
  }, [located]);
  const problemsByEdge = useMemo(() => {
    const m = new Map<string, Problem[]>();
    for (const p of located) if (p.edge) m.set(p.edge, [...(m.get(p.edge) || []), p]);
    return m;
  }, [located]);
  const steps = useMemo(() => stepsByNode(run), [run]);

  const applyPruned = useCallback<typeof apply>((fn, change) => apply((d) => pruneEdges(fn(d), specs), change), [apply, specs]);

  const flash = useCallback((n: Notice) => {
    setNotice(n);
    if (n.kind !== "error") setTimeout(() => setNotice((cur) => (cur === n ? null : cur)), 4000);
  }, []);

  const save = useCallback(
    async (overwrite = false): Promise<boolean> => {
      const current = hist.docRef.current.present;
      if (!current || mode === "view") return false;
      setBusy("save");
      try {
        let rev = revision;
        if (overwrite) rev = (await api.getFlow(current.id)).revision;
        // a mapper saves the view as it was stored: the layout is part of the structure they do not change
        const vp = building ? rf.current?.getViewport() : undefined;
        const viewport = vp ? { x: Math.round(vp.x), y: Math.round(vp.y), zoom: Math.round(vp.zoom * 1000) / 1000 } : current.viewport;
        const rec = await api.saveFlow(viewport ? { ...current, viewport } : current, rev);
        setRevision(rec.revision);
        setSavedJson(JSON.stringify(current));
        setConflict(false);
        if (rec.problems) {
          validation.current++;
          setChecking(false);
          validatedJson.current = JSON.stringify(current);
          setProblems(rec.problems);
        }
        flash({ kind: "ok", text: `Saved (revision ${rec.revision}).` });
        return true;
      } catch (e) {
        if (e instanceof ApiError && e.status === 409) {
          setConflict(true);
        } else if (e instanceof ApiError && e.details.length) {
          setProblems(e.details);
          setProblemsCollapsed(false);
          flash({ kind: "error", text: `Not saved: ${e.message}` });
        } else flash({ kind: "error", text: `Not saved: ${(e as Error).message}` });
        return false;
      } finally {
        setBusy(null);
      }
    },
    [revision, flash, hist.docRef, mode, building],
  );

  const deploy = useCallback(async () => {
    const current = hist.docRef.current.present;
    if (!current) return;
    const errors = problemsRef.current.filter((p) => p.severity === "error");
    if (errors.length) {
      setProblemsCollapsed(false);
      flash({ kind: "error", text: `Deploy refused: fix ${errors.length} error${errors.length === 1 ? "" : "s"} first.` });
      return;
    }
    if (JSON.stringify(current) !== savedJson && !(await save())) return;
    setBusy("deploy");
    try {
      const r = await api.deploy(current.id);
      setDeployed(r.version);
      flash({ kind: "ok", text: `Deployed version ${r.version}.` });
    } catch (e) {
      if (e instanceof ApiError && e.details.length) {
        setProblems(e.details);
        setProblemsCollapsed(false);
      }
      flash({ kind: "error", text: `Deploy refused: ${(e as Error).message}` });
    } finally {
      setBusy(null);
    }
  }, [flash, save, savedJson, hist.docRef]);

  const runSample = useCallback(async () => {
    const current = hist.docRef.current.present;
    if (!current) return;
    if (deployed == null) {
      flash({ kind: "error", text: "Deploy the flow before running it." });
      return;
    }
    // A flow without a manual trigger (a webhook flow) replays the input of its last run as the sample.
    const hasManual = current.nodes.some((n) => n.type === "event.manual");
    const input = hasManual ? undefined : run?.input;
    if (!hasManual && input === undefined) {
      flash({ kind: "error", text: "This flow has no manual trigger and no earlier run to take a sample from." });
      return;
    }
    setRunning(true);
    setRun(null);
    runWatch.current?.close();
    // subscribed before the run starts, so even a run that ends before its POST returns is heard; the run is
    // read once, when its run.finished event arrives (runWatch.ts has the safety net for a lost event)
    const watch = watchRun({
      flowId: current.id,
      fetchOn: ["run.finished"],
      onRun: (r) => {
        if (!TERMINAL.has(r.status)) return;
        setRun(r);
        setRunning(false);
        flash({ kind: r.status === "succeeded" ? "ok" : "error", text: `Run ${r.status}${r.duration_ms != null ? ` in ${r.duration_ms} ms` : ""}.` });
      },
    });
    runWatch.current = watch;
    await watch.ready();
    try {
      const r = await api.startRun(current.id, input);
      watch.follow(r.id);
    } catch (e) {
      watch.close();
      setRunning(false);
      flash({ kind: "error", text: `Run not started: ${(e as Error).message}` });
    }
  }, [deployed, flash, hist.docRef, run]);

  const selectOnly = useCallback(
    (nodes: string[], edges: string[] = []) => setSelection({ nodes: new Set(nodes), edges: new Set(edges) }),
    [setSelection],
  );

  const addType = useCallback(
    (type: string, position?: { x: number; y: number }) => {
      const spec = specs.get(type);
      if (!spec || !building) return;
      let pos = position;
      if (!pos && rf.current) {
        const box = document.querySelector(".canvas")!.getBoundingClientRect();
        pos = rf.current.screenToFlowPosition({ x: box.left + box.width / 2 - 90, y: box.top + box.height / 2 - 30 });
      }
      const current = hist.docRef.current.present;
      if (!current) return;
      const [next, id] = addNode(current, spec, pos || { x: 0, y: 0 });
      apply(() => next);
      selectOnly([id]);
    },
    [specs, apply, selectOnly, hist.docRef, building],
  );

  const deleteSelection = useCallback(() => {
    const sel = selectionRef.current;
    if (!building || (!sel.nodes.size && !sel.edges.size)) return;
    apply((d) => removeElements(d, sel.nodes, sel.edges));
    setSelection(EMPTY);
  }, [apply, setSelection, building]);

  const clipboard = useClipboard({
    getDoc: () => hist.docRef.current.present,
    getSelected: () => selectionRef.current.nodes,
    apply,
    select: selectOnly,
    notify: (text) => flash({ kind: "info", text }),
  });

  const tidyUp = useCallback(async () => {
    const { tidy } = await import("./layout"); // dagre loads on first use
    apply((d) =>
      tidy(d, (id) => {
        const n = rf.current?.getInternalNode(id);
        return n?.measured?.width ? { width: n.measured.width, height: n.measured.height || 80 } : undefined;
      }),
    );
    setTimeout(() => rf.current && fitDocument(rf.current, hist.docRef.current.present!), 50);
  }, [apply, hist.docRef]);

  const pickProblem = useCallback(
    (p: Problem) => {
      if (p.node) {
        selectOnly([p.node]);
        const n = rf.current?.getInternalNode(p.node);
        if (n) {
          const w = n.measured?.width || 200;
          const h = n.measured?.height || 80;
          rf.current?.setCenter(n.internals.positionAbsolute.x + w / 2, n.internals.positionAbsolute.y + h / 2, { zoom: Math.max(rf.current.getZoom(), 0.9), duration: 200 });
        }
      } else if (p.edge) selectOnly([], [p.edge]);
    },
    [selectOnly],
  );

  const ignore = () => undefined;
  useShortcuts({
    save: () => save(),
    remove: deleteSelection,
    undo: mode === "view" ? ignore : hist.undo,
    redo: mode === "view" ? ignore : hist.redo,
    copy: clipboard.copy,
    paste: building ? clipboard.paste : ignore,
    duplicate: building ? clipboard.duplicate : ignore,
    selectAll: () => selectOnly(hist.docRef.current.present?.nodes.map((n) => n.id) || []),
    clear: () => setSelection(EMPTY),
  });

  if (loadError) {
    return (
      <div className="page-message">
        <p>{loadError}</p>
        <button className="btn" onClick={() => navigate("/flows")}>Back to flows</button>
      </div>
    );
  }
  if (!doc) return <div className="page-message">Loading flow…</div>;

  const selectedNode = selection.nodes.size === 1 ? doc.nodes.find((n) => selection.nodes.has(n.id)) || null : null;
  const errorCount = problems.filter((p) => p.severity === "error").length;

  return (
    <div className="editor">
      <Toolbar
        doc={doc}
        mode={mode}
        canRun={can("runs:write")}
        dirty={dirty}
        revision={revision}
        deployed={deployed}
        errorCount={errorCount}
        busy={busy !== null}
        running={running}
        canUndo={hist.canUndo}
        canRedo={hist.canRedo}
        onBack={() => {
          if (!dirty || confirm("Discard unsaved changes to this flow?")) navigate("/flows");
        }}
        onUndo={hist.undo}
        onRedo={hist.redo}
        onTidy={tidyUp}
        onSave={() => save()}
        onDeploy={deploy}
        onRun={runSample}
        onMonitor={() => {
          if (!dirty || confirm("Leave the editor? Unsaved changes to this flow are lost.")) navigate(`/monitor/${encodeURIComponent(doc.id)}`);
        }}
      />
      {conflict && (
        <div className="banner error" data-testid="conflict">
          Someone else saved a newer draft of this flow after you opened it. Your changes are not saved.
          <button className="btn small" onClick={load}>Load their version</button>
          <button className="btn small danger" onClick={() => save(true)}>Overwrite with mine</button>
        </div>
      )}
      {mode !== "build" && (
        <div className="banner info" data-testid="mode-banner">
          {mode === "mapping"
            ? "You can change this flow's mappings, lookup fields and samples; its structure is read-only."
            : suspended()
              ? "Read only: this workspace is suspended."
              : "Read only: your role cannot change this flow."}
        </div>
      )}
      {notice && (
        <div className={`toast ${notice.kind}`} data-testid="notice" onClick={() => setNotice(null)}>
          {notice.text}
        </div>
      )}
      <div className="workspace">
        {building && <Palette types={nodeTypes} onAdd={(t) => addType(t)} />}
        <div className="center">
          <ReactFlowProvider>
            <Canvas
              doc={doc}
              specs={specs}
              selection={selection}
              problemsByNode={problemsByNode}
              problemsByEdge={problemsByEdge}
              steps={steps}
              apply={applyPruned}
              onSelect={setSelection}
              onDropType={addType}
              onInit={(inst) => (rf.current = inst)}
              readOnly={!building}
              onReady={() => {
                ready.current = true;
                if (window.__crossdock) Object.assign(window.__crossdock, { ready: true, readyAt: performance.now() });
              }}
            />
          </ReactFlowProvider>
          <ProblemsPanel doc={doc} problems={located} checking={checking} onPick={pickProblem} collapsed={problemsCollapsed} onToggle={() => setProblemsCollapsed(!problemsCollapsed)} />
        </div>
        <Inspector
          doc={doc}
          node={selectedNode}
          selectedCount={selection.nodes.size}
          spec={selectedNode ? specs.get(selectedNode.type) : undefined}
          problems={selectedNode ? problemsByNode.get(selectedNode.id) || [] : []}
          step={selectedNode ? steps.get(selectedNode.id) : undefined}
          samples={samples}
          setSample={(id, text) => setSamples((m) => new Map(m).set(id, text))}
          apply={applyPruned}
          onDeleteSelection={deleteSelection}
          onDuplicateSelection={clipboard.duplicate}
          choices={choices}
          mode={mode}
        />
      </div>
    </div>
  );
}
