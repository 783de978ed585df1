"""The one way a run's status changes: an UPDATE guarded by the state table (runtime/states.py).

`move(target, *where)` sets `status = target` only on rows whose status is one the table allows to move
to `target`; the claim, the end of a run, the wait for a retry, the take-back of an expired lease and
the end of a poison run are all built with it, so the table is the guard the database applies.
A move the table does not allow changes no row (rowcount 0), and a target no state moves to raises.
"""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import Update, literal_column, update

from runtime.models import Run
from runtime.states import RunStatus, sources


def move(target: str | RunStatus, *where) -> Update:
    """UPDATE runs SET status = target WHERE status IN (the states allowed to move to it) AND `where`.
    Add `.values(...)`, or give the other columns as parameters when executing."""
    new = RunStatus(target)
    return update(Run).where(status_in(Run.status, sources(new)), *where).values(status=new.value)


def status_in(column, states: Iterable[str | RunStatus]):
    """SQL: `column IN ('queued', ...)` with the states written into the statement: a fixed list needs no
    expanding parameter, which SQLAlchemy would rebuild the statement's text for on every execution."""
    values = sorted(RunStatus(s).value for s in states)
    return column.in_([literal_column(f"'{v}'") for v in values])
