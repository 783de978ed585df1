"""Golden: a template exported from one workspace and imported into another with other parameters runs the same."""
from __future__ import annotations

import uuid

from runtime import connections, egress, lookups
from support import identity

ACME = 7001


def test_export_then_import_into_a_second_workspace_with_other_params_gives_the_same_results(
        crossdock, systems, rt, client, partner):
    bundle = crossdock.client.get("/api/v1/flows/order-release/export").json
    assert {c["name"] for c in bundle["connections"]} == {"erp", "oms", "wms"}
    assert "secret" not in str(bundle["connections"]) and bundle["lookups"]["sku_xref"]["hw-20620-c"] == "HW-20620-C"

    other = f"ws{uuid.uuid4().hex[:10]}"
    rt.ensure_workspace(other, partner_id=partner)
    egress.allow_origin(rt, other, systems.url)  # the sandbox systems listen on loopback: allowed by the workspace
    keys = {crossdock.workspace: crossdock.key, other: identity.hook_key(rt, other)}
    headers = {"X-Crossdock-Workspace": other}
    sandbox_connections = {name: {"system": name, "base_url": f"{systems.url}/{name}/api"}
                           for name in ("erp", "oms", "wms")}
    r = client.post("/api/v1/templates/import", headers=headers, json={
        "bundle": bundle, "params": {"ship_method": "EXPRESS"}, "connections": sandbox_connections})
    assert r.status_code == 201, r.get_data(as_text=True)
    assert r.json["deployed_version"] == 1 and r.json["missing_connections"] == []
    assert r.json["params"]["ship_method"] == "EXPRESS"
    assert lookups.rows(rt, other, "sku_xref") == bundle["lookups"]["sku_xref"]
    listed = client.get("/api/v1/templates", headers=headers).json["templates"]
    assert [t["source"] for t in listed if t["id"] == "order-release"] == ["bundled", "imported"]

    results = []
    for ws in (crossdock.workspace, other):
        order = systems.oms_order(ACME, ("hw-20620-c", 100), ("hw-61610-c", 30))
        r = client.post(f"/hooks/{ws}/oms/orders", json=order, headers={"X-Crossdock-Key": keys[ws]})
        assert r.status_code == 202
        run = crossdock.finished(r.json["run_id"])
        assert run.status == "succeeded", run.error
        [erp] = systems.erp_orders(str(order["id"]))
        [wms] = systems.wms_orders(erp["no"])
        results.append((erp, wms))
    (erp1, wms1), (erp2, wms2) = results
    shape = lambda erp, wms: ([(l["itemNo"], l["quantity"], l["quantityReserved"], l["quantityBackordered"])  # noqa: E731
                               for l in erp["lines"]], erp["status"], [(l["itemId"], l["orderedQty"]) for l in wms["lines"]])
    assert shape(erp1, wms1) == ([("HW-20620-C", 100, 100, 0), ("HW-61610-C", 30, 30, 0)], "Released",
                                 [("HW-20620-C", 100), ("HW-61610-C", 30)])
    assert shape(erp2, wms2) == ([("HW-20620-C", 100, 100, 0), ("HW-61610-C", 30, 18, 12)], "Released",
                                 [("HW-20620-C", 100), ("HW-61610-C", 18)])  # the first order took 30 of 48
    assert (erp1["shipmentMethodCode"], wms1["carrierCode"]) == ("GROUND", "UPSN")
    assert (erp2["shipmentMethodCode"], wms2["carrierCode"]) == ("EXPRESS", "FDEG")
    assert connections.resolve(rt, other, "erp")["base_url"] == f"{systems.url}/erp/api"


def test_the_oms_webhook_subscription_made_at_install_starts_order_release(rt, workspace, systems):
    """End to end without the test posting to the hook: the OMS calls Crossdock over HTTP."""
    import threading

    from werkzeug.serving import make_server

    from designer import templates
    from web.app import create_app

    server = make_server("127.0.0.1", 0, create_app(rt), threaded=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
    try:
        templates.install_bundled(rt, workspace, systems.url, hook_base=f"http://127.0.0.1:{server.server_port}")
        order = systems.oms_order(ACME, ("hw-33126-c", 24))
        from support import wait_for
        [erp] = wait_for(lambda: systems.erp_orders(str(order["id"])), timeout=30)
        wms = wait_for(lambda: systems.wms_orders(erp["no"]), timeout=30)
        assert wms[0]["lines"][0]["orderedQty"] == 24
        wait_for(lambda: systems.get(f"/oms/api/orders/{order['id']}")["order"]["status"] == "released", timeout=30)
    finally:
        server.shutdown()
