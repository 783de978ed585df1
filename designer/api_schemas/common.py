"""Shapes every area shares: the error body, a problem, and the base classes of bodies. A reply may grow
fields (clients ignore what they do not know); a request's unknown fields are ignored by the handlers."""
from __future__ import annotations

from marshmallow import EXCLUDE, INCLUDE, Schema, fields, validate

MAX_ID = 2**31 - 1  # run ids and version numbers are INTEGER columns


class Reply(Schema):
    class Meta:
        unknown = INCLUDE  # documented as additionalProperties: true


class Body(Schema):
    class Meta:
        unknown = EXCLUDE  # the handlers ignore fields they do not read


class Problem(Reply):
    """A finding about a document (flows.problem.Problem.to_dict), or what an error concerns."""
    code = fields.String()
    message = fields.String()
    severity = fields.String(validate=validate.OneOf(("error", "warning")))
    node = fields.String()
    edge = fields.String()
    field = fields.String()
    position = fields.Integer()
    line = fields.Integer()
    column = fields.Integer()
    permission = fields.String()


class ErrorBody(Reply):
    code = fields.String(required=True, metadata={"examples": ["not_found", "forbidden", "invalid_json"]})
    message = fields.String(required=True)
    details = fields.List(fields.Nested(Problem))


class Error(Reply):
    """Every 4xx (and the 5xx of a bug): a code, plain words and what it concerns."""
    error = fields.Nested(ErrorBody, required=True)


class Problems(Reply):
    problems = fields.List(fields.Nested(Problem))


def time(metadata: dict | None = None, **kwargs) -> fields.String:
    """Times leave as ISO 8601 text in UTC."""
    return fields.String(metadata={"format": "date-time", **(metadata or {})}, **kwargs)


def nullable_time() -> fields.String:
    return time(allow_none=True)


def version(**kwargs) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(1, MAX_ID), **kwargs)
