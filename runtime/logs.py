"""The processes' log lines (issue 14): plain text for a person at a terminal (the default), or one JSON object a
line (`CROSSDOCK_LOG_FORMAT=json`, python-json-logger) for a log shipper; and the run context (workspace, flow_id,
run_id, business_key) on every record emitted while the executor runs a run. The context is a contextvar the
executor sets around a run (`in_run`), read by a filter on the handler, so a line from any module (a node, the
HTTP client, the expression engine) says which run it belongs to without passing anything down."""
from __future__ import annotations

import contextlib
import contextvars
import functools
import logging
import sys
from typing import IO, Any, Callable, Iterator, Mapping

from pythonjsonlogger.json import JsonFormatter

FIELDS = ("workspace", "flow_id", "run_id", "business_key")
FORMATS = ("text", "json")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
TEXT = "%(asctime)s %(levelname)s {prefix}%(name)s: %(message)s"
JSON = "%(levelname)s %(name)s %(message)s " + " ".join(f"%({f})s" for f in FIELDS)

_run: contextvars.ContextVar[dict | None] = contextvars.ContextVar("crossdock_run", default=None)


class RunContext(logging.Filter):
    """Puts the run being executed in this thread (or None) on each record the handler writes; a record that
    names its own run (`extra={"run_id": ...}`) keeps it."""

    def filter(self, record: logging.LogRecord) -> bool:
        current = _run.get() or {}
        for name in FIELDS:
            if not hasattr(record, name):
                setattr(record, name, current.get(name))
        return True


@contextlib.contextmanager
def run_context(workspace: str, flow_id: str, run_id: Any, business_key: str | None) -> Iterator[None]:
    token = _run.set({"workspace": workspace, "flow_id": flow_id, "run_id": run_id, "business_key": business_key})
    try:
        yield
    finally:
        _run.reset(token)


def in_run(execute: Callable) -> Callable:
    """Wraps `runtime.executor.execute(plan, run, ctx, ...)`: its records carry the plan's workspace and flow,
    the run's id and the context's business key."""
    @functools.wraps(execute)
    def executing(plan, run, ctx, *args, **kwargs):
        with run_context(plan.workspace, plan.flow_id, run.get("id"), getattr(ctx, "business_key", None)):
            return execute(plan, run, ctx, *args, **kwargs)
    return executing


def chosen(environ: Mapping[str, str]) -> tuple[str, str, list[str]]:
    """The format and level `CROSSDOCK_LOG_FORMAT` / `CROSSDOCK_LOG_LEVEL` ask for, and what was wrong with them
    (a bad value falls back to the default, said in the log: logging never stops a process from starting)."""
    fmt = (environ.get("CROSSDOCK_LOG_FORMAT") or "text").strip().lower()
    level = (environ.get("CROSSDOCK_LOG_LEVEL") or "INFO").strip().upper()
    wrong = []
    if fmt not in FORMATS:
        wrong.append(f"CROSSDOCK_LOG_FORMAT={fmt!r} is not one of {', '.join(FORMATS)}; text is used")
        fmt = "text"
    if level not in LEVELS:
        wrong.append(f"CROSSDOCK_LOG_LEVEL={level!r} is not one of {', '.join(LEVELS)}; INFO is used")
        level = "INFO"
    return fmt, level, wrong


def handler(fmt: str, stream: IO[str] | None = None, prefix: str = "") -> logging.Handler:
    out = logging.StreamHandler(stream or sys.stderr)
    out.addFilter(RunContext())
    if fmt == "json":
        out.setFormatter(JsonFormatter(JSON, rename_fields={"levelname": "level", "name": "logger"},
                                       timestamp="time",  # ISO 8601 in UTC, as shippers parse it
                                       static_fields={"process_name": prefix.strip()} if prefix else None))
    else:
        out.setFormatter(logging.Formatter(TEXT.format(prefix=prefix)))
    return out


def configure(environ: Mapping[str, str], stream: IO[str] | None = None, prefix: str = "") -> str:
    """The process's root logger, as the environment asks; returns the format. `prefix` names the process
    (`executor-1 `) in text lines, `process_name` in JSON ones."""
    fmt, level, wrong = chosen(environ)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler(fmt, stream, prefix))
    root.setLevel(level)
    for problem in wrong:
        logging.getLogger(__name__).warning(problem)
    return fmt
