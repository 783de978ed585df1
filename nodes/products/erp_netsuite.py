"""erp.netsuite: the ERP operations on NetSuite's REST record API (paths after the connection's
.../services/rest; the sandbox's /netsuite/api is its double). Sales orders are upserted by externalId
(PUT salesOrder/eid:...) and released by approval (orderStatus B); both answer 204 without a body, so the record
is read afterwards. Sublists are {"items": [...]}; lists page with hasMore/offset and a `next` link; errors are
o:errorDetails. The mapping to and from the ERP's canonical shapes (nodes/connector_erp.py) is below; operations
NetSuite has no counterpart for here (posted shipments, the item journal) are not offered."""
from __future__ import annotations

from typing import Any

from nodes.product import Profile
from nodes.system_profile import Operation

# orderStatus ids of a sales order: A pending approval, B pending fulfillment, C cancelled, D partially
# fulfilled, E/F pending billing, G billed, H closed
STATUSES = {"A": "Open", "B": "Released", "C": "Cancelled", "D": "Released", "E": "Released", "F": "Released",
            "G": "Closed", "H": "Closed"}
EXPAND = "expandSubResources=true"


def _ref(value: Any) -> dict | None:
    return {"externalId": str(value)} if value not in (None, "") else None


def _named(value: Any) -> dict | None:
    return {"refName": str(value)} if value not in (None, "") else None


def _without_nulls(record: dict) -> dict:
    return {k: v for k, v in record.items() if v is not None}


def sales_order_request(body: dict) -> dict:
    """A canonical sales order (upsert_sales_order's body) as a NetSuite salesOrder record."""
    ship_to = body.get("shipTo") or None
    return _without_nulls({
        "externalId": str(body["externalDocumentNo"]),
        "entity": _ref(body["customerNo"]),
        "tranDate": body.get("orderDate"),
        "currency": _named(body.get("currencyCode")),
        "shipMethod": _named(body.get("shipmentMethodCode")),
        "orderStatus": {"id": "A" if body.get("release") is False else "B"},
        "shippingAddress": _without_nulls({
            "addressee": ship_to.get("name"), "addr1": ship_to.get("address"), "addr2": ship_to.get("address2"),
            "city": ship_to.get("city"), "state": ship_to.get("county"), "zip": ship_to.get("postCode"),
            "country": ship_to.get("countryRegionCode")}) if ship_to else None,
        "item": {"items": [_line_request(line) for line in body["lines"]]},
    })


def _line_request(line: dict) -> dict:
    rate = line.get("unitPrice")
    amount = None if rate is None else round(line["quantity"] * rate - (line.get("lineDiscountAmount") or 0), 2)
    return _without_nulls({"item": _ref(line["itemNo"]), "quantity": line["quantity"],
                           "units": line.get("unitOfMeasureCode"), "rate": rate, "amount": amount,
                           "custcol_source_line": line.get("sourceLineNo")})


def release_request(body: Any) -> dict:
    """Release is approval; a credit hold is overridden with the order's override box."""
    override = isinstance(body, dict) and body.get("overrideCreditHold") is True
    return {"orderStatus": {"id": "B"}, **({"custbody_credit_override": True} if override else {})}


def sales_order(record: dict) -> dict:
    """A NetSuite salesOrder record (sublists expanded) as the canonical sales order."""
    status = (record.get("orderStatus") or {}).get("id", "A")
    hold = record.get("custbody_hold_reason") or None
    entity = (record.get("entity") or {}).get("refName", "")
    ship = record.get("shippingAddress") or {}
    return {
        "no": str(record["id"]), "externalDocumentNo": record.get("externalId"),
        "customerNo": entity.split(" ", 1)[0], "customerName": entity.partition(" ")[2],
        "status": "Hold" if hold and status == "A" else STATUSES.get(status, "Open"), "holdReason": hold,
        "orderDate": record.get("tranDate"), "currencyCode": (record.get("currency") or {}).get("refName"),
        "shipmentMethodCode": (record.get("shipMethod") or {}).get("refName"),
        "shipTo": {"name": ship.get("addressee"), "address": ship.get("addr1"), "address2": ship.get("addr2"),
                   "city": ship.get("city"), "county": ship.get("state"), "postCode": ship.get("zip"),
                   "countryRegionCode": ship.get("country")},
        "amount": record.get("total"),
        "lines": [_line(line) for line in (record.get("item") or {}).get("items", [])],
    }


def _line(line: dict) -> dict:
    return {"lineNo": line["line"], "sourceLineNo": line.get("custcol_source_line"),
            "itemNo": (line.get("item") or {}).get("refName"), "description": line.get("description"),
            "quantity": line["quantity"], "unitOfMeasureCode": line.get("units") or "EA",
            "qtyPerUnitOfMeasure": line.get("unitConversionRate") or 1, "unitPrice": line.get("rate"),
            "lineAmount": line.get("amount"), "quantityReserved": line.get("quantityCommitted") or 0,
            "quantityBackordered": line.get("quantityBackOrdered") or 0,
            "quantityShipped": line.get("quantityFulfilled") or 0}


def availability(record: dict) -> dict:
    """An inventoryItem with its locations sublist as the canonical availability."""
    return {"itemNo": record["itemId"], "baseUnitOfMeasureCode": (record.get("stockUnit") or {}).get("refName", "EA"),
            "locations": [{"locationCode": (row.get("location") or {}).get("refName"),
                           "inventory": row.get("quantityOnHand") or 0,
                           "reservedQuantity": row.get("quantityCommitted") or 0,
                           "availableQuantity": row.get("quantityAvailable") or 0}
                          for row in (record.get("locations") or {}).get("items", [])]}


def item(record: dict) -> dict:
    unit = (record.get("stockUnit") or {}).get("refName", "EA")
    return {"number": record["itemId"], "displayName": record.get("displayName"), "baseUnitOfMeasureCode": unit,
            "unitPrice": record.get("basePrice"), "netWeight": record.get("weight"),
            "inventory": record.get("totalQuantityOnHand") or 0,
            "itemUnitsOfMeasure": [{"code": unit, "qtyPerUnitOfMeasure": 1}]}


def error(body: Any) -> tuple[str, str] | None:
    details = body.get("o:errorDetails") if isinstance(body, dict) else None
    first = details[0] if isinstance(details, list) and details and isinstance(details[0], dict) else None
    if first is None:
        return None
    at = f" (at {first['o:errorPath']})" if first.get("o:errorPath") else ""
    return str(first.get("o:errorCode", "")), str(first.get("detail", "")) + at


OPERATIONS = (
    Operation("upsert_sales_order", "Create or replace a sales order (by externalId)", "PUT",
              "record/v1/salesOrder/eid:{{$.externalId}}", repeat="natural", path_data="body",
              request=sales_order_request, response=sales_order,
              read_after=f"record/v1/salesOrder/eid:{{{{$.externalId}}}}?{EXPAND}"),
    Operation("find_sales_order", "Find sales orders by externalId", "GET",
              f"record/v1/salesOrder?q=externalId%20IS%20%22{{{{$.number}}}}%22&{EXPAND}", result="items",
              response=lambda records: [sales_order(r) for r in records]),
    Operation("get_sales_order", "Read a sales order", "GET", f"record/v1/salesOrder/{{{{$.erp_no}}}}?{EXPAND}",
              response=sales_order),
    Operation("release_sales_order", "Approve a sales order (credit check)", "PATCH",
              "record/v1/salesOrder/{{$.erp_no}}", body="{}", repeat="natural", request=release_request,
              response=sales_order,
              read_after=f"record/v1/salesOrder/{{{{$.erp_no}}}}?{EXPAND}"),
    Operation("get_availability", "Availability of an item per location", "GET",
              f"record/v1/inventoryItem/eid:{{{{$.item_no}}}}?{EXPAND}", response=availability),
    Operation("list_items", "Inventory items with their quantity on hand", "GET",
              f"record/v1/inventoryItem?limit=100&{EXPAND}", result="items",
              response=lambda records: [item(r) for r in records]),
)

PROFILE = Profile("erp.netsuite", "NetSuite", OPERATIONS, auth=("none", "bearer"), paging="offset", error=error)
