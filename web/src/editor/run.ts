// The run the canvas draws on its nodes: the flow's last run when it opens, then the run the Run button starts
// with the sample and mode the user chose (RunDialog.tsx: a dry run, or a confirmed real one), followed live until
// it finishes (runWatch.ts).
import { useCallback, useEffect, useMemo, useRef, useState, type RefObject } from "react";
import { api } from "../api";
import { isTerminal } from "../runStatus";
import { watchRun, type RunWatch } from "../runWatch";
import type { FlowDoc, Run, Step } from "../types";
import type { Notice } from "./notice";
import type { RunChoice } from "./RunDialog";

function stepsByNode(run: Run | null): Map<string, Step> {
  const m = new Map<string, Step>();
  for (const s of run?.steps || []) m.set(s.node_id, s);
  return m;
}

interface Deps {
  /** The document as the editor holds it now (history.ts's ref). */
  docRef: RefObject<{ present: FlowDoc | null }>;
  /** The deployed version; a flow never deployed cannot run. */
  deployed: number | null;
  flash: (n: Notice) => void;
}

export function useRun({ docRef, deployed, flash }: Deps) {
  const [run, setRun] = useState<Run | null>(null);
  const [running, setRunning] = useState(false);
  const runWatch = useRef<RunWatch | null>(null); // the run the Run button started, until it finishes
  useEffect(() => () => runWatch.current?.close(), []);

  /** Shows the flow's newest run, if it has one (its steps colour the nodes). */
  const showLast = useCallback((flowId: string) => {
    api
      .lastRun(flowId)
      .then((r) => (r ? api.getRun(r.id) : null))
      .then((r) => r && setRun(r))
      .catch(() => undefined);
  }, []);

  /** Starts a run of the deployed version with the sample and mode the user chose (RunDialog.tsx). */
  const start = useCallback(async (choice: RunChoice) => {
    const current = docRef.current.present;
    if (!current) return;
    if (deployed == null) {
      flash({ kind: "error", text: "Deploy the flow before running it." });
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
        if (!isTerminal(r.status)) return;
        setRun(r);
        setRunning(false);
        const what = r.dry_run ? "Dry run" : "Run";
        flash({ kind: r.status === "succeeded" ? "ok" : "error", text: `${what} ${r.status}${r.duration_ms != null ? ` in ${r.duration_ms} ms` : ""}.` });
      },
    });
    runWatch.current = watch;
    await watch.ready();
    try {
      const r = await api.startRunWith(current.id, { input: choice.input, dry_run: choice.dry_run });
      watch.follow(r.id);
    } catch (e) {
      watch.close();
      setRunning(false);
      flash({ kind: "error", text: `Run not started: ${(e as Error).message}` });
    }
  }, [deployed, flash, docRef]);

  const steps = useMemo(() => stepsByNode(run), [run]);
  return { run, running, steps, showLast, start };
}
