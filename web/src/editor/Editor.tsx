// The flow editor page: toolbar, palette, canvas, inspector and problems, wired to the server through api.ts.
// How much can change follows the user's role (access.editMode): everything, mappings only, or nothing.
// The state lives in hooks of its own: the document and its history (flowDocument.ts), its problems
// (validation.ts), the run on the canvas (run.ts), the selection and the toast; this page composes them.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { ReactFlowProvider, type Edge, type ReactFlowInstance } from "@xyflow/react";
import { can, editMode, suspended, type EditMode } from "../access";
import type { FlowDoc, NodeType, Problem } from "../types";
import { Canvas, fitDocument } from "./Canvas";
import { addNode, pruneEdges, removeElements } from "./document";
import { useFlowDocument } from "./flowDocument";
import { Inspector } from "./Inspector";
import type { CanvasNode } from "./nodes";
import { useClipboard } from "./clipboard";
import { useNotice } from "./notice";
import { Palette } from "./Palette";
import { useRun } from "./run";
import { EMPTY_SELECTION, useSelection } from "./selection";
import { useShortcuts } from "./shortcuts";
import { renderSummary } from "./summary";
import { Toolbar } from "./Toolbar";
import { ProblemsPanel } from "./ProblemsPanel";
import { useValidation } from "./validation";
import { useWorkspaceChoices } from "./workspaceChoices";

declare global {
  interface Window {
    __crossdock?: {
      ready: boolean;
      readyAt?: number;
      mode?: EditMode;
      getFlow: () => FlowDoc | null;
      getProblems: () => Problem[];
      getSelection: () => string[];
      renderSummary?: typeof renderSummary;
    };
  }
}

export function Editor({ flowId, nodeTypes, navigate }: { flowId: string; nodeTypes: NodeType[]; navigate: (path: string) => void }) {
  const specs = useMemo(() => new Map(nodeTypes.map((t) => [t.type, t])), [nodeTypes]);
  const mode = useMemo(() => editMode(), []);
  const building = mode === "build";
  const rf = useRef<ReactFlowInstance<CanvasNode, Edge> | null>(null);
  const ready = useRef(false);
  const [samples, setSamples] = useState(new Map<string, string>());
  const choices = useWorkspaceChoices();
  const { notice, flash, dismiss } = useNotice();
  const { selection, selectionRef, setSelection, selectOnly } = useSelection();
  // the document hands the problems its server answers bring to validation, and asks the run for the last
  // one; both are read when a load or save ends, after this render made them
  const flow = useFlowDocument({
    flowId,
    mode,
    flash,
    viewport: () => rf.current?.getViewport(),
    onLoaded: () => run.showLast(flowId),
    problems: () => validation,
  });
  const { hist, doc, dirty, save, deploy } = flow;
  const { apply } = hist;
  const validation = useValidation(doc, flow.docJson);
  const { problemsByNode, problemsByEdge } = validation;
  const run = useRun({ docRef: hist.docRef, deployed: flow.deployed, flash });
  const { steps } = run;

  // Test hook: read-only view of what the canvas holds, and the summary renderer (tests/web/test_summary.py).
  useEffect(() => {
    window.__crossdock = {
      ready: ready.current,
      readyAt: window.__crossdock?.readyAt,
      mode,
      getFlow: () => hist.docRef.current.present,
      getProblems: () => validation.problemsRef.current,
      getSelection: () => [...selectionRef.current.nodes],
      renderSummary,
    };
  });

  const applyPruned = useCallback<typeof apply>((fn, change) => apply((d) => pruneEdges(fn(d), specs), change), [apply, specs]);

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
    setSelection(EMPTY_SELECTION);
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
    clear: () => setSelection(EMPTY_SELECTION),
  });

  if (flow.loadError) {
    return (
      <div className="page-message">
        <p>{flow.loadError}</p>
        <button className="btn" onClick={() => navigate("/flows")}>Back to flows</button>
      </div>
    );
  }
  if (!doc) return <div className="page-message">Loading flow…</div>;

  const selectedNode = selection.nodes.size === 1 ? doc.nodes.find((n) => selection.nodes.has(n.id)) || null : null;
  const errorCount = validation.problems.filter((p) => p.severity === "error").length;

  return (
    <div className="editor">
      <Toolbar
        doc={doc}
        mode={mode}
        canRun={can("runs:write")}
        dirty={dirty}
        revision={flow.revision}
        deployed={flow.deployed}
        errorCount={errorCount}
        busy={flow.busy}
        running={run.running}
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
        onRun={run.start}
        onMonitor={() => {
          if (!dirty || confirm("Leave the editor? Unsaved changes to this flow are lost.")) navigate(`/monitor/${encodeURIComponent(doc.id)}`);
        }}
      />
      {flow.conflict && (
        <div className="banner error" data-testid="conflict">
          Someone else saved a newer draft of this flow after you opened it. Your changes are not saved.
          <button className="btn small" onClick={flow.load}>Load their version</button>
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
        <div className={`toast ${notice.kind}`} data-testid="notice" onClick={dismiss}>
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
          <ProblemsPanel doc={doc} problems={validation.located} checking={validation.checking} onPick={pickProblem} collapsed={validation.collapsed} onToggle={validation.toggle} />
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
