"""ERP sales documents: upsert by external reference, Idempotency-Key, backorders, credit holds, shipments,
invoices of shipped quantities only, and credit memos that restock or scrap."""
from __future__ import annotations

import pytest

ORDERS = "/erp/api/sales-orders"


def order(ext="WEB-1", customer="C-10442", lines=None, **extra):
    return {"externalDocumentNo": ext, "customerNo": customer,
            "lines": lines if lines is not None else [
                {"itemNo": "HW-20620-C", "quantity": 10, "unitOfMeasureCode": "CS", "unitPrice": 62.34,
                 "lineDiscountPercent": 10}], **extra}


def available(sbx, item):
    return sbx.get(f"/erp/api/items/{item}/availability").json["locations"][0]["availableQuantity"]


def test_create_returns_a_released_order_with_prices_in_the_erps_own_fields(sbx):
    r = sbx.post(ORDERS, json=order())
    assert r.status_code == 201
    so = r.json
    assert so["no"] == "SO101001" and so["status"] == "Released" and so["holdReason"] is None
    assert r.headers["Location"].endswith("/erp/api/sales-orders/SO101001")
    assert r.headers["ETag"] == '"1"' and so["@odata.etag"] == 'W/"1"'
    line = so["lines"][0]
    assert (line["lineNo"], line["qtyPerUnitOfMeasure"], line["lineAmount"]) == (10000, 24, 561.06)
    assert (line["quantityReserved"], line["quantityBackordered"]) == (10, 0)
    assert so["shipTo"]["city"] == "Columbus"  # the customer's address when the body has none
    assert sbx.get(f"{ORDERS}/SO101001").json["externalDocumentNo"] == "WEB-1"


def test_posting_the_same_order_twice_creates_one_order(sbx):
    first = sbx.post(ORDERS, json=order())
    second = sbx.post(ORDERS, json=order())
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json["no"] == first.json["no"] and second.json["version"] == 1
    assert sbx.get(ORDERS).json["@odata.count"] == 1
    assert available(sbx, "HW-20620-C") == 40_000 - 240  # reserved once, not twice


def test_a_changed_order_with_the_same_reference_replaces_the_first(sbx):
    sbx.post(ORDERS, json=order())
    r = sbx.post(ORDERS, json=order(lines=[{"itemNo": "HW-20620-C", "quantity": 2, "unitOfMeasureCode": "CS"}]))
    assert r.status_code == 200 and r.json["version"] == 2 and r.json["lines"][0]["quantity"] == 2
    assert sbx.get(ORDERS).json["@odata.count"] == 1
    assert available(sbx, "HW-20620-C") == 40_000 - 48  # the first reservation was given back


def test_idempotency_key_replays_the_first_response(sbx):
    headers = {"Idempotency-Key": "run-1:to_erp"}
    first = sbx.post(ORDERS, json=order(), headers=headers)
    again = sbx.post(ORDERS, json=order(), headers=headers)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json and again.headers["Location"] == first.headers["Location"]
    other = sbx.post(ORDERS, json=order(ext="WEB-2"), headers=headers)
    assert other.status_code == 422 and other.json["error"]["code"] == "idempotency_key_reused"
    assert sbx.get(ORDERS).json["@odata.count"] == 1


def test_a_short_sku_is_reserved_in_whole_units_and_the_rest_backordered(sbx):
    lines = [{"itemNo": "HW-61610-C", "quantity": 3, "unitOfMeasureCode": "CS"},
             {"itemNo": "HW-20620-C", "quantity": 5, "unitOfMeasureCode": "EA"}]
    so = sbx.post(ORDERS, json=order(lines=lines)).json
    short, full = so["lines"]
    assert (short["quantityReserved"], short["quantityBackordered"]) == (2, 1)  # 48 EA on hand = 2 cases of 24
    assert (full["quantityReserved"], full["quantityBackordered"]) == (5, 0)
    assert sbx.get(ORDERS + "?status=Released").json["value"][0]["no"] == so["no"]
    assert available(sbx, "HW-61610-C") == 0
    backorders = sbx.get("/erp/api/backorder-lines").json["value"]
    assert [(b["documentNo"], b["itemNo"], b["quantityBackordered"], b["unitOfMeasureCode"]) for b in backorders] == [
        (so["no"], "HW-61610-C", 1, "CS")]
    sbx.post(f"{ORDERS}/{so['no']}/cancel")
    assert sbx.get("/erp/api/backorder-lines?itemNo=HW-61610-C").json["value"] == []


def test_an_order_over_the_credit_limit_is_held_until_overridden(sbx):
    held = sbx.post(ORDERS, json=order(customer="C-10977", lines=[{"itemNo": "HW-27737-C", "quantity": 20}])).json
    assert (held["status"], held["holdReason"]) == ("Hold", "CREDIT")
    assert sbx.post(f"{ORDERS}/{held['no']}/shipments", json={"lines": [{"lineNo": 10000, "quantity": 1}]}
                    ).status_code == 409
    still = sbx.post(f"{ORDERS}/{held['no']}/release", json={}).json
    assert still["status"] == "Hold"
    released = sbx.post(f"{ORDERS}/{held['no']}/release", json={"overrideCreditHold": True}).json
    assert (released["status"], released["holdReason"]) == ("Released", None)


def test_the_credit_check_counts_other_released_orders(sbx):
    # C-10977: limit 1,000, balance 650; 14 x 23.86 = 334.04 fits, a second order of the same does not.
    line = [{"itemNo": "HW-27737-C", "quantity": 14}]
    assert sbx.post(ORDERS, json=order("A", "C-10977", line)).json["status"] == "Released"
    assert sbx.post(ORDERS, json=order("B", "C-10977", line)).json["status"] == "Hold"


def priced(ext: str, amount: float, customer: str = "C-10977") -> dict:
    return order(ext, customer, [{"itemNo": "HW-27737-C", "quantity": 1, "unitPrice": amount}])


def test_the_credit_rule_releases_up_to_the_limit_and_holds_past_it(sbx):
    # C-10977: limit 1,000, open balance 650: an order may add 350.00 and not a cent more
    assert sbx.post(ORDERS, json=priced("OVER", 350.01)).json["status"] == "Hold"
    assert sbx.post(ORDERS, json=priced("AT", 350.00)).json["status"] == "Released"
    assert sbx.post(ORDERS, json=priced("NEXT", 0.01)).json["status"] == "Hold"


def test_the_kept_exposure_follows_cancel_replace_invoice_and_credit(sbx, sandbox_app):
    """The credit check reads a running total per customer: every change to a released order moves it."""
    def status(ext):
        return sbx.get(f"{ORDERS}?externalDocumentNo={ext}").json["value"][0]["status"]

    a = sbx.post(ORDERS, json=priced("A", 300)).json
    b = sbx.post(ORDERS, json=priced("B", 100)).json
    assert (a["status"], b["status"]) == ("Released", "Hold")  # 650 + 300 + 100 > 1,000
    sbx.post(f"{ORDERS}/{a['no']}/cancel")
    assert sbx.post(f"{ORDERS}/{b['no']}/release", json={}).json["status"] == "Released"  # A's 300 is freed
    assert sbx.post(ORDERS, json=priced("B", 340)).json["status"] == "Released"  # replaced: counts once, 990
    assert sbx.post(ORDERS, json=priced("C", 20)).json["status"] == "Hold"  # 1,010
    sbx.post(f"{ORDERS}/{b['no']}/shipments", json={"lines": [{"lineNo": 10000, "quantity": 1}]})
    assert sbx.post(f"{ORDERS}/{b['no']}/invoice").status_code == 201  # outstanding moves into the balance
    assert status("B") == "Closed"
    c_no = sbx.get(f"{ORDERS}?externalDocumentNo=C").json["value"][0]["no"]
    assert sbx.post(f"{ORDERS}/{c_no}/release", json={}).json["status"] == "Hold"  # still 990 + 20
    memo = {"externalDocumentNo": "RMA-1", "customerNo": "C-10977",
            "lines": [{"itemNo": "HW-27737-C", "quantity": 1, "unitPrice": 20, "disposition": "SCRAP"}]}
    assert sbx.post("/erp/api/sales-credit-memos", json=memo).status_code == 201  # balance 970
    assert sbx.post(f"{ORDERS}/{c_no}/release", json={}).json["status"] == "Released"  # 990

    from sandbox import erp_orders, store
    with store.transaction(sandbox_app.extensions["sandbox.engine"]) as conn:
        kept = erp_orders.released_exposure(conn, "C-10977")
        conn.execute(store.erp_credit_exposure.delete())  # a database from before the total was kept
        assert erp_orders.released_exposure(conn, "C-10977") == kept == 20.0  # only C is released and open


def test_raising_the_credit_limit_lets_a_released_order_through(sbx):
    customer = sbx.get("/erp/api/customers/C-10977")
    patched = sbx.patch("/erp/api/customers/C-10977", json={"creditLimit": 50_000},
                        headers={"If-Match": customer.headers["ETag"]})
    assert patched.status_code == 200 and patched.json["creditLimit"] == 50_000
    so = sbx.post(ORDERS, json=order(customer="C-10977", lines=[{"itemNo": "HW-27737-C", "quantity": 20}])).json
    assert so["status"] == "Released"


def test_the_flat_import_shape_is_accepted(sbx):
    body = {"SO_HEADER": {"EXT_REF": "SO-2026-004512", "CUST_NO": "C-10442", "ORDER_DATE": "2026-11-20",
                          "REQ_DATE": "20261203", "CURRENCY": "USD", "SHIP_METHOD": "GROUND", "LINE_COUNT": 1},
            "SHIP_TO": {"NAME": "Acme Hardware DC East", "ADDR1": "4100 Distribution Pkwy", "ADDR2": "Dock 7",
                        "CITY": "COLUMBUS", "REGION": "OH", "ZIP": "43217", "COUNTRY": "US"},
            "LINES": [{"LINE_NO": 10, "ITEM": "HW-13687-B", "QTY": 5, "UOM": "DZ", "UNIT_PRICE": 159.91,
                       "DISC_PCT": 5, "SRC_LINE": 3, "NET": 759.57}]}
    r = sbx.post(ORDERS, json=body)
    assert r.status_code == 201
    so = r.json
    assert (so["externalDocumentNo"], so["requestedDeliveryDate"], so["shipmentMethodCode"]) == (
        "SO-2026-004512", "2026-12-03", "GROUND")
    assert so["shipTo"]["address2"] == "Dock 7"
    assert (so["lines"][0]["lineNo"], so["lines"][0]["quantityReserved"], so["lines"][0]["sourceLineNo"]) == (10, 5, 3)
    body["SO_HEADER"]["EXT_REF"] = "SO-2026-004513"
    body["LINES"][0].update(DISC_AMT=41.23, NET=758.32)  # 5 % and $0.25 off each unit
    assert sbx.post(ORDERS, json=body).json["amount"] == 758.32


@pytest.mark.parametrize("body, field", [
    ({"customerNo": "C-10442", "lines": [{"itemNo": "HW-20620-C", "quantity": 1}]}, "externalDocumentNo"),
    (order(customer="C-99999"), "customerNo"),
    (order(lines=[{"itemNo": "NOPE", "quantity": 1}]), "lines[0].itemNo"),
    (order(lines=[{"itemNo": "HW-20620-C", "quantity": 1, "unitOfMeasureCode": "GAL"}]), "lines[0].unitOfMeasureCode"),
    (order(lines=[{"itemNo": "HW-20620-C", "quantity": -1}]), "lines[0].quantity"),
    (order(lines=[{"itemNo": "HW-20620-C", "quantity": "ten"}]), "lines[0].quantity"),
    (order(lines=[{"itemNo": "HW-20620-C", "quantity": 1, "unitPrice": "cheap"}]), "lines[0].unitPrice"),
    (order(lines=[]), "lines"),
    (order(lines="HW-20620-C"), "lines"),
    (order(orderDate="26/11/2026"), "orderDate"),
    (order(shipTo="Columbus"), "shipTo"),
    ({"SO_HEADER": "x", "SHIP_TO": {}, "LINES": []}, "SO_HEADER"),
])
def test_bad_orders_get_422_naming_the_field(sbx, body, field):
    r = sbx.post(ORDERS, json=body)
    assert r.status_code == 422
    assert r.json["error"]["target"] == field


def test_a_non_json_body_is_400_and_unknown_order_404(sbx):
    assert sbx.post(ORDERS, data="not json", content_type="application/json").status_code == 400
    r = sbx.get(f"{ORDERS}/SO999999")
    assert r.status_code == 404 and "SO999999" in r.json["error"]["message"]


def ship(sbx, no, lines, ext="SHP1"):
    return sbx.post(f"{ORDERS}/{no}/shipments", json={"externalDocumentNo": ext, "lines": lines})


def test_a_partial_shipment_invoices_only_the_shipped_lines(sbx):
    lines = [{"itemNo": "HW-20620-C", "quantity": 10, "unitOfMeasureCode": "CS"},
             {"itemNo": "HW-42614-B", "quantity": 4}]
    so = sbx.post(ORDERS, json=order(lines=lines)).json
    shipped = ship(sbx, so["no"], [{"itemNo": "HW-20620-C", "quantity": 96, "unitOfMeasureCode": "EA"}])
    assert shipped.status_code == 201 and shipped.json["lines"] == [
        {"lineNo": 10000, "itemNo": "HW-20620-C", "quantity": 4, "unitOfMeasureCode": "CS"}]
    assert sbx.get(f"{ORDERS}/{so['no']}").json["shipStatus"] == "Partial"
    balance = sbx.get("/erp/api/customers/C-10442").json["balance"]
    invoice = sbx.post(f"{ORDERS}/{so['no']}/invoice")
    assert invoice.status_code == 201
    assert [(l["itemNo"], l["quantity"]) for l in invoice.json["lines"]] == [("HW-20620-C", 4)]
    assert invoice.json["totalAmountExcludingTax"] == 4 * 62.4
    assert sbx.get("/erp/api/customers/C-10442").json["balance"] == round(balance + 249.6, 2)
    again = sbx.post(f"{ORDERS}/{so['no']}/invoice")
    assert again.status_code == 422 and again.json["error"]["code"] == "nothing_to_post"


def test_shipping_and_invoicing_everything_closes_the_order(sbx):
    so = sbx.post(ORDERS, json=order(lines=[{"itemNo": "HW-42614-B", "quantity": 4}])).json
    ship(sbx, so["no"], [{"lineNo": 10000, "quantity": 4}])
    sbx.post(f"{ORDERS}/{so['no']}/invoice")
    closed = sbx.get(f"{ORDERS}/{so['no']}").json
    assert (closed["status"], closed["shipStatus"], closed["amountOutstanding"]) == ("Closed", "Complete", 0)


def test_shipment_rules(sbx):
    so = sbx.post(ORDERS, json=order(lines=[{"itemNo": "HW-42614-B", "quantity": 4}])).json
    assert ship(sbx, so["no"], [{"lineNo": 10000, "quantity": 5}]).json["error"]["code"] == "over_shipment"
    assert ship(sbx, so["no"], [{"lineNo": 10000, "quantity": 1, "unitOfMeasureCode": "DZ"}]).status_code == 422
    assert ship(sbx, so["no"], [{"lineNo": 10000, "quantity": 1}]).status_code == 201
    duplicate = ship(sbx, so["no"], [{"lineNo": 10000, "quantity": 1}])
    assert duplicate.status_code == 409 and "SSH102001" in duplicate.json["error"]["message"]
    changed = sbx.post(ORDERS, json=order(lines=[{"itemNo": "HW-42614-B", "quantity": 9}]))
    assert changed.status_code == 409 and changed.json["error"]["code"] == "order_locked"
    assert sbx.post(f"{ORDERS}/{so['no']}/cancel").status_code == 409
    assert sbx.get(f"/erp/api/sales-shipments?orderNo={so['no']}").json["@odata.count"] == 1


def test_cancel_gives_the_reservation_back(sbx):
    so = sbx.post(ORDERS, json=order()).json
    r = sbx.post(f"{ORDERS}/{so['no']}/cancel")
    assert r.status_code == 200 and r.json["status"] == "Cancelled"
    assert available(sbx, "HW-20620-C") == 40_000


def memo(ext, disposition, quantity=2):
    return {"externalDocumentNo": ext, "customerNo": "C-10442", "returnReasonCode": "DAMAGED",
            "lines": [{"itemNo": "HW-42614-B", "quantity": quantity, "disposition": disposition}]}


def test_a_scrapped_return_credits_without_restocking(sbx):
    before = available(sbx, "HW-42614-B")
    balance = sbx.get("/erp/api/customers/C-10442").json["balance"]
    r = sbx.post("/erp/api/sales-credit-memos", json=memo("RMA-1", "SCRAP"))
    assert r.status_code == 201 and r.json["no"] == "SCM104001" and r.json["totalAmountExcludingTax"] == 143.4
    assert available(sbx, "HW-42614-B") == before
    assert sbx.get("/erp/api/customers/C-10442").json["balance"] == round(balance - 143.4, 2)
    restocked = sbx.post("/erp/api/sales-credit-memos", json=memo("RMA-2", "RESTOCK"))
    assert restocked.status_code == 201
    assert available(sbx, "HW-42614-B") == before + 2
    assert sbx.post("/erp/api/sales-credit-memos", json=memo("RMA-2", "RESTOCK")).status_code == 409
    assert sbx.post("/erp/api/sales-credit-memos", json=memo("RMA-3", "BURN")).status_code == 422
    assert sbx.get("/erp/api/sales-credit-memos").json["@odata.count"] == 2


def test_a_line_discount_amount_wins_over_the_percentage_and_the_percentage_follows_it(sbx):
    lines = [{"itemNo": "HW-13687-B", "quantity": 5, "unitOfMeasureCode": "DZ", "unitPrice": 159.91,
              "lineDiscountPercent": 5, "lineDiscountAmount": 41.23},  # 5 % and $0.25 off each of 5 dozen
             {"itemNo": "HW-20620-C", "quantity": 10, "unitOfMeasureCode": "CS", "unitPrice": 62.34,
              "lineDiscountPercent": 10}]
    so = sbx.post(ORDERS, json=order(lines=lines)).json
    both, percent = so["lines"]
    assert (both["lineAmount"], both["lineDiscountAmount"], both["lineDiscountPercent"]) == (758.32, 41.23, 5.15665)
    assert (percent["lineAmount"], percent["lineDiscountAmount"]) == (561.06, 62.34)
    assert so["amount"] == 1319.38
    too_much = order(ext="WEB-2", lines=[{"itemNo": "HW-20620-C", "quantity": 1, "unitPrice": 2.6,
                                          "lineDiscountAmount": 2.61}])
    r = sbx.post(ORDERS, json=too_much)
    assert r.status_code == 422 and r.json["error"]["target"] == "lines[0].lineDiscountAmount"


def test_partial_invoices_of_a_line_with_a_discount_amount_add_up_to_the_line_to_the_cent(sbx):
    lines = [{"itemNo": "HW-20620-C", "quantity": 3, "unitPrice": 1.0, "lineDiscountAmount": 0.10}]
    so = sbx.post(ORDERS, json=order(lines=lines)).json
    assert so["amount"] == 2.9
    invoiced = []
    for n in range(3):
        ship(sbx, so["no"], [{"itemNo": "HW-20620-C", "quantity": 1}], ext=f"SHP{n}")
        invoiced.append(sbx.post(f"{ORDERS}/{so['no']}/invoice").json["totalAmountExcludingTax"])
    assert invoiced == [0.97, 0.96, 0.97] and round(sum(invoiced), 2) == so["amount"]


def test_every_erp_write_replays_its_idempotency_key(sbx):
    so = sbx.post(ORDERS, json=order(release=False)).json
    key = {"Idempotency-Key": "release-1"}
    first = sbx.post(f"{ORDERS}/{so['no']}/release", json={}, headers=key)
    again = sbx.post(f"{ORDERS}/{so['no']}/release", json={}, headers=key)
    assert (first.status_code, again.status_code, again.headers.get("Idempotent-Replayed")) == (200, 200, "true")
    assert again.json == first.json
    key = {"Idempotency-Key": "cancel-1"}
    first = sbx.post(f"{ORDERS}/{so['no']}/cancel", headers=key)
    again = sbx.post(f"{ORDERS}/{so['no']}/cancel", headers=key)
    assert first.json["status"] == "Cancelled" and again.json == first.json
    assert sbx.post(f"{ORDERS}/{so['no']}/cancel").status_code == 409  # without the key it is a second cancel


def test_a_credit_memo_credits_the_price_invoiced_with_its_discount(sbx):
    body = {"externalDocumentNo": "RCV1", "customerNo": "C-10442", "lines": [
        {"itemNo": "HW-13687-B", "quantity": 5, "unitPrice": 13.33, "lineDiscountAmount": 4.58}]}
    r = sbx.post("/erp/api/sales-credit-memos", json=body)
    assert r.status_code == 201 and r.json["totalAmountExcludingTax"] == 62.07
    body["externalDocumentNo"], body["lines"][0]["lineDiscountAmount"] = "RCV2", 66.66
    r = sbx.post("/erp/api/sales-credit-memos", json=body)
    assert r.status_code == 422 and r.json["error"]["target"] == "lines[0].lineDiscountAmount"
