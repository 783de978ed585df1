"""Bodies of the run endpoints: manual start, list with its filters, detail with steps, replay, a step's
whole payload and the dead letters."""
from __future__ import annotations

from marshmallow import fields, validate

from designer.api_schemas.common import MAX_ID, Body, Reply, nullable_time, time, version
from runtime.states import RunStatus

STATUSES = [s.value for s in RunStatus]


class StartRun(Body):
    input = fields.Raw(allow_none=True, metadata={"description": "the message; none: the trigger's sample"})
    version = version()
    dry_run = fields.Boolean(metadata={"description": "connectors stop before the call; nothing is written"})


class Step(Reply):
    id = fields.Integer()
    seq = fields.Integer()
    node_id = fields.String()
    node_type = fields.String()
    status = fields.String()
    attempt = fields.Integer()
    port = fields.String(allow_none=True)
    started_at = nullable_time()
    finished_at = nullable_time()
    duration_ms = fields.Float(allow_none=True)
    input = fields.Raw(allow_none=True)
    output = fields.Raw(allow_none=True)
    error = fields.Dict(allow_none=True)
    truncated = fields.Boolean(allow_none=True)


class Run(Reply):
    id = fields.Integer(required=True)
    workspace = fields.String()
    flow_id = fields.String(required=True)
    version = fields.Integer(allow_none=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    trigger = fields.String(allow_none=True, metadata={"examples": ["webhook", "manual", "replay"]})
    business_key = fields.String(allow_none=True)
    input = fields.Raw(allow_none=True)
    output = fields.Raw(allow_none=True)
    error = fields.Dict(allow_none=True)
    attempt = fields.Integer()
    replay_of = fields.Integer(allow_none=True)
    start_node = fields.String(allow_none=True)
    created_at = nullable_time()
    started_at = nullable_time()
    finished_at = nullable_time()
    duration_ms = fields.Float(allow_none=True)
    dry_run = fields.Boolean(metadata={"description": "a dry run: it performed no side effect"})
    steps = fields.List(fields.Nested(Step), metadata={"description": "in a run's detail only"})


class RunEnvelope(Reply):
    run = fields.Nested(Run, required=True)


class RunQuery(Body):
    flow_id = fields.String()
    status = fields.String(metadata={"description": f"comma-separated, of {', '.join(STATUSES)}"})
    key = fields.String(metadata={"description": "business key"})
    since = time(metadata={"description": "inclusive, on the creation time; no zone = UTC"})
    until = time(metadata={"description": "exclusive"})
    limit = fields.Integer(validate=validate.Range(min=1), metadata={"description": "default 50"})
    before = fields.Integer(validate=validate.Range(1, MAX_ID), metadata={"description": "the cursor `next`"})


class RunList(Reply):
    runs = fields.List(fields.Nested(Run), required=True)
    next = fields.Integer(allow_none=True, required=True)


class Replay(Body):
    version = fields.String(validate=validate.OneOf(("original", "current")))
    from_node = fields.String(metadata={"description": "start at this node"})
    input = fields.Raw(allow_none=True)


class StepPayload(Reply):
    data = fields.Raw(allow_none=True, required=True)


class DeadLetterQuery(Body):
    status = fields.String(metadata={"description": "default open"})
    flow_id = fields.String()
    limit = fields.Integer(validate=validate.Range(min=1))


class DeadLetter(Reply):
    id = fields.Integer()
    run_id = fields.Integer(allow_none=True)
    flow_id = fields.String()
    version = fields.Integer(allow_none=True)
    node_id = fields.String(allow_none=True)
    error_class = fields.String(allow_none=True)
    code = fields.String(allow_none=True)
    message = fields.String(allow_none=True)
    payload = fields.Raw(allow_none=True)
    status = fields.String()
    created_at = nullable_time()
    resolved_at = nullable_time()


class DeadLetterList(Reply):
    dead_letters = fields.List(fields.Nested(DeadLetter), required=True)
