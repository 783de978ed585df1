"""HTTP API of the exception workbench (issue 14): failed runs' dead letters and business exceptions, filtered,
grouped by root cause, assigned, commented, resolved and retried one, a selection or all matching
(runtime/exceptions.py). Operators handle them (runs:write), viewers read them (runs:read). A partner admin lists
and groups them across the partner's customer workspaces with `?scope=partner` (narrowed by `?workspace=`), and
handles each in its own workspace (the workspace header of the change names it)."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, g, request

from designer import access
from designer.access import requires
from designer.errors import ApiError
from designer.request_context import MAX_ID, body, int_arg, runtime, workspace
from runtime import dry_runs, exceptions

bp = Blueprint("exceptions_api", __name__, url_prefix="/api/v1/exceptions")
STATUS = {"not_found": 404, "too_many": 409}
FILTER_FIELDS = ("status", "flow_id", "class", "business_key", "assignee", "root_cause", "since", "until")


@bp.get("")
@requires("runs:read")
def list_exceptions():
    items, cursor = exceptions.listed(runtime(), _scope(), _filter(request.args),
                                      limit=int_arg("limit", 50, minimum=1),
                                      before=int_arg("before", minimum=1, maximum=MAX_ID))
    return {"exceptions": items, "next": cursor}


@bp.get("/groups")
@requires("runs:read")
def list_groups():
    return {"groups": exceptions.groups(runtime(), _scope(), _filter(request.args))}


@bp.get("/<int(max=2147483647):exception_id>")
@requires("runs:read")
def get_exception(exception_id: int):
    found = exceptions.get(runtime(), workspace(), exception_id)
    if found is None:
        raise ApiError(404, "not_found", f"no exception {exception_id}")
    return {"exception": found}


@bp.post("/<int(max=2147483647):exception_id>/assign")
@requires("runs:write")
def assign(exception_id: int):
    args = _object()
    if "assignee" not in args:
        raise ApiError(400, "invalid_argument", 'the body is {"assignee": "name" or null}', [{"field": "assignee"}])
    return {"exception": _handled(lambda: exceptions.assign(runtime(), workspace(), exception_id,
                                                            args["assignee"]))}


@bp.post("/<int(max=2147483647):exception_id>/comments")
@requires("runs:write")
def add_comment(exception_id: int):
    args = _object()
    return {"exception": _handled(lambda: exceptions.comment(runtime(), workspace(), exception_id, _actor(),
                                                             args.get("text")))}, 201


@bp.post("/<int(max=2147483647):exception_id>/resolve")
@requires("runs:write")
def resolve_one(exception_id: int):
    rt, ws = runtime(), workspace()
    if exceptions.get(rt, ws, exception_id) is None:
        raise ApiError(404, "not_found", f"no exception {exception_id}")
    exceptions.resolve(rt, ws, [exception_id], _actor())
    return {"exception": exceptions.get(rt, ws, exception_id)}


@bp.post("/resolve")
@requires("runs:write")
def resolve_many():
    ids, more = _chosen(_object())
    return {"resolved": exceptions.resolve(runtime(), workspace(), ids, _actor()), "remaining": more}


@bp.post("/retry")
@requires("runs:write")
def retry():
    ids, more = _chosen(_object())
    return {**exceptions.retry(runtime(), workspace(), ids), "remaining": more}, 202


@bp.post("/dry-run")
@requires("runs:write")
def dry_run():
    """Retry as a dry run: the first 20 chosen, walked through the current version without side effects."""
    ids, more = _chosen(_object())
    taken = ids[:dry_runs.MAX_RECORDS]
    return {"results": dry_runs.dry_run(runtime(), workspace(), taken), "remaining": more + len(ids) - len(taken)}


def _scope() -> str | list[str]:
    """The workspaces a list reads: the request's, or with ?scope=partner (partner admins) every workspace of the
    caller's partner, or the one of them ?workspace= names; another partner's is 404, as if it did not exist."""
    scope, wanted = request.args.get("scope") or "workspace", request.args.get("workspace")
    if scope == "workspace":
        if wanted:
            raise ApiError(400, "invalid_argument", "workspace goes with scope=partner; the workspace header "
                                                    "names the workspace otherwise", [{"field": "workspace"}])
        return workspace()
    if scope != "partner":
        raise ApiError(400, "invalid_argument", "scope is workspace or partner", [{"field": "scope"}])
    who = access.acting()
    if not (who.kind == "user" and who.partner_admin):
        raise ApiError(403, "forbidden", "the partner-wide view needs a partner admin",
                       [{"permission": "partner_admin"}])
    if wanted:
        if not who.sees(wanted):
            raise ApiError(404, "unknown_workspace", f"no workspace {wanted!r}", [{"field": "workspace"}])
        return [wanted]
    return sorted(who.roles)


def _chosen(args: dict) -> tuple[list[int], int]:
    """{"ids": [...]} (at most MAX_RETRY) or {"filter": {...}} (the oldest MAX_RETRY open ones matching)."""
    ids, where = args.get("ids"), args.get("filter")
    if (ids is None) == (where is None):
        raise ApiError(400, "invalid_argument", 'the body is {"ids": [1, 2]} or {"filter": {"class": ...}}',
                       [{"field": "ids"}])
    if ids is not None:
        if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) and 1 <= i <= MAX_ID
                                                for i in ids):
            raise ApiError(400, "invalid_argument", "ids is a list of exception ids", [{"field": "ids"}])
        if len(ids) > exceptions.MAX_RETRY:
            raise ApiError(413, "too_many", f"at most {exceptions.MAX_RETRY} ids at once; use a filter to take "
                                            "all matching", [{"field": "ids"}])
        return exceptions.chosen(runtime(), workspace(), ids, None)
    if not isinstance(where, dict):
        raise ApiError(400, "invalid_argument", "filter is an object of the list's query arguments",
                       [{"field": "filter"}])
    return exceptions.chosen(runtime(), workspace(), None, _filter(where, "filter."))


def _filter(args, prefix: str = "") -> exceptions.Filter:
    text = {}
    for name in FILTER_FIELDS:
        value = args.get(name)
        if value is not None and (not isinstance(value, str) or len(value) > 400):
            raise ApiError(400, "invalid_argument", f"{name} is text of at most 400 characters",
                           [{"field": prefix + name}])
        text[name] = value
    status = text["status"] or "open"
    if status not in ("open", "resolved", "all"):
        raise ApiError(400, "invalid_argument", "status is open, resolved or all", [{"field": prefix + "status"}])
    return exceptions.Filter(status=status, flow_id=text["flow_id"] or None, kind=text["class"] or None,
                             business_key=text["business_key"] or None, assignee=text["assignee"],
                             root_cause=text["root_cause"] or None, since=_time(text["since"], prefix + "since"),
                             until=_time(text["until"], prefix + "until"))


def _time(raw: str | None, name: str) -> dt.datetime | None:
    if not raw:
        return None
    try:
        value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "+"))
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None) if value.tzinfo else value
    except (ValueError, OverflowError):
        raise ApiError(400, "invalid_argument", f"{name} must be an ISO 8601 time, e.g. 2026-11-26T18:00:00Z",
                       [{"field": name}]) from None


def _object() -> dict:
    args = body(required=False) or {}
    if not isinstance(args, dict):
        raise ApiError(400, "invalid_argument", "the body is a JSON object")
    return args


def _handled(call):
    try:
        return call()
    except exceptions.ExceptionError as err:
        raise ApiError(STATUS.get(err.code, 400), err.code, err.message,
                       [{"field": err.field}] if err.field else None) from None


def _actor() -> str:
    return getattr(g.get("principal"), "actor", None) or "anonymous"
