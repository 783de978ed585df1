"""The JSON Schemas a mapping is written against (issue 13): per system connector operation the body it sends
(`body`) and the record it answers (`record`), each declared beside its operation in connector_erp/oms/wms/tms
(SCHEMAS), and the canonical records of flows/canonical. Listed here by id ("erp.upsert_sales_order.body",
"canonical.order"), for the mapper's target tree, the inspector's field help and validation (flows/mapping_checks)."""
from __future__ import annotations

import functools

from flows import canonical
from nodes import connector_erp, connector_oms, connector_tms, connector_wms

SYSTEMS = (("erp", connector_erp), ("oms", connector_oms), ("wms", connector_wms), ("tms", connector_tms))
DIRECTIONS = ("body", "record")


@functools.lru_cache(maxsize=1)
def catalog() -> dict[str, dict]:
    """id -> {"id", "title", "system", "operation", "direction", "schema"}, in a stable order."""
    out: dict[str, dict] = {}
    for system, module in SYSTEMS:
        titles = dict(module.OPERATIONS)
        for operation, shapes in module.SCHEMAS.items():
            for direction, schema in zip(DIRECTIONS, shapes):
                what = "request body" if direction == "body" else "answer"
                sid = f"{system}.{operation}.{direction}"
                out[sid] = {"id": sid, "title": f"{system.upper()}: {titles.get(operation, operation)} ({what})",
                            "system": system, "operation": operation, "direction": direction, "schema": schema}
    for record in canonical.RECORDS:
        sid = f"canonical.{record}"
        out[sid] = {"id": sid, "title": f"Canonical {record.replace('_', ' ')}", "system": "canonical",
                    "operation": record, "direction": "record", "schema": canonical.describe(record)}
    return out


def listing() -> list[dict]:
    return [{k: v for k, v in entry.items() if k != "schema"} for entry in catalog().values()]


def get(schema_id: str) -> dict | None:
    return catalog().get(schema_id)


def for_operation(system: str, operation: str, direction: str) -> str | None:
    """The id of an operation's schema, when one is declared."""
    sid = f"{system}.{operation}.{direction}"
    return sid if sid in catalog() else None


@functools.lru_cache(maxsize=1)
def schemas() -> dict[str, dict]:
    """id -> JSON Schema, what flows/mapping_checks takes."""
    return {sid: entry["schema"] for sid, entry in catalog().items()}
