"""Reading the run store: run lists (filtered, paginated by id cursor), run detail with steps, whole
step payloads, dead letters; and the reads the runtime itself needs (a replay's lineage and original,
the due runs recovery enqueues, a run's end for a sync webhook that missed its events)."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select

from runtime.deployments import iso
from runtime.models import DeadLetter, Payload, Run, Step, utcnow
from runtime.states import RunStatus
from runtime.store.claims import free

if TYPE_CHECKING:
    from runtime.wiring import Runtime

MAX_PAGE = 200


def run_dict(r: Run, steps: list[Step] | None = None) -> dict:
    d = {"id": r.id, "workspace": r.workspace, "flow_id": r.flow_id, "version": r.version, "status": r.status,
         "trigger": r.trigger, "business_key": r.business_key, "input": r.input, "output": r.output,
         "error": r.error, "attempt": r.attempt, "replay_of": r.replay_of, "start_node": r.start_node,
         "created_at": iso(r.created_at), "started_at": iso(r.started_at), "finished_at": iso(r.finished_at),
         "duration_ms": _ms(r.started_at, r.finished_at), "dry_run": bool(r.dry_run)}
    if steps is not None:
        stored = {"run.input": r.input}
        d["steps"] = [step_dict(st, stored) for st in steps]
    return d


def step_dict(st: Step, stored: dict[str, Any] | None = None) -> dict:
    """`stored`: the run's messages stored in full so far ("run.input", "<seq>.input", "<seq>.output"), to
    resolve a step that refers to one of them (runtime/store/ends.py stores each message once per run)."""
    stored = {} if stored is None else stored
    values = {}
    for kind, ref in (("input", st.input_ref), ("output", st.output_ref)):
        values[kind] = stored.get(ref) if ref else getattr(st, kind)
        stored[f"{st.seq}.{kind}"] = values[kind]
    return {"id": st.id, "seq": st.seq, "node_id": st.node_id, "node_type": st.node_type, "status": st.status,
            "attempt": st.attempt, "port": st.port, "started_at": iso(st.started_at),
            "finished_at": iso(st.finished_at), "duration_ms": st.duration_ms, "input": values["input"],
            "output": values["output"], "error": st.error, "truncated": st.truncated}


def list_runs(rt: Runtime, workspace: str, *, flow_id: str | None = None, status: str | None = None,
              key: str | None = None, limit: int = 50, before: int | None = None, since: dt.datetime | None = None,
              until: dt.datetime | None = None, dry_run: bool | None = None) -> tuple[list[dict], int | None]:
    """Newest first; `since`/`until` bound the creation time (naive UTC, `until` exclusive); `dry_run` keeps only
    dry runs (True) or only real ones (False)."""
    limit = max(1, min(int(limit), MAX_PAGE))
    q = select(Run).where(Run.workspace == workspace)
    if flow_id:
        q = q.where(Run.flow_id == flow_id)
    if status:
        q = q.where(Run.status.in_(status.split(",")))
    if key:
        q = q.where(Run.business_key == key)
    if before:
        q = q.where(Run.id < before)
    if since:
        q = q.where(Run.created_at >= since)
    if until:
        q = q.where(Run.created_at < until)
    if dry_run is not None:
        q = q.where(Run.dry_run.is_(dry_run))
    with rt.read_sessions() as s:
        rows = list(s.scalars(q.order_by(Run.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return [run_dict(r) for r in rows], (rows[-1].id if more else None)


def get_run(rt: Runtime, workspace: str, run_id: int) -> dict | None:
    with rt.read_sessions() as s:
        run = s.get(Run, run_id)
        if run is None or run.workspace != workspace:
            return None
        steps = list(s.scalars(select(Step).where(Step.run_id == run_id).order_by(Step.seq)))
        return run_dict(run, steps)


def run_row(rt: Runtime, run_id: int) -> Run | None:
    """The stored run as it is now (detached), e.g. the end of a run a sync webhook waited for."""
    with rt.read_sessions() as s:
        return s.get(Run, run_id)


def step_payload(rt: Runtime, workspace: str, run_id: int, seq: int, kind: str):
    """The whole input or output of a step whose row copy was truncated."""
    with rt.read_sessions() as s:
        run = s.get(Run, run_id)
        if run is None or run.workspace != workspace:
            return None
        return s.scalar(select(Payload.data).where(Payload.run_id == run_id, Payload.step_seq == seq,
                                                   Payload.kind == kind))


def step_input(rt: Runtime, run_id: int, node_id: str) -> tuple[bool, Any]:
    """(found, the input of the node's last attempt in the run, whole)."""
    with rt.read_sessions() as s:
        step = s.scalar(select(Step).where(Step.run_id == run_id, Step.node_id == node_id)
                        .order_by(Step.seq.desc()).limit(1))
        if step is None:
            return False, None
        if step.truncated:
            whole = s.scalar(select(Payload.data).where(Payload.run_id == run_id, Payload.step_seq == step.seq,
                                                        Payload.kind == "input"))
            if whole is not None:
                return True, whole
        return True, _referred(s, run_id, step.input_ref) if step.input_ref else step.input


def _referred(s, run_id: int, ref: str) -> Any:
    """The message a step refers to: the run's input, or a step's input or output stored in full."""
    if ref == "run.input":
        return s.scalar(select(Run.input).where(Run.id == run_id))
    seq, kind = ref.split(".")
    column = Step.input if kind == "input" else Step.output
    return s.scalar(select(column).where(Step.run_id == run_id, Step.seq == int(seq)))


def lineage(rt: Runtime, replay_of: int | None, limit: int = 50) -> list[int]:
    """The runs a replay descends from, nearest first, the first original last: a replay of a replay
    keeps the original's idempotency keys and ledger claims."""
    chain: list[int] = []
    if replay_of is None:  # most runs: no connection taken from the pool for nothing
        return chain
    with rt.reader.connect() as conn:
        while replay_of is not None and replay_of not in chain and len(chain) < limit:
            chain.append(replay_of)
            replay_of = conn.execute(select(Run.replay_of).where(Run.id == replay_of)).scalar()
    return chain


def due_queued(rt: Runtime, older_than_s: float) -> list[int]:
    """Runs waiting `queued`, due, created `older_than_s` ago or more, and free to run: a run behind an
    open earlier run of its sequence key is left out (that run hands over to it when it ends)."""
    cutoff = utcnow() - dt.timedelta(seconds=older_than_s)
    with rt.reader.connect() as conn:
        return list(conn.execute(select(Run.id).where(
            Run.status == RunStatus.QUEUED.value, Run.created_at <= cutoff,
            or_(Run.not_before.is_(None), Run.not_before <= cutoff), free()).order_by(Run.id)).scalars())


def dead_letter_dict(d: DeadLetter) -> dict:
    return {"id": d.id, "run_id": d.run_id, "flow_id": d.flow_id, "version": d.version, "node_id": d.node_id,
            "error_class": d.error_class, "code": d.code, "message": d.message, "payload": d.payload,
            "status": d.status, "created_at": iso(d.created_at), "resolved_at": iso(d.resolved_at)}


def list_dead_letters(rt: Runtime, workspace: str, *, status: str = "open", flow_id: str | None = None,
                      limit: int = 50) -> list[dict]:
    q = select(DeadLetter).where(DeadLetter.workspace == workspace)
    if status:
        q = q.where(DeadLetter.status == status)
    if flow_id:
        q = q.where(DeadLetter.flow_id == flow_id)
    with rt.read_sessions() as s:
        return [dead_letter_dict(d) for d in s.scalars(q.order_by(DeadLetter.id.desc()).limit(min(limit, MAX_PAGE)))]


def _ms(start, end) -> float | None:
    return round((end - start).total_seconds() * 1000, 1) if start and end else None

