"""GET /api/v1/openapi.json: a valid OpenAPI document, generated from the app's routes and the
registry's marshmallow schemas; every /api/v1 route is in it, and what the handlers answer matches it."""
from __future__ import annotations

import jsonschema
import pytest
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from designer import openapi
from designer.api_schemas import operations
from support.flowdocs import done, edge

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def routes(app) -> set[tuple[str, str]]:
    """(OpenAPI path, method) of every /api/v1 route the app has."""
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = openapi._path(rule)[0]
            found |= {(path, m) for m in rule.methods - IGNORED_METHODS}
    return found


def documented(doc) -> set[tuple[str, str]]:
    return {(path, m.upper()) for path, item in doc["paths"].items() for m in item}


@pytest.fixture
def doc(api):
    anonymous = api.application.test_client()  # the document is public
    r = anonymous.get("/api/v1/openapi.json")
    assert r.status_code == 200, r.json
    return r.json


def test_the_document_is_valid_openapi_3_1(doc):
    validate(doc)
    assert doc["openapi"].startswith("3.1")
    assert set(doc["components"]["securitySchemes"]) == {"session", "csrf", "bearer", "key"}
    assert doc["components"]["schemas"]["Error"]["required"] == ["error"]


def test_every_api_route_is_in_the_document(api, doc):
    missing = routes(api.application) - documented(doc)
    assert not missing, f"add these routes to designer/api_schemas/operations.py: {sorted(missing)}"
    assert documented(doc) <= routes(api.application)


def test_a_route_without_a_registry_entry_is_left_out_and_named_missing(api):
    app = api.application
    app.add_url_rule("/api/v1/undocumented/<int:n>", "undocumented", lambda n: {})
    doc = openapi.build(app)
    validate(doc)
    assert routes(app) - documented(doc) == {("/api/v1/undocumented/{n}", "GET")}


def test_every_registry_entry_is_a_route_the_app_has(api):
    have = {(operations.key(path), method) for path, method in routes(api.application)}
    stale = set(operations.OPERATIONS) - have
    assert not stale, f"entries for routes the app does not have: {sorted(stale)}"


def test_access_follows_the_views_decorators(doc):
    paths = doc["paths"]
    for path, method in (("/api/v1/openapi.json", "get"), ("/api/v1/branding", "get"), ("/api/v1/session", "post")):
        assert paths[path][method]["security"] == [], path
    create = paths["/api/v1/flows"]["post"]
    assert create["x-crossdock-access"] == "flows:write"
    assert create["security"] == [{"session": [], "csrf": []}, {"bearer": []}, {"key": []}]
    assert paths["/api/v1/flows"]["get"]["security"][0] == {"session": []}  # no CSRF token to read
    assert {"$ref": "#/components/parameters/Workspace"} in create["parameters"]
    users = paths["/api/v1/users"]["post"]
    assert (users["x-crossdock-access"], users["security"]) == ("partner admin", [{"session": [], "csrf": []}])
    run = paths["/api/v1/runs/{run_id}"]["get"]["parameters"][0]
    assert run == {"name": "run_id", "in": "path", "required": True,
                   "schema": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}}


def test_request_bodies_and_queries_come_from_the_schemas(doc):
    schemas = doc["components"]["schemas"]
    assert schemas["FlowDocument"]["properties"]["schema"]["enum"] == ["crossdock.flow/1"]
    assert set(schemas["FlowDocument"]["required"]) == {"schema", "id"}
    assert schemas["Node"]["properties"]["position"] == {"$ref": "#/components/schemas/Position"}
    assert schemas["Position"]["properties"]["x"]["type"] == "number"
    queries = {p["name"] for p in doc["paths"]["/api/v1/runs"]["get"]["parameters"] if p.get("in") == "query"}
    assert queries == {"flow_id", "status", "key", "since", "until", "limit", "before"}
    assert schemas["Run"]["properties"]["finished_at"]["type"] == ["string", "null"]


class Replies:
    """Checks a reply against the schema the document gives for its path, method and status."""

    def __init__(self, doc):
        self.doc = doc
        self.registry = Registry().with_resource("urn:api", Resource.from_contents(doc, DRAFT202012))

    def check(self, response, path: str, method: str = "get") -> None:
        declared = self.doc["paths"][path][method]["responses"]
        status = str(response.status_code)
        reply = declared.get(status) or declared[f"{status[0]}XX"]
        if "$ref" in reply:
            reply = self.doc["components"]["responses"][reply["$ref"].rsplit("/", 1)[1]]
        if "content" not in reply:
            assert not response.data, f"{method} {path} {status} should have no body"
            return
        schema = reply["content"]["application/json"]["schema"]
        validator = jsonschema.Draft202012Validator({"$ref": "urn:api#" + schema["$ref"][1:]}, registry=self.registry)
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(response.json)]
        assert not errors, f"{method.upper()} {path} {status}: {errors}"


def test_the_handlers_answer_as_documented(api, doc):
    replies = Replies(doc)
    flow = {"schema": "crossdock.flow/1", "id": "doc-flow",
            "nodes": [{"id": "start", "type": "event.manual", "config": {"sample": {"n": 1}}}, done()],
            "edges": [edge(1, "start", "done")]}
    replies.check(api.post("/api/v1/flows", json=flow), "/api/v1/flows", "post")
    replies.check(api.get("/api/v1/flows"), "/api/v1/flows")
    replies.check(api.get("/api/v1/flows/doc-flow"), "/api/v1/flows/{flow_id}")
    replies.check(api.get("/api/v1/flows/nope"), "/api/v1/flows/{flow_id}")
    replies.check(api.post("/api/v1/flows/validate", json=flow), "/api/v1/flows/validate", "post")
    replies.check(api.post("/api/v1/flows/doc-flow/deploy"), "/api/v1/flows/{flow_id}/deploy", "post")
    replies.check(api.get("/api/v1/flows/doc-flow/versions"), "/api/v1/flows/{flow_id}/versions")
    replies.check(api.get("/api/v1/flows/doc-flow/versions/1"), "/api/v1/flows/{flow_id}/versions/{version}")
    replies.check(api.get("/api/v1/flows/doc-flow/stats"), "/api/v1/flows/{flow_id}/stats")
    replies.check(api.get("/api/v1/flows/doc-flow/export"), "/api/v1/flows/{flow_id}/export")
    started = api.post("/api/v1/flows/doc-flow/runs", json={})
    replies.check(started, "/api/v1/flows/{flow_id}/runs", "post")
    replies.check(api.get("/api/v1/runs"), "/api/v1/runs")
    replies.check(api.get(f"/api/v1/runs/{started.json['run']['id']}"), "/api/v1/runs/{run_id}")
    replies.check(api.get("/api/v1/dead-letters"), "/api/v1/dead-letters")
    replies.check(api.get("/api/v1/node-types"), "/api/v1/node-types")
    replies.check(api.get("/api/v1/records"), "/api/v1/records")
    replies.check(api.get("/api/v1/records/order"), "/api/v1/records/{name}")
    replies.check(api.get("/api/v1/templates"), "/api/v1/templates")
    replies.check(api.post("/api/v1/preview/map", json={"expression": "n + 1", "input": {"n": 1}}),
                  "/api/v1/preview/map", "post")
    replies.check(api.put("/api/v1/connections/erp", json={"system": "erp", "base_url": "http://erp.test/api"}),
                  "/api/v1/connections/{name}", "put")
    replies.check(api.get("/api/v1/connections"), "/api/v1/connections")
    replies.check(api.put("/api/v1/lookups/uom", json={"rows": {"EA": "each"}}), "/api/v1/lookups/{table}", "put")
    replies.check(api.get("/api/v1/lookups/uom"), "/api/v1/lookups/{table}")
    replies.check(api.get("/api/v1/lookups"), "/api/v1/lookups")
    replies.check(api.get("/api/v1/session"), "/api/v1/session")
    replies.check(api.get("/api/v1/branding"), "/api/v1/branding")
    replies.check(api.get("/api/v1/workspaces"), "/api/v1/workspaces")
    replies.check(api.get("/api/v1/users"), "/api/v1/users")
    replies.check(api.get("/api/v1/partner"), "/api/v1/partner")
    replies.check(api.get("/api/v1/keys"), "/api/v1/keys")
    replies.check(api.post("/api/v1/keys", json={"name": "erp", "scopes": ["runs:read"]}), "/api/v1/keys", "post")
    replies.check(api.get("/api/v1/published"), "/api/v1/published")
    replies.check(api.post("/api/v1/flows/doc-flow/publish", json={"name": "orders", "version": 1}),
                  "/api/v1/flows/{flow_id}/publish", "post")  # 422: a manual flow has no webhook to publish
    replies.check(api.get("/api/v1/audit"), "/api/v1/audit")
    replies.check(api.delete("/api/v1/flows/doc-flow"), "/api/v1/flows/{flow_id}", "delete")
