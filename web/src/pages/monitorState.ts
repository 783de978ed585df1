// Monitor mode's figures: the window's /stats as a baseline plus the live events since, per node and edge.
// An overlay on the canvas, never part of the flow document.
import type { FlowDoc, FlowStats } from "../types";
import type { NodeMonitor } from "../editor/nodes";
import type { LiveEvent } from "../live";

interface NodeLive {
  in: number;
  out: number;
  failed: number;
  durations: number[];
  lastFailed: boolean | null;
}

export class MonitorState {
  private base: FlowStats | null = null;
  private baseUntil = 0;
  private events: LiveEvent[] = [];
  /** run id -> ts of its run.finished (its steps are stored then, and counted by the next /stats) */
  private finished = new Map<string, number>();
  private open = new Map<string, string>(); // "run:seq" -> node id, steps running now
  private lastFailed = new Map<string, boolean>();
  private openRuns = new Map<string, string>(); // run id -> queued | running, runs seen live and not finished
  eventsSeen = 0;

  setBaseline(stats: FlowStats) {
    this.base = stats;
    this.baseUntil = Date.parse(stats.until);
    // events already inside the new baseline: those of runs that had finished by its end
    this.events = this.events.filter((e) => {
      const done = this.finished.get(String(e.run_id));
      return !(done !== undefined && done <= this.baseUntil && e.ts <= this.baseUntil);
    });
    for (const [run, ts] of this.finished) if (ts <= this.baseUntil) this.finished.delete(run);
  }

  apply(batch: LiveEvent[]) {
    this.eventsSeen += batch.length;
    for (const e of batch) {
      const key = `${e.run_id}:${e.seq}`;
      if (e.event === "run.finished") {
        this.finished.set(String(e.run_id), e.ts);
        this.openRuns.delete(String(e.run_id));
      } else if (e.event === "run.queued" || e.event === "run.started") this.openRuns.set(String(e.run_id), e.event === "run.queued" ? "queued" : "running");
      else if (e.event === "step.started" && e.node_id) this.open.set(key, e.node_id);
      else if ((e.event === "step.succeeded" || e.event === "step.failed") && e.node_id) {
        this.open.delete(key);
        this.lastFailed.set(e.node_id, e.event === "step.failed");
      }
      if (e.event.startsWith("step.") || e.event === "run.finished") this.events.push(e);
    }
  }

  /** Events older than the window fall out; their steps are in no later /stats either once the window passes. */
  prune(windowS: number) {
    const cutoff = Date.now() - windowS * 1000;
    if (this.events.length && this.events[0].ts < cutoff) this.events = this.events.filter((e) => e.ts >= cutoff);
  }

  nodes(doc: FlowDoc): Map<string, NodeMonitor> {
    const live = new Map<string, NodeLive>();
    const get = (id: string) => {
      let n = live.get(id);
      if (!n) live.set(id, (n = { in: 0, out: 0, failed: 0, durations: [], lastFailed: null }));
      return n;
    };
    for (const e of this.events) {
      if (!e.node_id) continue;
      if (e.event === "step.started") get(e.node_id).in++;
      else if (e.event === "step.succeeded" || e.event === "step.failed") {
        const n = get(e.node_id);
        if (e.event === "step.succeeded") n.out++;
        else n.failed++;
        if (typeof e.duration_ms === "number") n.durations.push(e.duration_ms);
      }
    }
    const running = new Map<string, number>();
    for (const node of this.open.values()) running.set(node, (running.get(node) || 0) + 1);
    const out = new Map<string, NodeMonitor>();
    for (const n of doc.nodes) {
      const b = this.base?.nodes[n.id];
      const l = live.get(n.id);
      const bFinished = b ? b.out + b.failed : 0;
      const lCount = l ? l.durations.length : 0;
      const lSum = l ? l.durations.reduce((a, x) => a + x, 0) : 0;
      const avg = bFinished + lCount ? ((b?.avg_ms || 0) * bFinished + lSum) / (bFinished + lCount) : null;
      let p95 = b?.p95_ms ?? null;
      if (l && lCount && lCount >= bFinished) {
        // nearest rank over the live attempts when they outnumber the baseline's (until the next /stats)
        const sorted = [...l.durations].sort((x, y) => x - y);
        p95 = sorted[Math.max(0, Math.ceil(0.95 * sorted.length) - 1)];
      }
      const failed = (b?.failed || 0) + (l?.failed || 0);
      const outCount = (b?.out || 0) + (l?.out || 0);
      const last = this.lastFailed.get(n.id);
      out.set(n.id, {
        in: (b?.in || 0) + (l?.in || 0),
        out: outCount,
        failed,
        avg_ms: avg,
        p95_ms: p95,
        running: running.get(n.id) || 0,
        lastFailed: last ?? (failed > 0 && outCount === 0),
      });
    }
    return out;
  }

  edges(doc: FlowDoc): Map<string, string> {
    const byPort = new Map<string, number>();
    for (const e of this.base?.edges || []) byPort.set(`${e.source}\u0000${e.source_port}`, e.messages);
    for (const e of this.events) {
      if (!e.node_id || !e.port || (e.event !== "step.succeeded" && e.event !== "step.failed")) continue;
      for (const port of e.port.split(",")) {
        const k = `${e.node_id}\u0000${port}`;
        byPort.set(k, (byPort.get(k) || 0) + 1);
      }
    }
    const labels = new Map<string, string>();
    for (const e of doc.edges) {
      const n = byPort.get(`${e.source}\u0000${e.source_port}`) || 0;
      labels.set(e.id, n.toLocaleString("en-US"));
    }
    return labels;
  }

  runs(): Record<string, number> {
    const counts: Record<string, number> = { ...(this.base?.runs || {}) };
    for (const e of this.events) if (e.event === "run.finished" && e.status) counts[e.status] = (counts[e.status] || 0) + 1;
    if (this.eventsSeen) {
      // queued and running are "now", not "in the window": the runs seen starting live and not finished yet
      counts.queued = counts.running = 0;
      for (const st of this.openRuns.values()) counts[st]++;
    }
    return counts;
  }
}
