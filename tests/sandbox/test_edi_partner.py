"""The EDI partner's mailbox: interchanges posted to it are kept and listed by their envelope; its own 850s are
posted to a webhook with a fresh control number each time."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from werkzeug.serving import make_server

from sandbox import edi_partner, seed
from support import wait_for
from support.services import ONLY_EMBEDDED
from support.flowdocs import edge

DOC = ("ISA*00*          *00*          *ZZ*CROSSDOCK      *ZZ*ACMEHW         *261121*1015*U*00401*000000042*0*P*>~"
       "GS*FA*CROSSDOCK*ACMEHW*20261121*1015*42*X*004010~ST*997*0001~AK1*PO*1~AK9*A*1*1*1~SE*4*0001~"
       "ST*855*0002~BAK*00*AC*4711*20261121~SE*3*0002~GE*2*42~IEA*1*000000042~")


@pytest.fixture
def webhook():
    """A stand-in for a Crossdock webhook: answers 202 and keeps each request's path, headers and raw body."""
    got: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            got.append({"path": self.path, "headers": dict(self.headers),
                        "raw": self.rfile.read(int(self.headers.get("Content-Length", 0)))})
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    server.url, server.requests = f"http://127.0.0.1:{server.server_port}", got
    yield server
    server.shutdown()
    server.server_close()


def test_a_posted_interchange_is_kept_and_listed_by_its_envelope(sbx):
    r = sbx.post("/edi/api/inbox", data=DOC, content_type="application/edi-x12")
    assert r.status_code == 201
    got = r.json["received"]
    assert (got["sender_id"], got["receiver_id"], got["control_number"]) == ("CROSSDOCK", "ACMEHW", "000000042")
    assert got["sets"] == ["997", "855"] and got["size"] == len(DOC) and "text" not in got
    sbx.post("/edi/api/inbox", data="not x12 at all", content_type="text/plain")
    listed = sbx.get("/edi/api/inbox").json
    assert listed["total"] == 2 and [m["sets"] for m in listed["items"]] == [["997", "855"], []]
    assert [m["id"] for m in sbx.get("/edi/api/inbox?set=855").json["items"]] == [got["id"]]
    assert sbx.get("/edi/api/inbox?set=85").json["total"] == 0
    assert sbx.get("/edi/api/inbox?set=997&text=true").json["items"][0]["text"] == DOC
    assert sbx.get(f"/edi/api/inbox/{got['id']}").json["received"]["text"] == DOC
    assert sbx.get("/edi/api/inbox/999").status_code == 404


def test_a_json_body_holds_the_interchange_in_x12(sbx):
    r = sbx.post("/edi/api/inbox", json={"x12": DOC})
    assert r.status_code == 201 and r.json["received"]["sets"] == ["997", "855"]
    assert sbx.get(f"/edi/api/inbox/{r.json['received']['id']}").json["received"]["text"] == DOC
    bad = sbx.post("/edi/api/inbox", json={"text": DOC})
    assert bad.status_code == 422 and bad.json["error"]["field"] == "x12"
    assert sbx.post("/edi/api/inbox", json=[DOC]).status_code == 400


def test_latin_1_and_an_empty_body_are_handled_without_a_500(sbx):
    r = sbx.post("/edi/api/inbox", data="ISA*Café".encode("latin-1"), content_type="application/edi-x12")
    assert r.status_code == 201
    assert sbx.get(f"/edi/api/inbox/{r.json['received']['id']}").json["received"]["text"] == "ISA*Café"
    empty = sbx.post("/edi/api/inbox", data=b"", content_type="application/edi-x12")
    assert empty.status_code == 400 and empty.json["error"]["code"] == "empty_body"


def test_the_seeded_850s_are_interchanges_with_counts_that_add_up():
    text = seed.purchase_order(*seed.PURCHASE_ORDERS[0])
    segments = [s.strip() for s in text.split("~") if s.strip()]
    assert len(segments[0]) == 105 and segments[0].count("*") == 16
    se = segments[segments.index("ST*850*0001"):].index("SE*12*0001") + 1
    assert se == 12 and "PO1*2*100*EA*7.28**BP*ACME-61610*VP*HW-61610-C" in segments


def test_renumber_sets_isa13_and_iea02_and_leaves_what_it_cannot_place_alone():
    text = seed.purchase_order(*seed.PURCHASE_ORDERS[1], control_number=7)
    renumbered = edi_partner.renumber(text, 1234)
    assert edi_partner.envelope(renumbered)["control_number"] == "000001234"
    assert renumbered.endswith("IEA*1*000001234~\n") and renumbered.replace("000001234", "000000007") == text
    assert edi_partner.renumber("ISA*short~", 5) == "ISA*short~"
    assert edi_partner.renumber(text + text, 5) == text + text  # two interchanges: which one?


def test_a_stored_850_is_posted_to_the_webhook_renumbered_and_signed(sbx, webhook):
    listed = sbx.get("/edi/api/documents").json["items"]
    assert [d["name"] for d in listed] == ["850-4711", "850-4712"] and listed[0]["sets"] == ["850"]
    first = sbx.post("/edi/api/documents/850-4711/send", json={
        "address": webhook.url + "/hooks/default/edi", "headers": {"X-Crossdock-Key": "k1"}, "hmac_secret": "s"})
    second = sbx.post("/edi/api/documents/850-4711/send", json={"address": webhook.url + "/hooks/default/edi"})
    assert first.status_code == second.status_code == 200, first.json
    assert first.json["send"]["response_status"] == 202
    numbers = [first.json["send"]["control_number"], second.json["send"]["control_number"]]
    assert numbers == ["000001001", "000001002"]
    got = webhook.requests[0]
    assert got["path"] == "/hooks/default/edi" and got["headers"]["Content-Type"] == "application/edi-x12"
    assert got["headers"]["X-Crossdock-Key"] == "k1"
    assert got["headers"]["X-Crossdock-Signature"] == "sha256=" + hmac.new(b"s", got["raw"], hashlib.sha256).hexdigest()
    assert got["raw"].decode() == first.json["send"]["text"] and "BEG*00*SA*4711" in got["raw"].decode()
    assert [s["control_number"] for s in sbx.get("/edi/api/sends").json["items"]] == numbers


def test_sending_refuses_bad_requests_and_reports_an_unreachable_webhook(sbx):
    assert sbx.post("/edi/api/documents/nope/send", json={"address": "http://127.0.0.1:9/x"}).status_code == 404
    bad = sbx.post("/edi/api/documents/850-4711/send", json={"address": "ftp://x"})
    assert bad.status_code == 422 and bad.json["error"]["field"] == "address"
    bad = sbx.post("/edi/api/documents/850-4711/send", json={"address": "http://x", "headers": {"a": 1}})
    assert bad.status_code == 422 and bad.json["error"]["field"] == "headers"
    down = sbx.post("/edi/api/documents/850-4711/send", json={"address": "http://127.0.0.1:9/hooks"})
    assert down.status_code == 502 and down.json["error"]["code"] == "unreachable"


def test_a_document_can_be_stored_replaced_and_the_system_reset_to_its_seed(sbx):
    assert sbx.put("/edi/api/documents/my-850", data=DOC, content_type="text/plain").status_code == 201
    assert sbx.put("/edi/api/documents/my-850", data=DOC, content_type="text/plain").status_code == 200
    assert sbx.put("/edi/api/documents/bad name", data=DOC).status_code in (400, 404)
    assert len(sbx.get("/edi/api/documents").json["items"]) == 3
    assert sbx.post("/edi/api/_reset").status_code == 200
    assert len(sbx.get("/edi/api/documents").json["items"]) == 2
    assert sbx.get("/edi/").status_code == 200


@pytest.fixture
def crossdock(rt):
    """Crossdock's web app on an ephemeral port, over the test's runtime, for the partner to post to."""
    from web.app import create_app

    server = make_server("127.0.0.1", 0, create_app(rt), threaded=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.mark.parametrize("backend", ONLY_EMBEDDED, indirect=True)  # the nodes on PostgreSQL: tests/nodes/test_edi_read
def test_a_seeded_850_sent_to_a_crossdock_webhook_is_read_into_its_order_and_acknowledged(
        sbx, rt, workspace, hook_key, crossdock):
    from runtime import deployments, trading_partners
    from runtime.models import Flow, Run

    trading_partners.save(rt, workspace, "acme", {"partner": {"qualifier": "ZZ", "id": "ACMEHW"},
                                                  "us": {"qualifier": "ZZ", "id": "CROSSDOCK"}})
    end = {"type": "control.discard", "config": {"reason": "the test reads the run"}}
    doc = {"schema": "crossdock.flow/1", "id": "edi-in",
           "nodes": [{"id": "hook", "type": "event.webhook", "config": {"path": "edi/orders"}},
                     {"id": "read", "type": "edi.read"},
                     {"id": "write", "type": "edi.write", "config": {"partner": "{{$.partner}}"}},
                     {"id": "orders", **end}, {"id": "acks", **end}],
           "edges": [edge(1, "hook", "read"), edge(2, "read", "orders"), edge(3, "read", "write", "ack"),
                     edge(4, "write", "acks")]}
    with rt.sessions.begin() as s:
        s.add(Flow(workspace=workspace, id="edi-in", name="EDI in", document=doc))
    deployments.deploy(rt, workspace, "edi-in", doc)

    r = sbx.post("/edi/api/documents/850-4711/send", json={
        "address": f"{crossdock}/hooks/{workspace}/edi/orders", "headers": {"X-Crossdock-Key": hook_key}})
    assert r.status_code == 200 and r.json["send"]["response_status"] == 202, r.json
    run_id = json.loads(r.json["send"]["response"])["run_id"]

    def ended():
        with rt.sessions() as s:
            run = s.get(Run, run_id)
            return run if run.status in ("succeeded", "failed") else None
    run = wait_for(ended)
    assert run.status == "succeeded", run.error
    [order] = [o for o in run.output if o.get("set") == "850"]
    assert order["partner"] == "acme" and order["interchange"]["control_number"] == "000001001"
    assert [line["PO1"]["PO109"] for line in order["body"]["PO1_loop"]] == ["HW-20620-C", "HW-61610-C", "HW-13687-B"]
    [ack] = [o for o in run.output if "x12" in o]
    assert "AK1*PO*1~" in ack["x12"] and "AK9*A*1*1*1~" in ack["x12"] and "*ZZ*ACMEHW         *" in ack["x12"]
