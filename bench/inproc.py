"""The peer-bench flow's CPU per run inside one embedded process, without HTTP: what intake and execution
cost on their own, and where execution spends it.

    python3 bench/inproc.py [--runs 2000] [--rounds 3] [--top 25] [--one-by-one]

Builds an embedded Runtime (SQLite in a temporary directory, no worker threads), deploys the async twin
of the peer bench's flow (bench/peer_flow.py: webhook -> transform.map with the reference mapping -> branch.choice on
SO_HEADER.SHIP_METHOD = 'LTL' -> a transform.map "$" on each port -> control.discard), then per round:
intake (runtime.intake.start, as the webhook view calls it) of --runs copies of bench/sample_order.json,
then their execution on this thread as the embedded worker loop does it (runtime/queue.py LocalQueue.work:
the runs waiting are taken in batches of up to 32, runtime.jobs.run_batch: one claim, each executed, one
end write, hand-overs, live events; with --one-by-one each run alone, runtime.jobs.run_claimed). Prints CPU ms per run of each phase (median of the rounds, and the range), then
a per-layer breakdown of execution from one more round with timers around each layer (claim, the
mapping, branch.choice, the executor's own bookkeeping, events, the end write, ...), and with --top the
functions that cost most (cProfile, one more round). Figures only, never asserted.
"""
from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import select

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run as a script from anywhere

from runtime import deployments, intake, jobs  # noqa: E402
from runtime.store import claims, ends, reads  # noqa: E402
from runtime.wiring import Runtime  # noqa: E402
from runtime.models import Flow, Run  # noqa: E402
from runtime.settings import Settings  # noqa: E402

MAPPING = (HERE / "order_to_erp.jsonata").read_text()
ORDER_TEXT = (HERE / "sample_order.json").read_text()
FLOW_ID = "nr-order-async"
WORKSPACE = "default"

def twin() -> dict:
    """bench/peer_flow.py's async twin of Node-RED's /order flow."""
    n = lambda i, t, c: {"id": i, "type": t, "config": c}  # noqa: E731
    e = lambda i, s, t, p="out": {"id": i, "source": s, "source_port": p, "target": t, "target_port": "in"}  # noqa: E731
    end = ("transform.map", {"expression": "$"})
    return {"schema": "crossdock.flow/1", "id": FLOW_ID, "name": FLOW_ID,
            "nodes": [n("hook", "event.webhook", {"path": FLOW_ID, "respond": "async"}),
                      n("map", "transform.map", {"expression": MAPPING}),
                      n("route", "branch.choice", {"rules": [{"port": "ltl", "when": "SO_HEADER.SHIP_METHOD = 'LTL'"}]}),
                      n("r1", *end), n("r2", *end),
                      n("end", "control.discard", {"reason": "benchmark: the run's steps are the result"})],
            "edges": [e("e1", "hook", "map"), e("e2", "map", "route"), e("e3", "route", "r1", "ltl"),
                      e("e4", "route", "r2", "otherwise"), e("e5", "r1", "end"), e("e6", "r2", "end")]}


def runtime(data_dir: str) -> Runtime:
    rt = Runtime(Settings(data_dir=data_dir, load_samples=False))
    with rt.sessions.begin() as s:  # the draft, as tests/runtime/test_wiring.py makes it (no designer checks)
        s.add(Flow(workspace=WORKSPACE, id=FLOW_ID, name=FLOW_ID, document=twin()))
    version = deployments.deploy(rt, WORKSPACE, FLOW_ID, twin())
    rt.plan_for(WORKSPACE, FLOW_ID, version)  # planned before the first run, as a warmed process has it
    jobs.bind(rt)
    return rt


def intake_all(rt: Runtime, n: int) -> list[int]:
    """n runs stored and enqueued as the webhook view does: the body parsed per request, its text kept."""
    route = intake.find_route(rt, WORKSPACE, FLOW_ID, "POST")
    ids = []
    for _ in range(n):
        message = json.loads(ORDER_TEXT)
        ids.append(intake.start(rt, WORKSPACE, route.flow_id, route.version, message, trigger="webhook",
                                trigger_node=route.node_id).id)
    return ids


def execute_all(rt: Runtime, ids: list[int], one_by_one: bool = False) -> None:
    """The embedded worker's loop on this thread (rt.queue.work in burst: the runs waiting, taken in batches
    as a worker thread takes them), or with `one_by_one` each run alone (runtime.jobs.run_claimed, as a
    worker that never finds more than one run waiting)."""
    if one_by_one:
        rt.queue.clear()
        results = [jobs.run_claimed(rt, run_id) for run_id in ids]
    else:
        rt.queue.work(burst=True)
        with rt.reader.connect() as conn:
            status = dict(conn.execute(select(Run.id, Run.status).where(Run.id.in_(ids))).all())
        results = [status.get(run_id) for run_id in ids]
    wrong = [(run_id, result) for run_id, result in zip(ids, results) if result != "succeeded"]
    if wrong:
        raise SystemExit(f"runs not succeeded: {wrong[:5]}")


def one_round(rt: Runtime, n: int, one_by_one: bool = False) -> tuple[float, float]:
    """ms of CPU per run of intake, then of execution (this process is the only one working)."""
    c0 = time.process_time()
    ids = intake_all(rt, n)
    c1 = time.process_time()
    execute_all(rt, ids, one_by_one)
    c2 = time.process_time()
    return (c1 - c0) * 1000 / n, (c2 - c1) * 1000 / n


class Layers:
    """CPU ms of this thread spent in each layer of execution, by wrapping the functions that make it up
    (time.thread_time around each call, ~1 µs each): each layer's own time, without the layers called
    inside it (the executor's figure is its bookkeeping, without the nodes and events it calls)."""

    NODES = {"map": "mapping (reference)", "route": "branch.choice"}

    def __init__(self, rt: Runtime):
        self.seconds: dict[str, float] = {}
        self._stack: list[float] = []  # per open layer: the time its inner layers took
        self._undo: list = []
        self._wrap(jobs, "run_claimed", "jobs and the rest")
        self._wrap(jobs, "run_batch", "jobs and the rest")
        self._wrap(claims, "claim", "claim (UPDATE .. RETURNING)")
        self._wrap(claims, "claim_many", "claim (UPDATE .. RETURNING)")
        self._wrap(reads, "lineage", "lineage read")
        self._wrap(rt, "plan_for", "plan lookup")
        self._wrap(jobs, "execute", "executor bookkeeping")
        self._wrap(ends, "finish", "end write")
        self._wrap(ends, "finish_many", "end write")
        self._wrap(ends, "hand_over", "hand-over")
        self._wrap(rt.events, "publish", "events")
        for node in rt.plan_for(WORKSPACE, FLOW_ID, 1).nodes.values():
            run = self._timed(node.module.run, self.NODES.get(node.id, 'end maps "$" + discard'), listed=True)
            self._undo.append((node, "module", node.module))
            object.__setattr__(node, "module", SimpleNamespace(SPEC=node.module.SPEC, run=run))

    def _timed(self, fn, layer: str, listed: bool = False):
        seconds, stack = self.seconds, self._stack

        def timed(*args, **kwargs):
            stack.append(0.0)
            t0 = time.thread_time()
            try:
                result = fn(*args, **kwargs)
                return list(result) if listed else result  # a node's run is a generator: it works when listed
            finally:
                elapsed = time.thread_time() - t0
                inner = stack.pop()
                seconds[layer] = seconds.get(layer, 0.0) + elapsed - inner
                if stack:
                    stack[-1] += elapsed
        return timed

    def _wrap(self, owner, name: str, layer: str) -> None:
        original = getattr(owner, name)
        self._undo.append((owner, name, original))
        setattr(owner, name, self._timed(original, layer))

    def restore(self) -> None:
        for owner, name, original in reversed(self._undo):
            object.__setattr__(owner, name, original)

    def report(self, n: int, execute_ms: float) -> None:
        print(f"\nper-layer breakdown of execute (thread CPU ms per run, own time of each layer; one round "
              f"of {n} runs with timers, whose execute figure above is {execute_ms:.3f} without them)")
        order = ["claim (UPDATE .. RETURNING)", "lineage read", "plan lookup", "mapping (reference)", "branch.choice",
                 'end maps "$" + discard', "executor bookkeeping", "events", "end write", "hand-over",
                 "jobs and the rest"]
        for layer in order:
            print(f"  {layer:<30} {self.seconds.get(layer, 0.0) * 1000 / n:6.3f}")
        print(f"  {'(sum)':<30} {sum(self.seconds.values()) * 1000 / n:6.3f}")


def breakdown(rt: Runtime, n: int, one_by_one: bool = False) -> Layers:
    layers = Layers(rt)
    try:
        ids = intake_all(rt, n)
        execute_all(rt, ids, one_by_one)
    finally:
        layers.restore()
    return layers


def profile(rt: Runtime, n: int, top: int, one_by_one: bool = False) -> None:
    ids = intake_all(rt, n)
    prof = cProfile.Profile(time.thread_time)
    prof.enable()
    execute_all(rt, ids, one_by_one)
    prof.disable()
    print(f"\ntop {top} functions of execute by own time (cProfile, {n} runs)")
    pstats.Stats(prof).sort_stats("tottime").print_stats(top)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=2000, help="runs per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--top", type=int, default=0, help="also list the top N functions of execute by own time "
                    "(cProfile, one more round)")
    ap.add_argument("--one-by-one", action="store_true", help="execute each run alone (runtime.jobs.run_claimed: "
                    "its own claim and end write) instead of the embedded worker's batches")
    args = ap.parse_args()
    alone = args.one_by_one
    with tempfile.TemporaryDirectory(prefix="crossdock-inproc-") as tmp:
        rt = runtime(tmp)
        try:
            one_round(rt, min(200, args.runs), alone)  # warm-up: statement caches, the plan, SQLite's pages
            rounds = [one_round(rt, args.runs, alone) for _ in range(args.rounds)]
            intake_ms, execute_ms = [r[0] for r in rounds], [r[1] for r in rounds]
            print(f"{args.runs} runs x {args.rounds} rounds, CPU ms per run (median, range)")
            for title, values in (("intake", intake_ms), ("execute", execute_ms)):
                print(f"  {title:<8} {statistics.median(values):6.3f}  ({min(values):.3f}-{max(values):.3f})")
            breakdown(rt, args.runs, alone).report(args.runs, statistics.median(execute_ms))
            if args.top:
                profile(rt, args.runs, args.top, alone)
        finally:
            rt.close()


if __name__ == "__main__":
    main()
