"""HTTP API for runs: start by hand, list, inspect, replay; and the dead-letter list (docs/api.md)."""
from __future__ import annotations

from flask import Blueprint, request

from designer.errors import ApiError
from designer.requests import body, int_arg, runtime, workspace
from runtime import history, intake
from runtime.plan import PlanError

bp = Blueprint("runs_api", __name__, url_prefix="/api/v1")
STATUSES = {"queued", "running", "succeeded", "failed", "dead_lettered", "canceled"}


@bp.post("/flows/<flow_id>/runs")
def start_run(flow_id: str):
    args = body(required=False) or {}
    if not isinstance(args, dict):
        raise ApiError(400, "invalid_argument", 'the body is {"input": ..., "version": n}')
    version = args.get("version")
    if version is not None and not isinstance(version, int):
        raise ApiError(400, "invalid_argument", "version must be an integer", [{"field": "version"}])
    rt, ws = runtime(), workspace()
    try:
        run = intake.start_manual(rt, ws, flow_id, args.get("input"), version)
    except intake.NotFound as err:
        raise ApiError(404 if err.code == "not_found" else 409, err.code, err.message) from None
    except PlanError as err:
        raise ApiError(409, "not_runnable", str(err)) from None
    return {"run": history.get_run(rt, ws, run.id)}, 202


@bp.get("/runs")
def list_runs():
    status = request.args.get("status")
    if status and not set(status.split(",")) <= STATUSES:
        raise ApiError(400, "invalid_argument", f"status is one of {sorted(STATUSES)}", [{"field": "status"}])
    runs, cursor = history.list_runs(runtime(), workspace(), flow_id=request.args.get("flow_id"), status=status,
                                     key=request.args.get("key"), limit=int_arg("limit", 50),
                                     before=int_arg("before"))
    return {"runs": runs, "next": cursor}


@bp.get("/runs/<int:run_id>")
def get_run(run_id: int):
    run = history.get_run(runtime(), workspace(), run_id)
    if run is None:
        raise ApiError(404, "not_found", f"no run {run_id}")
    return {"run": run}


@bp.get("/runs/<int:run_id>/steps/<int:seq>/<kind>")
def get_step_payload(run_id: int, seq: int, kind: str):
    if kind not in ("input", "output"):
        raise ApiError(404, "not_found", "a step has an input and an output")
    return {"data": history.step_payload(runtime(), workspace(), run_id, seq, kind)}


@bp.get("/dead-letters")
def list_dead_letters():
    return {"dead_letters": history.list_dead_letters(runtime(), workspace(), status=request.args.get("status", "open"),
                                                      flow_id=request.args.get("flow_id"),
                                                      limit=int_arg("limit", 50))}
