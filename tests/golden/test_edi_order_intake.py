"""Golden: the EDI order-intake template (flows/templates/edi-order-intake.json) against the sandbox ERP and WMS and
the sandbox trading partner's mailbox. Real 850s (tests/fixtures/edi, copied with their source rows) are posted
to the flow's webhook as a partner's translator would; their items go through the edi_items cross-reference, the
ERP credit-checks and reserves, and the partner gets an 855 saying per line what the ERP did, and a 997 per group.
Everything the partner receives is read back with the codec and must read without a fault."""
from __future__ import annotations

import pathlib

import pytest

from nodes.edi import reader, records
from runtime import lookups, trading_partners

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "edi"
# The senders of the sample 850s, as trading partners of the workspace: their ISA ids, and ours as they know us
PARTNERS = {
    "xyz-retail": ({"qualifier": "12", "id": "4405197800"}, {"qualifier": "01", "id": "999999999"}, "004010"),
    "anothermerch": ({"qualifier": "ZZ", "id": "ANOTHERMERCH"}, {"qualifier": "14", "id": "AMERCHANT"}, "005010"),
    "buysnacks": ({"qualifier": "ZZ", "id": "SENDERISA"}, {"qualifier": "14", "id": "0073268795005"}, "004010"),
    "acmehw": ({"qualifier": "ZZ", "id": "ACMEHW"}, {"qualifier": "ZZ", "id": "CROSSDOCK"}, "004010"),
}


@pytest.fixture
def edi(crossdock, systems):
    for name, (partner, us, version) in PARTNERS.items():
        trading_partners.save(crossdock.rt, crossdock.workspace, name, {"partner": partner, "us": us,
                                                                         "version": version})
    return Partner(crossdock, systems)


class Partner:
    """The trading partner's side: what it posts to the flow and what its mailbox received."""

    def __init__(self, crossdock, systems):
        self.crossdock, self.systems = crossdock, systems

    def post(self, text: str):
        r = self.crossdock.client.post(f"/hooks/{self.crossdock.workspace}/edi/orders", data=text.encode(),
                                       content_type="application/edi-x12",
                                       headers={"X-Crossdock-Key": self.crossdock.key})
        assert r.status_code == 202, r.get_data(as_text=True)
        return self.crossdock.finished(r.json["run_id"])

    def received(self, set_id: str) -> list[dict]:
        """The records of every interchange holding `set_id` that the mailbox got, each read back without a fault."""
        found = []
        for item in self.systems.get("/edi/api/inbox", set=set_id, text="true", limit=500)["items"]:
            reading = reader.read(item["text"])
            assert reading.all_errors() == [], [e.to_dict() for e in reading.all_errors()]
            found += records.records(reading)
        return found

    def acknowledgement(self, po_number: str) -> dict:
        [ack] = [r for r in self.received("855") if r["body"]["BAK"]["BAK03"] == po_number]
        return ack


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def two_orders(text: str, first: str, second: str) -> str:
    """The 850 interchange `text` (one set, ST02 000000001) with its set twice in the group, as POs first and second."""
    head, rest = text.split("ST*850*000000001~", 1)
    body, tail = rest.split("SE*", 1)
    count, tail = tail.split("*000000001~", 1)
    po = body.split("BEG*")[1].split("*")[2]
    sets = [f"ST*850*00000000{n}~{body.replace(po, number)}SE*{count}*00000000{n}~"
            for n, number in ((1, first), (2, second))]
    return head + "\n".join(sets) + tail.replace("GE*1*", "GE*2*", 1)


def acks(record: dict) -> list[list[tuple[str, str, str]]]:
    """Per PO1 line of an 855: its ACK segments as (code, quantity, unit)."""
    return [[(a["ACK01"], a["ACK02"], a["ACK03"]) for a in line.get("ACK", [])] for line in record["body"]["PO1_loop"]]


def erp_lines(order: dict) -> list[tuple]:
    return [(l["itemNo"], l["quantity"], l["unitOfMeasureCode"], l["quantityReserved"], l["quantityBackordered"])
            for l in order["lines"]]


def test_the_sample_850s_become_erp_orders_through_the_item_cross_reference_and_get_an_855_and_a_997(edi, systems):
    runs = [edi.post(fixture(name)) for name in ("850_nodex12_1.edi", "850_stedi_1.edi", "850_x12types_1.edi",
                                                 "mixed_staedi_1.edi")]
    assert [r.status for r in runs] == ["succeeded"] * 4, [r.error for r in runs]

    # XYZ Retail (ISA 12/4405197800 = ERP C-10442) orders by its catalog numbers (CB); the sixth line is the short
    # item (48 in stock): the ERP reserves 48 and backorders 648, and the 855 says so
    [xyz] = systems.erp_orders("08292233294")
    assert xyz["customerNo"] == "C-10442" and xyz["status"] == "Released"
    assert erp_lines(xyz) == [("HW-85172-D", 120, "EA", 120, 0), ("HW-33126-C", 220, "EA", 220, 0),
                              ("HW-66714-Z", 126, "EA", 126, 0), ("HW-79599-B", 76, "EA", 76, 0),
                              ("HW-35623-C", 72, "EA", 72, 0), ("HW-61610-C", 696, "EA", 48, 648)]
    [wms] = systems.wms_orders(xyz["no"])
    assert [(l["itemId"], l["orderedQty"]) for l in wms["lines"]][-1] == ("HW-61610-C", 48)
    ack = edi.acknowledgement("08292233294")
    assert ack["body"]["BAK"]["BAK02"] == "AC" and ack["body"]["BAK"]["BAK08"] == xyz["no"]
    assert acks(ack) == [[("IA", q, "EA")] for q in ("120", "220", "126", "76", "72")] + [
        [("IA", "48", "EA"), ("IB", "648", "EA")]]
    assert [l["PO1"]["PO107"] for l in ack["body"]["PO1_loop"]][0] == "065322-117"  # the partner's own ids echoed
    assert ack["interchange"]["receiver_id"] == "4405197800" and ack["interchange"]["sender_id"] == "999999999"

    # 005010, string line ids: the anvil is known, the detonator is not (no row): not ordered, IR in the 855
    [anvils] = systems.erp_orders("365465413")
    assert anvils["customerNo"] == "C-10518" and erp_lines(anvils) == [("HW-27737-C", 8, "EA", 8, 0)]
    ack = edi.acknowledgement("365465413")
    assert ack["group"]["version"] == "005010" and ack["body"]["BAK"]["BAK02"] == "AC"
    assert [l["PO1"]["PO101"] for l in ack["body"]["PO1_loop"]] == ["item-1", "item-2"]
    assert acks(ack) == [[("IA", "8", "EA")], [("IR", "4", "EA")]]

    # UPC case codes (UA) in cases: the X12 unit CA is the ERP's CS; all accepted
    [chips] = systems.erp_orders("A99999-01")
    assert chips["customerNo"] == "C-10631"
    assert [(l["quantity"], l["unitOfMeasureCode"]) for l in chips["lines"]] == [
        (16, "CS"), (13, "CS"), (32, "CS"), (51, "CS"), (9, "CS"), (85, "CS"), (1, "CS")]
    assert edi.acknowledgement("A99999-01")["body"]["BAK"]["BAK02"] == "AD"
    assert acks(edi.acknowledgement("A99999-01"))[0] == [("IA", "16", "CA")]

    # two 810s and an 850 (003010, buyer's item numbers IN, no prices: the ERP's own) in one interchange
    [mixed] = systems.erp_orders("S115921858")
    assert [(l["itemNo"], l["quantity"]) for l in mixed["lines"]] == [
        ("HW-23486-A", 150), ("HW-30480-D", 50), ("HW-12784-B", 25), ("HW-23930-Z", 25)]
    assert len(systems.get("/erp/api/sales-orders")["value"]) == 4  # the invoices ordered nothing

    # a 997 for each received group (the mixed file has two), accepting it, addressed to its sender
    functional = [(r["interchange"]["receiver_id"], r["body"]["AK1"]["AK101"], r["body"]["AK1"]["AK102"],
                   r["body"]["AK9"]["AK901"]) for r in edi.received("997")]
    assert sorted(functional) == sorted([("4405197800", "PO", "1421", "A"), ("ANOTHERMERCH", "OW", "000000057", "A"),
                                         ("SENDERISA", "PO", "1", "A"), ("SENDERISA", "IN", "1", "A"),
                                         ("SENDERISA", "PO", "165", "A")])
    # each interchange we sent has a control number of its partner's sequence, never the same twice
    numbers = [(r["interchange"]["receiver_id"], r["interchange"]["control_number"])
               for r in edi.received("855") + edi.received("997")]
    assert len(set(numbers)) == len(numbers) == 9

    # the same PO again, its segments ended by line breaks only: acknowledged (997), not ordered nor answered again
    again = edi.post(fixture("850_nodex12_2.edi"))
    assert again.status == "succeeded" and len(systems.erp_orders("08292233294")) == 1
    assert len(edi.received("855")) == 4 and len(edi.received("997")) == 6
    assert [s.port for s in edi.crossdock.steps(again.id) if s.node_id == "dedupe"] == ["duplicate"]

    # two purchase orders in one group: two ERP orders (each write under an idempotency key of its own), two 855s
    both = edi.post(two_orders(fixture("850_x12types_1.edi"), "A99999-11", "A99999-12"))
    assert both.status == "succeeded", both.error
    assert [len(systems.erp_orders(po)) for po in ("A99999-11", "A99999-12")] == [1, 1]
    assert acks(edi.acknowledgement("A99999-12")) == acks(edi.acknowledgement("A99999-11"))


def test_an_order_on_credit_hold_is_acknowledged_on_hold_and_a_broken_interchange_is_rejected_by_its_997(
        edi, systems):
    lookups.put(edi.crossdock.rt, edi.crossdock.workspace, "edi_customers", "ANOTHERMERCH", "C-10977")  # limit 1,000
    assert edi.post(fixture("850_stedi_1.edi")).status == "succeeded"

    [erp] = systems.erp_orders("365465413")
    assert (erp["status"], erp["holdReason"]) == ("Hold", "CREDIT")
    assert systems.wms_orders(erp["no"]) == []
    ack = edi.acknowledgement("365465413")
    assert ack["body"]["BAK"]["BAK02"] == "AH" and acks(ack) == [[("IH", "8", "EA")], [("IR", "4", "EA")]]

    text = fixture("850_x12types_1.edi").replace("SE*35*000000001", "SE*34*000000001")  # the count is wrong
    edi.post(text)
    assert systems.erp_orders("A99999-01") == [] and len(edi.received("855")) == 1
    [ack] = [r for r in edi.received("997") if r["interchange"]["receiver_id"] == "SENDERISA"]
    assert ack["body"]["AK9"]["AK901"] == "R"
    [response] = ack["body"]["AK2_loop"]
    assert response["AK2"] == {"AK201": "850", "AK202": "000000001"}
    assert response["AK5"] == {"AK501": "R", "AK502": "4"}  # 4: number of included segments does not match actual
    [faulty] = response["AK3_loop"]  # the SE segment (the 35th of the set), its element SE01 holding 34
    assert faulty["AK3"]["AK301"] == "SE" and faulty["AK4"][0]["AK401"] == "1" and faulty["AK4"][0]["AK404"] == "34"
