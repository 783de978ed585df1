"""Deleting a whole workspace from the run store (runtime/tenancy.py deletes workspaces): its runs with
their steps and payloads, and its dead letters, inside the caller's transaction, so that the workspace
goes whole or not at all."""
from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from runtime.models import DeadLetter, Payload, Run, Step

TABLES = ("runs", "steps", "payloads", "dead_letters")  # what remove_workspace empties of the workspace


def remove_workspace(s: Session, workspace: str) -> None:
    runs = select(Run.id).where(Run.workspace == workspace).scalar_subquery()
    s.execute(delete(Payload).where(Payload.run_id.in_(runs)))
    s.execute(delete(Step).where(Step.run_id.in_(runs)))
    s.execute(delete(Run).where(Run.workspace == workspace))
    s.execute(delete(DeadLetter).where(DeadLetter.workspace == workspace))
