"""Big flows, measured server-side (inside the WSGI app, in this process): validate and save of a
50,000-node document, GET of a 1,000-node flow, and the first webhook's 202 after deploying a 30,000-node
flow, both in the process that deployed and in a fresh web process (production: web and workers apart).

Every figure is the median of --runs runs; the first run of each is also printed, since it is the one
that meets cold caches. Starts its own Crossdock runtime (SQLite in a temporary folder, or PostgreSQL with
--postgres); run: python bench/bigflow.py [--runs 3] [--nodes 50000] [--webhook-nodes 30000]
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nodes import catalog  # noqa: E402
from runtime import keys  # noqa: E402
from runtime.wiring import Runtime  # noqa: E402
from runtime.settings import Settings  # noqa: E402
from web.app import create_app  # noqa: E402

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ROWS = 1000


def big_flow(n: int, flow_id: str, seed: int = 7) -> dict:
    """Columns of ROWS nodes: triggers first (one webhook, the rest manual), then maps and filters, each fed
    from the column before, plus 20% random edges across rows. Every expression differs, as in a real flow,
    so a cache by source text cannot hide the cost of a first check."""
    rng = random.Random(seed)
    cols = max(2, n // ROWS)
    rows = n // cols
    nodes, edges, wired = [], [], set()
    for c in range(cols):
        for r in range(rows):
            k = c * rows + r
            if c == 0:
                node = ({"id": f"n{k}", "type": "event.webhook", "config": {"path": f"bench/{flow_id}"}} if r == 0
                        else {"id": f"n{k}", "type": "event.manual", "config": {}})
            elif (c + r) % 3:
                node = {"id": f"n{k}", "type": "transform.map", "config": {"expression": f"{{'o': order, 's': {k}}}"}}
            else:
                node = {"id": f"n{k}", "type": "branch.filter", "config": {"when": f"order.n != 'X{k}'"}}
            node["position"] = {"x": c * 260, "y": r * 130}
            nodes.append(node)

    def add(src: int, dst: int) -> None:
        if (src, dst) not in wired:
            wired.add((src, dst))
            edges.append({"id": f"e{len(edges)}", "source": f"n{src}", "source_port": "out",
                          "target": f"n{dst}", "target_port": "in"})

    for c in range(1, cols):
        for r in range(rows):
            add((c - 1) * rows + r, c * rows + r)
    for _ in range(len(edges) // 5):
        c = rng.randrange(1, cols)
        add((c - 1) * rows + rng.randrange(rows), c * rows + rng.randrange(rows))
    if "control.discard" in catalog.TYPES:  # the last column ends on purpose (older versions had no such node)
        nodes.append({"id": f"n{cols * rows}", "type": "control.discard", "config": {"reason": "bench"},
                      "position": {"x": cols * 260, "y": 0}})
        for r in range(rows):
            add((cols - 1) * rows + r, cols * rows)
    return {"schema": "crossdock.flow/1", "id": flow_id, "name": f"Bench: {len(nodes):,} nodes",
            "nodes": nodes, "edges": edges}


class Timed:
    """WSGI middleware: the time from the request entering the app to the last byte of its answer, and the
    CPU time the request's thread spent on it (on a machine other work shares, the steadier figure)."""

    def __init__(self, app):
        self.app, self.last, self.cpu = app, 0.0, []

    def __call__(self, environ, start_response):
        started, cpu = time.perf_counter(), time.thread_time()
        body = b"".join(self.app(environ, start_response))
        self.last = time.perf_counter() - started
        self.cpu.append(time.thread_time() - cpu)
        return [body]


def web(settings: Settings):
    """A web app on `settings`, and a test client sending an API key of workspace `default` with every scope."""
    rt = Runtime(settings)
    app = create_app(rt)
    app.wsgi_app = timer = Timed(app.wsgi_app)
    client = app.test_client()
    _record, secret = keys.create(rt, "default", "bench", list(keys.SCOPES), "bench")
    client.environ_base["HTTP_X_CROSSDOCK_KEY"] = secret
    return rt, client, timer


def call(client, timer: Timed, method: str, path: str, doc: dict | None = None, expect: int = 200,
         **headers) -> tuple[float, dict]:
    data = json.dumps(doc, separators=(",", ":")).encode() if doc is not None else None
    res = client.open(path, method=method, data=data, headers={"Content-Type": "application/json", **headers})
    if res.status_code != expect:
        raise SystemExit(f"{method} {path}: {res.status_code} {res.get_data(as_text=True)[:500]}")
    return timer.last, res.get_json(silent=True) or {}


def report(what: str, times: list[float], cpu: list[float] | None = None) -> None:
    spent = f"; CPU median {statistics.median(cpu):.3f} s" if cpu else ""
    print(f"bigflow: {what}: median {statistics.median(times):.3f} s "
          f"(runs {', '.join(f'{t:.3f}' for t in times)}; the first meets cold caches{spent})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--nodes", type=int, default=50_000)
    parser.add_argument("--get-nodes", type=int, default=1_000)
    parser.add_argument("--webhook-nodes", type=int, default=30_000)
    parser.add_argument("--postgres", action="store_true", help=f"PostgreSQL at {PG_URL} (a schema of its own)")
    parser.add_argument("--only", default="validate,save,get,webhook", help="which figures, comma-separated")
    args = parser.parse_args()
    only = set(args.only.split(","))
    data = tempfile.mkdtemp(prefix="crossdock-bigflow-")
    schema = f"bigflow_{uuid.uuid4().hex[:8]}" if args.postgres else None
    if schema:
        from sqlalchemy import create_engine
        engine = create_engine(PG_URL)
        with engine.begin() as c:
            c.exec_driver_sql(f"CREATE SCHEMA {schema}")
    settings = Settings(data_dir=data, load_samples=False, max_body_bytes=64 * 1024 * 1024,
                        database_url=PG_URL if schema else "", database_schema=schema)
    rt, client, timer = web(settings)
    others: list[Runtime] = []
    try:
        big = big_flow(args.nodes, "bench-big")
        size = len(json.dumps(big, separators=(",", ":")))
        print(f"bigflow: {len(big['nodes']):,} nodes, {len(big['edges']):,} edges, {size / 1e6:.1f} MB "
              f"({'PostgreSQL' if schema else 'SQLite'})", flush=True)
        times, cpu = [], []
        for _ in range(args.runs if "validate" in only else 0):
            took, answer = call(client, timer, "POST", "/api/v1/flows/validate", big)
            assert answer["valid"], answer["problems"][:3]
            times.append(took)
            cpu.append(timer.cpu[-1])
        if times:
            report(f"validate {args.nodes:,} nodes", times, cpu)

        times, cpu = [], []
        if "save" in only:
            call(client, timer, "POST", "/api/v1/flows", big, expect=201)
        # each save moves one node, as an edit on the canvas would
        for i in range(args.runs if "save" in only else 0):
            big["nodes"][i]["position"] = {"x": 5 * (i + 1), "y": 0}
            took, answer = call(client, timer, "PUT", f"/api/v1/flows/{big['id']}", big)
            assert not answer["problems"], answer["problems"][:3]
            times.append(took)
            cpu.append(timer.cpu[-1])
        if times:
            report(f"save {args.nodes:,} nodes", times, cpu)

        if "get" in only:
            small = big_flow(args.get_nodes, "bench-small")
            call(client, timer, "POST", "/api/v1/flows", small, expect=201)
            times = [call(client, timer, "GET", f"/api/v1/flows/{small['id']}")[0] for _ in range(args.runs)]
            report(f"GET of a {args.get_nodes:,}-node flow", times, timer.cpu[-args.runs:])
        if "webhook" not in only:
            return

        hook = big_flow(args.webhook_nodes, "bench-hook")
        call(client, timer, "POST", "/api/v1/flows", hook, expect=201)
        deploys, same, fresh, planned = [], [], [], []
        for _ in range(args.runs):
            took, answer = call(client, timer, "POST", f"/api/v1/flows/{hook['id']}/deploy", {}, expect=201)
            deployed_at = time.perf_counter()
            deploys.append(took)
            same.append(call(client, timer, "POST", f"/hooks/default/bench/{hook['id']}", {"order": {"n": 1}},
                             expect=202)[0])
            # the plan the deploy builds in the background (older versions: the webhook built it)
            rt.plan_for("default", hook["id"], answer["version"])
            planned.append(time.perf_counter() - deployed_at)
            # another web process on the same database: it has compiled nothing of this version
            other, other_client, other_timer = web(settings)
            others.append(other)
            fresh.append(call(other_client, other_timer, "POST", f"/hooks/default/bench/{hook['id']}",
                              {"order": {"n": 2}}, expect=202)[0])
        report(f"deploy of a {args.webhook_nodes:,}-node flow", deploys)
        report("first webhook 202 after the deploy, same web process", same)
        report("first webhook 202 after the deploy, another web process", fresh)
        report("plan ready in the deploying process, from the deploy's answer", planned)
    finally:
        for other in others:
            other.close()
        rt.close()
        shutil.rmtree(data, ignore_errors=True)
        if schema:
            with engine.begin() as c:
                c.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")


if __name__ == "__main__":
    main()
