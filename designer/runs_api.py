"""HTTP API for runs: start by hand, list, inspect, replay; and the dead-letter list (docs/api.md)."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, request

from designer.access import requires
from designer.errors import ApiError
from designer.request_context import MAX_ID, body, int_arg, runtime, workspace
from runtime import deployments, history, intake, replay
from runtime.plan import PlanError
from runtime.states import RunStatus

bp = Blueprint("runs_api", __name__, url_prefix="/api/v1")
STATUSES = {s.value for s in RunStatus}  # what the runtime produces (runtime/states.py)
REPLAY_STATUS = {"not_found": 404, "not_finished": 409, "not_deployed": 409, "no_step_input": 422,
                 "unknown_node": 422}


@bp.post("/flows/<flow_id>/runs")
@requires("runs:write")
def start_run(flow_id: str):
    args = body(required=False) or {}
    if not isinstance(args, dict):
        raise ApiError(400, "invalid_argument", 'the body is {"input": ..., "version": n, "dry_run": bool}')
    version = args.get("version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):  # JSON true is no version
        raise ApiError(400, "invalid_argument", "version must be an integer", [{"field": "version"}])
    dry_run = args.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise ApiError(400, "invalid_argument", "dry_run must be true or false", [{"field": "dry_run"}])
    rt, ws = runtime(), workspace()
    if version is not None and (not 1 <= version <= MAX_ID
                                or deployments.document(rt, ws, flow_id, version) is None):
        raise ApiError(404, "not_found", f"flow {flow_id!r} has no version {version}", [{"field": "version"}])
    try:
        run = intake.start_manual(rt, ws, flow_id, args.get("input"), version, dry_run=dry_run)
    except intake.NotFound as err:
        raise ApiError(404 if err.code == "not_found" else 409, err.code, err.message) from None
    except PlanError as err:
        raise ApiError(409, "not_runnable", str(err)) from None
    return {"run": history.get_run(rt, ws, run.id)}, 202


@bp.get("/runs")
@requires("runs:read")
def list_runs():
    status = request.args.get("status")
    if status and not set(status.split(",")) <= STATUSES:
        raise ApiError(400, "invalid_argument", f"status is one of {sorted(STATUSES)}", [{"field": "status"}])
    runs, cursor = history.list_runs(runtime(), workspace(), flow_id=request.args.get("flow_id"), status=status,
                                     key=request.args.get("key"), limit=int_arg("limit", 50, minimum=1),
                                     before=int_arg("before", minimum=1, maximum=MAX_ID), since=_time_arg("since"),
                                     until=_time_arg("until"), dry_run=_dry_run_arg())
    return {"runs": runs, "next": cursor}


def _dry_run_arg() -> bool | None:
    raw = request.args.get("dry_run")
    if raw in (None, ""):
        return None
    if raw not in ("true", "false"):
        raise ApiError(400, "invalid_argument", "dry_run is true or false", [{"field": "dry_run"}])
    return raw == "true"


@bp.get("/runs/<int(max=2147483647):run_id>")
@requires("runs:read")
def get_run(run_id: int):
    run = history.get_run(runtime(), workspace(), run_id)
    if run is None:
        raise ApiError(404, "not_found", f"no run {run_id}")
    return {"run": run}


@bp.post("/runs/<int(max=2147483647):run_id>/replay")
@requires("runs:write")
def replay_run(run_id: int):
    args = body(required=False) or {}
    if not isinstance(args, dict):
        raise ApiError(400, "invalid_argument", 'the body is {"version": "original"|"current", "from_node"?, "input"?}')
    from_node = args.get("from_node")
    if from_node is not None and not isinstance(from_node, str):
        raise ApiError(400, "invalid_argument", "from_node must be a node id", [{"field": "from_node"}])
    rt, ws = runtime(), workspace()
    try:
        run = replay.start(rt, ws, run_id, version=args.get("version", "original"), from_node=from_node,
                            message=args["input"] if "input" in args else replay.ORIGINAL_INPUT)
    except replay.ReplayError as err:
        status = REPLAY_STATUS.get(err.code, 400)
        raise ApiError(status, err.code, err.message, [{"field": err.field}] if err.field else None) from None
    except PlanError as err:
        raise ApiError(409, "not_runnable", str(err)) from None
    return {"run": history.get_run(rt, ws, run.id)}, 202


@bp.get("/runs/<int(max=2147483647):run_id>/steps/<int(max=2147483647):seq>/<kind>")
@requires("runs:read")
def get_step_payload(run_id: int, seq: int, kind: str):
    if kind not in ("input", "output"):
        raise ApiError(404, "not_found", "a step has an input and an output")
    rt, ws = runtime(), workspace()
    step = next((st for st in (history.get_run(rt, ws, run_id) or {}).get("steps", []) if st["seq"] == seq), None)
    if step is None:
        raise ApiError(404, "not_found", f"run {run_id} has no step {seq}")
    whole = history.step_payload(rt, ws, run_id, seq, kind)  # kept aside only when the row's copy was cut
    return {"data": step[kind] if whole is None else whole}


@bp.get("/dead-letters")
@requires("flows:read")
def list_dead_letters():
    return {"dead_letters": history.list_dead_letters(runtime(), workspace(), status=request.args.get("status", "open"),
                                                      flow_id=request.args.get("flow_id"),
                                                      limit=int_arg("limit", 50, minimum=1))}


def _time_arg(name: str) -> dt.datetime | None:
    """An ISO 8601 time argument as naive UTC (a time without zone is taken as UTC)."""
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "+"))
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None) if value.tzinfo else value
    except (ValueError, OverflowError):  # OverflowError: year 9999 with a zone west of UTC, year 1 east of it
        raise ApiError(400, "invalid_argument", f"{name} must be an ISO 8601 time, e.g. 2026-11-26T18:00:00Z",
                       [{"field": name}]) from None
