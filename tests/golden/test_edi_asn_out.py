"""Golden: the EDI ship-notice template (flows/templates/edi-asn-out.json). The sandbox trading partner posts its
850 over HTTP to the order-intake template's webhook and gets its 855 and 997; the warehouse ships the order in two
parcels booked with the TMS, and the WMS's shipment confirmation becomes an 856 in the partner's mailbox: read back
with the codec, its envelope counts and control numbers validate, and it carries the hierarchy S-O-P-I, each
parcel's SSCC, the carrier and the tracking numbers."""
from __future__ import annotations

import json
import threading

from werkzeug.serving import make_server

from nodes.edi import reader, records
from runtime import trading_partners
from web.app import create_app


def sscc_valid(code: str) -> bool:
    """GS1 check digit of an SSCC-18: weights 3 and 1 from the left of the first 17 digits."""
    if len(code) != 18 or not code.isdigit():
        return False
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(code[:17]))
    return (10 - total % 10) % 10 == int(code[17])


def mailbox(systems, set_id: str) -> list[tuple[dict, list[dict]]]:
    """Each interchange holding `set_id` the partner received: its text read back, and its records."""
    found = []
    for item in systems.get("/edi/api/inbox", set=set_id, text="true")["items"]:
        reading = reader.read(item["text"])
        assert reading.all_errors() == [], [e.to_dict() for e in reading.all_errors()]
        found.append((item, records.records(reading)))
    return found


def hl_tree(loops: list[dict]) -> list:
    """The HL levels as nested (code, [children]) pairs."""
    return [(loop["HL"]["HL03"], hl_tree(loop.get("HL_loop", []))) for loop in loops]


def test_a_partners_order_gets_its_855_and_997_and_its_shipment_an_856_whose_envelopes_validate(crossdock, systems):
    ws, rt = crossdock.workspace, crossdock.rt
    assert trading_partners.describe(rt, ws, "acmehw")  # the sandbox partner, made by the install (no 997 expected)
    server = make_server("127.0.0.1", 0, create_app(rt), threaded=True)  # Crossdock over HTTP, for the partner
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
    try:
        hook = f"http://127.0.0.1:{server.server_port}/hooks/{ws}/edi/orders"
        sent = systems.post("/edi/api/documents/850-4711/send",
                            {"address": hook, "headers": {"X-Crossdock-Key": crossdock.key}})["send"]
    finally:
        server.shutdown()
    assert sent["response_status"] == 202, sent
    run = crossdock.finished(json.loads(sent["response"])["run_id"])
    assert run.status == "succeeded", run.error
    [erp] = systems.erp_orders("4711")
    assert [(l["itemNo"], l["quantity"], l["unitOfMeasureCode"], l["quantityReserved"], l["quantityBackordered"])
            for l in erp["lines"]] == [("HW-20620-C", 10, "CS", 10, 0), ("HW-61610-C", 100, "EA", 48, 52),
                                       ("HW-13687-B", 2, "BX", 2, 0)]
    [(_, [ack])] = mailbox(systems, "855")
    assert [[(a["ACK01"], a["ACK02"], a["ACK03"]) for a in line["ACK"]] for line in ack["body"]["PO1_loop"]] == [
        [("IA", "10", "CS")], [("IA", "48", "EA"), ("IB", "52", "EA")], [("IA", "2", "BX")]]
    [(_, [functional])] = mailbox(systems, "997")
    assert (functional["body"]["AK1"]["AK101"], functional["body"]["AK9"]["AK901"]) == ("PO", "A")
    [wms] = systems.wms_orders(erp["no"])

    # two parcels, each booked with the carrier in the TMS for its tracking number, then confirmed in the WMS
    parcels = []
    for n, (weight, lines) in enumerate([(12.5, [(10000, 240)]), (31.0, [(20000, 48), (30000, 50)])], 1):
        booked = systems.post("/tms/api/shipments", {
            "reference": f"{wms['id']}-{n}", "carrierCode": "UPSN", "serviceCode": "GND",
            "shipTo": {"postalCode": "43217"}, "packages": [{"weightKg": weight}]})
        parcels.append({"trackingNumber": booked["trackingNumber"], "weightKg": weight,
                        "lines": [{"lineNumber": line, "qty": qty} for line, qty in lines]})
    shipment = systems.post(f"/wms/api/shipping-orders/{wms['id']}/ship-confirm", {"parcels": parcels})["data"]
    run = crossdock.run("wms/shipments-edi", shipment)
    assert run.status == "succeeded", run.error

    [(item, [notice])] = mailbox(systems, "856")
    # the envelope: the partner's ids, one group of one set, control numbers of the partner's sequence, which the
    # 855 and 997 of the order took before
    assert (item["sender_id"], item["receiver_id"]) == ("CROSSDOCK", "ACMEHW")
    assert (notice["group"]["functional_id"], notice["set"]) == ("SH", "856")
    earlier = [int(i["control_number"]) for i, _ in mailbox(systems, "855") + mailbox(systems, "997")]
    assert int(notice["interchange"]["control_number"]) > max(earlier)
    text = item["text"]
    segments = [s for s in text.replace("\n", "").split("~") if s]
    se = [s for s in segments if s.startswith("SE*")][0].split("*")
    st = [s for s in segments if s.startswith("ST*")][0].split("*")
    assert int(se[1]) == segments.index("*".join(se)) - segments.index("*".join(st)) + 1 and se[2] == st[2]

    body = notice["body"]
    assert body["BSN"]["BSN02"] == shipment["shipmentId"] and body["BSN"]["BSN05"] == "0001"
    assert hl_tree(body["HL_loop"]) == [("S", [("O", [("P", [("I", [])]), ("P", [("I", []), ("I", [])])])])]
    [ship] = body["HL_loop"]
    assert ship["TD5"][0]["TD503"] == "UPSN" and ship["TD1"][0]["TD102"] == "2"
    tracking = [p["trackingNumber"] for p in parcels]
    assert {"REF01": "CN", "REF02": tracking[0]} in ship["REF"]
    [order] = ship["HL_loop"]
    assert order["PRF"]["PRF01"] == "4711"
    packs = order["HL_loop"]
    ssccs = [p["MAN"][0]["MAN02"] for p in packs]
    assert [p["MAN"][0]["MAN01"] for p in packs] == ["GM", "GM"] and all(map(sscc_valid, ssccs))
    assert len(set(ssccs)) == 2 and all(s.startswith("00614141") for s in ssccs)  # extension 0, prefix 0614141
    assert [[r["REF02"] for r in p["REF"] if r["REF01"] == "CN"] for p in packs] == [[t] for t in tracking]
    assert [[(i["LIN"]["LIN03"], i["SN1"]["SN102"]) for i in p["HL_loop"]] for p in packs] == [
        [("HW-20620-C", "240")], [("HW-61610-C", "48"), ("HW-13687-B", "50")]]
    assert body["CTT"]["CTT01"] == "7"

    # an order of a customer that does not trade by EDI: its shipment sends no 856
    order = systems.oms_order(7002, ("hw-20620-c", 5))  # C-10518
    assert crossdock.run("oms/orders", order).status == "succeeded"
    [other] = systems.wms_orders(systems.erp_orders(str(order["id"]))[0]["no"])
    shipment = systems.post(f"/wms/api/shipping-orders/{other['id']}/ship-confirm", {"parcels": [
        {"trackingNumber": "1Z9", "weightKg": 1.0, "lines": [{"lineNumber": 10000, "qty": 5}]}]})["data"]
    run = crossdock.run("wms/shipments-edi", shipment)
    assert run.status == "succeeded" and len(mailbox(systems, "856")) == 1
    assert [s.node_id for s in crossdock.steps(run.id)][-1] == "not_edi"
