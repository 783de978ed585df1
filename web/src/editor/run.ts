// The run the canvas draws on its nodes: the flow's last run when it opens, then the run the Run button starts
// with a sample, followed live until it finishes (runWatch.ts).
import { useCallback, useEffect, useMemo, useRef, useState, type RefObject } from "react";
import { api } from "../api";
import { isTerminal } from "../runStatus";
import { watchRun, type RunWatch } from "../runWatch";
import type { FlowDoc, Run, Step } from "../types";
import type { Notice } from "./notice";

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

  const start = useCallback(async () => {
    const current = docRef.current.present;
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
        if (!isTerminal(r.status)) return;
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
  }, [deployed, flash, docRef, run]);

  const steps = useMemo(() => stepsByNode(run), [run]);
  return { run, running, steps, showLast, start };
}
