"""Shared bench machinery: free ports, a fast HTTP sink in its own process, starting Crossdock
processes (embedded, or web + workers on PostgreSQL + Redis), posting orders, reading run timings.

Every /api/v1 and /hooks/ call needs credentials (issue 11): once a server is up, `grant` opens a Runtime on its
database from this process, creates one API key of workspace `default` holding every scope, and puts loopback on
the workspace's egress allow list (the sinks and sandboxes the bench flows call listen there). `headers(url)`
gives the X-Crossdock-Key header of the server `url` belongs to; every call here sends it."""
from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PG_URL = os.environ.get("CROSSDOCK_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("CROSSDOCK_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
SECRET_KEY = "bench-secret-key-not-for-production"  # production refuses the built-in one (check_production)
LIMITS = {"CROSSDOCK_API_PER_MINUTE": "100000000", "CROSSDOCK_HOOKS_PER_MINUTE": "100000000"}  # far beyond any load
LOOPBACK = "127.0.0.0/8"  # the bench's sinks and sandboxes, which the egress policy refuses unless allowed
_keys: dict[str, str] = {}  # base URL -> API key secret

SINK = r"""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import socket
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def setup(self):
        super().setup()  # no Nagle: headers and body go out at once, as a real server's do
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b'{"ok":true}'
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    do_PUT = do_POST
    def log_message(self, *a): pass
ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code < 500:
                return
        except (requests.ConnectionError, requests.Timeout):  # gunicorn listens while its worker starts
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def grant(base: str, env: dict, workspace: str = "default") -> str:
    """An API key with every scope for `workspace` of the server at `base` (its settings in `env`), created
    through a Runtime on the same database; loopback joins the workspace's egress allow list. `headers(base)`
    sends it from then on."""
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)
    from runtime import egress, keys
    from runtime.wiring import Runtime
    from runtime.settings import from_env
    rt = Runtime(from_env({**os.environ, **env}))
    try:
        _record, secret = keys.create(rt, workspace, "bench", list(keys.SCOPES), "bench")
        egress.allow(rt, workspace, LOOPBACK)
    finally:
        rt.close()
    _keys[base.rstrip("/")] = secret
    return secret


def headers(url: str | None = None) -> dict:
    """The X-Crossdock-Key header for the server `url` is on (by default the server granted last)."""
    if not _keys:
        raise RuntimeError("no API key yet: call harness.grant (Processes.crossdock does) first")
    match = [b for b in _keys if url and url.startswith(b)]
    return {"X-Crossdock-Key": _keys[max(match, key=len)] if match else list(_keys.values())[-1]}


def admin_and_key(rt) -> tuple[str, str, dict]:
    """For a server in this process on a fresh `rt`: the first start's admin (email, password) for the browser
    to log in with, and the headers of a new key of workspace `default` with every scope for API calls."""
    from runtime import accounts, keys
    first = accounts.bootstrap(rt)
    if first is None:
        raise RuntimeError("the runtime has users already: admin_and_key wants a fresh one")
    _record, secret = keys.create(rt, "default", "bench", list(keys.SCOPES), "bench")
    return first.email, first.password, {"X-Crossdock-Key": secret}


def log_in(page, base: str, email: str, password: str) -> None:
    """Log a Playwright page's browser context in: the session cookie serves every page it opens after."""
    r = page.request.post(base + "/api/v1/session", data={"email": email, "password": password})
    if not r.ok:
        raise RuntimeError(f"login: {r.status} {r.text()}")


def session(url: str | None = None) -> requests.Session:
    s = requests.Session()
    s.headers.update(headers(url))
    return s


class Processes:
    def __init__(self):
        self.procs: list[subprocess.Popen] = []
        self.tmp = tempfile.mkdtemp(prefix="crossdock-bench-")
        self.key: str | None = None  # the API key of the last Crossdock started (all scopes, workspace default)

    def start(self, args: list[str], env: dict | None = None) -> subprocess.Popen:
        log = open(os.path.join(self.tmp, f"p{len(self.procs)}.log"), "w")
        p = subprocess.Popen(args, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=log, stderr=log)
        self.procs.append(p)
        return p

    def sink(self) -> str:
        port = free_port()
        self.start([sys.executable, "-c", SINK, str(port)])
        time.sleep(0.3)
        return f"http://127.0.0.1:{port}"

    def crossdock(self, mode: str, workers: int = 2) -> tuple[str, dict]:
        """Start Crossdock; mode 'embedded' (one process) or 'redis' (web + N workers, PostgreSQL + Redis).
        Then grant an API key with every scope (self.key; `headers(base)` sends it)."""
        port = free_port()
        env = {"CROSSDOCK_PORT": str(port), "CROSSDOCK_DATA_DIR": os.path.join(self.tmp, f"data-{port}"),
               "CROSSDOCK_SANDBOX_PORT": str(free_port()), **LIMITS}
        if mode == "redis":
            schema = f"bench_{uuid.uuid4().hex[:8]}"
            from sqlalchemy import create_engine
            eng = create_engine(PG_URL)
            with eng.begin() as c:
                c.exec_driver_sql(f"CREATE SCHEMA {schema}")
            eng.dispose()
            env.update(CROSSDOCK_DATABASE_URL=PG_URL, CROSSDOCK_DATABASE_SCHEMA=schema, CROSSDOCK_REDIS_URL=REDIS_URL,
                       CROSSDOCK_QUEUE=f"bench-{schema}", CROSSDOCK_SECRET_KEY=SECRET_KEY)
            self.start([sys.executable, "run.py", "web"], env)
            wait_http(f"http://127.0.0.1:{port}/api/v1/branding")
            for _ in range(workers):
                self.start([sys.executable, "run.py", "worker"], env)
        else:
            self.start([sys.executable, "run.py"], env)
            wait_http(f"http://127.0.0.1:{port}/api/v1/branding")
        base = f"http://127.0.0.1:{port}"
        self.key = grant(base, env)
        return base, env

    def stop(self) -> None:
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
        self.procs.clear()


def deploy(base: str, doc: dict) -> None:
    r = requests.post(base + "/api/v1/flows", json=doc, headers=headers(base))
    r.raise_for_status()
    r = requests.post(f"{base}/api/v1/flows/{doc['id']}/deploy", headers=headers(base))
    if r.status_code != 201:
        raise RuntimeError(r.text)


def post_all(url: str, messages: list, concurrency: int = 8, sign=None) -> list[int]:
    """POST each message (with the API key); `sign(body) -> headers` adds a signature a webhook may check
    instead (order_release.oms_signer: the embedded start's OMS flows check the OMS's HMAC)."""
    session_per_thread: dict = {}

    def post(msg):
        import threading
        s = session_per_thread.setdefault(threading.get_ident(), None) or session(url)
        session_per_thread[threading.get_ident()] = s
        body = json.dumps(msg).encode()
        r = s.post(url, data=body, headers={"Content-Type": "application/json", **(sign(body) if sign else {})})
        if r.status_code != 202:
            raise RuntimeError(f"{r.status_code} {r.text}")
        return r.json()["run_id"]

    with ThreadPoolExecutor(concurrency) as pool:
        return list(pool.map(post, messages))


def wait_finished(base: str, flow_id: str, count: int, timeout: float = 900) -> list[dict]:
    """All runs of the flow once `count` of them are terminal."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = list_runs(base, flow_id)
        done = [r for r in runs if r["status"] in ("succeeded", "failed")]
        if len(done) >= count:
            return runs
        time.sleep(0.5)
    raise RuntimeError("runs did not finish in time")


def list_runs(base: str, flow_id: str) -> list[dict]:
    runs, before = [], None
    while True:
        params = {"flow_id": flow_id, "limit": 200, **({"before": before} if before else {})}
        page = requests.get(base + "/api/v1/runs", params=params, headers=headers(base)).json()
        runs += page["runs"]
        before = page["next"]
        if not before:
            return runs


def timings(runs: list[dict]) -> dict:
    """Runs/s from the first intake to the last finish, and intake-to-finish latency percentiles (ms)."""
    parse = lambda s: time.mktime(time.strptime(s[:19], "%Y-%m-%dT%H:%M:%S")) + float("0" + s[19:-1])  # noqa: E731
    created = [parse(r["created_at"]) for r in runs]
    finished = [parse(r["finished_at"]) for r in runs if r["finished_at"]]
    lat = sorted((parse(r["finished_at"]) - parse(r["created_at"])) * 1000 for r in runs if r["finished_at"])
    span = max(finished) - min(created)
    return {"runs": len(runs), "failed": sum(r["status"] != "succeeded" for r in runs),
            "runs_per_s": len(finished) / span if span > 0 else float("inf"),
            "p50_ms": lat[len(lat) // 2], "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))]}


def median_of(results: list[dict]) -> dict:
    return {k: statistics.median(r[k] for r in results) for k in results[0]}


def dumps(obj) -> str:
    return json.dumps(obj, indent=2)
