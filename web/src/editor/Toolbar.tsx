// The editor's top bar: where the draft stands (saved, deployed) and the commands that change that; a role
// sees only the commands it may use (a mapper saves, a viewer only looks).
import type { EditMode } from "../access";
import { Brand } from "../pages/AppNav";
import type { FlowDoc } from "../types";
import { useState } from "react";
import { RunDialog, type RunChoice } from "./RunDialog";
import { VersionDiff } from "./VersionDiff";

const SHORTCUTS = [
  "Delete / Backspace: delete the selection",
  "Ctrl+C, Ctrl+V: copy, paste (also into another flow)",
  "Ctrl+D: duplicate",
  "Ctrl+A: select all; Shift+drag: select an area; Ctrl+click: add to the selection",
  "Ctrl+Z, Ctrl+Y: undo, redo",
  "Ctrl+S: save",
  "Esc: clear the selection",
].join("\n");

interface Props {
  doc: FlowDoc;
  mode: EditMode;
  /** Whether the user may start runs (runs:write). */
  canRun: boolean;
  dirty: boolean;
  revision: number | null;
  deployed: number | null;
  errorCount: number;
  busy: boolean;
  running: boolean;
  canUndo: boolean;
  canRedo: boolean;
  onBack: () => void;
  onUndo: () => void;
  onRedo: () => void;
  onTidy: () => void;
  onSave: () => void;
  onDeploy: () => void;
  /** Starts a run with the sample and mode picked in the run dialog. */
  onRun: (choice: RunChoice) => void;
  onMonitor: () => void;
}

export function Toolbar(p: Props) {
  const [asking, setAsking] = useState(false); // the run dialog is open
  const [changes, setChanges] = useState(false); // the Changes panel is open
  return (
    <header className="toolbar">
      <Brand />
      <button className="btn-ghost" data-testid="back" onClick={p.onBack}>
        ← Flows
      </button>
      <span className="flow-title" title={p.doc.id} data-testid="flow-title">
        {p.doc.name}
      </span>
      <span className={`save-state${p.dirty ? " dirty" : ""}`} data-testid="save-state">
        {p.dirty ? "Unsaved changes" : `Saved · rev ${p.revision}`}
      </span>
      {p.deployed != null && (
        <span className="pill deployed" data-testid="deployed">
          deployed v{p.deployed}
        </span>
      )}
      <span className="spacer" />
      <button className="btn-ghost" onClick={p.onMonitor} disabled={p.deployed == null} title={p.deployed == null ? "Deploy the flow to monitor it" : "Live counts, timings and errors of the deployed version"} data-testid="monitor">
        Monitor
      </button>
      {p.mode !== "view" && (
        <>
          <span className="sep" />
          <button className="btn-ghost" onClick={p.onUndo} disabled={!p.canUndo} title="Undo (Ctrl+Z)" data-testid="undo">↶</button>
          <button className="btn-ghost" onClick={p.onRedo} disabled={!p.canRedo} title="Redo (Ctrl+Y)" data-testid="redo">↷</button>
        </>
      )}
      {p.mode === "build" && (
        <>
          <button className="btn-ghost" onClick={p.onTidy} title="Auto-layout the flow" data-testid="tidy">Tidy up</button>
          <span className="shortcuts-hint" tabIndex={0} title={SHORTCUTS}>
            ⌨
          </span>
        </>
      )}
      <button className="btn-ghost" onClick={() => setChanges(true)} title="What changed: the draft against the deployed version, or any two versions" data-testid="changes">
        Changes
      </button>
      {changes && <VersionDiff flowId={p.doc.id} dirty={p.dirty} onClose={() => setChanges(false)} />}
      <span className="sep" />
      {p.mode !== "view" && (
        <button className="btn" onClick={p.onSave} disabled={p.busy} title="Save draft (Ctrl+S)" data-testid="save">Save</button>
      )}
      {p.mode === "build" && (
        <button
          className="btn"
          onClick={p.onDeploy}
          disabled={p.busy}
          data-testid="deploy"
          title={p.errorCount ? "Fix the errors listed under Problems first" : "Deploy this draft as a new version"}
        >
          Deploy
        </button>
      )}
      {p.canRun && (
        <button className="btn primary" onClick={() => setAsking(true)} disabled={p.running || p.busy} data-testid="run">
          {p.running ? "Running…" : "▶ Run with sample"}
        </button>
      )}
      {asking && (
        <RunDialog
          doc={p.doc}
          onClose={() => setAsking(false)}
          onRun={(choice) => {
            setAsking(false);
            p.onRun(choice);
          }}
        />
      )}
    </header>
  );
}
