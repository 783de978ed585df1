"""The exception workbench (issue 14): open dead letters (failed runs' messages and business exceptions) with their
root cause, class and business key, kept in `exception_states` beside the dead letter so grouping is one GROUP BY;
assignment, comments and resolution by operators; retry of one, a selection or all matching, as replays on the
flow's current version; and automatic resolution when a retry succeeds.

A dead letter gets its state row the first time the workbench or maintenance looks (`index`), and a retried one
is settled once its retry run has ended (`settle`), so both cost nothing on the run path. Listing and grouping take
one workspace or several (a partner admin's view across its customers: the caller passes the workspaces it sees);
every change is made in one workspace, the exception's own."""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import TYPE_CHECKING, Any, Sequence

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from runtime import replay
from runtime.models import Base, DeadLetter, Run, utcnow
from runtime.plan import PlanError
from runtime.states import TERMINAL, RunStatus
from runtime.store import letters

if TYPE_CHECKING:
    from runtime.wiring import Runtime

MAX_PAGE = 200
MAX_GROUPS = 100
MAX_WORKSPACES = 500  # a partner-wide view spans at most this many workspaces
MAX_RETRY = 200  # dead letters one retry request takes on; "all matching" past that says how many remain
MAX_COMMENTS, MAX_COMMENT = 50, 2000
INDEX_BATCH = 500
RESOLUTIONS = ("manual", "retried", "superseded")
TECHNICAL_KINDS = ("timeout", "connection", "5xx", "4xx", "mapping_error", "budget", "unrouted")
BUSINESS_KINDS = ("unknown_sku", "missing_ship_to", "credit_hold", "invalid_quantity")
KIND_OF_CODE = {"timeout": "timeout", "connection_error": "connection", "connection_failed": "connection",
                "http_5xx": "5xx", "http_4xx": "4xx", "http_429": "4xx", "http_unexpected_status": "4xx",
                "mapping_error": "mapping_error", "mapping_empty": "mapping_error", "expression_error": "mapping_error",
                "template_error": "mapping_error", "unrouted": "unrouted", "payload_too_large": "budget",
                "egress_denied": "connection", "database_unavailable": "connection", "file_too_large": "budget",
                "too_many_rows": "budget", "too_many_parts": "budget", "item_not_found": "unknown_sku",
                "unknown_item": "unknown_sku", "invalid_sku": "unknown_sku",
                "invalid_quantity": "invalid_quantity", "insufficient_quantity": "invalid_quantity"}
TECHNICAL_CODES = {"timeout", "connection_error", "http_5xx", "http_4xx", "http_429"}  # never a remote's business code
INDEX = re.compile(r"\[\d+\]")
BUDGET = re.compile(r"[\w.\[\]]{1,200}: budget_[a-z]+: ")


class ExceptionState(Base):
    __tablename__ = "exception_states"
    dead_letter_id: Mapped[int] = mapped_column(Integer, ForeignKey("dead_letters.id", ondelete="CASCADE"),
                                                primary_key=True, autoincrement=False)
    workspace: Mapped[str] = mapped_column(String(64))
    root_cause: Mapped[str] = mapped_column(String(400))  # code + the remote's code + the offending value
    kind: Mapped[str] = mapped_column(String(64))  # timeout, 4xx, unknown_sku, ... (TECHNICAL_KINDS, BUSINESS_KINDS)
    business_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    assignee: Mapped[str | None] = mapped_column(String(200), nullable=True)
    comments: Mapped[list | None] = mapped_column(JSON, nullable=True)  # [{"by", "at", "text"}], at most 50
    retry_run_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    resolution: Mapped[str | None] = mapped_column(String(20), nullable=True)  # RESOLUTIONS
    resolved_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("ix_exception_states_cause", "workspace", "root_cause"),
                      Index("ix_exception_states_retry", "retry_run_id"))


STATES = ExceptionState.__table__


class ExceptionError(Exception):
    def __init__(self, code: str, message: str, field: str | None = None):
        super().__init__(message)
        self.code, self.message, self.field = code, message, field


@dataclasses.dataclass(frozen=True)
class Filter:
    """What an operator narrows the workbench to; every field optional."""
    status: str = "open"  # open | resolved | all
    flow_id: str | None = None
    kind: str | None = None  # a class (TECHNICAL_KINDS, BUSINESS_KINDS) or an error code
    business_key: str | None = None
    assignee: str | None = None  # "" for unassigned
    root_cause: str | None = None
    since: dt.datetime | None = None  # created at or after (age)
    until: dt.datetime | None = None  # created before

    def where(self, workspace: str | Sequence[str]) -> list:
        c = [_of(workspace)]
        if self.status != "all":
            c.append(DeadLetter.status == self.status)
        if self.flow_id:
            c.append(DeadLetter.flow_id == self.flow_id)
        if self.kind:
            c.append(or_(ExceptionState.kind == self.kind, DeadLetter.code == self.kind))
        if self.business_key:
            c.append(ExceptionState.business_key == self.business_key)
        if self.assignee is not None:
            c.append(ExceptionState.assignee.is_(None) if self.assignee == "" else
                     ExceptionState.assignee == self.assignee)
        if self.root_cause:
            c.append(ExceptionState.root_cause == self.root_cause)
        if self.since:
            c.append(DeadLetter.created_at >= self.since)
        if self.until:
            c.append(DeadLetter.created_at < self.until)
        return c


def root_cause(code: str, message: str) -> str:
    """What failures of one cause share: the code and the headline, array positions left out (lines[3] and
    lines[0] of two orders are the same unknown SKU)."""
    return f"{code}: {INDEX.sub('[]', message or '')}"[:400]


def kind_of(code: str, error_class: str, message: str) -> str:
    """The workbench class of a failure: from its code, or from the remote system's own code that leads a
    connector error's headline (an ERP's item_not_found is an unknown SKU)."""
    if code in ("http_4xx", "http_unexpected_status"):
        remote = (message or "").split(":", 1)[0].strip().lower()
        return KIND_OF_CODE[remote] if remote in KIND_OF_CODE and remote not in TECHNICAL_CODES else "4xx"
    if BUDGET.match(message or ""):  # an expression stopped by its budget: "expression: budget_time: ..."
        return "budget"
    if code in KIND_OF_CODE:
        return KIND_OF_CODE[code]
    if code.startswith("budget_"):
        return "budget"
    if code.endswith("_unmappable"):
        return "mapping_error"
    return code[:64]


def _of(workspace: str | Sequence[str]):
    """The condition for dead letters of one workspace or of several."""
    if isinstance(workspace, str):
        return DeadLetter.workspace == workspace
    return DeadLetter.workspace.in_(list(workspace)[:MAX_WORKSPACES])


def index(rt: Runtime, workspace: str | Sequence[str] | None = None, max_batches: int = 20) -> int:
    """Give dead letters without a state row theirs (of one workspace, several, or all), at most `max_batches` of
    INDEX_BATCH a call (a backlog is taken over the next reads and maintenance passes); how many were added."""
    added = 0
    for _ in range(max_batches):
        q = (select(DeadLetter.id, DeadLetter.workspace, DeadLetter.code, DeadLetter.error_class,
                    DeadLetter.message, Run.business_key)
             .outerjoin(ExceptionState, ExceptionState.dead_letter_id == DeadLetter.id)
             .outerjoin(Run, Run.id == DeadLetter.run_id)
             .where(ExceptionState.dead_letter_id.is_(None)).order_by(DeadLetter.id).limit(INDEX_BATCH))
        if workspace is not None:
            q = q.where(_of(workspace))
        with rt.read_sessions() as s:
            rows = s.execute(q).all()
        if not rows:
            return added
        now = utcnow()
        try:
            with rt.sessions.begin() as s:
                s.execute(STATES.insert(), [
                    {"dead_letter_id": r.id, "workspace": r.workspace, "root_cause": root_cause(r.code, r.message),
                     "kind": kind_of(r.code, r.error_class, r.message), "business_key": r.business_key,
                     "comments": [], "updated_at": now} for r in rows])
        except IntegrityError:  # another process indexed some of them meanwhile: take the rest one by one
            for r in rows:
                try:
                    with rt.sessions.begin() as s:
                        s.execute(STATES.insert().values(
                            dead_letter_id=r.id, workspace=r.workspace, root_cause=root_cause(r.code, r.message),
                            kind=kind_of(r.code, r.error_class, r.message), business_key=r.business_key,
                            comments=[], updated_at=now))
                except IntegrityError:
                    pass
        added += len(rows)
        if len(rows) < INDEX_BATCH:
            return added
    return added


def settle(rt: Runtime, workspace: str | Sequence[str] | None = None) -> int:
    """Resolve open dead letters whose retry run has ended: `retried` when it succeeded, `superseded` when it
    failed again with dead letters of its own (the story goes on there); how many were resolved."""
    index(rt, workspace)
    q = (select(DeadLetter.id, Run.status, Run.id.label("retry"))
         .join(ExceptionState, ExceptionState.dead_letter_id == DeadLetter.id)
         .join(Run, Run.id == ExceptionState.retry_run_id)
         .where(DeadLetter.status == "open", Run.status.in_([s.value for s in TERMINAL])).limit(10_000))
    if workspace is not None:
        q = q.where(_of(workspace))
    with rt.read_sessions() as s:
        ended = s.execute(q).all()
        unsuccessful = {r.retry for r in ended if r.status != RunStatus.SUCCEEDED.value}
        again = set(s.scalars(select(DeadLetter.run_id).where(DeadLetter.run_id.in_(unsuccessful)))) if unsuccessful \
            else set()
    done = {"retried": [r.id for r in ended if r.status == RunStatus.SUCCEEDED.value],
            "superseded": [r.id for r in ended if r.status != RunStatus.SUCCEEDED.value and r.retry in again]}
    resolved = 0
    for resolution, ids in done.items():
        if ids:
            with rt.engine.begin() as conn:
                resolved += letters.resolve(conn, ids)
                conn.execute(update(STATES).where(STATES.c.dead_letter_id.in_(ids)).values(
                    resolution=resolution, resolved_by="retry", updated_at=utcnow()))
    return resolved


def listed(rt: Runtime, workspace: str | Sequence[str], where: Filter, *, limit: int = 50,
           before: int | None = None) -> tuple[list[dict], int | None]:
    """Exceptions of the workspace (or workspaces) matching `where`, newest first, a page at a time (cursor: the
    last id)."""
    settle(rt, workspace)
    limit = max(1, min(limit, MAX_PAGE))
    q = _joined().where(*where.where(workspace))
    if before:
        q = q.where(DeadLetter.id < before)
    with rt.read_sessions() as s:
        rows = s.execute(q.order_by(DeadLetter.id.desc()).limit(limit + 1)).all()
    items = [_dict(*r) for r in rows[:limit]]
    return items, (items[-1]["id"] if len(rows) > limit else None)


def groups(rt: Runtime, workspace: str | Sequence[str], where: Filter) -> list[dict]:
    """Matching exceptions grouped by root cause (per workspace and flow), the largest first: "37 orders:
    item_not_found HW-99999"."""
    settle(rt, workspace)
    q = (select(DeadLetter.workspace, ExceptionState.root_cause, ExceptionState.kind, DeadLetter.flow_id,
                DeadLetter.code,
                func.count().label("count"), func.min(DeadLetter.created_at).label("oldest"),
                func.max(DeadLetter.created_at).label("newest"), func.max(DeadLetter.id).label("sample"))
         .join(ExceptionState, ExceptionState.dead_letter_id == DeadLetter.id)
         .where(*where.where(workspace))
         .group_by(DeadLetter.workspace, ExceptionState.root_cause, ExceptionState.kind, DeadLetter.flow_id,
                   DeadLetter.code)
         .order_by(func.count().desc(), ExceptionState.root_cause, DeadLetter.workspace).limit(MAX_GROUPS))
    with rt.read_sessions() as s:
        return [{"workspace": r.workspace, "root_cause": r.root_cause, "class": r.kind, "flow_id": r.flow_id,
                 "code": r.code, "count": r.count, "oldest": _iso(r.oldest), "newest": _iso(r.newest),
                 "sample_id": r.sample}
                for r in s.execute(q)]


def get(rt: Runtime, workspace: str, exception_id: int) -> dict | None:
    index(rt, workspace)
    settle(rt, workspace)
    with rt.read_sessions() as s:
        row = s.execute(_joined().where(DeadLetter.workspace == workspace, DeadLetter.id == exception_id)).first()
    return _dict(*row, whole=True) if row else None


def assign(rt: Runtime, workspace: str, exception_id: int, assignee: str | None) -> dict:
    if assignee is not None and (not isinstance(assignee, str) or not 1 <= len(assignee.strip()) <= 200):
        raise ExceptionError("invalid_argument", "assignee is 1-200 characters, or null to unassign", "assignee")
    return _change(rt, workspace, exception_id, lambda st: {"assignee": assignee.strip() if assignee else None})


def comment(rt: Runtime, workspace: str, exception_id: int, by: str, text: str) -> dict:
    if not isinstance(text, str) or not 1 <= len(text.strip()) <= MAX_COMMENT:
        raise ExceptionError("invalid_argument", f"text is 1-{MAX_COMMENT} characters", "text")

    def added(st: ExceptionState) -> dict:
        if len(st.comments or []) >= MAX_COMMENTS:
            raise ExceptionError("too_many", f"an exception holds at most {MAX_COMMENTS} comments", "text")
        return {"comments": [*(st.comments or []), {"by": by[:200], "at": _iso(utcnow()), "text": text.strip()}]}
    return _change(rt, workspace, exception_id, added)


def resolve(rt: Runtime, workspace: str, exception_ids: list[int], by: str) -> int:
    """Resolve open exceptions by hand (the cause went away, or nothing is to be done); how many were open."""
    index(rt, workspace)
    with rt.read_sessions() as s:
        ids = list(s.scalars(select(DeadLetter.id).where(DeadLetter.workspace == workspace, DeadLetter.status == "open",
                                                          DeadLetter.id.in_(exception_ids[:MAX_RETRY]))))
    if not ids:
        return 0
    with rt.engine.begin() as conn:
        resolved = letters.resolve(conn, ids)
        conn.execute(update(STATES).where(STATES.c.dead_letter_id.in_(ids), STATES.c.resolution.is_(None)).values(
            resolution="manual", resolved_by=by[:200], updated_at=utcnow()))
    return resolved


def chosen(rt: Runtime, workspace: str, ids: list[int] | None, where: Filter | None) -> tuple[list[int], int]:
    """The open exceptions a bulk action takes: the given ids of this workspace, or the oldest MAX_RETRY matching
    `where`; and how many more match."""
    settle(rt, workspace)
    if ids is not None:
        q = select(DeadLetter.id).where(DeadLetter.workspace == workspace, DeadLetter.status == "open",
                                        DeadLetter.id.in_(ids))
    else:
        q = (select(DeadLetter.id).join(ExceptionState, ExceptionState.dead_letter_id == DeadLetter.id)
             .where(*dataclasses.replace(where or Filter(), status="open").where(workspace)))
    with rt.read_sessions() as s:
        found = list(s.scalars(q.order_by(DeadLetter.id).limit(MAX_RETRY + 1)))
        more = 0
        if len(found) > MAX_RETRY:
            more = s.scalar(select(func.count()).select_from(q.subquery())) - MAX_RETRY
    return found[:MAX_RETRY], more


def retry(rt: Runtime, workspace: str, ids: list[int]) -> dict:
    """Retry open exceptions: each run they came from once, as a replay on the flow's current version (fix the
    mapping or lookup first); an exception whose retry is still running is left to it. The retries resolve
    their exceptions when they succeed (`settle`)."""
    settle(rt, workspace)  # a retry that has succeeded meanwhile resolved its exceptions: they are not taken again
    with rt.read_sessions() as s:
        rows = s.execute(select(DeadLetter.id, DeadLetter.run_id, ExceptionState.retry_run_id, Run.status)
                         .join(ExceptionState, ExceptionState.dead_letter_id == DeadLetter.id)
                         .outerjoin(Run, Run.id == ExceptionState.retry_run_id)
                         .where(DeadLetter.workspace == workspace, DeadLetter.status == "open",
                                DeadLetter.id.in_(ids[:MAX_RETRY]))).all()
    by_run: dict[int, list[int]] = {}
    busy = []
    for r in rows:
        if r.retry_run_id is not None and r.status is not None and RunStatus(r.status) not in TERMINAL:
            busy.append(r.id)
        else:
            by_run.setdefault(r.run_id, []).append(r.id)
    started, problems = [], []
    for run_id, letter_ids in by_run.items():
        try:
            run = replay.start(rt, workspace, run_id, version="current")
        except replay.ReplayError as err:
            problems.extend({"id": i, "code": err.code, "message": err.message} for i in letter_ids)
            continue
        except PlanError as err:
            problems.extend({"id": i, "code": "not_runnable", "message": str(err)} for i in letter_ids)
            continue
        with rt.sessions.begin() as s:
            s.execute(update(STATES).where(STATES.c.dead_letter_id.in_(letter_ids)).values(
                retry_run_id=run.id, updated_at=utcnow()))
        started.append({"run_id": run.id, "replays": run_id, "exceptions": letter_ids})
    return {"retries": started, "busy": busy, "problems": problems}


def _change(rt: Runtime, workspace: str, exception_id: int, values: Any) -> dict:
    index(rt, workspace)
    with rt.sessions.begin() as s:
        st = s.scalar(select(ExceptionState).where(ExceptionState.workspace == workspace,
                                                   ExceptionState.dead_letter_id == exception_id).with_for_update())
        if st is None:
            raise ExceptionError("not_found", f"no exception {exception_id}")
        for name, value in values(st).items():
            setattr(st, name, value)
        st.updated_at = utcnow()
    found = get(rt, workspace, exception_id)
    assert found is not None
    return found


def _joined():
    retry = Run.__table__.alias("retry_run")
    return (select(DeadLetter, ExceptionState, retry.c.status)
            .join(ExceptionState, ExceptionState.dead_letter_id == DeadLetter.id)
            .outerjoin(retry, retry.c.id == ExceptionState.retry_run_id))


def _dict(d: DeadLetter, st: ExceptionState, retry_status: str | None, whole: bool = False) -> dict:
    out = {"id": d.id, "workspace": d.workspace, "run_id": d.run_id, "flow_id": d.flow_id, "version": d.version,
           "node_id": d.node_id, "error_class": d.error_class, "code": d.code, "message": d.message, "status": d.status,
           "created_at": _iso(d.created_at), "resolved_at": _iso(d.resolved_at), "class": st.kind,
           "root_cause": st.root_cause, "business_key": st.business_key, "assignee": st.assignee,
           "comment_count": len(st.comments or []), "resolution": st.resolution, "resolved_by": st.resolved_by,
           "retry": {"run_id": st.retry_run_id, "status": retry_status} if st.retry_run_id else None}
    return {**out, "payload": d.payload, "comments": st.comments or []} if whole else out


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() + "Z" if value else None

