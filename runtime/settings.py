"""Settings, read once by run.py from the environment and passed down; nothing else reads os.environ."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class Settings:
    database_url: str = ""  # empty: SQLite file under data_dir
    database_schema: str | None = None  # PostgreSQL schema (tests use a fresh one per run)
    redis_url: str = ""  # empty: embedded in-process queue (worker threads)
    queue_name: str = "crossdock"
    secret_key: str = "dev-only-secret"
    previous_secret_keys: tuple[str, ...] = ()  # still decrypt stored secrets after a key change
    host: str = "127.0.0.1"
    port: int = 8080
    web_threads: int = 64  # the web server's request threads; each open WebSocket (a live page) holds one
    access_log: bool = False  # a line per HTTP request on stdout
    data_dir: str = "data"
    max_body_bytes: int = 5 * 1024 * 1024
    step_payload_limit: int = 32 * 1024  # bytes of JSON kept in a step row; whole payload kept aside
    step_payload_max: int = 1024 * 1024  # bytes of JSON a step may take or give; over it: payload_too_large
    lease_s: float = 60.0  # a running run's claim; expired leases are taken over by another worker
    poison_takeovers: int = 3  # the lease expiring this many times ends the run `failed` with `poison`
    shutdown_grace_s: float = 30.0  # SIGTERM: how long the step in flight may take before its run is handed back
    maintenance_s: float = 15.0  # between passes that release expired leases and requeue lost jobs
    lost_job_after_s: float = 10.0  # a due `queued` run with no job in the queue this long is enqueued again
    embedded_workers: int = 2  # threads executing runs, per process that executes runs
    # run.py's embedded default: processes executing runs beside the web process (runtime/executors.py), one
    # per core but the web's, 1 to 4; 0 runs them on threads of the web process (Runtime.start_workers, as tests do)
    executors: int = max(1, min(4, (os.cpu_count() or 2) - 1))
    # the executor processes' niceness above the web process's: when cores are short, accepting a request (a
    # caller waits on it) goes before executing a run already stored (it waits `queued`, durably); 0: equals
    executor_nice: int = 5
    sandbox_port: int = 5001
    load_samples: bool = True
    default_retry: dict = field(default_factory=lambda: {"max_attempts": 3, "backoff_s": 1.0})
    retention_days: float = 30.0  # finished runs older than this are pruned, with their steps
    retention_max_runs: int = 100_000  # finished runs kept per workspace, newest first
    # every JSONata evaluation (mappings, rules, preview, URL templates): nodes/expression/budget.py
    expression_time_ms: int = 2000
    expression_output_bytes: int = 1024 * 1024
    expression_items: int = 1_000_000
    expression_depth: int = 300
    # login sessions (designer/access.py): the cookie is Secure when True; None: in production (a database or
    # Redis URL set, served behind TLS), not in the embedded default (plain HTTP on the user's machine)
    cookie_secure: bool | None = None
    session_hours: float = 12.0  # a login lasts this long; a password change ends it sooner
    # rate limits per minute, per API key and per workspace (web/limits.py); a partner's `limits` override them
    api_per_minute: int = 6_000
    hooks_per_minute: int = 120_000  # webhook intake and experience APIs: well over what one process takes in
    # folders where SQL connections may open SQLite files (nodes/sql_targets.py); none: no SQLite file at all
    sql_file_dirs: tuple[str, ...] = ()
    # folders the file nodes (event.file, connector.file) may read and write (nodes/file_stores.py); none: no local folder
    file_dirs: tuple[str, ...] = ()
    # tests and operations only: a file with an ISO time that schedules go by instead of the real one (runtime/clock.py)
    clock_file: str = ""
    # GET /metrics (web/metrics.py): served only to a scraper with this bearer token; empty: no /metrics at all
    metrics_token: str = ""
    # the folder every process of this machine writes its metrics to (prometheus-client's multiprocess mode, set up
    # by run.py); empty: <data_dir>/metrics
    metrics_dir: str = ""

    @property
    def embedded_queue(self) -> bool:
        return not self.redis_url

    @property
    def secure_cookies(self) -> bool:
        return self.cookie_secure if self.cookie_secure is not None else bool(self.database_url or self.redis_url)


def from_env(env: dict | None = None) -> Settings:
    env = os.environ if env is None else env
    return Settings(
        database_url=env.get("CROSSDOCK_DATABASE_URL", ""),
        database_schema=env.get("CROSSDOCK_DATABASE_SCHEMA") or None,
        redis_url=env.get("CROSSDOCK_REDIS_URL", ""),
        queue_name=env.get("CROSSDOCK_QUEUE", "crossdock"),
        secret_key=env.get("CROSSDOCK_SECRET_KEY", "dev-only-secret"),
        previous_secret_keys=tuple(k for k in env.get("CROSSDOCK_SECRET_KEY_PREVIOUS", "").split(",") if k),
        host=env.get("CROSSDOCK_HOST", "127.0.0.1"),
        port=int(env.get("CROSSDOCK_PORT", "8080")),
        web_threads=int(env.get("CROSSDOCK_WEB_THREADS", "64")),
        access_log=env.get("CROSSDOCK_ACCESS_LOG", "") not in ("", "0", "false", "no"),
        data_dir=env.get("CROSSDOCK_DATA_DIR", "data"),
        sql_file_dirs=tuple(d for d in env.get("CROSSDOCK_SQL_FILE_DIRS", "").split(os.pathsep) if d),
        file_dirs=tuple(d for d in env.get("CROSSDOCK_FILE_DIRS", "").split(os.pathsep) if d),
        clock_file=env.get("CROSSDOCK_CLOCK_FILE", ""),
        metrics_token=env.get("CROSSDOCK_METRICS_TOKEN", ""),
        metrics_dir=env.get("CROSSDOCK_METRICS_DIR", ""),
        sandbox_port=int(env.get("CROSSDOCK_SANDBOX_PORT", "5001")),
        executors=int(env.get("CROSSDOCK_EXECUTORS", str(Settings.executors))),
        executor_nice=int(env.get("CROSSDOCK_EXECUTOR_NICE", str(Settings.executor_nice))),
        step_payload_max=int(env.get("CROSSDOCK_STEP_PAYLOAD_MAX", str(1024 * 1024))),
        lease_s=float(env.get("CROSSDOCK_LEASE_S", "60")),
        poison_takeovers=int(env.get("CROSSDOCK_POISON_TAKEOVERS", "3")),
        shutdown_grace_s=float(env.get("CROSSDOCK_SHUTDOWN_GRACE_S", "30")),
        maintenance_s=float(env.get("CROSSDOCK_MAINTENANCE_S", "15")),
        retention_days=float(env.get("CROSSDOCK_RETENTION_DAYS", "30")),
        retention_max_runs=int(env.get("CROSSDOCK_RETENTION_MAX_RUNS", "100000")),
        expression_time_ms=int(env.get("CROSSDOCK_EXPRESSION_TIME_MS", "2000")),
        expression_output_bytes=int(env.get("CROSSDOCK_EXPRESSION_OUTPUT_BYTES", str(1024 * 1024))),
        expression_items=int(env.get("CROSSDOCK_EXPRESSION_ITEMS", "1000000")),
        expression_depth=int(env.get("CROSSDOCK_EXPRESSION_DEPTH", "300")),
        cookie_secure=(None if "CROSSDOCK_COOKIE_SECURE" not in env
                       else env["CROSSDOCK_COOKIE_SECURE"].lower() not in ("", "0", "false", "no")),
        session_hours=float(env.get("CROSSDOCK_SESSION_HOURS", "12")),
        api_per_minute=int(env.get("CROSSDOCK_API_PER_MINUTE", "6000")),
        hooks_per_minute=int(env.get("CROSSDOCK_HOOKS_PER_MINUTE", "120000")),
    )


DEV_SECRET_KEY = "dev-only-secret"  # the built-in key: fine on a laptop, public knowledge everywhere else


class InsecureSettings(ValueError):
    """Settings a production process must refuse to start with."""


def check_production(settings: Settings) -> None:
    """Refuse production (a database or Redis URL set: not the embedded one-command install) with the
    built-in or an empty secret key: anyone who knows it decrypts every stored credential and inline secret."""
    if not (settings.database_url or settings.redis_url) or settings.secret_key not in (DEV_SECRET_KEY, ""):
        return
    raise InsecureSettings(
        "CROSSDOCK_SECRET_KEY is the built-in development key (or empty): anyone could decrypt this installation's "
        "stored secrets. Set CROSSDOCK_SECRET_KEY to a long random value (python3 -c 'import secrets; "
        "print(secrets.token_urlsafe(48))'); to keep reading secrets stored under the old key, put it in "
        "CROSSDOCK_SECRET_KEY_PREVIOUS and run `python3 run.py rotate-secrets`.")


def installation_key(settings: Settings) -> Settings:
    """The embedded default's own secret key instead of the built-in one: made at random on the first start
    and kept in `<data_dir>/secret.key` (readable by its owner only), so no two installations share a key
    that decrypts their secrets. Secrets stored under the built-in key before stay readable (it is listed as
    a previous key; `run.py rotate-secrets` re-encrypts them). A set CROSSDOCK_SECRET_KEY, and production
    (which refuses the built-in key), are left as they are."""
    if settings.database_url or settings.redis_url or settings.secret_key != DEV_SECRET_KEY:
        return settings
    path = os.path.join(settings.data_dir, "secret.key")
    os.makedirs(settings.data_dir, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
    with open(path, encoding="utf-8") as f:
        key = f.read().strip()
    if not key:
        raise InsecureSettings(f"{path} is empty: delete it to make a new key, or set CROSSDOCK_SECRET_KEY")
    return replace(settings, secret_key=key,
                   previous_secret_keys=(*settings.previous_secret_keys, DEV_SECRET_KEY))

