"""The end of an execution, written once: the run row (finished, or back to `queued` to wait for a
retry, with its checkpoint), every step of the execution, whole payloads of truncated steps, dead
letters and the sync reply, in one transaction shared with other runs ending at the same time.

Step payloads are stored as the JSON text the executor already made of them (step["texts"]), not
serialised again, and each message once per run: a step whose input or output is a message already
stored in full for this run (the run's input, an earlier step's input or output) keeps a reference to it
(`input_ref`, `output_ref`; reads.py resolves them): most messages pass several nodes unchanged. The write
is fenced by the claim's attempt number: if the lease expired and another worker took the run over,
nothing of this execution is stored (the other one's result counts).

A run that ends hands over to the next open run of its sequence key: that run's job ended when it
found this one open, so it is enqueued now (after the commit).
"""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Row

from runtime.db import JsonText
from runtime import threads  # the document thread's correlation index, written with the end
from runtime import kpis  # the business facts behind the KPIs, written with the end
from runtime.executor import Outcome, payload_text
from runtime.models import DeadLetter, Payload, Run, Step, utcnow
from runtime.states import RunStatus
from runtime.store import runs
from runtime.store.statements import Prepared, Unnested, rowcounts
from runtime.store.transitions import move

if TYPE_CHECKING:
    from runtime.wiring import Runtime

FENCE = (Run.id == bindparam("run_id"), Run.attempt == bindparam("claimed"))
END = {status: Prepared(move(status, *FENCE)) for status in (RunStatus.QUEUED, RunStatus.SUCCEEDED, RunStatus.FAILED)}
STEPS = Unnested(Step.__table__)  # on PostgreSQL one INSERT for the steps of every run ended
PAYLOADS, LETTERS = Payload.__table__.insert(), DeadLetter.__table__.insert()
STEP_DEFAULTS = {"port": None, "output": None, "error": None, "truncated": False, "finished_at": None,
                 "duration_ms": None, "input_ref": None, "output_ref": None}  # executemany: same keys in each
NEXT_OF_KEY = (select(Run.id).where(Run.workspace == bindparam("workspace"), Run.flow_id == bindparam("flow_id"),
                                    Run.sequence_key == bindparam("key"), Run.status == RunStatus.QUEUED.value)
               .order_by(Run.id).limit(1))
STATUS = {"retry": RunStatus.QUEUED, "failed": RunStatus.FAILED, "succeeded": RunStatus.SUCCEEDED}


class Ended:
    """What the end write stored: the run's status, and its output when it fits a live event."""
    __slots__ = ("status", "output", "output_kept")

    def __init__(self, status: str, output: Any = None, output_kept: bool = False):
        self.status, self.output, self.output_kept = status, output, output_kept


def finish(rt: Runtime, row: Row, outcome: Outcome, reply: dict | None = None) -> Ended | None:
    """Store the outcome of the execution that claimed `row`; None when the lease was lost meanwhile."""
    return finish_many(rt, [(row, outcome, reply)])[0]


def finish_many(rt: Runtime, ended: list[tuple[Row, Outcome, dict | None]]) -> list[Ended | None]:
    """`finish` for the executions of several runs (row, outcome, sync reply) in one transaction: each run's
    fenced UPDATE, then the step rows of all of them in one executemany (group commit across runs: on SQLite
    a commit writes each page it changed, and consecutive runs change the same pages). Raises as a whole
    (nothing stored) when a statement fails; a run whose lease was lost gets None and nothing stored.
    On PostgreSQL the write is pipelined (store/writer.py): BEGIN and the UPDATEs in one round trip, the steps
    and COMMIT in another, whatever the number of runs; not when it also writes whole payloads, dead letters,
    thread entries or facts (SQLAlchemy's executions read their cursor at once, which a pipeline answers only
    at its next sync)."""
    writes = [_EndWrite(rt, row, outcome, reply) for row, outcome, reply in ended]

    def work(conn) -> list[bool]:
        stored = [bool(n) for n in rowcounts(conn, [(w.end, w.params) for w in writes])]
        kept = [w for ok, w in zip(stored, writes) if ok]
        for statement, rows in ((STEPS, [r for w in kept for r in w.steps]),
                                (PAYLOADS, [r for w in kept for r in w.payloads]),
                                (LETTERS, [r for w in kept for r in w.letters])):
            if rows:
                statement.many(conn, rows) if statement is STEPS else conn.execute(statement, rows)
        threads.store(conn, [r for w in kept for r in w.thread])
        kpis.store(conn, [r for w in kept for r in w.facts])
        return stored

    plain = any(w.payloads or w.letters or w.thread or w.facts for w in writes)
    stored = rt.writer.write(work, pipelined=not plain)
    return [w.ended if ok else None for ok, w in zip(stored, writes)]


class _EndWrite:
    """One execution's end: its fenced UPDATE and parameters, step rows, whole payloads, dead letters."""
    __slots__ = ("end", "params", "steps", "payloads", "letters", "ended", "thread", "facts")

    def __init__(self, rt: Runtime, row: Row, outcome: Outcome, reply: dict | None):
        limit = rt.settings.step_payload_limit
        status = STATUS[outcome.status]
        now = utcnow()
        params: dict[str, Any] = {"run_id": row.id, "claimed": row.attempt, "lease_until": None}  # `worker` stays
        output, cut = None, False
        if status == RunStatus.QUEUED:
            params.update(checkpoint=outcome.checkpoint, not_before=now + dt.timedelta(seconds=outcome.retry_in_s))
        else:
            output, cut = fit(outcome.output, limit * 8, outcome.output_text)
            params.update(checkpoint=None, finished_at=now, output=output, error=outcome.error, not_before=None)
        if reply is not None:
            params["reply"] = reply
        self.end, self.params = END[status], params
        self.steps, self.payloads = _step_rows(rt, row.id, outcome.steps, row.input)
        self.letters = [{"workspace": row.workspace, "run_id": row.id, "flow_id": row.flow_id,
                         "version": row.version, "status": "open", "created_at": now, **dl,
                         "code": clip(dl["code"], 64), "message": clip(dl["message"], 4000)}
                        for dl in outcome.dead_letters]
        self.ended = Ended(status.value, outcome.output if not cut else None, output_kept=not cut)
        plan = rt.plans.cached((row.workspace, row.flow_id, row.version))  # the plan it executed with, or None
        self.thread = threads.entries_of(plan.correlation if plan else threads.correlation_of(rt, row), row,
                                         outcome, now)
        self.facts = kpis.facts_of(row, outcome, now)
        if getattr(row, "dry_run", False):  # a dry run sent nothing: no document thread entry, no business fact
            self.thread, self.facts = [], []


def fail(rt: Runtime, row: Row, error: dict, reply: dict | None = None) -> bool:
    """End a claimed run `failed` without steps (it could not be planned or stored), with a dead letter of its
    input: a failed run is never missing from the exception workbench, and a retry starts from that input."""
    now = utcnow()
    params = {"run_id": row.id, "claimed": row.attempt, "lease_until": None, "checkpoint": None,
              "finished_at": now, "error": error}
    if reply is not None:
        params["reply"] = reply
    letter = {"workspace": row.workspace, "run_id": row.id, "flow_id": row.flow_id, "version": row.version,
              "node_id": row.start_node or row.trigger_node or "", "error_class": error.get("class") or "technical",
              "code": clip(error.get("code") or "failed", 64), "message": clip(error.get("message") or "", 4000),
              "payload": row.input, "status": "open", "created_at": now}

    def work(conn) -> bool:
        if not END[RunStatus.FAILED].rowcount(conn, params):
            return False
        conn.execute(LETTERS, [letter])
        return True
    return rt.writer.write(work)


def hand_over(rt: Runtime, workspace: str, flow_id: str, sequence_key: str | None) -> int | None:
    """Enqueue the next open run of an ended run's sequence key (it found the ended run open and waits)."""
    if sequence_key is None:
        return None
    with rt.reader.connect() as conn:
        nxt = conn.execute(NEXT_OF_KEY, {"workspace": workspace, "flow_id": flow_id, "key": sequence_key}).scalar()
    if nxt is not None:
        runs.enqueue(rt, nxt, why="handed over")
    return nxt


def _step_rows(rt: Runtime, run_id: int, steps: list[dict], run_input: Any = None) -> tuple[list[dict], list[dict]]:
    limit, maximum = rt.settings.step_payload_limit, rt.settings.step_payload_max
    rows, payloads = [], []
    stored: dict[str, str] = {}  # the JSON text of each message stored in full for this run -> where it is
    for st in steps:
        st = dict(st)
        texts = st.pop("texts", None) or {}
        for kind in ("input", "output"):
            whole, text = st.get(kind), texts.get(kind)
            if text is not None and len(text) <= limit and isinstance(whole, (dict, list, str)):
                if kind == "input" and whole is run_input and text not in stored:
                    stored[text] = "run.input"  # the run row holds it whole (intake)
                ref = stored.get(text)
                if ref is not None:
                    st[kind], st[f"{kind}_ref"] = None, ref
                    continue
                stored[text] = f"{st['seq']}.{kind}"
            st[kind], cut = fit(whole, limit, text)
            if cut:
                st["truncated"] = True
                # over the step payload maximum, the step failed with payload_too_large: keep no copy
                if len(text or "") <= maximum:
                    payloads.append({"run_id": run_id, "step_seq": st["seq"], "kind": kind,
                                     "data": JsonText(text) if text is not None else whole})
        rows.append({**STEP_DEFAULTS, "run_id": run_id, **st})
    return rows, payloads


def fit(value, limit: int, text: str | None = None) -> tuple[Any, bool]:
    """The value to store if its JSON fits in `limit` bytes (as the JSON text already made, when given),
    else a preview and True (the caller keeps the whole copy aside). `text` is the executor's JSON of it."""
    if value is None or isinstance(value, (int, float, bool)):
        return value, False
    text = payload_text(value) if text is None else text
    if len(text) <= limit:
        return JsonText(text), False
    return {"_truncated": True, "bytes": len(text), "preview": text[:2000]}, True


def clip(value, limit: int) -> str:
    """A text column's value: PostgreSQL text cannot hold NUL, and codes have a length."""
    return str(value).replace("\x00", "")[:limit]
