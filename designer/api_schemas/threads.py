"""Bodies of /api/v1/threads: a business document's timeline across flows (designer/threads_api.py)."""
from __future__ import annotations

from marshmallow import fields, validate

from designer.api_schemas.common import Body, Reply, time


class ThreadQuery(Body):
    key = fields.String(required=True, validate=validate.Length(1, 200),
                        metadata={"description": "a key of the document, of any kind: PO number, order number, "
                                                 "shipment id, tracking number", "examples": ["4711"]})
    kind = fields.String(metadata={"description": "only keys of this kind (as flows declare them in "
                                                  "settings.correlation), e.g. po"})


class ThreadKey(Reply):
    kind = fields.String(required=True, metadata={"examples": ["po"]})
    value = fields.String(required=True, metadata={"examples": ["4711"]})


class ThreadSystem(Reply):
    system = fields.String(required=True, metadata={"examples": ["erp"]})
    node_type = fields.String(required=True, metadata={"examples": ["connector.erp"]})
    status = fields.String(required=True, metadata={"description": "succeeded once any attempt did, else the last "
                                                                   "attempt's status"})


class ThreadEntry(Reply):
    run_id = fields.Integer(required=True)
    flow_id = fields.String(required=True)
    flow_name = fields.String(required=True)
    version = fields.Integer(required=True)
    label = fields.String(allow_none=True, metadata={"description": "the business event the run is: the flow's "
                                                                    "settings.thread_label, else its name"})
    status = fields.String(required=True)
    trigger = fields.String(required=True)
    business_key = fields.String(allow_none=True)
    created_at = time()
    finished_at = time(allow_none=True)
    keys = fields.List(fields.Nested(ThreadKey), required=True, metadata={"description": "the keys the run carries"})
    systems = fields.List(fields.Nested(ThreadSystem), required=True,
                          metadata={"description": "the systems the run called (connector steps), in order"})


class Thread(Reply):
    key = fields.String(required=True)
    kind = fields.String(allow_none=True)
    keys = fields.List(fields.Nested(ThreadKey), required=True, metadata={"description": "every key linked to the one "
                                                                                  "searched"})
    entries = fields.List(fields.Nested(ThreadEntry), required=True, metadata={"description": "oldest first"})
    truncated = fields.Boolean(required=True, metadata={"description": "the thread reaches further than the "
                                                                       "bounds (4 hops, 50 keys, 200 runs)"})
