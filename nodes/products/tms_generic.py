"""tms.generic: the transportation operations on a generic carrier-aggregator API (the sandbox's /tms/api is its
double): carriers, rate quotes, bookings and tracking. Bookings are looked up by reference before they are sent
(the TMS does not honour Idempotency-Keys); a quote books nothing. Errors are RFC 7807 problem documents."""
from __future__ import annotations

from typing import Any

from nodes.product import Profile
from nodes.system_profile import Operation

OPERATIONS = (
    Operation("list_carriers", "Carriers and their services", "GET", "carriers", result="items"),
    Operation("rate_quote", "Rates for packages between two postal codes", "POST", "rate-quotes", repeat="natural"),
    Operation("book_shipment", "Book a shipment (returns the tracking number)", "POST", "shipments",
              repeat="lookup", existing=("shipments?reference={{$.reference}}", "items")),
    Operation("track", "Tracking events of a tracking number", "GET", "tracking/{{$.tracking_number}}"),
)


def error(body: Any) -> tuple[str, str] | None:
    if isinstance(body, dict) and body.get("type") and body.get("detail"):
        return str(body["type"]).rsplit(":", 1)[-1], str(body["detail"])
    return None


PROFILE = Profile("tms.generic", "Generic TMS", OPERATIONS, error=error)
