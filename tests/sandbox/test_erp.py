"""ERP master data: customers with credit limits, items with units of measure, availability, item journal,
OData paging and ETags."""
from __future__ import annotations


def test_items_page_with_top_skip_and_a_next_link(sbx):
    first = sbx.get("/erp/api/items?$top=10").json
    assert first["@odata.count"] == 25 and len(first["value"]) == 10
    seen = [i["number"] for i in first["value"]]
    link = first["@odata.nextLink"]
    while link:
        page = sbx.get(link.removeprefix("http://localhost")).json
        seen += [i["number"] for i in page["value"]]
        link = page.get("@odata.nextLink")
    assert len(seen) == 25 and len(set(seen)) == 25 and seen == sorted(seen)


def test_an_item_has_a_base_unit_and_conversions(sbx):
    r = sbx.get("/erp/api/items/HW-20620-C")
    assert r.status_code == 200 and r.headers["ETag"] == '"1"'
    item = r.json
    assert item["baseUnitOfMeasureCode"] == "EA"
    assert {u["code"]: u["qtyPerUnitOfMeasure"] for u in item["itemUnitsOfMeasure"]} == {
        "EA": 1, "DZ": 12, "BX": 25, "CS": 24, "PL": 960}


def test_the_short_sku_has_little_stock(sbx):
    availability = sbx.get("/erp/api/items/HW-61610-C/availability").json
    assert availability["locations"] == [
        {"locationCode": "MAIN", "inventory": 48, "reservedQuantity": 0, "availableQuantity": 48}]


def test_customers_carry_credit_limit_and_balance(sbx):
    customers = {c["number"]: c for c in sbx.get("/erp/api/customers").json["value"]}
    assert len(customers) == 5
    assert (customers["C-10977"]["creditLimit"], customers["C-10977"]["balance"]) == (1000, 650)
    assert sbx.get("/erp/api/customers/C-00000").status_code == 404


def test_patching_a_customer_with_a_stale_etag_is_refused(sbx):
    etag = sbx.get("/erp/api/customers/C-10518").headers["ETag"]
    ok = sbx.patch("/erp/api/customers/C-10518", json={"blocked": True}, headers={"If-Match": etag})
    assert ok.status_code == 200 and ok.json["blocked"] == "All" and ok.headers["ETag"] != etag
    stale = sbx.patch("/erp/api/customers/C-10518", json={"blocked": False}, headers={"If-Match": etag})
    assert stale.status_code == 412 and stale.json["error"]["code"] == "precondition_failed"
    assert sbx.patch("/erp/api/customers/C-10518", json={"blocked": "no"}).status_code == 422
    assert sbx.patch("/erp/api/customers/C-10518", json={"blocked": " "}).json["blocked"] == " "
    assert sbx.patch("/erp/api/customers/C-10518", json={"blocked": "All"}).json["blocked"] == "All"
    blocked = sbx.post("/erp/api/sales-orders", json={"externalDocumentNo": "X", "customerNo": "C-10518",
                                                      "lines": [{"itemNo": "HW-20620-C", "quantity": 1}]})
    assert blocked.status_code == 422 and blocked.json["error"]["code"] == "customer_blocked"


def test_item_journal_adjusts_and_counts(sbx):
    def post(**body):
        return sbx.post("/erp/api/item-journal", json={"itemNo": "HW-61610-C", **body})

    r = post(entryType="Positive Adjmt.", quantity=2, unitOfMeasureCode="CS", documentNo="WMS-7")
    assert r.status_code == 201 and r.json["quantity"] == 48
    assert r.json["availability"]["locations"][0]["inventory"] == 96
    assert post(entryType="Physical Inventory", quantity=90).json["quantity"] == -6
    assert post(entryType="NegativeAdjmt", quantity=100).json["error"]["code"] == "insufficient_quantity"
    assert post(entryType="Transfer", quantity=1).status_code == 422
    ledger = sbx.get("/erp/api/item-ledger-entries?itemNo=HW-61610-C").json["value"]
    assert [(e["entryType"], e["quantity"]) for e in ledger] == [("Positive Adjmt.", 48), ("Physical Inventory", -6)]


def test_bad_paging_arguments_are_400_not_500(sbx):
    assert sbx.get("/erp/api/items?$top=abc").status_code == 400
    assert sbx.get("/erp/api/items?$top=0").status_code == 400
    assert sbx.get("/erp/api/items?$skip=-1").status_code == 400
    assert sbx.get("/erp/api/items?$skip=1000").json["value"] == []


def test_item_journal_posts_once_per_idempotency_key_and_items_show_their_inventory(sbx):
    line = {"itemNo": "HW-20620-C", "entryType": "Negative Adjmt.", "quantity": 147, "documentNo": "WMS-1"}
    first = sbx.post("/erp/api/item-journal", json=line, headers={"Idempotency-Key": "count-1"})
    again = sbx.post("/erp/api/item-journal", json=line, headers={"Idempotency-Key": "count-1"})
    assert (first.status_code, again.status_code, again.headers.get("Idempotent-Replayed")) == (201, 201, "true")
    entries = sbx.get("/erp/api/item-ledger-entries", query_string={"itemNo": "HW-20620-C"}).json["value"]
    assert [e["quantity"] for e in entries if e["documentNo"] == "WMS-1"] == [-147]
    assert sbx.get("/erp/api/items/HW-20620-C").json["inventory"] == 40000 - 147
    listed = {i["number"]: i["inventory"] for i in sbx.get("/erp/api/items", query_string={"$top": 1000}).json["value"]}
    assert listed["HW-20620-C"] == 40000 - 147 and listed["HW-61610-C"] == 48
