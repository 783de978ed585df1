"""Bodies of /api/v1/exceptions: the exception workbench (designer/exceptions_api.py)."""
from __future__ import annotations

from marshmallow import fields, validate

from designer.api_schemas.common import Body, Reply, nullable_time, time


class ExceptionQuery(Body):
    status = fields.String(validate=validate.OneOf(["open", "resolved", "all"]),
                           metadata={"description": "default open"})
    flow_id = fields.String()
    klass = fields.String(data_key="class", metadata={
        "description": "technical: timeout, connection, 5xx, 4xx, mapping_error, budget, unrouted; business: "
                       "unknown_sku, missing_ship_to, credit_hold, invalid_quantity; or an error code"})
    business_key = fields.String()
    assignee = fields.String(metadata={"description": "empty for the unassigned"})
    root_cause = fields.String(metadata={"description": "one group's root cause, as /groups gives it"})
    since = time(metadata={"description": "created at or after (age)"})
    until = time(metadata={"description": "created before"})
    limit = fields.Integer(validate=validate.Range(min=1, max=200))
    before = fields.Integer(metadata={"description": "the cursor: `next` of the page before"})
    scope = fields.String(validate=validate.OneOf(["workspace", "partner"]), metadata={
        "description": "partner (partner admins): across every workspace of the caller's partner; default workspace"})
    workspace = fields.String(metadata={"description": "with scope=partner: only this customer workspace"})


class Comment(Reply):
    by = fields.String(required=True)
    at = time(required=True)
    text = fields.String(required=True)


class RetryRun(Reply):
    run_id = fields.Integer(required=True)
    status = fields.String(allow_none=True)


class WorkbenchException(Reply):
    id = fields.Integer(required=True, metadata={"description": "the dead letter's id"})
    workspace = fields.String(required=True, metadata={"description": "the workspace it belongs to (changes to it "
                                                                       "are made there)"})
    run_id = fields.Integer(required=True)
    flow_id = fields.String(required=True)
    version = fields.Integer(required=True)
    node_id = fields.String(required=True)
    error_class = fields.String(required=True, metadata={"description": "technical or business"})
    klass = fields.String(data_key="class", required=True, metadata={"description": "the workbench class"})
    code = fields.String(required=True)
    message = fields.String(required=True, metadata={"description": "the headline; a connector's names the remote "
                                                                     "system's own code, message and field"})
    root_cause = fields.String(required=True, metadata={"examples": ["http_4xx: item_not_found: ..."]})
    business_key = fields.String(allow_none=True)
    status = fields.String(required=True, metadata={"description": "open or resolved"})
    assignee = fields.String(allow_none=True)
    comment_count = fields.Integer(required=True)
    resolution = fields.String(allow_none=True, metadata={"description": "manual, retried or superseded"})
    resolved_by = fields.String(allow_none=True)
    retry = fields.Nested(RetryRun, allow_none=True, metadata={"description": "the latest retry run"})
    created_at = time(required=True)
    resolved_at = nullable_time()
    payload = fields.Raw(allow_none=True, metadata={"description": "one exception's read only"})
    comments = fields.List(fields.Nested(Comment), metadata={"description": "one exception's read only"})


class ExceptionList(Reply):
    exceptions = fields.List(fields.Nested(WorkbenchException), required=True)
    next = fields.Integer(allow_none=True)


class ExceptionEnvelope(Reply):
    exception = fields.Nested(WorkbenchException, required=True)


class Group(Reply):
    workspace = fields.String(required=True)
    root_cause = fields.String(required=True)
    klass = fields.String(data_key="class", required=True)
    flow_id = fields.String(required=True)
    code = fields.String(required=True)
    count = fields.Integer(required=True)
    oldest = time(required=True)
    newest = time(required=True)
    sample_id = fields.Integer(required=True, metadata={"description": "an exception of the group"})


class GroupList(Reply):
    groups = fields.List(fields.Nested(Group), required=True, metadata={"description": "largest first, at most 100"})


class Assign(Body):
    assignee = fields.String(required=True, allow_none=True, validate=validate.Length(1, 200))


class NewComment(Body):
    text = fields.String(required=True, validate=validate.Length(1, 2000))


class Choice(Body):
    ids = fields.List(fields.Integer(), validate=validate.Length(max=200),
                      metadata={"description": "exceptions to take (or give filter)"})
    filter = fields.Dict(metadata={"description": "the list's query arguments: the oldest 200 open ones matching"})


class Resolved(Reply):
    resolved = fields.Integer(required=True)
    remaining = fields.Integer(required=True, metadata={"description": "matching ones past the bound of 200"})


class RetryStarted(Reply):
    run_id = fields.Integer(required=True)
    replays = fields.Integer(required=True)
    exceptions = fields.List(fields.Integer(), required=True)


class RetryProblem(Reply):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    message = fields.String(required=True)


class Retried(Reply):
    retries = fields.List(fields.Nested(RetryStarted), required=True)
    busy = fields.List(fields.Integer(), required=True, metadata={"description": "exceptions whose retry still runs"})
    problems = fields.List(fields.Nested(RetryProblem), required=True)
    remaining = fields.Integer(required=True)


class DryStep(Reply):
    node_id = fields.String(required=True)
    node_type = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "succeeded, failed, or stopped: the node would "
                                                                   "write somewhere, so the dry run ends before it"})
    input = fields.Raw(allow_none=True, metadata={"description": "what the node got (for a stopped one: what it "
                                                                 "would be sent)"})
    before = fields.Dict(allow_none=True, metadata={"description": "the original run's step of the node: status, "
                                                                   "output, error"})
    after = fields.Raw(allow_none=True, metadata={"description": "the output now"})
    changed = fields.Boolean(metadata={"description": "after differs from the original output"})
    port = fields.String(allow_none=True)
    error = fields.Dict(allow_none=True)


class DryResult(Reply):
    id = fields.Integer(required=True)
    run_id = fields.Integer(required=True)
    flow_id = fields.String(required=True)
    version = fields.Integer(allow_none=True, metadata={"description": "the current version it was walked through"})
    outcome = fields.String(required=True, metadata={
        "description": "reaches_side_effect (would go on to write), fails, ends, too_long, not_found, not_deployed, "
                       "not_runnable"})
    steps = fields.List(fields.Nested(DryStep), required=True)
    error = fields.Dict(allow_none=True)


class DryRun(Reply):
    results = fields.List(fields.Nested(DryResult), required=True, metadata={"description": "at most 20"})
    remaining = fields.Integer(required=True)
