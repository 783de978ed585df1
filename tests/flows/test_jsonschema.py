import jsonschema
import marshmallow
import pytest
from marshmallow import Schema, fields, validate

from nodes import catalog
from flows.jsonschema import DIALECT, json_schema


class Inner(Schema):
    """An inner object."""

    n = fields.Integer(load_default=1)


class Everything(Schema):
    name = fields.String(required=True, validate=validate.Regexp(r"^[a-z]+$"),
                         metadata={"title": "Name", "description": "lower case", "format": "template"})
    count = fields.Integer(validate=validate.Range(1, 10))
    ratio = fields.Float(validate=validate.Range(0, 1, min_inclusive=False, max_inclusive=False))
    on = fields.Boolean(load_default=False)
    kind = fields.String(validate=validate.OneOf(("a", "b")), allow_none=True)
    tags = fields.List(fields.String(), validate=validate.Length(min=1, max=3))
    labels = fields.Dict(keys=fields.String(validate=validate.Length(max=5)), values=fields.Integer())
    inner = fields.Nested(Inner, load_default=lambda: Inner().load({}))
    many = fields.List(fields.Nested(Inner))
    pluck = fields.Nested(Inner, many=True)
    anything = fields.Raw(data_key="any")
    secret = fields.String(metadata={"format": "secret"})
    short = fields.String(validate=validate.Length(equal=2))
    not_reserved = fields.String(validate=validate.NoneOf(("x",)))


def test_translates_every_supported_construct():
    s = json_schema(Everything)
    p = s["properties"]
    assert s["$schema"] == DIALECT and s["type"] == "object" and s["additionalProperties"] is False
    assert s["required"] == ["name"]
    assert p["name"] == {"type": "string", "title": "Name", "description": "lower case", "format": "template",
                         "pattern": "^[a-z]+$"}
    assert p["count"] == {"type": "integer", "minimum": 1, "maximum": 10}
    assert p["ratio"] == {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}
    assert p["on"] == {"type": "boolean", "default": False}
    assert p["kind"] == {"type": ["string", "null"], "enum": ["a", "b", None]}
    assert p["tags"] == {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 3}
    assert p["labels"] == {"type": "object", "additionalProperties": {"type": "integer"},
                           "propertyNames": {"maxLength": 5}}
    assert p["inner"] == {"type": "object", "properties": {"n": {"type": "integer", "default": 1}},
                          "additionalProperties": False, "description": "An inner object.", "default": {"n": 1}}
    assert p["many"]["items"]["properties"]["n"]["type"] == "integer"
    assert p["pluck"]["type"] == "array" and p["pluck"]["items"]["type"] == "object"
    assert "anything" not in p and p["any"] == {}
    assert p["secret"] == {"type": "string", "format": "secret"}
    assert p["short"] == {"type": "string", "minLength": 2, "maxLength": 2}
    assert p["not_reserved"] == {"type": "string", "not": {"enum": ["x"]}}


def test_schema_allowing_unknown_keys_says_so():
    class Open(Schema):
        class Meta:
            unknown = marshmallow.INCLUDE

    assert json_schema(Open)["additionalProperties"] is True


def test_generated_schema_agrees_with_marshmallow_on_samples():
    validator = jsonschema.Draft202012Validator(json_schema(Everything))
    good = {"name": "abc", "count": 3, "ratio": 0.5, "kind": None, "tags": ["t"], "labels": {"k": 1},
            "inner": {"n": 2}, "many": [{}], "pluck": [{"n": 1}], "any": [1, {}], "short": "ab"}
    Everything().load(good)
    validator.validate(good)
    for bad in ({"name": "ABC"}, {"name": "a", "count": 11}, {"name": "a", "ratio": 1}, {"name": "a", "kind": "c"},
                {"name": "a", "tags": []}, {"name": "a", "inner": {"m": 1}}, {"name": "a", "extra": 1},
                {"name": "a", "not_reserved": "x"}, {"count": 1}):
        with pytest.raises(marshmallow.ValidationError):
            Everything().load(bad)
        assert not validator.is_valid(bad), bad


# Configs a consultant would write, per node type.
GOOD = {
    "event.webhook": [{"path": "orders", "respond": "async"}, {"path": "a/b-c_d", "method": "PUT", "timeout_s": 5}],
    "event.manual": [{}, {"sample": {"order": {"number": "PO-4711"}}}],
    "transform.map": [{"expression": "{ 'SalesOrder': order.number, 'Lines': order.lines.{ 'Item': sku, "
                                     "'Qty': qty } }"}, {"expression": "$", "allow_empty": False}],
    "transform.set": [{"path": "erp.status", "value": "'Released'"}, {"path": "priority", "value": "total > $limit"}],
    "branch.choice": [{"rules": [{"port": "big", "when": "total > 1000"}]},
                      {"rules": [{"port": "a", "when": "x"}, {"port": "b", "when": "y"}], "drop_unmatched": True}],
    "branch.filter": [{"when": "status = 'open'"}],
    "connector.http": [
        {"url": "{{erp_url}}/orders"},
        {"method": "PUT", "url": "http://127.0.0.1:5001/erp/orders/{{$.order.number}}",
         "headers": {"X-Tenant": "{{tenant}}"}, "auth": {"type": "bearer", "token": "t0k"},
         "body": "{'n': order.number}", "timeout_s": 2.5, "retry": {"max_attempts": 5, "backoff_s": 2},
         "ok_statuses": [200, 409]},
        {"method": "GET", "url": "http://h/x", "auth": {"type": "basic", "username": "u", "password": "p"}},
        {"url": "http://h/x", "auth": {"type": "api_key", "key": "k", "header": "X-Key"}},
    ],
    "control.respond": [{}, {"status": 201, "body": "{'id': $run.id}"}],
    "connector.erp": [{"connection": "erp", "operation": "upsert_sales_order"},
                      {"connection": "erp", "operation": "get_availability", "each": "lines", "into": "availability",
                       "path": "items/{{$.item_no}}/availability", "timeout_s": 5}],
    "connector.oms": [{"connection": "oms", "operation": "update_order", "body": "{'order': {'status': 'on_hold'}}"}],
    "connector.wms": [{"connection": "wms", "operation": "create_shipping_order", "into": "wms"}],
    "connector.tms": [{"connection": "tms", "operation": "track"}],
    "transform.conform": [{"record": "order"}],
    "transform.lookup": [{"table": "sku_xref", "items": "lines", "key": "sku", "target": "item_no",
                          "business_class": "unknown_sku"},
                         {"table": "uom", "key": "unit", "missing": "default", "default": "EA"}],
    "control.dedupe": [{"key": "number"}, {"key": "number", "scope": "orders"}],
    "control.dead_letter": [{}, {"business_class": "'credit_hold'", "message": "'over the credit limit'"}],
    "control.discard": [{"reason": "duplicates were already sent to the ERP"}],
    "event.schedule": [{"cron": "0 2 * * *"}, {"cron": "*/15 6-18 * * 1-5", "input": {"full": True}}],
    "connector.sql": [{"connection": "erp_db", "statement": "SELECT * FROM orders WHERE status = :status",
                       "params": "{'status': status}"},
                      {"connection": "erp_db", "operation": "upsert", "table": "sales.orders", "key": ["number"],
                       "params": "{'number': order.number, 'total': total}", "timeout_s": 5, "page_size": 100,
                       "max_rows": 500, "retry": {"max_attempts": 5, "backoff_s": 2}},
                      {"connection": "erp_db", "operation": "call", "statement": "CALL release_order(:number)"}],
    "event.poll": [{"connection": "erp_db", "table": "orders"},
                   {"source": "http", "connection": "wms", "path": "/shipments", "records": "items",
                    "timestamp_field": "meta.updated", "id_field": "shipment_id", "interval_s": 300,
                    "batch_size": 200, "max_per_poll": 5000, "settle_s": 5}],
    "edi.read": [{}, {"partner": "{{partner}}", "text": "payload.x12", "acknowledge": False}],
    "edi.write": [{"partner": "acme"}, {"partner": "{{$.partner}}", "records": "[ack, po855]"}],
    "transform.split": [{"lines": "order.lines"},
                        {"lines": "lines", "correlation": "number", "keep": "{'number': number}", "max_parts": 500,
                         "on_empty": "error"}],
    "transform.aggregate": [{}, {"correlation": "po", "index": "n", "count": "3", "part": "line", "timeout_s": 0.5,
                                 "result": "{'lines': parts}"}],
    "control.throttle": [{"target": "erp", "rate_per_s": 10},
                         {"target": "erp.main", "rate_per_s": 0.5, "burst": 3, "concurrent": 5, "hold_s": 2}],
    "control.wait": [{"key": "order.number", "arrival_key": "orderNumber", "timeout_s": 3600},
                     {"key": "number", "arrival_key": "po", "timeout_s": 1, "hold_arrival_s": 0,
                      "result": "{'order': waited, 'shipment': arrival}"}],
    "event.file": [{"connection": "drop"}, {"connection": "sftp-in", "folder": "in", "patterns": ["*.csv"], "settle_s": 0,
                    "per": "file", "format": {"kind": "fixed", "fields": [{"name": "sku", "start": 1, "width": 8}]}},
                   {"connection": "drop", "format": {"kind": "jsonl"}, "max_files": 5}],
    "connector.file": [{"connection": "drop", "name": "orders-{{$.order.number}}.csv"},
                       {"connection": "sftp-out", "folder": "out", "name": "asn.edi", "format": {"kind": "x12"},
                        "unique": True}],
    "control.emit": [{"event": "shipment.departed"}, {"event": "order.released", "key": "order.number",
                                                      "payload": "{'n': order.number}"}],
    "event.subscribe": [{"event": "shipment.departed"}, {"event": "shipment.*", "envelope": True}],
}
# Each is rejected by marshmallow and by the JSON Schema the browser validates with.
BAD = {
    "event.webhook": [{}, {"path": "/x"}, {"path": "x", "respond": "maybe"}, {"path": "x", "timeout_s": 0}],
    "event.manual": [{"sample": 1, "other": 2}],
    "transform.map": [{}, {"expression": 1}, {"expression": "a", "allow_empty": "no"}],
    "transform.set": [{}, {"path": "a b", "value": "1"}, {"path": "lines[0].qty", "value": "1"}, {"path": "a", "value": ""}],
    "branch.choice": [{}, {"rules": []}, {"rules": [{"port": "otherwise", "when": "x"}]},
                      {"rules": [{"port": "1a", "when": "x"}]}, {"rules": [{"when": "x"}]}],
    "branch.filter": [{}, {"when": ""}, {"when": "x", "extra": True}],
    "connector.http": [{}, {"url": "http://h", "method": "TRACE"}, {"url": "http://h", "timeout_s": 0},
                       {"url": "http://h", "retry": {"max_attempts": 0}}, {"url": "http://h", "auth": {"type": "oauth"}},
                       {"url": "http://h", "headers": {"Bad Header": "x"}}, {"url": "http://h", "ok_statuses": [99]}],
    "control.respond": [{"status": 700}, {"body": 5}],
    "connector.erp": [{}, {"connection": "erp", "operation": "drop_table"}, {"operation": "upsert_sales_order"},
                      {"connection": "erp", "operation": "upsert_sales_order", "into": "1x"}],
    "connector.oms": [{"connection": "a b", "operation": "get_order"}],
    "connector.wms": [{"connection": "wms", "operation": "get_inventory", "timeout_s": 0}],
    "connector.tms": [{"connection": "tms"}],
    "transform.conform": [{}, {"record": "invoice"}],
    "transform.lookup": [{"key": "sku"}, {"table": "t", "key": "a b"}, {"table": "t", "key": "sku", "missing": "x"}],
    "control.dedupe": [{}, {"key": "", "scope": "x"}],
    "control.dead_letter": [{"business_class": 5}],
    "control.discard": [{}, {"reason": ""}, {"reason": 5}, {"reason": "x" * 501}],
    "event.schedule": [{}, {"cron": "every night"}, {"cron": "0 2 * * * *"}],
    "connector.sql": [{}, {"connection": "db", "operation": "drop", "statement": "x"},
                      {"connection": "db", "operation": "insert", "table": "orders; DROP TABLE x"},
                      {"connection": "db", "statement": "SELECT 1", "page_size": 0},
                      {"connection": "db", "statement": "SELECT 1", "timeout_s": 0},
                      {"connection": "db", "operation": "upsert", "table": "t", "key": ["a b"]}],
    "event.poll": [{}, {"connection": "db", "table": "t", "interval_s": 0}, {"connection": "db", "source": "ftp"},
                   {"connection": "db", "table": "t", "timestamp_field": "x; --"},
                   {"connection": "db", "table": "t", "batch_size": 5000}, {"connection": "db", "path": "x y"}],
    "edi.read": [{"acknowledge": "no"}, {"partner": 5}, {"text": 3}, {"sender": "acme"}, {"partner": "x" * 201}],
    "edi.write": [{}, {"partner": ""}, {"partner": "acme", "records": 5}, {"partner": "acme", "delimiter": "*"}],
    "transform.split": [{}, {"lines": ""}, {"lines": "x", "max_parts": 10_001}, {"lines": "x", "on_empty": "drop"},
                        {"lines": "x", "max_parts": 1.5}],
    "transform.aggregate": [{"timeout_s": 0}, {"timeout_s": 8 * 86400}, {"correlation": ""}, {"count": 3},
                            {"extra": True}],
    "control.throttle": [{}, {"target": "erp"}, {"target": "my erp", "rate_per_s": 1},
                         {"target": "erp", "rate_per_s": 0}, {"target": "erp", "rate_per_s": 1, "burst": 0},
                         {"target": "erp", "rate_per_s": 1, "concurrent": 0},
                         {"target": "erp", "rate_per_s": 1, "hold_s": 86400}],
    "control.wait": [{}, {"key": "a", "arrival_key": "b"}, {"key": "a", "arrival_key": "b", "timeout_s": 0.5},
                     {"key": "a", "arrival_key": "b", "timeout_s": 31 * 86400},
                     {"key": "", "arrival_key": "b", "timeout_s": 5},
                     {"key": "a", "arrival_key": "b", "timeout_s": 5, "hold_arrival_s": 8 * 86400}],
    "event.file": [{}, {"connection": "drop", "per": "line"}, {"connection": "drop", "settle_s": -1},
                   {"connection": "drop", "max_files": 0}, {"connection": "drop", "format": {"kind": "xml"}},
                   {"connection": "drop", "format": {"delimiter": ";;"}}],
    "connector.file": [{"connection": "drop"}, {"connection": "drop", "name": ""},
                       {"connection": "drop", "name": "x", "max_bytes": 0}],
    "control.emit": [{}, {"event": "Shipment Departed"}, {"event": "shipment.departed", "key": 5}],
    "event.subscribe": [{}, {"event": ""}, {"event": "shipment.departed", "envelope": "yes"}],
}


@pytest.mark.parametrize("type_", list(catalog.TYPES))
def test_every_node_schema_is_valid_json_schema_and_matches_marshmallow(type_):
    spec = catalog.specs()[type_]
    schema = catalog.describe(spec)["config_schema"]
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for config in GOOD[type_]:
        catalog.load_config(spec, config)
        assert validator.is_valid(config), config
    for config in BAD[type_]:
        with pytest.raises(marshmallow.ValidationError):
            catalog.load_config(spec, config)
        assert not validator.is_valid(config), config


@pytest.mark.parametrize("type_", list(catalog.TYPES))
def test_loaded_defaults_satisfy_the_json_schema(type_):
    spec = catalog.specs()[type_]
    loaded = catalog.load_config(spec, GOOD[type_][0])
    assert jsonschema.Draft202012Validator(json_schema(spec.config)).is_valid(loaded)


def test_expression_and_secret_fields_are_marked_for_the_inspector():
    http = json_schema(catalog.specs()["connector.http"].config)["properties"]
    assert http["body"]["format"] == "jsonata" and http["url"]["format"] == "template"
    assert {k: v.get("format") for k, v in http["auth"]["properties"].items()
            if k in ("password", "token", "key")} == {"password": "secret", "token": "secret", "key": "secret"}
    choice = json_schema(catalog.specs()["branch.choice"].config)["properties"]
    assert choice["rules"]["items"]["properties"]["when"]["format"] == "jsonata"
