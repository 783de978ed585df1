"""Proof under faults (issue 9): orders through the order-release template in production mode while
workers are SIGKILLed and Redis restarts; then the sandboxes are reconciled.

Usage: python bench/chaos.py [--orders 2000] [--kill-every 6] [--rate 20] [--lease 10] [--seed 9]
It starts its own redis-server (a free port from 6390 up, no persistence), `run.py sandbox`, `run.py web`
and 2 `run.py worker` on a fresh PostgreSQL schema (CROSSDOCK_BENCH_DATABASE_URL), installs the template
against the sandbox systems and creates the orders in the OMS. It then posts each order's orders/create
webhook to Crossdock as the OMS does: 5% of the orders are delivered twice (the same body and the same
X-Oms-Webhook-Id, as an OMS retrying after a lost acknowledgement: half back to back, half later among
other orders) and 5% are malformed (an unknown SKU, no lines, a negative quantity, or a body cut short).
Meanwhile a random worker is SIGKILLed every few seconds and restarted, and Redis is killed once and
started again, empty. Then: every valid order must be in the ERP and in the WMS exactly once, every
malformed one an exception (a failed run or a dead letter, or a 4xx for a body that is not JSON), and
no run left queued or running. Prints lost / duplicated / stuck (each must be 0) and the time to drain.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import requests
from sqlalchemy import create_engine, text

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import order_release  # noqa: E402

MALFORMED = ("unknown_sku", "no_lines", "negative_quantity", "cut_short")
OPEN = ("queued", "running")


class Cluster:
    """The processes under test, each in its own process group (a worker's RQ scheduler dies with it)."""

    def __init__(self, lease_s: float, logs: str):
        self.logs, self.procs, self.kills, self.crashes = logs, [], 0, 0
        self.redis_port = next(p for p in range(6390, 6490) if _port_free(p))
        self.schema = f"chaos_{uuid.uuid4().hex[:8]}"
        port, sandbox_port = harness.free_port(), harness.free_port()
        self.base, self.sandbox = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{sandbox_port}"
        self.env = {**os.environ, "CROSSDOCK_DATABASE_URL": harness.PG_URL, "CROSSDOCK_DATABASE_SCHEMA": self.schema,
                    "CROSSDOCK_REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0", "CROSSDOCK_QUEUE": "chaos",
                    "CROSSDOCK_PORT": str(port), "CROSSDOCK_SANDBOX_PORT": str(sandbox_port),
                    "CROSSDOCK_DATA_DIR": os.path.join(logs, "data"), "CROSSDOCK_LEASE_S": str(lease_s),
                    "CROSSDOCK_MAINTENANCE_S": "2", "CROSSDOCK_SHUTDOWN_GRACE_S": "5",
                    "CROSSDOCK_SECRET_KEY": harness.SECRET_KEY, **harness.LIMITS}
        self.engine = create_engine(harness.PG_URL)
        self.redis = self.sandbox_proc = self.web = None
        self.workers: list[subprocess.Popen] = []

    def start(self) -> None:
        os.makedirs(self.env["CROSSDOCK_DATA_DIR"], exist_ok=True)
        with self.engine.begin() as c:
            c.exec_driver_sql(f"CREATE SCHEMA {self.schema}")
        self.redis = self._start("redis", ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
                                           "--save", "", "--appendonly", "no"])
        self.sandbox_proc = self._start("sandbox", [sys.executable, "run.py", "sandbox"])
        self.web = self._start("web", [sys.executable, "run.py", "web"])
        harness.wait_http(self.base + "/api/v1/branding")
        harness.wait_http(self.sandbox + "/oms/api/products")
        harness.grant(self.base, self.env)  # the API key every call sends; the sandbox joins the egress allow list
        self.workers = [self._start(f"worker{i}", [sys.executable, "run.py", "worker"]) for i in range(2)]

    def _start(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(os.path.join(self.logs, f"{name}.log"), "ab")
        p = subprocess.Popen(args, cwd=harness.ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                             start_new_session=True)
        self.procs.append(p)
        return p

    def kill_worker(self, rng: random.Random) -> None:
        i = rng.randrange(len(self.workers))
        _kill(self.workers[i], signal.SIGKILL)
        self.kills += 1
        self.workers[i] = self._start(f"worker{i}", [sys.executable, "run.py", "worker"])

    def restart_dead_workers(self) -> None:
        """What a process supervisor does: a worker that exited by itself is started again (and counted)."""
        for i, p in enumerate(self.workers):
            if p.poll() is not None:
                self.crashes += 1
                self.workers[i] = self._start(f"worker{i}", [sys.executable, "run.py", "worker"])

    def restart_redis(self, down_s: float) -> None:
        _kill(self.redis, signal.SIGKILL)
        time.sleep(down_s)
        self.redis = self._start("redis", ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
                                           "--save", "", "--appendonly", "no"])

    def runs(self) -> list:
        with self.engine.connect() as c:
            c.exec_driver_sql(f"SET search_path TO {self.schema}")
            return c.execute(text("SELECT id, status, business_key, error FROM runs WHERE flow_id = 'order-release'")
                             ).all()

    def dead_letter_runs(self) -> set[int]:
        with self.engine.connect() as c:
            c.exec_driver_sql(f"SET search_path TO {self.schema}")
            return set(c.execute(text("SELECT run_id FROM dead_letters")).scalars())

    def stop(self, keep_schema: bool = False) -> None:
        for p in reversed(self.procs):
            _kill(p, signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                _kill(p, signal.SIGKILL)
        if not keep_schema:
            with self.engine.begin() as c:
                c.exec_driver_sql(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")
        self.engine.dispose()


def _kill(p: subprocess.Popen, sig) -> None:
    try:
        os.killpg(p.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
    if sig == signal.SIGKILL:
        p.wait()


def _port_free(port: int) -> bool:
    import socket
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def deliveries(orders: list[dict], rng: random.Random, dup_rate: float, bad_rate: float) -> tuple[list, dict]:
    """(order id, body bytes, webhook id) in posting order, and each order's kind: valid or a MALFORMED one."""
    kinds, posts = {}, []
    for o in orders:
        kind = rng.choice(MALFORMED) if rng.random() < bad_rate else "valid"
        kinds[o["id"]] = kind
        posts.append((o["id"], _body(o, kind), uuid.uuid4().hex))
    rng.shuffle(posts)
    valid = [p for p in posts if kinds[p[0]] == "valid"]
    for post in rng.sample(valid, round(len(orders) * dup_rate)):
        at = posts.index(post)  # half back to back, half later among other orders
        posts.insert(at + 1 if rng.random() < 0.5 else rng.randrange(at + 1, len(posts) + 1), post)
    return posts, kinds


def _body(order: dict, kind: str) -> bytes:
    o = json.loads(json.dumps(order))
    if kind == "unknown_sku":
        o["line_items"][0]["sku"] = "zz-00000-x"
    elif kind == "no_lines":
        o["line_items"] = []
    elif kind == "negative_quantity":
        o["line_items"][0]["quantity"] = -3
    raw = json.dumps(o).encode()
    return raw[: len(raw) // 2] if kind == "cut_short" else raw


def deliver(base: str, posts: list, rate: float, on_answer) -> dict[int, int]:
    """Post every delivery as the OMS would, `rate` a second (8 at a time at most); the answer each got."""
    local = threading.local()
    answers: dict[int, int] = {}
    start = time.monotonic()

    def post(i: int) -> None:
        if not hasattr(local, "s"):
            local.s = requests.Session()
        time.sleep(max(0.0, start + i / rate - time.monotonic()))
        order_id, body, hook_id = posts[i]
        headers = {"Content-Type": "application/json", "X-Oms-Topic": "orders/create", "X-Oms-Webhook-Id": hook_id,
                   **harness.headers(base)}
        for attempt in range(20):  # the web process itself never goes down here; a refused connection would be a bug
            try:
                answers[i] = local.s.post(base + "/hooks/default/oms/orders", data=body, headers=headers,
                                          timeout=60).status_code
                break
            except requests.ConnectionError:
                time.sleep(0.5)
        on_answer(i, answers.get(i))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(post, range(len(posts))))
    return answers


def reconcile(cluster: Cluster, orders: list[dict], kinds: dict, posts: list, answers: dict) -> dict:
    erp, wms = Counter(), Counter()
    url = cluster.sandbox + "/erp/api/sales-orders?$top=1000"
    while url:
        page = requests.get(url, timeout=60).json()
        erp.update(str(o["externalDocumentNo"]) for o in page["value"])
        url = page.get("@odata.nextLink")
    number = 1
    while True:
        page = requests.get(cluster.sandbox + "/wms/api/shipping-orders", params={"page": number, "pageSize": 500},
                            timeout=60).json()
        wms.update(str(o.get("reference")) for o in page["data"])
        if number >= page["totalPages"]:
            break
        number += 1
    runs = cluster.runs()
    letters = cluster.dead_letter_runs()
    exceptions = {r.business_key for r in runs if r.status == "failed" or r.id in letters}
    refused = {posts[i][0] for i, status in answers.items() if 400 <= status < 500}
    lost, duplicated, leaked, why = [], [], [], Counter()
    for o in orders:
        key = str(o["id"])
        if kinds[o["id"]] == "valid":
            if erp[key] == 0 or wms[key] == 0:
                lost.append(key)
                ends = sorted({(r.status, (r.error or {}).get("code")) for r in runs if r.business_key == key})
                why[f"erp {erp[key]} wms {wms[key]} runs {ends}"] += 1
            if erp[key] > 1 or wms[key] > 1:
                duplicated.append(key)
        else:
            if key not in exceptions and o["id"] not in refused:
                lost.append(key)
                why[f"malformed {kinds[o['id']]} without an exception"] += 1
            if erp[key] or wms[key]:
                leaked.append(key)
    stuck = [r.id for r in runs if r.status in OPEN]
    return {"lost": len(lost), "duplicated": len(duplicated), "stuck": len(stuck), "leaked": len(leaked),
            "why_lost": dict(why), "runs": Counter(r.status for r in runs),
            "not_accepted_valid": sum(1 for i, s in answers.items() if s != 202 and kinds[posts[i][0]] == "valid")}


def run(orders: int = 2000, kill_every: float = 6.0, seed: int = 9, dup_rate: float = 0.05, bad_rate: float = 0.05,
        rate: float = 20.0, lease_s: float = 10.0, redis_down_s: float = 4.0, min_kills: int = 2,
        drain_timeout: float = 1800.0, out=print) -> dict:
    """The whole exercise; returns the figures (lost, duplicated, stuck, kills, drain_s, ...)."""
    rng = random.Random(seed)
    logs = tempfile.mkdtemp(prefix="crossdock-chaos-")
    cluster = Cluster(lease_s, logs)
    ok = False
    try:
        cluster.start()
        order_release.install(cluster.base, cluster.sandbox)
        made = order_release.oms_orders(cluster.sandbox, orders)
        posts, kinds = deliveries(made, rng, dup_rate, bad_rate)
        stop, answered, redis_down = threading.Event(), [0], threading.Event()
        while_down: Counter = Counter()  # answers given while Redis was down

        def on_answer(_i: int, status: int | None) -> None:
            answered[0] += 1
            if redis_down.is_set():
                while_down[status] += 1

        def chaos() -> None:
            next_kill = time.monotonic() + rng.uniform(kill_every * 0.5, kill_every * 1.5)
            while not stop.wait(0.5):
                cluster.restart_dead_workers()
                if time.monotonic() >= next_kill:
                    cluster.kill_worker(rng)
                    next_kill = time.monotonic() + rng.uniform(kill_every * 0.5, kill_every * 1.5)

        def redis_outage() -> None:  # once, a third of the way through the deliveries
            while answered[0] < len(posts) // 3 and not stop.wait(0.1):
                pass
            redis_down.set()
            cluster.restart_redis(redis_down_s)
            redis_down.clear()

        threads = [threading.Thread(target=f, name=f.__name__, daemon=True) for f in (chaos, redis_outage)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        answers = deliver(cluster.base, posts, rate, on_answer)
        delivered = time.monotonic()
        threads[1].join()
        accepted = sum(1 for s in answers.values() if s == 202)
        while True:  # drained: every accepted delivery has its run, none queued or running
            runs = cluster.runs()
            if len(runs) >= accepted and not any(r.status in OPEN for r in runs) and cluster.kills >= min_kills:
                break
            if time.monotonic() - delivered > drain_timeout:
                break
            time.sleep(0.5)
        drained = time.monotonic()
        stop.set()
        threads[0].join()
        cluster.restart_dead_workers()
        result = reconcile(cluster, made, kinds, posts, answers)
        statuses = Counter(answers.values())
        result.update(orders=orders, deliveries=len(posts), duplicates=len(posts) - orders,
                      malformed=sum(k != "valid" for k in kinds.values()), kills=cluster.kills,
                      worker_exits=cluster.crashes, answers=dict(statuses), while_redis_down=dict(while_down),
                      deliver_s=delivered - t0, drain_s=drained - delivered, total_s=drained - t0, logs=logs)
        out(f"chaos: {orders} orders, {result['deliveries']} webhook deliveries ({result['duplicates']} exact "
            f"duplicates, {result['malformed']} malformed) at {rate:g}/s; web + 2 workers on PostgreSQL; "
            f"{cluster.kills} worker SIGKILLs (+{cluster.crashes} worker exits restarted); Redis killed once and "
            f"restarted empty after {redis_down_s:g} s")
        out(f"webhook answers: {dict(sorted(statuses.items()))}, while Redis was down: {dict(sorted(while_down.items()))}"
            f"; runs: {dict(sorted(result['runs'].items()))}")
        out(f"lost {result['lost']}, duplicated {result['duplicated']}, stuck {result['stuck']} "
            f"(malformed orders reaching the ERP or WMS: {result['leaked']})")
        for reason, n in result["why_lost"].items():
            out(f"  lost {n}: {reason}")
        out(f"drain: {result['drain_s']:.1f} s after the last delivery (deliveries took {result['deliver_s']:.1f} s; "
            f"{orders / result['total_s']:.1f} orders/s overall); logs in {logs}")
        ok = result["lost"] == result["duplicated"] == result["stuck"] == 0
        return result
    finally:
        cluster.stop(keep_schema=not ok)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=int, default=2000)
    ap.add_argument("--kill-every", type=float, default=6.0, help="seconds between worker SIGKILLs (on average)")
    ap.add_argument("--seed", type=int, default=9)
    ap.add_argument("--rate", type=float, default=20.0, help="webhook deliveries per second")
    ap.add_argument("--lease", type=float, default=10.0, help="CROSSDOCK_LEASE_S of the workers")
    args = ap.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the processes it started on the way out
    r = run(args.orders, args.kill_every, args.seed, rate=args.rate, lease_s=args.lease)
    return 0 if r["lost"] == r["duplicated"] == r["stuck"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
