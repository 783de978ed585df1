"""Acceptance 4 of issue 14, the absence alert: the bundled order release and shipment confirmation flows deployed
against the sandbox; the WMS withholds the shipment confirmation; once the runtime's clock (the clock file) and the
WMS's clock pass the 4-hour window the rule fires once, by e-mail to a local SMTP server and by webhook; when the
WMS sends the confirmation (its run indexes the sales order) the alert resolves and says so on both channels."""
from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import socket
import urllib.request
import uuid

import pytest
from aiosmtpd.controller import Controller

from runtime import alert_delivery, alerts, clock, egress, intake
from runtime.models import Run
from support import wait_for

RELEASED, CONFIRMED = "Order released to ERP and WMS", "Shipment confirmed by the WMS"
WINDOW_S = 4 * 3600


@pytest.fixture
def clock_file(tmp_path):
    path = str(tmp_path / "clock")
    clock.write(path, dt.datetime.now(dt.timezone.utc))
    return path


@pytest.fixture
def settings(make_settings, clock_file):
    return make_settings(clock_file=clock_file, maintenance_s=3600.0)  # the test makes the passes itself, in order


class Inbox:
    """What the local SMTP server received."""

    def __init__(self):
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    inbox.port = port
    yield inbox
    controller.stop()


@pytest.fixture
def sandbox(tmp_path):
    from sandbox.serve import start_in_thread

    server = start_in_thread("127.0.0.1", 0, f"sqlite:///{tmp_path}/sandbox.sqlite")
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def subject(envelope) -> str:
    return email.message_from_bytes(envelope.content, policy=email.policy.default)["Subject"]


def call(url: str, method: str = "GET", body=None):
    req = urllib.request.Request(url, data=None if body is None else json.dumps(body).encode(), method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as res:
        return json.loads(res.read() or b"null")


def test_a_withheld_shipment_confirmation_fires_once_by_mail_and_webhook_and_resolves_when_it_arrives(
        rt, workspace, partner, sandbox, smtp_server, http_target, clock_file):
    from designer import templates

    templates.install_bundled(rt, workspace, sandbox)
    egress.allow(rt, workspace, f"127.0.0.1:{smtp_server.port}")
    alert_delivery.save_smtp(rt, partner, {"host": "127.0.0.1", "port": smtp_server.port, "tls": "none",
                                           "from": "alerts@crossdock.test"})
    rule = alerts.create(rt, workspace, {
        "name": "Shipment confirmation within 4 hours of each release to the WMS", "kind": "absence",
        "params": {"after_label": RELEASED, "expect_label": CONFIRMED, "key_kind": "sales_order",
                   "window_s": WINDOW_S},
        "channels": {"webhooks": [f"{http_target.url}/alerts"], "emails": ["ops@partner.test"]}})
    start = clock.read(clock_file)

    def at(hours: float) -> None:  # the runtime's clock and the WMS's move together
        when = start + dt.timedelta(hours=hours)
        clock.write(clock_file, when)
        call(f"{sandbox}/wms/api/_clock", "POST", {"now": when.isoformat() + "Z"})

    def ended(run_id: int) -> str:
        def status():
            with rt.read_sessions() as s:
                found = s.get(Run, run_id).status
            return found if found in ("succeeded", "failed") else None
        return wait_for(status, timeout=30)

    at(0)
    call(f"{sandbox}/wms/api/_hold_confirmations", "POST", {"hold": True})
    order = call(f"{sandbox}/oms/api/orders", "POST", {"order": {
        "customer": {"id": 7001}, "line_items": [{"sku": "hw-20620-c", "quantity": 4}]}})["order"]
    released = intake.start_manual(rt, workspace, "order-release", order)
    assert ended(released.id) == "succeeded"
    [erp] = call(f"{sandbox}/erp/api/sales-orders?externalDocumentNo={order['id']}")["value"]
    [wms] = call(f"{sandbox}/wms/api/shipping-orders?orderNumber={erp['no']}")["data"]
    call(f"{sandbox}/wms/api/shipping-orders/{wms['id']}/ship-confirm", "POST", {"parcels": [
        {"trackingNumber": f"1Z{uuid.uuid4().hex[:10].upper()}", "weightKg": 1.1,
         "lines": [{"lineNumber": 10000, "qty": 4}]}]})
    assert call(f"{sandbox}/wms/api/shipments?orderNumber={erp['no']}")["data"] == []  # withheld

    alerts.maintain(rt)
    at(3)
    alerts.maintain(rt)
    assert alerts.alerts(rt, workspace) == []  # within the window: nothing yet

    at(4.05)
    alerts.maintain(rt)
    [fired] = alerts.alerts(rt, workspace)
    assert (fired["rule_id"], fired["key"], fired["status"], fired["count"]) == (rule["id"], erp["no"], "firing", 1)
    assert fired["detail"]["run_id"] == released.id
    assert sorted((d["channel"], d["event"], d["status"]) for d in fired["deliveries"]) == [
        ("email", "fired", "sent"), ("webhook", "fired", "sent")]
    [mail] = smtp_server.messages
    assert mail.rcpt_tos == ["ops@partner.test"] and mail.mail_from == "alerts@crossdock.test"
    assert subject(mail) == f"[Alert] {rule['name']}: {erp['no']}"
    assert f"run_id: {released.id}" in mail.content.decode()
    [hook] = http_target.requests
    assert hook["path"] == "/alerts" and hook["body"]["event"] == "alert.fired"
    assert hook["body"]["alert"]["key"] == erp["no"] and hook["body"]["workspace"] == workspace

    at(4.5)  # still missing: the same alert counts on, and nobody is told again
    alerts.maintain(rt)
    [again] = alerts.alerts(rt, workspace)
    assert (again["id"], again["count"], len(again["deliveries"])) == (fired["id"], 2, 2)
    assert len(smtp_server.messages) == 1 and len(http_target.requests) == 1

    # the WMS sends the withheld confirmation; its webhook starts the shipment confirmation flow
    call(f"{sandbox}/wms/api/_hold_confirmations", "POST", {"hold": False})
    [shipment] = call(f"{sandbox}/wms/api/shipments?orderNumber={erp['no']}")["data"]
    confirmed = intake.start_manual(rt, workspace, "shipment-confirmation", shipment)
    assert ended(confirmed.id) == "succeeded"
    at(5)
    alerts.maintain(rt)
    [resolved] = alerts.alerts(rt, workspace)
    assert (resolved["id"], resolved["status"], resolved["resolved_by"]) == (fired["id"], "resolved", "rule")
    assert sorted((d["channel"], d["event"], d["status"]) for d in resolved["deliveries"]) == [
        ("email", "fired", "sent"), ("email", "resolved", "sent"), ("webhook", "fired", "sent"),
        ("webhook", "resolved", "sent")]
    assert subject(smtp_server.messages[1]) == f"[Resolved] {rule['name']}: {erp['no']}"
    assert http_target.requests[1]["body"]["event"] == "alert.resolved"
    at(6)
    alerts.maintain(rt)
    assert len(alerts.alerts(rt, workspace)) == 1 and len(smtp_server.messages) == 2
