"""Crossdock's composition root: reads settings once, then runs the embedded default, the web server,
a worker, the sandbox systems, or a one-off validate / run of a flow file."""
from __future__ import annotations

import argparse
import json
import logging
import os
import select
import shutil
import sys
import tempfile
import threading
import time

from runtime import heap, logs
from runtime.settings import Settings, from_env, installation_key


LOCAL_NETWORKS = ("127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "::1/128")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="run.py", description="Crossdock integration platform")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("embedded", help="web + in-process worker + sandbox systems + sample flows (the default)")
    sub.add_parser("web", help="the web server only (production; workers run separately)")
    w = sub.add_parser("worker", help="an RQ worker executing runs (production)")
    w.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    sub.add_parser("sandbox", help="the simulated OMS, ERP, WMS and TMS on CROSSDOCK_SANDBOX_PORT")
    sub.add_parser("rotate-secrets", help="re-encrypt stored credentials with CROSSDOCK_SECRET_KEY "
                                          "(the old key listed in CROSSDOCK_SECRET_KEY_PREVIOUS)")
    a = sub.add_parser("create-admin", help="create a partner admin (the partner too, if new); the password is read "
                                            "from stdin with --password-stdin, else generated and printed once")
    a.add_argument("--email", required=True)
    a.add_argument("--partner", default="default", help="the partner's id (default: default)")
    a.add_argument("--name", default="")
    a.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    v = sub.add_parser("validate", help="check a flow file; exit 1 if it has problems")
    v.add_argument("file")
    v.add_argument("--workspace", help="also check its connections, lookup tables and webhook paths against this "
                                       "workspace of the configured database (CROSSDOCK_DATABASE_URL)")
    r = sub.add_parser("run", help="execute a flow file once, locally, and print its steps and output")
    r.add_argument("file")
    r.add_argument("--input", default="null", help="the input message as JSON (or @file.json)")
    args = parser.parse_args(argv)
    logs.configure(os.environ)  # text, or JSON lines with the run context (CROSSDOCK_LOG_FORMAT=json)
    command = args.command or "embedded"
    settings = from_env()
    if command != "run" and not (command == "validate" and not args.workspace):  # those two keep no data
        settings = installation_key(settings)  # the embedded default's own key, not the built-in one
    if not settings.access_log:  # the sandbox systems serve with Werkzeug, which logs each request
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    if command in ("embedded", "web", "worker"):
        share_metrics(settings, fresh=command == "embedded")
    if command == "validate":
        return validate_file(args.file, args.workspace, settings)
    if command == "run":
        return run_file(args.file, args.input)
    if command == "sandbox":
        from sandbox.serve import serve
        serve(settings.host, settings.sandbox_port, sandbox_database(settings))
        return 0
    if command == "rotate-secrets":
        from runtime import alert_delivery, connections, secrets
        from runtime.wiring import Runtime
        rt = Runtime(settings)
        print(f"re-encrypted the secrets of {connections.rotate(rt)} connection(s), "
              f"{secrets.rotate(rt)} flow draft(s) and version(s) and {alert_delivery.rotate_smtp(rt)} SMTP "
              "password(s)")
        return 0
    if command == "create-admin":
        return create_admin(settings, args.email, args.partner, args.name, args.password_stdin)
    if command in ("web", "worker"):
        from runtime.settings import InsecureSettings, check_production
        try:
            check_production(settings)
        except InsecureSettings as err:
            print(f"refusing to start: {err}", file=sys.stderr)
            return 2
    if command == "worker":
        from runtime.wiring import Runtime
        rt = Runtime(settings)
        heap.settle()
        rt.work(burst=args.burst)
        return 0
    serve_web(settings, embedded=command == "embedded")
    return 0


def create_admin(settings: Settings, email: str, partner: str, name: str, password_stdin: bool) -> int:
    """A partner admin. A generated password is printed once and must be changed at the first login."""
    from runtime import accounts
    from runtime.wiring import Runtime

    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    rt = Runtime(settings)
    try:
        _, password = accounts.create_admin(rt, email, partner_id=partner, name=name, password=password,
                                            must_change_password=not password_stdin)
    except accounts.AccountProblem as err:
        print(f"cannot create the admin: {err}", file=sys.stderr)
        return 2
    finally:
        rt.close()
    print(f"created partner admin {accounts.normal_email(email)} of partner {partner!r}")
    if not password_stdin:
        print(f"one-time password (change it at the first login): {password}")
    return 0


def announce_first_start(first, settings: Settings) -> None:
    """The embedded first start's admin login and sample hook key, printed once: only hashes are kept."""
    rule = "-" * 78
    print(f"{rule}\nFirst start: log in at http://{settings.host}:{settings.port}/login\n"
          f"    email:    {first.email}\n    password: {first.password}\n"
          f"Webhooks of workspace 'default' take this API key (header X-Crossdock-Key):\n"
          f"    {first.hook_key}\n"
          f"Both are shown this once; keep them (more users and keys: the admin pages).\n{rule}", flush=True)


def build(settings: Settings, embedded: bool):
    """The runtime and the Flask app; in embedded mode also workers, sandbox systems and samples."""
    from designer import samples, templates
    from runtime.wiring import Runtime
    from web.app import create_app

    rt = Runtime(settings)
    if embedded:
        from runtime import accounts
        from sandbox.serve import start_in_process
        first = accounts.bootstrap(rt)  # None after the first start
        if first is not None:
            announce_first_start(first, settings)
        # a process of its own (it ends with this one): the simulated systems stand for other machines, and
        # in threads of this process they took turns with the runs on one interpreter lock
        start_in_process(settings.host, settings.sandbox_port, sandbox_database(settings))
        # runs execute in processes of their own (a core each), or on threads of this one
        rt.start_executors() if settings.executors else rt.start_workers()
        if settings.load_samples:
            sandbox_url = f"http://{settings.host}:{settings.sandbox_port}"
            samples.install(rt, sandbox_url=sandbox_url)
            # the four accelerators, connected to the sandbox systems; the OMS calls their webhooks
            templates.install_bundled(rt, "default", sandbox_url, hook_base=f"http://{settings.host}:{settings.port}")
    return rt, create_app(rt)


def sandbox_database(settings: Settings) -> str:
    return "sqlite:///" + os.path.join(os.path.abspath(settings.data_dir), "sandbox.sqlite")


def share_metrics(settings: Settings, fresh: bool) -> None:
    """One Prometheus registry across this machine's processes (runtime/metrics.py): the folder they count into,
    set before anything imports prometheus_client. The embedded default starts from zero; production processes
    keep counting into CROSSDOCK_METRICS_DIR across restarts (empty it when every process of the machine stops)."""
    folder = settings.metrics_dir or os.path.join(settings.data_dir, "metrics")
    if fresh:
        shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder, exist_ok=True)
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", os.path.abspath(folder))


def _remember_proxy_trust() -> None:
    """gunicorn 27 parses the peer's address (ipaddress.ip_address) on every request to decide whether it may
    set forwarding headers: 7% of a loaded web process's CPU. The answer for one peer address and one
    forwarded_allow_ips never changes, so it is kept (a bounded dict; the same function answers)."""
    from gunicorn.http import message
    decide = message._ip_in_allow_list
    known: dict[tuple, bool] = {}

    def remembered(ip_str, allow_list, networks):
        key = (ip_str, tuple(allow_list))
        found = known.get(key)
        if found is None:
            if len(known) >= 10_000:  # a bound on memory, not a policy
                known.clear()
            found = known[key] = decide(ip_str, allow_list, networks)
        return found

    message._ip_in_allow_list = remembered


def serve_web(settings: Settings, embedded: bool) -> None:
    """gunicorn, programmatically: a master process and one gthread worker process, which builds the
    runtime (and in embedded mode its worker threads, sandbox systems and samples) after the fork:
    threads do not survive a fork. One worker process because live events (Socket.IO) keep per-process
    state; a thread pool serves requests, kept-alive connections wait in the worker's poller without a
    thread, and each WebSocket holds one thread while open (simple-websocket takes over gunicorn's socket).
    No access log unless CROSSDOCK_ACCESS_LOG=1. SIGTERM: stop accepting, hang up live clients, finish
    requests in flight (up to 5 s), close the runtime; SIGINT/Ctrl-C the same without waiting."""
    from gunicorn.app.base import BaseApplication
    from gunicorn.workers.gthread import ThreadWorker

    # imported before the master listens (importing starts no thread): the port answers soon after it opens
    import designer.templates  # noqa: F401
    import web.app  # noqa: F401
    _remember_proxy_trust()

    class Worker(ThreadWorker):
        def handle(self, conn):
            # a kept-alive connection's next request often follows at once (a client sending one after another):
            # it is waited for briefly on this thread instead of going back to the poller, which hands it to
            # another pool thread (two thread wake-ups and two epoll changes a request); at most FOLLOW_MAX
            # requests in a row, so that a busy connection gives its thread up now and then
            result = super().handle(conn)
            follows = 0
            while result is True and self.alive and follows < FOLLOW_MAX and _next_request_within(conn, FOLLOW_S):
                follows += 1
                result = super().handle(conn)
            return result

        # an open WebSocket holds its request thread (and so the worker's exit) until the client goes:
        # on either signal hang up on every live client, which reconnects to the next server
        def handle_exit(self, sig, frame):  # SIGTERM: graceful
            super().handle_exit(sig, frame)
            _hang_up(getattr(self, "wsgi", None))  # none yet while the runtime is being built

        def handle_quit(self, sig, frame):  # SIGINT, SIGQUIT: at once
            _hang_up(getattr(self, "wsgi", None)).join(1.0)
            super().handle_quit(sig, frame)

    class Server(BaseApplication):
        runtime = None

        def load_config(self):
            options = {"bind": f"{settings.host}:{settings.port}", "workers": 1, "worker_class": Worker,
                       "threads": settings.web_threads, "keepalive": 5, "graceful_timeout": 5,
                       "timeout": 120,  # the worker's heartbeat; building the runtime comes before the first
                       "accesslog": "-" if settings.access_log else None, "loglevel": "warning",
                       "control_socket_disable": True,  # gunicornc's socket: one path per user, shared by servers
                       "worker_exit": lambda _arbiter, _worker: self.runtime and self.runtime.close()}
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):  # in the worker process
            self.runtime, app = build(settings, embedded)
            heap.settle()  # what the process keeps for its life is built: out of the garbage collector's way
            print(f"Crossdock on http://{settings.host}:{settings.port}/  (sandbox systems on "
                  f"http://{settings.host}:{settings.sandbox_port}/)" if embedded else
                  f"Crossdock web on http://{settings.host}:{settings.port}/", flush=True)
            return app

    Server().run()


FOLLOW_S = 0.005  # how long a request thread waits for the next request of its kept-alive connection
FOLLOW_MAX = 100


def _next_request_within(conn, timeout_s: float) -> bool:
    """Whether the connection has (or within `timeout_s` gets) bytes of its next request to read."""
    if conn.parser.unreader.buf.getvalue():
        return True
    try:
        return bool(select.select([conn.sock], [], [], timeout_s)[0])
    except (OSError, ValueError):  # closed meanwhile
        return False


def _hang_up(app) -> threading.Thread:
    """Disconnect every Socket.IO client, on a thread of its own (closing may wait on a socket)."""
    def hang_up():
        try:
            if app is not None:
                app.extensions["socketio"].server.eio.disconnect()
        except Exception:
            logging.getLogger("crossdock.web").warning("hanging up on live clients failed", exc_info=True)

    thread = threading.Thread(target=hang_up, name="crossdock-hang-up", daemon=True)
    thread.start()
    return thread


def wsgi():
    """For a WSGI server of your own: `gunicorn -w 1 --threads 64 'run:wsgi()'` (one process: live
    events are per process without sticky sessions). `run.py web` is this, already configured."""
    from runtime.settings import check_production

    settings = installation_key(from_env())
    check_production(settings)
    return build(settings, embedded=False)[1]


def validate_file(path: str, workspace: str | None = None, settings: Settings | None = None) -> int:
    """Print the flow's problems; with `workspace`, what it names is checked against that workspace's
    connections, lookup tables and deployed webhooks in the configured database."""
    from designer import drafts, references

    try:
        doc = json.loads(open(path, encoding="utf-8").read())
    except (OSError, ValueError) as err:
        print(f"{path}: cannot read the flow: {err}", file=sys.stderr)
        return 2
    against = None
    if workspace is not None:
        from runtime.wiring import Runtime
        from runtime.models import Workspace

        rt = Runtime(settings or from_env())
        try:
            with rt.sessions() as s:
                if s.get(Workspace, workspace) is None:
                    print(f"{path}: no workspace {workspace!r} in the configured database", file=sys.stderr)
                    return 2
            against = references.workspace_of(rt, workspace)
        finally:
            rt.close()
    problems = drafts.check(doc, against)
    for p in problems:
        where = ", ".join(f"{k} {v}" for k, v in (("node", p.node), ("edge", p.edge), ("field", p.field)) if v)
        print(f"{path}: {p.severity}: {p.code}: {p.message}" + (f" [{where}]" if where else ""))
    if not problems:
        print(f"{path}: valid")
    if against is None:
        print(f"{path}: connections, lookup tables and webhook paths were not checked (no workspace given: "
              f"--workspace NAME checks them against the configured database)")
    return 1 if any(p.severity == "error" for p in problems) else 0


def run_file(path: str, raw_input: str) -> int:
    """Deploy the file into a throw-away embedded store and execute one run in this process."""
    from designer import drafts
    from runtime import deployments, egress, history, intake, jobs
    from runtime.wiring import Runtime

    if validate_file(path) != 0:
        return 1
    doc = drafts.load_or_400(json.loads(open(path, encoding="utf-8").read()))
    message = json.loads(open(raw_input[1:], encoding="utf-8").read() if raw_input.startswith("@") else raw_input)
    with tempfile.TemporaryDirectory() as tmp:
        rt = Runtime(Settings(data_dir=tmp))
        # the operator's own one-off run on their machine: no tenant to keep from its local and private hosts
        egress.allow(rt, "default", *LOCAL_NETWORKS)
        drafts.create(rt, "default", doc)
        version = deployments.deploy(rt, "default", doc["id"], doc)
        run = intake.start(rt, "default", doc["id"], version, message, trigger="manual")
        while jobs.run_claimed(rt, run.id) in ("queued", "early"):  # waiting for a retry: sleep until due
            time.sleep(max(0.0, _due_in(rt, run.id)))
        result = history.get_run(rt, "default", run.id)
        rt.close()
    for st in result["steps"]:
        err = f"  {st['error']['code']}: {st['error']['message']}" if st.get("error") else ""
        print(f"{st['seq']:>3} {st['node_id']:<24} {st['status']:<10} attempt {st['attempt']} "
              f"{st['duration_ms']:.1f} ms -> {st['port'] or '-'}{err}")
    print(json.dumps({"status": result["status"], "output": result["output"], "error": result["error"]}, indent=2))
    return 0 if result["status"] == "succeeded" else 1


def _due_in(rt, run_id: int) -> float:
    from runtime.models import Run, utcnow

    with rt.sessions() as s:
        row = s.get(Run, run_id)
    return (row.not_before - utcnow()).total_seconds() if row.not_before else 0.0


if __name__ == "__main__":
    sys.exit(main())
