"""Bodies of /api/v1/trading-partners: a partner record as stored and shown, and the interchanges sent to it.
The request body is the runtime's own check (runtime.trading_partners.TradingPartnerIn), so the document
and the validation cannot differ."""
from __future__ import annotations

from marshmallow import fields, validate

from designer.api_schemas.common import Body, Reply, nullable_time, time
from runtime.trading_partners import TradingPartnerIn  # noqa: F401 (the PUT body)

INTERCHANGE_STATUSES = ("awaiting", "acknowledged", "overdue", "not_expected")


class PartnerIdsOut(Reply):
    qualifier = fields.String(required=True)
    id = fields.String(required=True)
    application_id = fields.String(required=True)


class TradingPartner(Reply):
    name = fields.String(required=True)
    description = fields.String()
    partner = fields.Nested(PartnerIdsOut, required=True)
    us = fields.Nested(PartnerIdsOut, required=True)
    version = fields.String(required=True)
    usage = fields.String(required=True)
    delimiters = fields.Dict(keys=fields.String(), values=fields.String())
    ack = fields.Dict()
    last_control_number = fields.Integer(metadata={"description": "the last ISA13 given out"})
    created_at = time()
    updated_at = time()


class TradingPartnerList(Reply):
    trading_partners = fields.List(fields.Nested(TradingPartner), required=True)


class InterchangeQuery(Body):
    status = fields.String(validate=validate.OneOf(INTERCHANGE_STATUSES))
    limit = fields.Integer(validate=validate.Range(1, 500))


class SentGroup(Reply):
    functional_id = fields.String(required=True)
    control_number = fields.Integer(required=True)
    sets = fields.Integer()
    status = fields.String(metadata={"examples": ["sent", "accepted", "accepted_with_errors", "rejected"]})
    ack_code = fields.String(allow_none=True)
    acknowledged_at = nullable_time()


class Interchange(Reply):
    control_number = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(INTERCHANGE_STATUSES))
    run_id = fields.Integer(allow_none=True)
    flow_id = fields.String(allow_none=True)
    node_id = fields.String(allow_none=True)
    sent_at = time()
    due_at = nullable_time()
    acknowledged_at = nullable_time()
    groups = fields.List(fields.Nested(SentGroup))


class InterchangeList(Reply):
    interchanges = fields.List(fields.Nested(Interchange), required=True)
