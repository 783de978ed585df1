"""Golden (issue 9, acceptance 1): an order whose SKU is not cross-referenced never ends `succeeded` when the
lookup's not_found port leads nowhere: the designer refuses to deploy such a flow, and a version deployed
before that rule (straight through the runtime) fails the run `unrouted`, listed with the failures and the
dead letters, with nothing sent to the ERP."""
from __future__ import annotations

from runtime import deployments, lookups

ACME = 7001


def without_not_found_edge(crossdock) -> dict:
    """The installed order-release flow with the lookup's not_found edge deleted, as a user might."""
    doc = crossdock.client.get("/api/v1/flows/order-release").json["flow"]
    doc["edges"] = [e for e in doc["edges"] if (e["source"], e["source_port"]) != ("sku_xref", "not_found")]
    return doc


def test_validate_and_deploy_refuse_a_lookup_whose_not_found_port_leads_nowhere(crossdock):
    doc = without_not_found_edge(crossdock)
    problems = crossdock.client.post("/api/v1/flows/validate", json=doc).json["problems"]
    assert [(p["code"], p["node"], p["field"]) for p in problems if p["severity"] == "error"] == [
        ("unwired_route", "sku_xref", "not_found")]
    assert crossdock.client.put("/api/v1/flows/order-release", json=doc).status_code == 200  # a draft may
    r = crossdock.client.post("/api/v1/flows/order-release/deploy", json={})
    assert r.status_code == 422 and r.json["error"]["code"] == "validation_failed"
    assert [(d["node"], d["field"]) for d in r.json["error"]["details"]] == [("sku_xref", "not_found")]
    assert "'OMS SKU to ERP item' (sku_xref)" in r.json["error"]["details"][0]["message"]


def test_an_old_version_with_the_port_unwired_fails_unrouted_and_shows_with_the_failures(crossdock, systems):
    doc = without_not_found_edge(crossdock)
    version = deployments.deploy(crossdock.rt, crossdock.workspace, "order-release", doc)  # no designer check
    assert version == 2
    lookups.remove(crossdock.rt, crossdock.workspace, "sku_xref", "hw-87462-d")
    order = systems.oms_order(ACME, ("hw-20620-c", 10), ("hw-87462-d", 3))

    run = crossdock.run("oms/orders", order)
    assert (run.status, run.version, run.business_key) == ("failed", 2, str(order["id"]))
    assert run.error["code"] == "unrouted" and run.error["node"] == "sku_xref" and run.error["field"] == "not_found"
    assert run.error["message"] == f"{order['id']} stopped at 'OMS SKU to ERP item': not_found, not routed"
    [step] = [s for s in crossdock.steps(run.id) if s.node_id == "sku_xref"]
    assert (step.status, step.port) == ("failed", "not_found")
    assert step.output["rejection"]["problems"][0]["field"] == "lines[1].sku"  # what was emitted, for the trace
    assert systems.erp_orders(str(order["id"])) == []  # nothing went further

    failed = crossdock.client.get("/api/v1/runs?status=failed&flow_id=order-release").json["runs"]
    assert [r["id"] for r in failed] == [run.id] and failed[0]["error"]["code"] == "unrouted"
    letters = crossdock.client.get("/api/v1/dead-letters?flow_id=order-release").json["dead_letters"]
    assert [(d["run_id"], d["node_id"], d["code"]) for d in letters] == [(run.id, "sku_xref", "unrouted")]
    assert letters[0]["message"] == run.error["message"]
