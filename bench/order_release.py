"""Orders/s and order-to-WMS latency of the order-release template against the sandbox systems (issue 5,
acceptance 5).

Usage: python bench/order_release.py [--orders 2000] [--modes embedded,redis] [--sandbox thread|process]
Embedded: one `run.py` process (SQLite, in-process queue, its own sandbox in threads). Redis: `run.py web` +
2 `run.py worker` on PostgreSQL + Redis, and `run.py sandbox` in its own process. Orders are created in
the sandbox OMS first, then their orders/create payloads are posted to the flow's webhook.
Latency: from the run's intake to the end of its WMS shipping-order step.
CPU per order: user + system CPU of Crossdock's processes (and their children) from the first post to the
last finish, over the orders. With the sandbox in threads of the embedded process it includes the sandbox's
work; `--sandbox process` serves the sandbox from a process of its own (the embedded flow's connections are
pointed at it), so that the figure is Crossdock's own share: intake, queue, runs, steps and HTTP client.
"""
from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

CUSTOMERS = (7001, 7002, 7003, 7004)  # not 7005: its credit limit would hold most orders
SKUS = ("hw-20620-c", "hw-13687-b", "hw-87462-d", "hw-33126-c", "hw-66714-z", "hw-27737-c", "hw-55143-c",
        "hw-11884-a", "hw-34189-d", "hw-89561-b")
_sessions = threading.local()


def _session() -> requests.Session:
    if not hasattr(_sessions, "s"):
        _sessions.s = requests.Session()
    return _sessions.s


def oms_orders(sandbox: str, count: int) -> list[dict]:
    def create(i: int) -> dict:
        lines = [{"sku": SKUS[(i + k) % len(SKUS)], "quantity": 1 + (i + k) % 3} for k in range(1 + i % 3)]
        r = _session().post(f"{sandbox}/oms/api/orders", json={"order": {
            "customer": {"id": CUSTOMERS[i % len(CUSTOMERS)]}, "line_items": lines}}, timeout=30)
        r.raise_for_status()
        return r.json()["order"]

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(create, range(count)))


def oms_signer(env: dict):
    """The signature the sandbox OMS puts on its deliveries: the flows the embedded start installs check it
    instead of an API key (designer/templates.py), those imported through the API take the key."""
    from designer.templates import OMS_SIGNATURE_HEADER, oms_hook_secret
    from runtime.settings import from_env, installation_key
    from sandbox.webhooks import signature
    # the key run.py starts with: the embedded default's own (data/secret.key), unless one is set
    secret = oms_hook_secret(installation_key(from_env({**os.environ, **env})), "default")
    return lambda body: {OMS_SIGNATURE_HEADER: signature(secret, body)}


def install(base: str, sandbox: str) -> None:
    """Install the template, unless the embedded start did already (it installs the four accelerators); then
    unsubscribe the OMS from the flows' webhooks, so that each order gets exactly one run: the one posted here."""
    r = requests.post(base + "/api/v1/templates/import", headers=harness.headers(base), json={
        "template": "order-release",
        "connections": {s: {"system": s, "base_url": f"{sandbox}/{s}/api"} for s in ("erp", "oms", "wms")}})
    installed = r.status_code == 201 and r.json()["deployed_version"] is not None
    if not installed and not (r.status_code == 409 and _deployed(base, "order-release")):
        raise RuntimeError(r.text)
    subscriptions = requests.get(f"{sandbox}/oms/api/webhook-subscriptions", params={"limit": 250}).json()
    for sub in subscriptions["webhooks"]:
        requests.delete(f"{sandbox}/oms/api/webhook-subscriptions/{sub['id']}").raise_for_status()


def _deployed(base: str, flow_id: str) -> bool:
    r = requests.get(f"{base}/api/v1/flows/{flow_id}", headers=harness.headers(base))
    return r.status_code == 200 and r.json().get("deployed_version") is not None


def _connect(base: str, sandbox: str) -> None:
    """Point the workspace's connections at `sandbox` (a sandbox process of its own)."""
    for system in ("erp", "oms", "wms"):
        r = requests.put(f"{base}/api/v1/connections/{system}", headers=harness.headers(base),
                         json={"system": system, "base_url": f"{sandbox}/{system}/api"})
        r.raise_for_status()


def wait_done(base: str, flow_id: str, timeout: float = 900) -> None:
    """Every run of the flow is terminal: none queued, none running. Two one-row reads per poll, where
    paging through every run twice a second cost the server more than a tenth of its time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(requests.get(base + "/api/v1/runs", params={"flow_id": flow_id, "status": status, "limit": 1},
                                headers=harness.headers(base)).json()["runs"] for status in ("queued", "running")):
            return
        time.sleep(0.2)
    raise RuntimeError("runs did not finish in time")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes and all their descendants (Linux /proc), children reaped
    included; processes that are gone count no more."""
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats[int(entry)] = fields
            children.setdefault(int(fields[1]), []).append(int(entry))
    total, todo = 0, list(pids)
    while todo:
        pid = todo.pop()
        if pid in stats:  # fields after the name: state is [0], utime [11], stime [12], cutime [13], cstime [14]
            total += sum(int(v) for v in stats[pid][11:15])
        todo += children.get(pid, [])
    return total / os.sysconf("SC_CLK_TCK")


def latencies(base: str, runs: list[dict]) -> list[float]:
    """Milliseconds from intake to the end of the WMS step, for runs that reached the WMS."""
    parse = lambda s: time.mktime(time.strptime(s[:19], "%Y-%m-%dT%H:%M:%S")) + float("0" + s[19:-1])  # noqa: E731

    def one(run: dict) -> float | None:
        detail = _session().get(f"{base}/api/v1/runs/{run['id']}", headers=harness.headers(base),
                                timeout=30).json()["run"]
        wms = [s for s in detail["steps"] if s["node_id"] == "wms_order" and s["status"] == "succeeded"]
        return (parse(wms[0]["finished_at"]) - parse(detail["created_at"])) * 1000 if wms else None

    with ThreadPoolExecutor(8) as pool:
        return sorted(v for v in pool.map(one, runs) if v is not None)


def once(mode: str, orders: int, sandbox_in: str = "thread") -> dict:
    procs = harness.Processes()
    try:
        base, env = procs.crossdock(mode, workers=2)
        crossdock = [p.pid for p in procs.procs]
        sandbox, sandbox_pids = f"http://127.0.0.1:{env['CROSSDOCK_SANDBOX_PORT']}", []
        if mode == "redis" or sandbox_in == "process":  # a sandbox process beside Crossdock's
            own = {**env, "CROSSDOCK_DATA_DIR": env["CROSSDOCK_DATA_DIR"] + "-sandbox",
                   "CROSSDOCK_SANDBOX_PORT": str(harness.free_port())} if mode == "embedded" else env
            os.makedirs(own["CROSSDOCK_DATA_DIR"], exist_ok=True)
            sandbox_pids.append(procs.start([sys.executable, "run.py", "sandbox"], own).pid)
            sandbox = f"http://127.0.0.1:{own['CROSSDOCK_SANDBOX_PORT']}"
        harness.wait_http(sandbox + "/oms/api/products")
        install(base, sandbox)
        if mode == "embedded" and sandbox_in == "process":
            _connect(base, sandbox)
        payloads = oms_orders(sandbox, orders)
        cpu_before, sandbox_before = cpu_seconds(crossdock), cpu_seconds(sandbox_pids)
        harness.post_all(base + "/hooks/default/oms/orders", payloads, sign=oms_signer(env))
        wait_done(base, "order-release")
        cpu, sandbox_cpu = cpu_seconds(crossdock) - cpu_before, cpu_seconds(sandbox_pids) - sandbox_before
        runs = harness.wait_finished(base, "order-release", orders)
        figures = harness.timings(runs)
        lat = latencies(base, runs)
        wms = requests.get(f"{sandbox}/wms/api/shipping-orders", params={"pageSize": 1}).json()["totalCount"]
        return {**figures, "wms_orders": wms, "to_wms_p50_ms": lat[len(lat) // 2],
                "to_wms_p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))], "cpu_ms_per_order": cpu / orders * 1000,
                "sandbox_cpu_ms_per_order": sandbox_cpu / orders * 1000 if sandbox_pids else None}
    finally:
        procs.stop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=2000)
    ap.add_argument("--modes", default="embedded,redis")
    ap.add_argument("--sandbox", choices=("thread", "process"), default="thread",
                    help="embedded mode: the sandbox in threads of Crossdock's process (as `run.py` starts it), or "
                         "in a process of its own, so that the CPU figure is Crossdock's alone")
    args = ap.parse_args()
    for mode in args.modes.split(","):
        m = once(mode, args.orders, args.sandbox)
        where = "" if mode == "redis" else f" (sandbox in a {args.sandbox})"
        print(f"{mode:<9}{where} {args.orders} orders: {m['runs_per_s']:.1f} orders/s, order-to-WMS latency p50 "
              f"{m['to_wms_p50_ms']:.0f} ms, p99 {m['to_wms_p99_ms']:.0f} ms; {m['wms_orders']} WMS orders, "
              f"{m['failed']} failed runs; Crossdock CPU {m['cpu_ms_per_order']:.1f} ms per order"
              + (" (sandbox included)" if m["sandbox_cpu_ms_per_order"] is None else
                 f", sandbox process {m['sandbox_cpu_ms_per_order']:.1f} ms"), flush=True)


if __name__ == "__main__":
    main()
