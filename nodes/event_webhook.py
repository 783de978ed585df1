"""event.webhook: a flow's HTTP trigger. The web layer persists the request as a run; this node hands it on.

`respond: sync` keeps the caller waiting (up to `timeout_s`) for the reply of a `control.respond` node.
`auth` says how a caller proves it may start runs (web/hooks.py checks it before any run exists): an API key
of the workspace with scope `hooks:write`, or an HMAC-SHA256 signature of the body with `hmac_secret` in
`signature_header` (senders such as GitHub or Shopify name their own header).
"""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from flows.spec import NodeSpec, Port, Reference
from nodes.base import Context, Emit

METHODS = ("POST", "PUT", "PATCH", "GET")
AUTH = ("key", "hmac")
SIGNATURE_HEADER = "X-Crossdock-Signature"


class Config(Schema):
    """Where the webhook listens and how it answers."""

    path = fields.String(required=True, validate=[validate.Regexp(r"^[a-z0-9][a-z0-9_/-]*$"),
                                                  validate.Length(max=200)],
                         metadata={"title": "Path", "description": "Called as /hooks/<workspace>/<path>",
                                   "examples": ["orders"]})
    method = fields.String(load_default="POST", validate=validate.OneOf(METHODS),
                           metadata={"title": "Method"})
    respond = fields.String(load_default="async", validate=validate.OneOf(("async", "sync")),
                            metadata={"title": "Respond", "description": "async: 202 with the run id at once; "
                                      "sync: the reply of a control.respond node"})
    timeout_s = fields.Integer(strict=True, load_default=30, validate=validate.Range(1, 300),
                               metadata={"title": "Timeout (s)",
                                         "description": "How long a sync caller waits before a 504"})
    auth = fields.String(load_default="key", validate=validate.OneOf(AUTH),
                         metadata={"title": "Authentication",
                                   "description": "key: an API key with scope hooks:write in X-Crossdock-Key or "
                                                  "Authorization: Bearer; hmac: X-Crossdock-Signature: "
                                                  "sha256=<hex HMAC-SHA256 of the body with the HMAC secret>"})
    hmac_secret = fields.String(validate=validate.Length(max=500),
                                metadata={"title": "HMAC secret", "format": "secret",
                                          "description": "Shared with the caller; use 32 random characters or more"})
    signature_header = fields.String(load_default=SIGNATURE_HEADER,
                                     validate=[validate.Regexp(r"^[A-Za-z0-9-]+$"), validate.Length(max=100)],
                                     metadata={"title": "Signature header",
                                               "description": "Where an hmac caller puts its signature: hex or "
                                                              "base64, with or without sha256= (GitHub: "
                                                              "X-Hub-Signature-256; Shopify: X-Shopify-Hmac-Sha256)"})

    @validates_schema
    def _secret_for_hmac(self, data, **_):
        if data.get("auth") == "hmac" and not data.get("hmac_secret"):
            raise ValidationError("an HMAC-authenticated webhook needs its hmac_secret", "hmac_secret")


SPEC = NodeSpec(
    type="event.webhook", version=1, category="event", title="Webhook",
    description="Starts a run for each HTTP request to the flow's hook path.",
    inputs=(), outputs=(Port("out", "Request body"),), config=Config, icon="webhook",
    tags=("trigger", "http"), references={"path": Reference("webhook")},
    summary="{{method}} /{{path}}",
)


def run(config: dict, message: Any, ctx: Context) -> Emit:
    yield "out", message
