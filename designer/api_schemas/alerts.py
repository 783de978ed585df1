"""Bodies of /api/v1/alert-rules, /api/v1/alerts and /api/v1/partner/smtp: alerts (designer/alerts_api.py)."""
from __future__ import annotations

from marshmallow import fields, validate

from designer.api_schemas.common import Body, Reply, nullable_time, time

KINDS = ["failures", "latency", "queue_age", "absence"]
PARAMS = ("by kind. absence: expect_label or expect_flow, window_s, and for each document: after_label or "
          "after_flow, key_kind, lookback_s; failures: count, window_s, error_class?, code?, flow_id?; latency: "
          "threshold_s, window_s, count?, flow_id?; queue_age: threshold_s")


class AlertChannels(Reply):
    webhooks = fields.List(fields.String(), metadata={"description": "http(s) URLs, at most 5, egress-checked"})
    emails = fields.List(fields.String(), metadata={"description": "addresses, at most 10, sent through the "
                                                                   "partner's SMTP settings"})


class RuleIn(Body):
    name = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    params = fields.Dict(required=True, metadata={"description": PARAMS})
    channels = fields.Nested(AlertChannels, required=True)
    enabled = fields.Boolean()
    every_s = fields.Integer(validate=validate.Range(min=10, max=86400), metadata={"description": "default 60"})


class AlertRule(Reply):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    params = fields.Dict(required=True)
    channels = fields.Nested(AlertChannels, required=True)
    enabled = fields.Boolean(required=True)
    every_s = fields.Integer(required=True)
    evaluated_at = nullable_time()
    error = fields.String(allow_none=True, metadata={"description": "the last evaluation's failure"})
    created_at = time(required=True)
    updated_at = time(required=True)


class RuleEnvelope(Reply):
    rule = fields.Nested(AlertRule, required=True)


class RuleList(Reply):
    rules = fields.List(fields.Nested(AlertRule), required=True)


class AlertDelivery(Reply):
    id = fields.Integer(required=True)
    event = fields.String(required=True, metadata={"description": "fired or resolved"})
    channel = fields.String(required=True, metadata={"description": "webhook or email"})
    target = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "pending, sent or failed (retries used up)"})
    attempts = fields.Integer(required=True)
    next_at = nullable_time()
    last_error = fields.String(allow_none=True)
    sent_at = nullable_time()


class Alert(Reply):
    id = fields.Integer(required=True)
    rule_id = fields.Integer(required=True)
    rule_name = fields.String(required=True)
    kind = fields.String(required=True)
    key = fields.String(required=True, metadata={"description": "what is wrong: the missing document's key, the "
                                                                "error class, the flow"})
    status = fields.String(required=True, metadata={"description": "firing, acknowledged or resolved"})
    detail = fields.Dict(allow_none=True)
    count = fields.Integer(required=True, metadata={"description": "evaluations that found it"})
    first_seen = time(required=True)
    last_seen = time(required=True)
    acknowledged_at = nullable_time()
    acknowledged_by = fields.String(allow_none=True)
    resolved_at = nullable_time()
    resolved_by = fields.String(allow_none=True, metadata={"description": "a user, or rule when it cleared"})
    deliveries = fields.List(fields.Nested(AlertDelivery), required=True)


class AlertEnvelope(Reply):
    alert = fields.Nested(Alert, required=True)


class AlertList(Reply):
    alerts = fields.List(fields.Nested(Alert), required=True, metadata={"description": "newest first"})


class AlertQuery(Body):
    status = fields.String(validate=validate.OneOf(["firing", "acknowledged", "resolved"]))
    rule_id = fields.Integer(validate=validate.Range(min=1))
    limit = fields.Integer(validate=validate.Range(min=1, max=500))


class Smtp(Reply):
    host = fields.String(required=True)
    port = fields.Integer(required=True)
    tls = fields.String(required=True, metadata={"description": "none, starttls or tls"})
    sender = fields.String(data_key="from", required=True)
    username = fields.String(allow_none=True)
    password = fields.String(allow_none=True, metadata={"description": "******** when set; never shown"})


class SmtpEnvelope(Reply):
    smtp = fields.Nested(Smtp, allow_none=True, required=True)


class SmtpIn(Body):
    host = fields.String(required=True)
    port = fields.Integer(validate=validate.Range(min=1, max=65535), metadata={"description": "default 587"})
    tls = fields.String(validate=validate.OneOf(["none", "starttls", "tls"]),
                        metadata={"description": "default starttls"})
    sender = fields.String(data_key="from", required=True)
    username = fields.String(allow_none=True)
    password = fields.String(allow_none=True, metadata={"description": "******** keeps the stored one"})
