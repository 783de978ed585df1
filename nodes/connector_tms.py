"""connector.tms: the transportation system kind: its canonical operations (carriers, rate quotes, booking
shipments, tracking) called on a named connection, carried out by the product profile the `product` field
names (nodes/products/, tms.generic by default)."""
from __future__ import annotations

from typing import Any

from flows.spec import NodeSpec, Port
from nodes import product, system_profile
from nodes.base import Context, Emit, PrepareEnv
from nodes.products import tms_generic

OPERATIONS = tuple((o.name, o.title) for o in tms_generic.OPERATIONS)  # the first product's are the contract

_TEXT, _NUMBER, _WHOLE = {"type": "string"}, {"type": "number"}, {"type": "integer"}
_ADDRESS = {"type": "object", "properties": {k: _TEXT for k in (
    "name", "address1", "city", "state", "postalCode", "country")}}


def _obj(required: tuple[str, ...], **properties) -> dict:
    return {"type": "object", "required": list(required), "properties": properties}


def _items(item: dict, least: int = 0) -> dict:
    return {"type": "array", "items": item, **({"minItems": least} if least else {})}


_PACKAGE = _obj(("weightKg",), weightKg=_NUMBER, lengthCm=_NUMBER, widthCm=_NUMBER, heightCm=_NUMBER)
_RATE = _obj(("carrierCode", "serviceCode"), rateId=_TEXT, carrierCode=_TEXT, serviceCode=_TEXT, serviceName=_TEXT,
             totalCharge=_NUMBER, currency=_TEXT, transitDays=_WHOLE)
_SHIPMENT = _obj(("id", "reference", "trackingNumber", "carrierCode", "status"), id=_TEXT, reference=_TEXT,
                 trackingNumber=_TEXT, carrierCode=_TEXT, serviceCode=_TEXT, status=_TEXT, totalCharge=_NUMBER,
                 currency=_TEXT, shipFrom=_ADDRESS, shipTo=_ADDRESS, packages=_items(_PACKAGE),
                 estimatedDelivery=_TEXT)
# operation -> (what it takes: the body of a write, the message of a read; what it answers)
SCHEMAS = {
    "list_carriers": ({"type": "object"}, _items(_obj(("scac",), scac=_TEXT, name=_TEXT, services=_items(
        _obj(("serviceCode",), serviceCode=_TEXT, name=_TEXT))))),
    "rate_quote": (_obj(("shipTo", "packages"), shipFrom=_ADDRESS, shipTo=_ADDRESS, carrierCode=_TEXT,
                        packages=_items(_PACKAGE, 1)), _obj(("rates",), id=_TEXT, rates=_items(_RATE))),
    "book_shipment": (_obj(("reference", "packages"), reference=_TEXT, rateId=_TEXT, carrierCode=_TEXT,
                           serviceCode=_TEXT, shipFrom=_ADDRESS, shipTo=_ADDRESS, packages=_items(_PACKAGE, 1)),
                      _SHIPMENT),
    "track": (_obj(("tracking_number",), tracking_number=_TEXT), _obj(("trackingNumber",), trackingNumber=_TEXT,
                                                                      status=_TEXT, events=_items(_obj(
                                                                          ("code",), code=_TEXT, description=_TEXT,
                                                                          location=_TEXT, occurredAt=_TEXT)))),
}

Config = product.config_schema("tms", OPERATIONS, "tms.generic", "TMS")

SPEC = NodeSpec(
    type="connector.tms", version=1, category="connector", title="TMS",
    description="Calls an operation of the transportation management system on a workspace connection.",
    inputs=(Port("in"),), outputs=(Port("out", "Answer", optional=True), Port("error", "Request failed")),
    config=Config, expressions=("body", "each"), references=system_profile.references("tms"),
    icon="truck", tags=("tms", "system"), summary="{{operation}}[ on {{connection}}]",
)


def prepare(config: dict, env: PrepareEnv) -> system_profile.Prepared:
    return product.prepare(config, env)


def run(prepared: system_profile.Prepared, message: Any, ctx: Context) -> Emit:
    return system_profile.run(prepared, message, ctx)
