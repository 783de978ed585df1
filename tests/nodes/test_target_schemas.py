"""nodes/target_schemas.py: every write operation of the ERP, OMS, WMS and TMS contracts declares the JSON Schema of
the body it sends and of the record it answers, the canonical records are listed too, and each is a valid schema."""
from __future__ import annotations

import jsonschema

from flows import canonical
from nodes import product, target_schemas


def test_each_write_operation_of_every_system_has_a_body_and_a_record_schema():
    for system, module in target_schemas.SYSTEMS:
        default = {"erp": "erp.business_central", "oms": "oms.shopify", "wms": "wms.manhattan",
                   "tms": "tms.generic"}[system]
        for op in product.get(default).operations:
            if op.method != "GET" and op.name != "subscribe_webhook":
                assert target_schemas.for_operation(system, op.name, "body"), (system, op.name)
                assert target_schemas.for_operation(system, op.name, "record"), (system, op.name)
        assert set(module.SCHEMAS) <= set(dict(module.OPERATIONS)), system


def test_the_schemas_are_valid_and_the_canonical_records_are_listed():
    listed = {s["id"]: s for s in target_schemas.listing()}
    for record in canonical.RECORDS:
        assert listed[f"canonical.{record}"]["direction"] == "record"
    for sid, schema in target_schemas.schemas().items():
        jsonschema.Draft202012Validator.check_schema(schema)
        assert "schema" not in listed[sid]
    assert target_schemas.get("erp.upsert_sales_order.body")["schema"]["required"] == [
        "externalDocumentNo", "customerNo", "lines"]
    assert target_schemas.get("nope") is None
