"""WMS inventory: snapshots, sequenced events, adjustments, and RMA receipts where only restock adds stock."""
from __future__ import annotations


def on_hand(sbx, item="HW-42614-B"):
    return sbx.get(f"/wms/api/inventory/{item}").json["data"]["onHandQty"]


def expect(sbx, number="RMA-1001", qty=5):
    r = sbx.post("/wms/api/expected-receipts", json={"receiptNumber": number, "reference": "#1001",
                                                     "lines": [{"itemId": "HW-42614-B", "expectedQty": qty}]})
    assert r.status_code == 201, r.json
    return r.json["data"]


def test_a_scrapped_return_is_received_without_restocking(sbx):
    before = on_hand(sbx)
    receipt = expect(sbx)
    r = sbx.post(f"/wms/api/expected-receipts/{receipt['id']}/receive",
                 json={"lines": [{"lineNumber": 1, "receivedQty": 5, "condition": "scrap"}]})
    assert r.status_code == 201 and r.json["data"]["lines"][0]["condition"] == "scrap"
    assert on_hand(sbx) == before
    assert sbx.get("/wms/api/inventory-events").json["data"] == []
    assert sbx.get(f"/wms/api/expected-receipts/{receipt['id']}").json["data"]["status"] == "Received"


def test_a_restocked_return_adds_stock_and_an_event(sbx):
    before = on_hand(sbx)
    receipt = expect(sbx)
    sbx.post(f"/wms/api/expected-receipts/{receipt['id']}/receive",
             json={"lines": [{"itemId": "HW-42614-B", "receivedQty": 3, "condition": "RESTOCK"},
                             {"itemId": "HW-42614-B", "receivedQty": 1, "condition": "scrap"}]})
    assert on_hand(sbx) == before + 3
    events = sbx.get("/wms/api/inventory-events").json["data"]
    assert [(e["qtyChange"], e["reasonCode"], e["reference"]) for e in events] == [(3, "RETURN_RESTOCK", "RMA-1001")]
    assert sbx.get(f"/wms/api/expected-receipts/{receipt['id']}").json["data"]["status"] == "PartiallyReceived"
    receipts = sbx.get("/wms/api/receipts?receiptNumber=RMA-1001").json["data"]
    assert [l["condition"] for l in receipts[0]["lines"]] == ["restock", "scrap"]


def test_receipt_rules(sbx):
    receipt = expect(sbx, qty=2)
    url = f"/wms/api/expected-receipts/{receipt['id']}/receive"
    over = sbx.post(url, json={"lines": [{"lineNumber": 1, "receivedQty": 3, "condition": "restock"}]})
    assert over.status_code == 422 and over.json["messages"][0]["messageKey"] == "WMS-OVER_RECEIPT"
    assert sbx.post(url, json={"lines": [{"lineNumber": 1, "receivedQty": 1, "condition": "lost"}]}).status_code == 422
    stale = sbx.post(url, json={"lines": [{"lineNumber": 1, "receivedQty": 1, "condition": "scrap"}]},
                     headers={"If-Match": '"7"'})
    assert stale.status_code == 412
    assert sbx.post(url, json={"lines": [{"lineNumber": 1, "receivedQty": 2, "condition": "scrap"}]}).status_code == 201
    assert sbx.post(url, json={"lines": [{"lineNumber": 1, "receivedQty": 1, "condition": "scrap"}]}).status_code == 409
    assert sbx.post("/wms/api/expected-receipts", json={
        "receiptNumber": "RMA-1001", "lines": [{"itemId": "HW-42614-B", "expectedQty": 1}]}).status_code == 409
    assert sbx.post("/wms/api/expected-receipts/ER999/receive", json={"lines": []}).status_code == 404


def test_adjustments_and_counts_are_events_with_increasing_sequence(sbx):
    sbx.post("/wms/api/inventory-adjustments", json={"itemId": "HW-61610-C", "qtyChange": 24, "reasonCode": "FOUND"})
    sbx.post("/wms/api/inventory-adjustments", json={"itemId": "HW-61610-C", "countedQty": 70})
    sbx.post("/wms/api/inventory-adjustments", json={"itemId": "HW-20620-C", "qtyChange": -10})
    events = sbx.get("/wms/api/inventory-events").json["data"]
    assert [(e["sequence"], e["itemId"], e["qtyChange"], e["onHandAfter"], e["reasonCode"]) for e in events] == [
        (1, "HW-61610-C", 24, 72, "FOUND"), (2, "HW-61610-C", -2, 70, "CYCLE_COUNT"),
        (3, "HW-20620-C", -10, 39_990, "ADJUSTMENT")]
    after = sbx.get("/wms/api/inventory-events?afterSequence=1&itemId=HW-61610-C").json["data"]
    assert [e["sequence"] for e in after] == [2]
    snapshot = sbx.get("/wms/api/inventory/HW-61610-C").json["data"]
    assert (snapshot["onHandQty"], snapshot["lastSequence"]) == (70, 2)


def test_adjustments_cannot_take_stock_below_allocated_or_zero(sbx):
    sbx.post("/wms/api/shipping-orders", json={"orderNumber": "A",
                                               "lines": [{"itemId": "HW-61610-C", "orderedQty": 40}]})
    r = sbx.post("/wms/api/inventory-adjustments", json={"itemId": "HW-61610-C", "qtyChange": -10})
    assert r.status_code == 422 and r.json["messages"][0]["messageKey"] == "WMS-INSUFFICIENT_STOCK"
    assert sbx.post("/wms/api/inventory-adjustments", json={"itemId": "NOPE", "qtyChange": 1}).status_code == 422
    fraction = sbx.post("/wms/api/inventory-adjustments", json={"itemId": "HW-61610-C", "qtyChange": 1.5})
    assert fraction.status_code == 422


def test_inventory_snapshot_pages(sbx):
    page = sbx.get("/wms/api/inventory?pageSize=10&page=3").json
    assert (page["totalCount"], page["totalPages"], len(page["data"])) == (25, 3, 5)
    short = sbx.get("/wms/api/inventory?itemId=HW-61610-C").json["data"]
    assert short[0]["availableQty"] == 48
    assert sbx.get("/wms/api/inventory/NOPE").status_code == 404
