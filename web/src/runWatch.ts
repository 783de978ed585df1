// Following one run until it finishes, through the live events (live.ts) instead of polling it: the run is
// fetched once when one of its events says it moved, and the watch ends with the run.
import { api } from "./api";
import { subscribe, type LiveEvent, type LiveEventName } from "./live";
import { isTerminal } from "./runStatus";
import type { Run } from "./types";

// Steps are stored with the run's end (runtime/jobs.py), after their step.* events went out, so a fetch on a
// step event would read nothing new: by default only the run's own moves are fetched.
const FETCH_ON: LiveEventName[] = ["run.started", "run.finished"];

// The safety net, chosen so that it never polls while events flow. Socket.IO reconnects by itself and every
// (re)connect fetches the run once: that covers events sent while the socket was down, and the moment between
// a page's first read and its subscription. An event can still be lost with the socket up (Redis pub/sub
// delivers at most once, e.g. while a web process re-subscribes), so a run silent for 30 s is fetched once,
// then after 60 s, 120 s... (a long step, such as a slow HTTP call, costs a handful of reads, not one per 300 ms).
const QUIET_MS = 30_000;
const QUIET_MAX_MS = 300_000;

export interface RunWatchOptions {
  flowId: string;
  /** Every state fetched; the finished one comes last. */
  onRun: (run: Run) => void;
  /** The watched run's events as they arrive (a page may show step progress from them). */
  onEvent?: (event: LiveEvent) => void;
  onError?: (error: Error) => void;
  /** The events of the run that make it worth a fetch. */
  fetchOn?: LiveEventName[];
}

export interface RunWatch {
  /** Resolves once the socket is connected, or after waitMs: start a run after it and none of its events is missed. */
  ready: (waitMs?: number) => Promise<void>;
  /** Follows this run from now on; events of it heard before the call (a run faster than its POST) count too. */
  follow: (runId: string | number) => void;
  close: () => void;
}

export function watchRun(opts: RunWatchOptions): RunWatch {
  const fetchOn = new Set(opts.fetchOn ?? FETCH_ON);
  const heard = new Set<string>(); // runs with a fetch-worthy event before follow() named the one to watch
  let runId: string | null = null;
  let connected = false;
  let closed = false;
  let waiters: (() => void)[] = [];
  let inFlight = false;
  let again = false; // an event came while a fetch was under way: fetch once more after it
  let quietTimer = 0;
  let quietMs = QUIET_MS;

  const fetchRun = async (): Promise<void> => {
    if (closed || runId === null) return;
    if (inFlight) {
      again = true;
      return;
    }
    inFlight = true;
    let finished = false;
    try {
      const run = await api.getRun(runId);
      if (closed) return;
      opts.onRun(run);
      finished = isTerminal(run.status);
    } catch (e) {
      if (!closed) opts.onError?.(e as Error);
    } finally {
      inFlight = false;
    }
    if (finished) close();
    else if (again) {
      again = false;
      void fetchRun();
    }
  };

  const armQuiet = () => {
    window.clearTimeout(quietTimer);
    if (closed || runId === null) return;
    quietTimer = window.setTimeout(() => {
      quietMs = Math.min(QUIET_MAX_MS, quietMs * 2);
      void fetchRun();
      armQuiet();
    }, quietMs);
  };

  const sub = subscribe({
    flowId: opts.flowId,
    intervalMs: 100,
    onStatus: (up) => {
      connected = up;
      if (!up) return;
      for (const resolve of waiters) resolve();
      waiters = [];
      void fetchRun();
    },
    onBatch: (batch) => {
      let fetch = false;
      let mine = false;
      for (const e of batch) {
        const id = String(e.run_id);
        if (runId === null) {
          if (fetchOn.has(e.event)) heard.add(id);
        } else if (id === runId) {
          mine = true;
          opts.onEvent?.(e);
          fetch ||= fetchOn.has(e.event);
        }
      }
      if (!mine) return;
      quietMs = QUIET_MS;
      armQuiet();
      if (fetch) void fetchRun();
    },
  });

  function close() {
    if (closed) return;
    closed = true;
    window.clearTimeout(quietTimer);
    for (const resolve of waiters) resolve();
    waiters = [];
    sub.close();
  }

  return {
    ready: (waitMs = 2000) =>
      connected || closed
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            waiters.push(resolve);
            window.setTimeout(resolve, waitMs);
          }),
    follow: (id) => {
      runId = String(id);
      armQuiet();
      if (heard.has(runId)) void fetchRun();
      heard.clear();
    },
    close,
  };
}
