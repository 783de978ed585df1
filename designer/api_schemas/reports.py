"""Bodies of /api/v1/reports/sla: a workspace's SLA report of one month (designer/reports_api.py)."""
from __future__ import annotations

from marshmallow import fields, validate

from designer.api_schemas.common import Body, Reply


class SlaQuery(Body):
    month = fields.String(required=True, validate=validate.Regexp(r"^\d{4}-\d{2}$"),
                          metadata={"description": "the calendar month (UTC), YYYY-MM", "examples": ["2026-11"]})
    format = fields.String(validate=validate.OneOf(("json", "csv", "pdf")),
                           metadata={"description": "json (default), csv (one figure a row) or pdf"})
    workspace = fields.String(validate=validate.Length(1, 64),
                              metadata={"description": "a partner admin: another workspace of its partner"})


class SlaReport(Reply):
    report = fields.Dict(required=True, metadata={
        "description": "workspace, month, brand, definitions, availability {endpoints, calls, overall, intake}, "
                       "runs, exceptions (time to resolve), kpis (docs/api.md)"})
