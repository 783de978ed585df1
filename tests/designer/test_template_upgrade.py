"""Issue 13, acceptance 4: template versions and three-way upgrades over the HTTP API. A customer edits a mapping
field and a lookup row of the installed order-release template; the partner publishes v2, changing another mapping
field, a config field and the same lookup row. The upgrade keeps the customer's edit, applies the other changes,
reports the lookup-row conflict and writes nothing until it is resolved; resolved, it writes and records v2."""
from __future__ import annotations

import copy

from designer import drafts
from flows.spec import MASK
from runtime import lookups, secrets
from support.flowdocs import done, edge


def erp_body(doc: dict) -> str:
    return next(n for n in doc["nodes"] if n["id"] == "erp_order")["config"]["body"]


def with_erp_body(doc: dict, old: str, new: str) -> dict:
    doc = copy.deepcopy(doc)
    node = next(n for n in doc["nodes"] if n["id"] == "erp_order")
    assert old in node["config"]["body"]
    node["config"]["body"] = node["config"]["body"].replace(old, new)
    return doc


def installed(api, template_id: str = "order-release") -> list[dict]:
    return next(t for t in api.get("/api/v1/templates").json["templates"] if t["id"] == template_id)["installs"]


def publish_v2(api) -> dict:
    bundle = api.get("/api/v1/templates/order-release").json
    bundle["flow"] = with_erp_body(bundle["flow"], '"customerNo": customer_no', '"customerNo": $uppercase(customer_no)')
    next(n for n in bundle["flow"]["nodes"] if n["id"] == "carrier")["config"]["default"] = "FDEG"
    bundle["lookups"]["carriers"]["EXPRESS"] = "FDX2"
    r = api.post("/api/v1/templates/publish", json={"bundle": bundle})
    assert r.status_code == 201, r.json
    return r.json


def test_upgrade_keeps_the_customers_mapping_edit_applies_v2_and_reports_the_lookup_row_conflict(api, store,
                                                                                                   workspace):
    assert api.post("/api/v1/templates/import", json={"template": "order-release"}).status_code == 201
    assert installed(api) == [{"flow_id": "order-release", "version": 1, "upgrade": False}]

    # the customer's edits: a mapping target field and a lookup row
    flow = api.get("/api/v1/flows/order-release").json["flow"]
    ours = with_erp_body(flow, '"currencyCode": currency', '"currencyCode": "EUR"')
    assert api.put("/api/v1/flows/order-release", json=ours).status_code == 200
    assert api.put("/api/v1/lookups/carriers/rows/EXPRESS", json={"value": "DHL"}).status_code in (200, 204)

    published = publish_v2(api)
    assert (published["template_id"], published["version"]) == ("order-release", 2)
    listed = next(t for t in api.get("/api/v1/templates").json["templates"] if t["id"] == "order-release")
    assert listed["version"] == 2 and listed["installs"] == [{"flow_id": "order-release", "version": 1,
                                                              "upgrade": True}]

    preview = api.get("/api/v1/flows/order-release/upgrade").json
    assert (preview["from_version"], preview["to_version"], preview["unresolved"]) == (1, 2, 1)
    [conflict] = preview["conflicts"]
    assert conflict["id"] == "lookups.carriers.rows.EXPRESS"
    assert (conflict["base"], conflict["ours"], conflict["theirs"]) == ("FDEG", "DHL", "FDX2")
    assert {c["id"] for c in preview["changes"]} == {"nodes.erp_order.config.body.customerNo",
                                                     "nodes.carrier.config.default"}
    [changed] = [n for n in preview["diff"]["nodes_changed"] if n["id"] == "erp_order"]
    assert [m["target"] for m in changed["mappings"]] == ["customerNo"]

    # unresolved: 409, and nothing written
    revision = preview["revision"]
    r = api.post("/api/v1/flows/order-release/upgrade", json={"to_version": 2, "revision": revision})
    assert r.status_code == 409 and r.json["error"]["code"] == "unresolved_conflicts"
    assert r.json["error"]["details"] == [{"field": "resolutions.lookups.carriers.rows.EXPRESS", "table": "carriers",
                                           "key": "EXPRESS"}]
    assert api.get("/api/v1/flows/order-release").json["revision"] == revision
    assert lookups.rows(store, workspace, "carriers")["EXPRESS"] == "DHL"
    assert installed(api)[0]["version"] == 1

    # resolved: written in one go, v2 recorded
    r = api.post("/api/v1/flows/order-release/upgrade", json={
        "to_version": 2, "revision": revision, "resolutions": {"lookups.carriers.rows.EXPRESS": "theirs"}})
    assert r.status_code == 200, r.json
    assert (r.json["version"], r.json["revision"], r.json["lookups_changed"]) == (2, revision + 1, ["carriers"])
    doc = api.get("/api/v1/flows/order-release").json["flow"]
    body = erp_body(doc)
    assert '"currencyCode": "EUR"' in body and '"customerNo": $uppercase(customer_no)' in body
    assert next(n for n in doc["nodes"] if n["id"] == "carrier")["config"]["default"] == "FDEG"
    assert lookups.rows(store, workspace, "carriers") == {"GROUND": "UPSN", "EXPRESS": "FDX2", "FREIGHT": "ODFL"}
    assert installed(api) == [{"flow_id": "order-release", "version": 2, "upgrade": False}]
    r = api.get("/api/v1/flows/order-release/upgrade")
    assert r.status_code == 409 and r.json["error"]["code"] == "up_to_date"


def test_keeping_ours_and_a_draft_saved_since_the_preview(api, store, workspace):
    assert api.post("/api/v1/templates/import", json={"template": "order-release"}).status_code == 201
    assert api.put("/api/v1/lookups/carriers/rows/EXPRESS", json={"value": "DHL"}).status_code in (200, 204)
    publish_v2(api)
    revision = api.get("/api/v1/flows/order-release/upgrade").json["revision"]
    flow = api.get("/api/v1/flows/order-release").json["flow"]
    assert api.put("/api/v1/flows/order-release", json={**flow, "description": "edited"}).status_code == 200
    answer = {"to_version": 2, "revision": revision, "resolutions": {"lookups.carriers.rows.EXPRESS": "ours"}}
    r = api.post("/api/v1/flows/order-release/upgrade", json=answer)
    assert r.status_code == 409 and r.json["error"]["code"] == "conflict"
    r = api.post("/api/v1/flows/order-release/upgrade", json={**answer, "revision": revision + 1})
    assert r.status_code == 200, r.json
    assert lookups.rows(store, workspace, "carriers")["EXPRESS"] == "DHL"
    assert api.get("/api/v1/flows/order-release").json["flow"]["description"] == "edited"


def test_publish_from_a_flow_and_install_the_new_version(api):
    assert api.post("/api/v1/templates/import", json={"template": "returns"}).status_code == 201
    r = api.post("/api/v1/templates/publish", json={"flow_id": "returns"})
    assert r.status_code == 201 and (r.json["template_id"], r.json["version"]) == ("returns", 2)
    assert [v["version"] for v in r.json["versions"]] == [2]
    assert api.get("/api/v1/templates/returns").json["version"] == 2
    r = api.post("/api/v1/templates/publish", json={"flow_id": "returns", "template_id": "my-returns"})
    assert r.status_code == 201 and r.json["version"] == 1
    listed = {t["id"]: t for t in api.get("/api/v1/templates").json["templates"]}
    assert listed["my-returns"]["source"] == "partner" and listed["returns"]["version"] == 2


def test_bad_upgrade_requests_are_json_errors(api):
    assert api.post("/api/v1/templates/import", json={"template": "order-release"}).status_code == 201
    flow = api.get("/api/v1/flows/order-release").json["flow"]
    assert api.post("/api/v1/flows", json={**flow, "id": "hand-made", "nodes": [], "edges": []}).status_code == 201
    cases = [
        ("get", "/api/v1/flows/order-release/upgrade", None, 409, "up_to_date"),
        ("get", "/api/v1/flows/hand-made/upgrade", None, 409, "not_from_template"),
        ("get", "/api/v1/flows/nope/upgrade", None, 404, "not_found"),
        ("get", "/api/v1/flows/order-release/upgrade?to=7", None, 404, "not_found"),
        ("get", "/api/v1/flows/order-release/upgrade?to=x", None, 400, "invalid_argument"),
        ("post", "/api/v1/flows/order-release/upgrade", {"to_version": "2", "revision": 1}, 400, "invalid_argument"),
        ("post", "/api/v1/flows/order-release/upgrade", [], 400, "invalid_argument"),
        ("post", "/api/v1/flows/order-release/upgrade", {"to_version": 2**40, "revision": 1}, 400, "invalid_argument"),
        ("post", "/api/v1/flows/order-release/upgrade", {"to_version": 1, "revision": 1, "resolutions": {"x": "mine"}},
         400, "invalid_argument"),
        ("post", "/api/v1/flows/order-release/upgrade", {"to_version": 1, "revision": 1, "resolutions": {"x": "ours"}},
         400, "unknown_conflict"),
        ("post", "/api/v1/templates/publish", {"bundle": {"schema": "x"}}, 400, "invalid_template"),
        ("post", "/api/v1/templates/publish", {}, 400, "invalid_argument"),
        ("post", "/api/v1/templates/publish", {"flow_id": "nope"}, 404, "not_found"),
    ]
    for method, url, body, status, code in cases:
        r = getattr(api, method)(url, **({} if body is None else {"json": body}))
        assert (r.status_code, r.json["error"]["code"]) == (status, code), (url, body, r.json)


def test_publishing_needs_a_partner_admin(api, workspace):
    from support import identity

    consultant = identity.login_as(api, "consultant", workspace)
    r = consultant.post("/api/v1/templates/publish", json={"flow_id": "x"})
    assert r.status_code == 403 and r.json["error"]["code"] == "forbidden"


def test_the_customers_secret_survives_an_upgrade_and_a_published_one_is_dropped(api, store, workspace):
    flow = {"schema": "crossdock.flow/1", "id": "secretive", "name": "Secretive", "nodes": [
        {"id": "start", "type": "event.manual", "config": {"sample": {"n": 1}}},
        {"id": "send", "type": "connector.http", "config": {
            "method": "POST", "url": "https://erp.example/v1", "auth": {"type": "bearer", "token": "CUSTOMER"}}},
        done()], "edges": [edge(1, "start", "send"), edge(2, "send", "done")]}
    bundle = {"schema": "crossdock.template/1", "id": "secretive", "name": "Secretive", "flow": flow}
    assert api.post("/api/v1/templates/import", json={"bundle": bundle}).status_code == 201
    v2 = copy.deepcopy(bundle)
    v2["flow"]["nodes"][1]["config"].update(url="https://erp.example/v2", auth={"type": "bearer", "token": "PARTNER"})
    assert api.post("/api/v1/templates/publish", json={"bundle": v2}).json["version"] == 2
    preview = api.get("/api/v1/flows/secretive/upgrade").json
    assert preview["conflicts"] == [] and "PARTNER" not in str(preview) and "CUSTOMER" not in str(preview)
    r = api.post("/api/v1/flows/secretive/upgrade", json={"to_version": 2, "revision": preview["revision"]})
    assert r.status_code == 200, r.json
    config = drafts.get(store, workspace, "secretive").document["nodes"][1]["config"]
    assert config["url"] == "https://erp.example/v2"
    assert secrets.reveal(store.settings, config["auth"]["token"]) == "CUSTOMER"
    assert api.get("/api/v1/flows/secretive").json["flow"]["nodes"][1]["config"]["auth"]["token"] == MASK
