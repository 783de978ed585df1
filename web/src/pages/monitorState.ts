// Monitor mode's figures: the window's /stats as a baseline plus the live events since, per node and edge, of one
// version of the flow (runs of other versions are left out, so a count never mixes two graphs; step events carry no
// version: a run's comes with its run.queued / run.started). An overlay on the canvas, never part of the flow document. Work per batch is bounded by the runs in flight
// and the nodes that changed, never by the number of events in the window (1,000 events/s for 5 minutes).
import type { FlowDoc, FlowStats } from "../types";
import type { NodeMonitor } from "../editor/nodes";
import type { LiveEvent } from "../live";
import { OPEN_STATUSES } from "../runStatus";

interface Agg {
  in: number;
  out: number;
  failed: number;
  sum: number; // of finished attempts' durations
  count: number;
}

/** One run's contributions, or a second's worth of finished runs' contributions. */
interface Part {
  nodes: Map<string, Agg>;
  ports: Map<string, number>; // "node\0port" -> messages
  runs: Map<string, number>; // final status -> runs
}

const RING = 1000; // finished attempts per node kept for the live p95
const MAX_PENDING = 10_000; // runs in flight remembered (a run whose end was missed is dropped eventually)

const agg = (): Agg => ({ in: 0, out: 0, failed: 0, sum: 0, count: 0 });
const part = (): Part => ({ nodes: new Map(), ports: new Map(), runs: new Map() });

function nodeOf(p: Part, id: string): Agg {
  let a = p.nodes.get(id);
  if (!a) p.nodes.set(id, (a = agg()));
  return a;
}

/** target += sign * source */
function merge(target: Part, source: Part, sign: 1 | -1) {
  for (const [id, s] of source.nodes) {
    const t = nodeOf(target, id);
    t.in += sign * s.in;
    t.out += sign * s.out;
    t.failed += sign * s.failed;
    t.sum += sign * s.sum;
    t.count += sign * s.count;
  }
  for (const [k, n] of source.ports) target.ports.set(k, (target.ports.get(k) || 0) + sign * n);
  for (const [k, n] of source.runs) target.runs.set(k, (target.runs.get(k) || 0) + sign * n);
}

class Ring {
  values: number[] = [];
  private next = 0;
  dirty = false;
  p95: number | null = null;
  push(v: number) {
    if (this.values.length < RING) this.values.push(v);
    else this.values[this.next] = v;
    this.next = (this.next + 1) % RING;
    this.dirty = true;
  }
  percentile(): number | null {
    if (this.dirty) {
      const sorted = [...this.values].sort((a, b) => a - b);
      this.p95 = sorted.length ? sorted[Math.max(0, Math.ceil(0.95 * sorted.length) - 1)] : null;
      this.dirty = false;
    }
    return this.p95;
  }
}

export class MonitorState {
  private base: FlowStats | null = null;
  /** runs in flight: what their events added so far (their steps are not in /stats until they end) */
  private pending = new Map<string, { first: number; part: Part }>();
  /** finished runs' contributions per second of their end, oldest first, and their running total */
  private buckets: { sec: number; part: Part }[] = [];
  private settled = part();
  private open = new Map<string, string>(); // "run:seq" -> node id, steps running now
  private openRuns = new Map<string, string>(); // run id -> queued | running
  private lastFailed = new Map<string, boolean>();
  private rings = new Map<string, Ring>();
  private runVersions = new Map<string, number>(); // run id -> its version, of the runs heard of and not ended
  eventsSeen = 0;

  /** version: the one counted (null: every version). */
  constructor(readonly version: number | null = null) {}

  /** Whether an event is of another version's run (a run whose version was not heard of counts). */
  private otherVersion(e: LiveEvent, run: string): boolean {
    if (this.version === null) return false;
    if (typeof e.version === "number") {
      if (e.event === "run.finished") this.runVersions.delete(run);
      else {
        this.runVersions.set(run, e.version);
        if (this.runVersions.size > MAX_PENDING) this.runVersions.delete(this.runVersions.keys().next().value!);
      }
      return e.version !== this.version;
    }
    const v = this.runVersions.get(run);
    return v !== undefined && v !== this.version;
  }

  setBaseline(stats: FlowStats) {
    this.base = stats;
    const until = Date.parse(stats.until);
    // runs that ended by the baseline's end are counted in it now
    while (this.buckets.length && this.buckets[0].sec * 1000 <= until) merge(this.settled, this.buckets.shift()!.part, -1);
  }

  apply(batch: LiveEvent[]) {
    this.eventsSeen += batch.length;
    for (const e of batch) {
      if (e.run_id === undefined || e.run_id === null) continue; // flow.deployed: the page acts on it
      const run = String(e.run_id);
      if (this.otherVersion(e, run)) continue;
      if (e.event === "run.queued" || e.event === "run.started") {
        this.openRuns.set(run, e.event === "run.queued" ? "queued" : "running");
        continue;
      }
      if (e.event === "run.finished") {
        this.openRuns.delete(run);
        const p = this.pending.get(run)?.part || part();
        this.pending.delete(run);
        if (e.status) p.runs.set(e.status, 1);
        const sec = Math.floor(e.ts / 1000);
        let last = this.buckets[this.buckets.length - 1];
        if (!last || last.sec < sec) this.buckets.push((last = { sec, part: part() }));
        merge(last.part, p, 1);
        merge(this.settled, p, 1);
        continue;
      }
      if (!e.node_id) continue;
      let pend = this.pending.get(run);
      if (!pend) {
        this.pending.set(run, (pend = { first: e.ts, part: part() }));
        if (this.pending.size > MAX_PENDING) this.pending.delete(this.pending.keys().next().value!);
      }
      const a = nodeOf(pend.part, e.node_id);
      const key = `${run}:${e.seq}`;
      if (e.event === "step.started") {
        a.in++;
        this.open.set(key, e.node_id);
      } else {
        this.open.delete(key);
        if (e.event === "step.succeeded") a.out++;
        else a.failed++;
        this.lastFailed.set(e.node_id, e.event === "step.failed");
        if (typeof e.duration_ms === "number") {
          a.sum += e.duration_ms;
          a.count++;
          let ring = this.rings.get(e.node_id);
          if (!ring) this.rings.set(e.node_id, (ring = new Ring()));
          ring.push(e.duration_ms);
        }
        for (const port of (e.port || "").split(",").filter(Boolean)) {
          const k = `${e.node_id}\u0000${port}`;
          pend.part.ports.set(k, (pend.part.ports.get(k) || 0) + 1);
        }
      }
    }
  }

  /** Finished runs older than the window fall out (so do runs in flight whose end never came). */
  prune(windowS: number) {
    const cutoff = Date.now() - windowS * 1000;
    while (this.buckets.length && (this.buckets[0].sec + 1) * 1000 < cutoff) merge(this.settled, this.buckets.shift()!.part, -1);
    for (const [run, p] of this.pending) {
      if (p.first >= cutoff) break; // insertion order is start order
      this.pending.delete(run);
    }
    if (this.open.size > MAX_PENDING) this.open.clear();
  }

  /** Everything live on top of the baseline: finished runs since it plus runs in flight. */
  private live(): Part {
    const total = part();
    merge(total, this.settled, 1);
    for (const p of this.pending.values()) merge(total, p.part, 1);
    return total;
  }

  nodes(doc: FlowDoc): Map<string, NodeMonitor> {
    const live = this.live();
    const running = new Map<string, number>();
    for (const node of this.open.values()) running.set(node, (running.get(node) || 0) + 1);
    const out = new Map<string, NodeMonitor>();
    for (const n of doc.nodes) {
      const b = this.base?.nodes[n.id];
      const l = live.nodes.get(n.id);
      const bFinished = b ? b.out + b.failed : 0;
      const lCount = l?.count || 0;
      const avg = bFinished + lCount ? ((b?.avg_ms || 0) * bFinished + (l?.sum || 0)) / (bFinished + lCount) : null;
      // the live p95 (the newest 1,000 attempts) once there are enough of them or no baseline figure
      const ring = this.rings.get(n.id);
      const p95 = ring && (ring.values.length >= 50 || b?.p95_ms == null) ? ring.percentile() : (b?.p95_ms ?? null);
      const failed = (b?.failed || 0) + (l?.failed || 0);
      const outCount = (b?.out || 0) + (l?.out || 0);
      out.set(n.id, {
        in: (b?.in || 0) + (l?.in || 0),
        out: outCount,
        failed,
        avg_ms: avg,
        p95_ms: p95,
        running: running.get(n.id) || 0,
        lastFailed: this.lastFailed.get(n.id) ?? (failed > 0 && outCount === 0),
      });
    }
    return out;
  }

  edges(doc: FlowDoc): Map<string, string> {
    const live = this.live();
    const byPort = new Map<string, number>(live.ports);
    for (const e of this.base?.edges || []) {
      const k = `${e.source}\u0000${e.source_port}`;
      byPort.set(k, (byPort.get(k) || 0) + e.messages);
    }
    const labels = new Map<string, string>();
    for (const e of doc.edges) labels.set(e.id, (byPort.get(`${e.source}\u0000${e.source_port}`) || 0).toLocaleString("en-US"));
    return labels;
  }

  runs(): Record<string, number> {
    const counts: Record<string, number> = { ...(this.base?.runs || {}) };
    for (const [status, n] of this.settled.runs) counts[status] = (counts[status] || 0) + n;
    if (this.eventsSeen) {
      // queued and running are "now", not "in the window": the runs seen starting live and not finished yet
      for (const st of OPEN_STATUSES) counts[st] = 0;
      for (const st of this.openRuns.values()) counts[st]++;
    }
    return counts;
  }
}
