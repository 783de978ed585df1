"""Replay: a finished run runs again as a new run linked to it (`replay_of`). Either whole, with its
original input, on the version it ran on or on the flow's current version; or from one step, with
the input that step received (whole, even when the step row kept only a preview) or an edited one.

A run from a step keeps the original's business and sequence keys: its input is a mid-flow message,
on which the flow's key expressions would find nothing, and ordering per key must still hold.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from runtime.models import Flow, Run
from runtime.plan import evaluate_key
from runtime.states import TERMINAL, RunStatus
from runtime.store import reads, runs

if TYPE_CHECKING:
    from runtime.wiring import Runtime

VERSIONS = ("original", "current")
ORIGINAL_INPUT = object()  # `message` default: what the original run (or step) received


class ReplayError(Exception):
    def __init__(self, code: str, message: str, field: str | None = None):
        super().__init__(message)
        self.code, self.message, self.field = code, message, field


def start(rt: Runtime, workspace: str, run_id: int, *, version: str = "original", from_node: str | None = None,
          message: Any = ORIGINAL_INPUT) -> Run:
    if version not in VERSIONS:
        raise ReplayError("invalid_argument", f"version is one of {list(VERSIONS)}", "version")
    original = reads.run_row(rt, run_id)
    if original is None or original.workspace != workspace:
        raise ReplayError("not_found", f"no run {run_id}")
    if RunStatus(original.status) not in TERMINAL:
        raise ReplayError("not_finished", f"run {run_id} is {original.status}; replay it once it has finished")
    target = original.version
    if version == "current":
        with rt.read_sessions() as s:
            target = s.scalar(select(Flow.deployed_version).where(Flow.workspace == workspace,
                                                                  Flow.id == original.flow_id))
        if not target:
            raise ReplayError("not_deployed", f"flow {original.flow_id!r} is not deployed", "version")
    plan = rt.plan_for(workspace, original.flow_id, target)
    if from_node and from_node not in plan.nodes:
        raise ReplayError("unknown_node", f"version {target} of flow {original.flow_id!r} has no node {from_node!r}",
                          "from_node")
    if message is ORIGINAL_INPUT:
        message = original.input if not from_node else _step_input(rt, run_id, from_node)
    if from_node:
        keys = {"business_key": original.business_key, "sequence_key": original.sequence_key}
    else:  # the version's keys for the run's trigger (an arrival for a control.wait gets no sequence key)
        run_keys = rt.keys_for(workspace, original.flow_id, target, original.trigger_node)
        keys = {"business_key": evaluate_key(run_keys.business_key, message),
                "sequence_key": evaluate_key(run_keys.sequence_key, message)}
    return runs.start(rt, workspace, original.flow_id, target, message, trigger="replay",
                      trigger_node=original.trigger_node, replay_of=run_id, start_node=from_node, **keys)


def _step_input(rt: Runtime, run_id: int, node_id: str) -> Any:
    """The input of the node's last attempt in the run, whole."""
    found, message = reads.step_input(rt, run_id, node_id)
    if not found:
        raise ReplayError("no_step_input", f"run {run_id} never reached node {node_id!r}; give the input to use",
                          "input")
    return message
