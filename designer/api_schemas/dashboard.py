"""Bodies of /api/v1/dashboard, /partner/dashboard, /kpis and /flows/health: the operations dashboard, business
KPIs and flow health (designer/dashboard_api.py)."""
from __future__ import annotations

from marshmallow import fields, validate

from designer.api_schemas.common import Body, Reply, time

WINDOW = fields.Integer(validate=validate.Range(60, 2_592_000),
                        metadata={"description": "seconds back from now, 60 to 2,592,000 (30 days); default 3600"})
RATE = {"allow_none": True, "validate": validate.Range(0, 1)}


class WindowQuery(Body):
    window_s = WINDOW


class DashboardQuery(WindowQuery):
    flow_id = fields.String(validate=validate.Length(1, 64), metadata={"description": "only this flow"})


class KpiQuery(Body):
    from_ = fields.Date(data_key="from", metadata={"description": "first day (UTC), YYYY-MM-DD; default 29 days "
                                                                  "before `to`"})
    to = fields.Date(metadata={"description": "last day (UTC), inclusive; default today; at most 366 days"})


class KpiFigures(Reply):
    orders = fields.Integer(required=True, metadata={"description": "orders placed in the period"})
    shipments = fields.Integer(required=True, metadata={"description": "shipments of those orders"})
    order_cycle_time_h = fields.Float(required=True, allow_none=True,
                                      metadata={"description": "mean hours from placed to first shipment"})
    fulfillment_accuracy = fields.Float(required=True, **RATE)
    backorder_rate = fields.Float(required=True, **RATE)
    on_time_shipment_rate = fields.Float(required=True, **RATE)
    return_rate = fields.Float(required=True, allow_none=True, validate=validate.Range(0))


class KpiDay(KpiFigures):
    day = fields.String(required=True, metadata={"examples": ["2026-11-26"]})


class KpiWarehouse(KpiFigures):
    warehouse = fields.String(required=True, allow_none=True, metadata={"examples": ["DC1"]})


class KpiReport(Reply):
    from_ = fields.String(required=True, data_key="from")
    to = fields.String(required=True)
    summary = fields.Nested(KpiFigures, required=True)
    by_day = fields.List(fields.Nested(KpiDay), required=True)
    by_warehouse = fields.List(fields.Nested(KpiWarehouse), required=True)


class Bucket(Reply):
    t = time(required=True)
    succeeded = fields.Integer(required=True)
    failed = fields.Integer(required=True)


class RunFigures(Reply):
    total = fields.Integer(required=True)
    succeeded = fields.Integer(required=True)
    failed = fields.Integer(required=True)
    success_rate = fields.Float(required=True, **RATE)
    per_minute = fields.List(fields.Nested(Bucket), required=True,
                             metadata={"description": "one per bucket_s, oldest first"})


class NodeFigures(Reply):
    node_id = fields.String(required=True)
    name = fields.String(required=True)
    count = fields.Integer(required=True)
    p50_ms = fields.Float(required=True, allow_none=True)
    p95_ms = fields.Float(required=True, allow_none=True)


class FlowFigures(Reply):
    flow_id = fields.String(required=True)
    name = fields.String(required=True)
    version = fields.Integer(required=True, allow_none=True)
    runs = fields.Integer(required=True)
    failed = fields.Integer(required=True)
    success_rate = fields.Float(required=True, **RATE)
    p50_ms = fields.Float(required=True, allow_none=True)
    p95_ms = fields.Float(required=True, allow_none=True)
    nodes = fields.List(fields.Nested(NodeFigures), required=True)


class QueueFigures(Reply):
    queue = fields.String(required=True)
    depth = fields.Integer(required=True)
    oldest_age_s = fields.Float(required=True, allow_none=True)


class ExceptionFigures(Reply):
    open = fields.Integer(required=True)
    by_class = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    by_age = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True,
                         metadata={"description": "lt_1h, 1h_24h, gt_24h"})


class Dashboard(Reply):
    window_s = fields.Integer(required=True)
    generated_at = time(required=True)
    runs = fields.Nested(RunFigures, required=True)
    bucket_s = fields.Integer(required=True, metadata={"description": "60 for windows up to 6 h, else 3600"})
    flows = fields.List(fields.Nested(FlowFigures), required=True)
    queues = fields.List(fields.Nested(QueueFigures), required=True)
    exceptions = fields.Nested(ExceptionFigures, required=True)
    kpis = fields.Nested(KpiFigures, required=True, metadata={"description": "the KPIs of the window's days"})


class Customer(Reply):
    workspace = fields.String(required=True)
    name = fields.String(required=True)
    health = fields.Integer(required=True, validate=validate.Range(0, 100))
    runs = fields.Integer(required=True)
    failed = fields.Integer(required=True)
    success_rate = fields.Float(required=True, **RATE)
    open_exceptions = fields.Integer(required=True)
    oldest_exception_age_s = fields.Float(required=True, allow_none=True)


class PartnerDashboard(Reply):
    window_s = fields.Integer(required=True)
    customers = fields.List(fields.Nested(Customer), required=True, metadata={"description": "worst health first"})


class FlowHealth(Reply):
    flow_id = fields.String(required=True)
    last_run_at = time(required=True, allow_none=True)
    last_status = fields.String(required=True, allow_none=True)
    failed_24h = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(("ok", "failing", "idle")))


class FlowHealthList(Reply):
    flows = fields.List(fields.Nested(FlowHealth), required=True)
