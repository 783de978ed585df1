// The flow document the editor holds: loaded from the server, changed through its undo history, saved at
// a revision (a newer draft by someone else is a conflict, not an overwrite) and deployed. The problems the
// server returns with a load, save or refusal are handed to `problems` (validation.ts keeps them).
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { EditMode } from "../access";
import { api, ApiError } from "../api";
import type { FlowDoc, Problem } from "../types";
import { useHistory } from "./history";
import type { Notice } from "./notice";

type Viewport = NonNullable<FlowDoc["viewport"]>;

/** What the document hook tells the problems it does not keep, and asks of them. */
export interface ProblemSink {
  loaded: (json: string, problems: Problem[]) => void;
  saved: (json: string, problems: Problem[]) => void;
  report: (problems: Problem[]) => void;
  reveal: () => void;
  errors: () => Problem[];
}

interface Deps {
  flowId: string;
  mode: EditMode;
  flash: (n: Notice) => void;
  /** The canvas's view now, saved with the document by a builder. */
  viewport: () => Viewport | undefined;
  /** Called after each load, e.g. to show the flow's last run. */
  onLoaded: () => void;
  /** Where the problems go; read when they arrive, so it may be a hook called after this one. */
  problems: () => ProblemSink;
}

export function useFlowDocument(deps: Deps) {
  const { flowId, mode, flash } = deps;
  const building = mode === "build";
  const hist = useHistory();
  const { doc } = hist;
  const [loadError, setLoadError] = useState<string | null>(null);
  const [revision, setRevision] = useState<number | null>(null);
  const [savedJson, setSavedJson] = useState("");
  const [deployed, setDeployed] = useState<number | null>(null);
  const [conflict, setConflict] = useState(false);
  const [busy, setBusy] = useState<string | null>(null);
  const latest = useRef(deps); // the callbacks of the newest render, for the stable ones below
  latest.current = deps;

  const load = useCallback(async () => {
    try {
      const rec = await api.getFlow(flowId);
      hist.reset(rec.flow);
      setRevision(rec.revision);
      setSavedJson(JSON.stringify(rec.flow));
      latest.current.problems().loaded(JSON.stringify(rec.flow), rec.problems || []);
      setDeployed(rec.deployed_version);
      setConflict(false);
      latest.current.onLoaded();
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

  const save = useCallback(
    async (overwrite = false): Promise<boolean> => {
      const current = hist.docRef.current.present;
      if (!current || mode === "view") return false;
      const v = latest.current.problems();
      setBusy("save");
      try {
        let rev = revision;
        if (overwrite) rev = (await api.getFlow(current.id)).revision;
        // a mapper saves the view as it was stored: the layout is part of the structure they do not change
        const vp = building ? latest.current.viewport() : undefined;
        const viewport = vp ? { x: Math.round(vp.x), y: Math.round(vp.y), zoom: Math.round(vp.zoom * 1000) / 1000 } : current.viewport;
        const rec = await api.saveFlow(viewport ? { ...current, viewport } : current, rev);
        setRevision(rec.revision);
        setSavedJson(JSON.stringify(current));
        setConflict(false);
        if (rec.problems) v.saved(JSON.stringify(current), rec.problems);
        flash({ kind: "ok", text: `Saved (revision ${rec.revision}).` });
        return true;
      } catch (e) {
        if (e instanceof ApiError && e.status === 409) {
          setConflict(true);
        } else if (e instanceof ApiError && e.details.length) {
          v.report(e.details);
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
    const v = latest.current.problems();
    const errors = v.errors();
    if (errors.length) {
      v.reveal();
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
      if (e instanceof ApiError && e.details.length) v.report(e.details);
      flash({ kind: "error", text: `Deploy refused: ${(e as Error).message}` });
    } finally {
      setBusy(null);
    }
  }, [flash, save, savedJson, hist.docRef]);

  return { hist, doc, docJson, dirty, loadError, revision, deployed, conflict, busy: busy !== null, load, save, deploy };
}
