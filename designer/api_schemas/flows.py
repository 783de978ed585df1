"""Bodies of the flow endpoints: the flow document (flows.document's own schema), drafts, validation,
deploy, versions, stats and the export bundle."""
from __future__ import annotations

from marshmallow import fields, validate

from designer.api_schemas.common import Body, Problem, Reply, time, version
from flows import document, migrate


class FlowDocument(document.FlowSchema):
    """A flow document (docs/api.md); `schema` names the one document version this server reads."""
    schema = document.Text(required=True, validate=validate.OneOf([migrate.CURRENT]))


class FlowSummary(Reply):
    id = fields.String(required=True)
    name = fields.String(required=True)
    description = fields.String()
    revision = fields.Integer(required=True)
    updated_at = time()
    deployed_version = fields.Integer(allow_none=True)
    node_count = fields.Integer()


class FlowList(Reply):
    flows = fields.List(fields.Nested(FlowSummary), required=True)


class FlowDetail(Reply):
    """A draft with its revision (also the ETag) and what a deploy would complain about."""
    flow = fields.Dict(required=True, metadata={"description": "the flow document as saved"})
    revision = fields.Integer(required=True)
    updated_at = time()
    deployed_version = fields.Integer(allow_none=True)
    problems = fields.List(fields.Nested(Problem))


class ValidateQuery(Body):
    draft = fields.Boolean(metadata={"description": "check as a saved draft: reference problems are warnings"})


class Validation(Reply):
    valid = fields.Boolean(required=True)
    problems = fields.List(fields.Nested(Problem), required=True)


class DeployRequest(Body):
    version = version(metadata={"description": "roll back to this version; none: deploy the draft"})


class Deployed(Reply):
    flow_id = fields.String(required=True)
    version = fields.Integer(required=True)
    deployed_at = time()


class Undeployed(Reply):
    flow_id = fields.String(required=True)
    deployed_version = fields.Integer(allow_none=True)


class VersionSummary(Reply):
    version = fields.Integer(required=True)
    created_at = time()
    deployed = fields.Boolean()


class VersionList(Reply):
    versions = fields.List(fields.Nested(VersionSummary), required=True)


class VersionDocument(Reply):
    flow = fields.Dict(required=True)
    version = fields.Integer(required=True)


class StatsQuery(Body):
    window_s = fields.Integer(validate=validate.Range(1, 604800), metadata={"description": "default 300"})
    version = fields.String(metadata={"description": "a version number, or `all`; default the deployed version"})


class NodeStats(Reply):
    in_ = fields.Integer(data_key="in")
    out = fields.Integer()
    failed = fields.Integer()
    avg_ms = fields.Float(allow_none=True)
    p95_ms = fields.Float(allow_none=True)


class EdgeStats(Reply):
    source = fields.String()
    source_port = fields.String(allow_none=True)
    messages = fields.Integer()


class VersionRuns(Reply):
    version = fields.Integer()
    runs = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={"description": "status -> count"})


class FlowStats(Reply):
    flow_id = fields.String(required=True)
    version = fields.Integer(allow_none=True, metadata={"description": "the version the figures are of; null: all"})
    window_s = fields.Integer(required=True)
    since = time()
    until = time()
    runs = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={"description": "status -> count"})
    nodes = fields.Dict(keys=fields.String(), values=fields.Nested(NodeStats))
    edges = fields.List(fields.Nested(EdgeStats))
    versions = fields.List(fields.Nested(VersionRuns), metadata={"description": "runs per version in the window, "
                                                                                "newest version first"})


class ConnectionNeed(Reply):
    name = fields.String()
    system = fields.String()


class Bundle(Reply):
    """A template bundle (crossdock.template/1): the flow, its samples, lookups and needed connections; never
    a secret."""
    schema = fields.String(required=True, metadata={"examples": ["crossdock.template/1"]})
    id = fields.String(required=True)
    name = fields.String()
    description = fields.String()
    flow = fields.Dict(required=True)
    samples = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True))
    lookups = fields.Dict(keys=fields.String(), values=fields.Dict())
    connections = fields.List(fields.Nested(ConnectionNeed))

