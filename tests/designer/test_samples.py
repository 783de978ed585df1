"""designer.samples: the bundled order-sync flow is created and deployed once per workspace, pointed at
where the sandbox runs, and a real order posted to its webhook reaches that ERP."""
from __future__ import annotations

import json

from support import wait_for

from designer import drafts, samples
from runtime import deployments


def test_install_creates_and_deploys_the_sample_once(store, workspace, http_target):
    assert samples.install(store, workspace, sandbox_url=http_target.url + "/") == ["order-sync"]
    flow = drafts.get(store, workspace, "order-sync")
    assert (flow.revision, flow.deployed_version) == (1, 1)
    assert flow.document["params"]["erp_url"]["default"] == http_target.url + "/erp"
    assert [v["version"] for v in deployments.versions(store, workspace, "order-sync")] == [1]
    # a second start installs nothing and deploys nothing
    assert samples.install(store, workspace, sandbox_url=http_target.url) == []
    assert [v["version"] for v in deployments.versions(store, workspace, "order-sync")] == [1]
    assert drafts.get(store, workspace, "order-sync").revision == 1


def test_install_leaves_an_edited_sample_alone_and_brings_back_a_deleted_one(store, workspace, http_target):
    samples.install(store, workspace, sandbox_url=http_target.url)
    edited = drafts.get(store, workspace, "order-sync").document
    edited["name"] = "Our order sync"
    drafts.save(store, workspace, "order-sync", edited, if_match=1)
    assert samples.install(store, workspace, sandbox_url=http_target.url) == []
    assert drafts.get(store, workspace, "order-sync").name == "Our order sync"
    drafts.remove(store, workspace, "order-sync")
    assert samples.install(store, workspace, sandbox_url=http_target.url) == ["order-sync"]
    # versions outlive the draft (old runs stay readable), so the reinstall deploys the next number
    assert drafts.get(store, workspace, "order-sync").deployed_version == 2


def test_the_installed_sample_takes_an_order_on_its_webhook(client, rt, workspace, http_target):
    samples.install(rt, workspace, sandbox_url=http_target.url)
    order = json.loads((samples.SAMPLES_DIR / "order.json").read_text(encoding="utf-8"))
    r = client.post(f"/hooks/{workspace}/orders", json=order)
    assert r.status_code == 202

    def done():
        run = client.get(f"/api/v1/runs/{r.json['run_id']}").json["run"]
        return run if run["status"] in ("succeeded", "failed") else None

    run = wait_for(done)
    assert run["status"] == "succeeded" and run["business_key"] == order["orderId"]
    [request] = http_target.requests
    assert request["path"] == "/erp/api/sales-orders" and request["body"]["SO_HEADER"]["EXT_REF"] == order["orderId"]
