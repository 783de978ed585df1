"""/api/v1/trading-partners: create, read, change and delete a workspace's EDI trading partners; every refused body
is a 400 naming its field; the sequence is shown and can only be raised; the interchanges sent are listed with
their 997 status; changes are audited; the replies match the OpenAPI document."""
from __future__ import annotations

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from runtime import edi_register, trading_partners
from support import identity

ACME = {"description": "Acme Hardware", "partner": {"qualifier": "ZZ", "id": "ACMEHW"},
        "us": {"qualifier": "ZZ", "id": "CROSSDOCK"}, "version": "005010", "usage": "T",
        "ack": {"expected": True, "window_minutes": 120}}


def documented(api, response, path: str, method: str = "get") -> None:
    """The reply matches the schema GET /api/v1/openapi.json gives for it."""
    doc = api.get("/api/v1/openapi.json").json
    declared = doc["paths"][path][method]["responses"]
    reply = declared.get(str(response.status_code)) or declared["4XX"]
    if "$ref" in reply:
        reply = doc["components"]["responses"][reply["$ref"].rsplit("/", 1)[1]]
    if "content" not in reply:
        assert not response.data
        return
    ref = reply["content"]["application/json"]["schema"]["$ref"]
    registry = Registry().with_resource("urn:api", Resource.from_contents(doc, DRAFT202012))
    validator = jsonschema.Draft202012Validator({"$ref": "urn:api#" + ref[1:]}, registry=registry)
    assert [e.message for e in validator.iter_errors(response.json)] == []


def test_a_partner_is_created_read_listed_changed_and_deleted(api):
    r = api.put("/api/v1/trading-partners/acme", json=ACME)
    assert r.status_code == 200, r.json
    documented(api, r, "/api/v1/trading-partners/{name}", "put")
    assert r.json["partner"] == {"qualifier": "ZZ", "id": "ACMEHW", "application_id": "ACMEHW"}
    assert (r.json["version"], r.json["usage"], r.json["last_control_number"]) == ("005010", "T", 0)
    assert r.json["delimiters"]["element"] == "*" and r.json["ack"] == {"expected": True, "window_minutes": 120}

    got = api.get("/api/v1/trading-partners/acme")
    assert got.status_code == 200 and got.json == r.json
    documented(api, got, "/api/v1/trading-partners/{name}")
    listed = api.get("/api/v1/trading-partners")
    assert [p["name"] for p in listed.json["trading_partners"]] == ["acme"]
    documented(api, listed, "/api/v1/trading-partners")

    changed = api.put("/api/v1/trading-partners/acme", json={**ACME, "usage": "P",
                                                              "delimiters": {"element": "|", "segment": "\n"}})
    assert changed.status_code == 200, changed.json
    assert changed.json["usage"] == "P" and changed.json["delimiters"]["segment"] == "\n"
    assert changed.json["created_at"] == r.json["created_at"]

    assert api.delete("/api/v1/trading-partners/acme").status_code == 204
    missing = api.get("/api/v1/trading-partners/acme")
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"
    documented(api, missing, "/api/v1/trading-partners/{name}")
    assert api.delete("/api/v1/trading-partners/acme").status_code == 404
    assert api.get("/api/v1/trading-partners").json == {"trading_partners": []}


REFUSED = [
    ({**ACME, "partner": {"qualifier": "ZZZ", "id": "ACMEHW"}}, "partner.qualifier"),
    ({**ACME, "partner": {"qualifier": "ZZ", "id": ""}}, "partner.id"),
    ({**ACME, "us": {"qualifier": "ZZ", "id": "CROSS~DOCK"}}, "us.id"),
    ({**ACME, "us": {"qualifier": "ZZ", "id": "X", "application_id": "Y"}}, "us.application_id"),  # 2-15
    ({k: v for k, v in ACME.items() if k != "us"}, "us"),
    ({**ACME, "delimiters": {"component": "*"}}, "delimiters.component"),
    ({**ACME, "delimiters": {"element": "**"}}, "delimiters.element"),
    ({**ACME, "usage": "production"}, "usage"),
    ({**ACME, "version": 4010}, "version"),
    ({**ACME, "ack": {"window_minutes": 10 ** 9}}, "ack.window_minutes"),
    ({**ACME, "last_control_number": -1}, "last_control_number"),
    ({**ACME, "isa_id": "x"}, "isa_id"),
    (["not", "an", "object"], ""),
]


def test_a_refused_body_is_a_400_naming_its_field(api):
    for body, field in REFUSED:
        r = api.put("/api/v1/trading-partners/acme", json=body)
        assert r.status_code == 400, (body, r.json)
        assert r.json["error"]["code"] == "invalid_trading_partner"
        assert r.json["error"]["details"] == [{"field": field}], (body, r.json)
    documented(api, r, "/api/v1/trading-partners/{name}", "put")
    assert api.get("/api/v1/trading-partners/acme").status_code == 404  # nothing stored


def test_a_bad_name_or_a_body_that_is_not_json_is_refused(api):
    r = api.put("/api/v1/trading-partners/a%20b", json=ACME)
    assert r.status_code == 400 and r.json["error"]["details"] == [{"field": "name"}]
    assert api.put("/api/v1/trading-partners/acme", data="{", content_type="application/json").status_code == 400
    assert api.put("/api/v1/trading-partners/acme", data="x", content_type="text/plain").status_code == 415


def test_the_sequence_is_shown_and_only_goes_up(api, store, workspace):
    api.put("/api/v1/trading-partners/acme", json=ACME)
    assert trading_partners.take_control_number(store.engine, workspace, "acme") == 1
    assert api.get("/api/v1/trading-partners/acme").json["last_control_number"] == 1
    raised = api.put("/api/v1/trading-partners/acme", json={**ACME, "last_control_number": 5000})
    assert raised.status_code == 200 and raised.json["last_control_number"] == 5000
    lowered = api.put("/api/v1/trading-partners/acme", json={**ACME, "last_control_number": 10})
    assert lowered.status_code == 400 and lowered.json["error"]["details"] == [{"field": "last_control_number"}]
    assert trading_partners.take_control_number(store.engine, workspace, "acme") == 5001


def test_the_interchanges_sent_are_listed_with_their_997_status(api, store, workspace):
    api.put("/api/v1/trading-partners/acme", json=ACME)
    edi_register.sent(store, workspace, "acme", 7, [{"functional_id": "PR", "control_number": 7, "sets": 2}],
                      origin={"run_id": 3, "flow_id": "intake", "flow_version": 1, "node_id": "send_855"})
    r = api.get("/api/v1/trading-partners/acme/interchanges")
    assert r.status_code == 200, r.json
    documented(api, r, "/api/v1/trading-partners/{name}/interchanges")
    [sent] = r.json["interchanges"]
    assert (sent["control_number"], sent["status"], sent["flow_id"], sent["node_id"]) == (7, "awaiting", "intake",
                                                                                         "send_855")
    assert sent["groups"] == [{"functional_id": "PR", "control_number": 7, "sets": 2, "status": "sent",
                               "ack_code": None, "acknowledged_at": None}]
    assert api.get("/api/v1/trading-partners/acme/interchanges?status=overdue").json == {"interchanges": []}
    bad = api.get("/api/v1/trading-partners/acme/interchanges?status=lost")
    assert bad.status_code == 400 and bad.json["error"]["details"] == [{"field": "status"}]
    assert api.get("/api/v1/trading-partners/nobody/interchanges").status_code == 404


def test_changes_are_audited_and_roles_apply(api, store, workspace):
    api.put("/api/v1/trading-partners/acme", json=ACME)
    api.delete("/api/v1/trading-partners/acme")
    entries = api.get("/api/v1/audit").json["entries"]
    assert [(e["action"], e["target"]) for e in entries[:2]] == [("trading_partner.delete", "acme"),
                                                                 ("trading_partner.save", "acme")]
    viewer = identity.login_as(api, "viewer", workspace)
    assert viewer.get("/api/v1/trading-partners").status_code == 200
    refused = viewer.put("/api/v1/trading-partners/acme", json=ACME)
    assert refused.status_code == 403 and refused.json["error"]["code"] == "forbidden"
