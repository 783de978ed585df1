"""Bodies of the experience-API endpoints: publishing a deployed webhook flow as a versioned endpoint of
the workspace's own API, and the list of what is published."""
from __future__ import annotations

from marshmallow import fields, validate

from designer.api_schemas.common import Body, Reply, time, version

NAME = r"^[a-z0-9][a-z0-9_-]{0,63}$"


class PublishIn(Body):
    name = fields.String(required=True, validate=validate.Regexp(NAME), metadata={"examples": ["orders"]})
    version = version(required=True, metadata={"description": "the API version: /api/ext/<ws>/v<version>/<name>"})
    request_record = fields.String(allow_none=True, metadata={"description": "canonical record of the request",
                                                               "examples": ["order"]})
    response_record = fields.String(allow_none=True)
    description = fields.String()


class Published(Reply):
    name = fields.String(required=True)
    version = fields.Integer(required=True)
    flow_id = fields.String(required=True)
    method = fields.String()
    path = fields.String(metadata={"examples": ["/api/ext/acme/v1/orders"]})
    request_record = fields.String(allow_none=True)
    response_record = fields.String(allow_none=True)
    description = fields.String()
    created_at = time()


class PublishedEnvelope(Reply):
    published = fields.Nested(Published, required=True)


class PublishedList(Reply):
    published = fields.List(fields.Nested(Published), required=True)
