"""The peer-bench flow (Node-RED's /order flow and Crossdock's twin, measured on the same machine) in both of
Crossdock's modes, side by side in one run: embedded (`run.py`: SQLite, in-process queue) and production
(`run.py web` + 2 `run.py worker`, PostgreSQL + Redis), the same load on each.

    python3 bench/peer_flow.py [--mode embedded,production] [--reps 2] [--duration 10] [--warmup 2] [--conc 16]

The flow: webhook -> transform.map (the reference mapping, bench/order_to_erp.jsonata) -> branch.choice on
the ship method -> control.respond (sync twin) or -> transform.map -> control.discard (async twin). The load
is wrk (1 thread, --conc connections) posting bench/sample_order.json. Per mode and rep it prints:
async intake (202 once the run is stored) req/s and p99; async end to end: runs/s from the first run
accepted to the last one finished, every run of the load counted; sync reply req/s and p99; CPU per run of
Crossdock's own processes, in all and by process kind (web, worker, executor; and, apart, the machine's
PostgreSQL and Redis processes: in production they do the work SQLite does inside the process in embedded
mode). Then the medians of the reps and the ratio
production / embedded of each rep (the modes alternate within a rep, so both see the same machine).
Figures only, never asserted.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import requests  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
MAPPING = open(os.path.join(HERE, "order_to_erp.jsonata")).read()
ORDER_FILE = os.path.join(HERE, "sample_order.json")
HZ = os.sysconf("SC_CLK_TCK")
MODES = {"embedded": "embedded", "production": "redis"}  # harness.Processes.crossdock's names
WRK_SCRIPT = r"""
local f = assert(io.open(os.getenv("ORDER_JSON"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Crossdock-Key"] = assert(os.getenv("CROSSDOCK_KEY"), "CROSSDOCK_KEY: the hooks' API key")
done = function(summary, latency, requests)
  io.write(string.format("JSON {\"requests\":%d,\"duration_s\":%.3f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"errors\":%d}\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout))
end
"""


def twin(flow_id: str, respond: str) -> dict:
    """The peer bench's Crossdock flow: the twin of Node-RED's /order flow."""
    n = lambda i, t, c: {"id": i, "type": t, "config": c}  # noqa: E731
    e = lambda i, s, t, p="out": {"id": i, "source": s, "source_port": p, "target": t, "target_port": "in"}  # noqa: E731
    nodes = [n("hook", "event.webhook", {"path": flow_id, "respond": respond}),
             n("map", "transform.map", {"expression": MAPPING}),
             n("route", "branch.choice", {"rules": [{"port": "ltl", "when": "SO_HEADER.SHIP_METHOD = 'LTL'"}]})]
    end = ("control.respond", {}) if respond == "sync" else ("transform.map", {"expression": "$"})
    nodes += [n("r1", *end), n("r2", *end)]
    edges = [e("e1", "hook", "map"), e("e2", "map", "route"), e("e3", "route", "r1", "ltl"),
             e("e4", "route", "r2", "otherwise")]
    if respond != "sync":
        nodes.append(n("end", "control.discard", {"reason": "benchmark: the run's steps are the result"}))
        edges += [e("e5", "r1", "end"), e("e6", "r2", "end")]
    return {"schema": "crossdock.flow/1", "id": flow_id, "name": flow_id, "nodes": nodes, "edges": edges}


def wrk(url: str, seconds: float, conc: int, script: str) -> dict:
    env = {**os.environ, "ORDER_JSON": ORDER_FILE, "CROSSDOCK_KEY": harness.headers(url)["X-Crossdock-Key"]}
    out = subprocess.run(["wrk", "-t1", f"-c{conc}", f"-d{max(1, round(seconds))}s", "--timeout", "10s", "-s", script,
                          url], capture_output=True, text=True, env=env, check=True).stdout
    line = [ln for ln in out.splitlines() if ln.startswith("JSON ")][0]
    result = json.loads(line[5:])
    result["rps"] = result["requests"] / result["duration_s"]
    return result


def kind_of(cmdline: str) -> str:
    """A Crossdock process's kind, by its command line: the web process (embedded: web + maintenance),
    a production worker, an embedded executor, or another (the sandbox systems, gunicorn's master)."""
    if "runtime.executor_process" in cmdline:
        return "executor"
    if "run.py worker" in cmdline:
        return "worker"
    if "run.py web" in cmdline or cmdline.rstrip().endswith("run.py"):
        return "web"
    return "other"


def tree_cpu(pids: list[int]) -> dict[str, float]:
    """CPU seconds (user + system) of these processes and all their descendants, as of now, by process kind
    (kind_of; a forked child of RQ's worker counts as a worker)."""
    stats = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
                cmdline = open(f"/proc/{entry}/cmdline").read().replace("\0", " ")
            except OSError:
                continue
            stats[int(entry)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / HZ, kind_of(cmdline))
    wanted = set(pids)
    changed = True
    while changed:
        more = {pid for pid, (ppid, _, _) in stats.items() if ppid in wanted and pid not in wanted}
        wanted |= more
        changed = bool(more)
    by_kind: dict[str, float] = {}
    for pid in wanted:
        if pid in stats:
            _, cpu, kind = stats[pid]
            by_kind[kind] = by_kind.get(kind, 0.0) + cpu
    return by_kind


def cpu_between(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {kind: after[kind] - before.get(kind, 0.0) for kind in after}


def services_cpu() -> dict[int, float]:
    """CPU seconds of each PostgreSQL and Redis server process of the machine, by pid."""
    seconds = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if open(f"/proc/{entry}/comm").read().strip() in ("postgres", "redis-server"):
                    fields = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
                    seconds[int(entry)] = (int(fields[11]) + int(fields[12])) / HZ
            except OSError:
                continue
    return seconds


def spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds between two services_cpu() readings (a connection's process may come or go between)."""
    return sum(max(0.0, cpu - before.get(pid, 0.0)) for pid, cpu in after.items())


def drain(base: str, flow_id: str, timeout: float = 900) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page = requests.get(base + "/api/v1/runs", params={"flow_id": flow_id, "status": "queued,running",
                                                                     "limit": 1},
                            headers=harness.headers(base)).json()
        if not page["runs"]:
            return
        time.sleep(0.25)
    raise RuntimeError(f"runs of {flow_id} did not finish in {timeout} s")


def once(mode: str, args, script: str) -> dict:
    procs = harness.Processes()
    try:
        base, _env = procs.crossdock(MODES[mode], workers=2)
        for doc in (twin("nr-order", "sync"), twin("nr-order-async", "async")):
            harness.deploy(base, doc)
        pids = [p.pid for p in procs.procs]
        async_url, sync_url = base + "/hooks/default/nr-order-async", base + "/hooks/default/nr-order"
        wrk(async_url, args.warmup, args.conc, script)  # warm-up: plans, connections, caches
        wrk(sync_url, args.warmup, args.conc, script)
        drain(base, "nr-order-async")
        warm_ids = {r["id"] for r in harness.list_runs(base, "nr-order-async")}

        cpu0, svc0 = tree_cpu(pids), services_cpu()
        intake = wrk(async_url, args.duration, args.conc, script)
        drain(base, "nr-order-async")
        cpu1, svc1 = tree_cpu(pids), services_cpu()
        runs = [r for r in harness.list_runs(base, "nr-order-async") if r["id"] not in warm_ids]
        ends = harness.timings(runs)

        cpu2 = tree_cpu(pids)
        sync = wrk(sync_url, args.duration, args.conc, script)
        cpu3 = tree_cpu(pids)
        n = max(len(runs), 1)
        run_cpu, sync_cpu = cpu_between(cpu0, cpu1), cpu_between(cpu2, cpu3)
        per_req = max(sync["requests"], 1)
        return {"intake_rps": intake["rps"], "intake_p99_ms": intake["p99_ms"], "intake_errors": intake["errors"],
                "e2e_runs_s": ends["runs_per_s"], "runs": len(runs), "failed": ends["failed"],
                "sync_rps": sync["rps"], "sync_p99_ms": sync["p99_ms"], "sync_errors": sync["errors"],
                "cpu_ms_per_run": sum(run_cpu.values()) * 1000 / n,
                "services_cpu_ms_per_run": spent(svc0, svc1) * 1000 / n,
                "sync_cpu_ms_per_req": sum(sync_cpu.values()) * 1000 / per_req,
                **{f"cpu_ms_per_run.{kind}": cpu * 1000 / n for kind, cpu in run_cpu.items()},
                **{f"sync_cpu_ms_per_req.{kind}": cpu * 1000 / per_req for kind, cpu in sync_cpu.items()}}
    finally:
        procs.stop()


COLUMNS = [("intake_rps", "intake req/s", "{:.0f}"), ("intake_p99_ms", "intake p99 ms", "{:.0f}"),
           ("e2e_runs_s", "end-to-end runs/s", "{:.1f}"), ("sync_rps", "sync req/s", "{:.0f}"),
           ("sync_p99_ms", "sync p99 ms", "{:.0f}"), ("cpu_ms_per_run", "CPU ms/run", "{:.1f}"),
           ("services_cpu_ms_per_run", "+PG/Redis ms/run", "{:.1f}")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mode", default="embedded,production", help="embedded, production or both (comma-separated)")
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--duration", type=float, default=10.0, help="seconds of each measured load")
    ap.add_argument("--warmup", type=float, default=2.0)
    ap.add_argument("--conc", type=int, default=16, help="wrk connections")
    args = ap.parse_args()
    modes = args.mode.split(",")
    if unknown := set(modes) - set(MODES):
        ap.error(f"unknown mode(s) {sorted(unknown)}: embedded, production")
    if not shutil.which("wrk"):
        sys.exit("needs wrk (Debian: apt-get install wrk)")
    script_dir = harness.Processes().tmp
    script = os.path.join(script_dir, "post_order.lua")
    open(script, "w").write(WRK_SCRIPT)

    results: dict[str, list[dict]] = {m: [] for m in modes}
    for rep in range(1, args.reps + 1):
        for mode in modes:
            r = once(mode, args, script)
            results[mode].append(r)
            print(json.dumps({"mode": mode, "rep": rep, **{k: round(v, 2) for k, v in r.items()}}), flush=True)

    print(f"\nmedian of {args.reps} rep(s), wrk 1 thread {args.conc} connections, {args.duration:g} s per load")
    print(f"{'mode':<11}" + "".join(f"{title:>19}" for _, title, _ in COLUMNS) + "   failed/wrk errors")
    for mode, reps in results.items():
        med = {k: statistics.median(r.get(k, 0.0) for r in reps) for k in reps[0]}
        errs = sum(r["failed"] for r in reps), sum(r["intake_errors"] + r["sync_errors"] for r in reps)
        print(f"{mode:<11}" + "".join(f"{fmt.format(med[k]):>19}" for k, _, fmt in COLUMNS) + f"   {errs[0]}/{errs[1]}")
    print("\nCPU ms per async run (per sync request) by process kind, median")
    for mode, reps in results.items():
        kinds = sorted({k.split(".", 1)[1] for r in reps for k in r if k.startswith("cpu_ms_per_run.")})
        print(f"  {mode:<11}" + "  ".join(
            f"{kind} {statistics.median(r.get('cpu_ms_per_run.' + kind, 0.0) for r in reps):.2f}"
            f" ({statistics.median(r.get('sync_cpu_ms_per_req.' + kind, 0.0) for r in reps):.2f})" for kind in kinds)
            + f"  PostgreSQL+Redis {statistics.median(r['services_cpu_ms_per_run'] for r in reps):.2f}")
    if len(modes) == 2 and "embedded" in modes:
        other = modes[1] if modes[0] == "embedded" else modes[0]
        print(f"\n{other} / embedded (median of the per-rep ratios; range)")
        for key, title, _ in COLUMNS[:5]:
            ratios = [p[key] / e[key] for p, e in zip(results[other], results["embedded"]) if e[key]]
            print(f"  {title:<20} {statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})")


if __name__ == "__main__":
    main()
