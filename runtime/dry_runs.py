"""Dry-run retry of exceptions (issue 14): a failed run's original input walked through the flow's current version
as far as the steps without side effects go (transforms, branches, lookups read), each step's output shown beside
the original run's output of the same node, and where it stops: at the first node that would write somewhere
(a connector, an emit), naming the message it would send. Nothing is written, called or claimed: control.dedupe
reads the ledger as a retry would find it."""
from __future__ import annotations

import json
from collections import deque
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from nodes.base import NodeError, Wait
from runtime import history, lookups
from runtime.context import StepContext
from runtime.models import DeadLetter, Flow, LedgerEntry
from runtime.store import reads
from runtime.plan import PlanError

if TYPE_CHECKING:
    from runtime.wiring import Runtime

MAX_RECORDS = 20  # exceptions one dry run takes
MAX_STEPS = 50  # steps walked per record
PURE_CATEGORIES = ("transform", "branch")
NOT_PURE = {"transform.aggregate"}  # keeps its groups in the database
PURE_TYPES = {"event.webhook", "event.manual", "control.discard", "control.dedupe"}  # dedupe: DryLedger reads
DRY_RUN_ID = 0


class DryLedger:
    """The idempotent-consumer ledger read, never written: a key is new, or the claim of the run retried (or one
    it replays) when a retry would find it so, else the run that holds it (control.dedupe's duplicate)."""

    def __init__(self, rt: Runtime, workspace: str, lineage: frozenset[int]):
        self.rt, self.workspace, self.lineage = rt, workspace, lineage

    def claim(self, scope: str, key: str, run_id: str) -> str | None:
        with self.rt.read_sessions() as s:
            owner = s.scalar(select(LedgerEntry.run_id).where(LedgerEntry.workspace == self.workspace,
                                                              LedgerEntry.scope == scope, LedgerEntry.key == key))
        return None if owner is None or owner in self.lineage else str(owner)


def dry_run(rt: Runtime, workspace: str, ids: list[int]) -> list[dict]:
    """For each exception (dead letter) of `workspace` among `ids` (the first MAX_RECORDS): its run's input
    walked through the current version without side effects, with the original run's outputs beside."""
    with rt.read_sessions() as s:
        letters = s.execute(select(DeadLetter.id, DeadLetter.run_id, DeadLetter.flow_id).where(
            DeadLetter.workspace == workspace, DeadLetter.id.in_(ids[:MAX_RECORDS])).order_by(DeadLetter.id)).all()
        deployed = dict(s.execute(select(Flow.id, Flow.deployed_version).where(
            Flow.workspace == workspace, Flow.id.in_({d.flow_id for d in letters}))).all())
    return [_one(rt, workspace, d.id, d.run_id, d.flow_id, deployed.get(d.flow_id)) for d in letters]


def _one(rt: Runtime, workspace: str, letter_id: int, run_id: int, flow_id: str, version: int | None) -> dict:
    out: dict[str, Any] = {"id": letter_id, "run_id": run_id, "flow_id": flow_id, "version": version, "steps": []}
    original = history.get_run(rt, workspace, run_id)
    if original is None:
        return {**out, "outcome": "not_found", "error": {"code": "not_found", "message": f"run {run_id} is gone"}}
    if not version:
        return {**out, "outcome": "not_deployed", "error": {"code": "not_deployed",
                                                           "message": f"flow {flow_id!r} is not deployed"}}
    try:
        plan = rt.plan_for(workspace, flow_id, version)
    except PlanError as err:
        return {**out, "outcome": "not_runnable", "error": {"code": "not_runnable", "message": str(err)}}
    before = {}
    for step in original.get("steps") or []:  # the first step of each node: the original's own output
        before.setdefault(step["node_id"], {"status": step["status"], "output": step.get("output"),
                                            "error": step.get("error")})
    own = frozenset([run_id, *reads.lineage(rt, original.get("replay_of"))])  # claims a retry would find its own
    ctx = StepContext(workspace=workspace, flow_id=flow_id, flow_version=version, run_id=DRY_RUN_ID,
                      params=plan.params, business_key=original.get("business_key"),
                      ledger=DryLedger(rt, workspace, own), root_run_id=run_id, on_respond=lambda *_: None,
                      lookups=lambda table, key: lookups.get(rt, workspace, table, key))
    steps = original.get("steps") or []  # where the original started: its trigger, or the step it was re-run from
    first = original.get("start_node") or (steps[0]["node_id"] if steps else None) or next(
        (n.id for n in plan.nodes.values() if n.module.SPEC.trigger), None)
    pending = deque([(first, original.get("input"))])
    outcome = "ends"
    while pending:
        node_id, message = pending.popleft()
        node = plan.nodes.get(node_id)
        if node is None:
            continue
        if len(out["steps"]) >= MAX_STEPS:
            outcome = "too_long"
            break
        step: dict[str, Any] = {"node_id": node.id, "node_type": node.type, "input": message,
                                "before": before.get(node.id)}
        out["steps"].append(step)
        spec = node.module.SPEC
        if node.type not in PURE_TYPES and (spec.category not in PURE_CATEGORIES or node.type in NOT_PURE):
            step["status"] = "stopped"  # it would write: what it would be sent is the input shown
            outcome = "reaches_side_effect"
            continue
        try:
            emits = list(node.module.run(node.prepared, message, ctx.at(node.id, 1)))
        except (NodeError, Wait) as err:
            step.update(status="failed", error=err.to_dict())
            outcome = "fails"
            continue
        except Exception as err:  # a bug in a node fails the step, as in a run
            step.update(status="failed", error={"code": "node_crashed", "message": f"{type(err).__name__}: {err}"})
            outcome = "fails"
            continue
        after = emits[0][1] if len(emits) == 1 else [m for _, m in emits] if emits else None
        step.update(status="succeeded", port=",".join(dict.fromkeys(p for p, _ in emits)) or None, after=after,
                    changed=_json(after) != _json((step["before"] or {}).get("output")))
        for port, emitted in emits:
            for target, _in_port in plan.targets(node.id, port):
                pending.append((target, emitted))
    return {**out, "outcome": outcome}


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)
