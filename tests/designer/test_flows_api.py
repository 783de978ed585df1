"""The flows API (docs/api.md): drafts with optimistic concurrency, validate, deploy, rollback, undeploy,
versions; and that no document a client can send turns into a 500. Each test runs on both backends."""
from __future__ import annotations

import copy
import json
import threading

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from support import identity, wait_for
from support.flowdocs import done, edge, http_sink

FLOWS = "/api/v1/flows"


def hook_map(flow_id: str, path: str = "orders", expression: str = "{'echo': $}", **hook) -> dict:
    """webhook -> map: the run's output is the mapping's result, so a test sees which version ran."""
    return {"schema": "crossdock.flow/1", "id": flow_id, "name": f"Flow {flow_id}",
            "nodes": [{"id": "hook", "type": "event.webhook", "config": {"path": path, **hook}},
                      {"id": "map", "type": "transform.map", "config": {"expression": expression}}, done()],
            "edges": [edge(1, "hook", "map"), edge(2, "map", "done")]}


def create(client, doc) -> dict:
    r = client.post(FLOWS, json=doc)
    assert r.status_code == 201, r.json
    return r.json


def deploy(client, flow_id, body=None):
    return client.post(f"{FLOWS}/{flow_id}/deploy", json=body if body is not None else {})


def hook_output(client, workspace, path, message):
    """POST a message to a webhook, wait for its run to finish and return it."""
    r = client.post(f"/hooks/{workspace}/{path}", json=message)
    assert r.status_code == 202, r.json
    run_id = r.json["run_id"]
    return wait_for(lambda: (lambda run: run if run["status"] in ("succeeded", "failed") else None)(
        client.get(f"/api/v1/runs/{run_id}").json["run"]))


# --- create, read, list, delete ---------------------------------------------------------------------------

def test_create_answers_201_with_the_normalised_document_revision_1_and_an_etag(api):
    r = api.post(FLOWS, json=hook_map("f1"))
    assert r.status_code == 201
    assert r.headers["ETag"] == '"1"'
    body = r.json
    assert body["revision"] == 1 and body["deployed_version"] is None and body["problems"] == []
    assert body["updated_at"].endswith("Z")
    node = body["flow"]["nodes"][0]
    # defaults were filled in by the document schema: what is stored is the normalised document
    assert node["type_version"] == 1 and node["position"] == {"x": 0, "y": 0} and node["name"] == "hook"


def test_create_keeps_graph_problems_as_a_draft_and_reports_them(api):
    doc = hook_map("f-draft")
    doc["edges"] = []  # the mapping is unreachable: a problem, yet a draft may have problems
    r = api.post(FLOWS, json=doc)
    assert r.status_code == 201
    assert r.json["problems"] and all("code" in p and "severity" in p for p in r.json["problems"])
    assert any(p.get("node") == "map" for p in r.json["problems"])


def test_create_with_an_existing_id_is_409_conflict(api):
    create(api, hook_map("dup"))
    r = api.post(FLOWS, json=hook_map("dup", path="other"))
    assert r.status_code == 409
    assert r.json["error"]["code"] == "conflict" and r.json["error"]["details"] == [{"field": "id"}]
    assert api.get(f"{FLOWS}/dup").json["flow"]["nodes"][0]["config"]["path"] == "orders"


def test_concurrent_creates_of_one_id_give_one_201_and_the_rest_409(api):
    app = api.application
    ws = api.environ_base["HTTP_X_CROSSDOCK_WORKSPACE"]
    statuses: list[int] = []
    start = threading.Barrier(6)

    def post():
        c = identity.twin(api)
        start.wait()
        statuses.append(c.post(FLOWS, json=hook_map("race"), headers={"X-Crossdock-Workspace": ws}).status_code)

    threads = [threading.Thread(target=post) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [201] + [409] * 5


def test_create_refuses_a_malformed_document_with_400_and_json_paths(api):
    for doc, field, message in (({"bogus": 1}, "bogus", "Unknown field."),
                                ({"name": 5}, "name", "Not a valid string."),
                                ({"nodes": "none"}, "nodes", "Not a valid list.")):
        r = api.post(FLOWS, json={**hook_map("bad"), **doc})
        assert r.status_code == 400
        err = r.json["error"]
        assert err["code"] == "invalid_document"
        assert {"field": field, "message": message} in [{k: d.get(k) for k in ("field", "message")}
                                                       for d in err["details"]]
    assert api.get(f"{FLOWS}/bad").status_code == 404


def test_nul_characters_are_refused_where_the_database_keeps_text(api):
    """PostgreSQL text refuses NUL; SQLite takes it: both backends must answer the same 400."""
    for field in ("name", "description"):
        r = api.post(FLOWS, json={**hook_map("nul"), field: "a\x00b"})
        assert r.status_code == 400, field
        assert [d["field"] for d in r.json["error"]["details"]] == [field]
    doc = hook_map("nul")
    doc["nodes"][0]["notes"] = "inside the document's JSON a \x00 is fine"
    assert create(api, doc)["flow"]["nodes"][0]["notes"].endswith("\x00 is fine")
    r = api.put(f"{FLOWS}/nul", json={**hook_map("nul"), "name": "\x00"})
    assert r.status_code == 400 and api.get(f"{FLOWS}/nul").json["revision"] == 1
    for url in (f"{FLOWS}/nu%00l", f"{FLOWS}?x=%00", "/api/v1/runs?key=PO%001", "/api/v1/runs?flow_id=%00"):
        r = api.get(url)
        assert r.status_code == 400 and r.json["error"]["code"] == "invalid_argument", url


def test_schema_errors_inside_nodes_name_the_node_and_the_path(api):
    doc = hook_map("bad")
    doc["nodes"][1]["type"] = 7
    doc["nodes"][0]["position"] = {"x": "left", "y": 0}
    r = api.post(FLOWS, json=doc)
    assert r.status_code == 400
    details = {d["field"]: d for d in r.json["error"]["details"]}
    assert details["nodes[1].type"]["node"] == "map"
    assert details["nodes[0].position.x"]["node"] == "hook"
    assert all(d["code"] == "invalid_document" and d["severity"] == "error" for d in details.values())


def test_a_body_that_is_not_json_is_400_invalid_json(api):
    create(api, hook_map("f1"))
    for raw in (b"{nope", b"", b"\xff\xfe{}", b"[" * 100_000, b"{'single': 'quotes'}"):
        for method, path in (("post", FLOWS), ("put", f"{FLOWS}/f1"), ("post", f"{FLOWS}/validate"),
                             ("post", f"{FLOWS}/f1/deploy"), ("post", f"{FLOWS}/f1/runs"),
                             ("post", "/api/v1/preview/map")):
            if raw == b"" and path.endswith(("/deploy", "/runs")):
                continue  # their body is optional
            r = getattr(api, method)(path, data=raw, content_type="application/json")
            assert r.status_code == 400, (path, raw[:10], r.json)
            assert r.json["error"]["code"] == "invalid_json"
    assert api.get(f"{FLOWS}/f1").json["revision"] == 1


def test_list_gives_a_summary_per_flow_sorted_by_name(api):
    create(api, {**hook_map("b"), "name": "Beta", "description": "second"})
    create(api, {**hook_map("a", path="other"), "name": "Alpha"})
    assert deploy(api, "b").status_code == 201
    flows = api.get(FLOWS).json["flows"]
    assert [f["id"] for f in flows] == ["a", "b"]
    assert set(flows[1]) == {"id", "name", "description", "revision", "updated_at", "deployed_version",
                             "node_count"}
    assert flows[1]["description"] == "second" and flows[1]["deployed_version"] == 1
    assert flows[1]["node_count"] == 3 and flows[0]["deployed_version"] is None


def test_get_returns_the_draft_with_problems_and_etag(api):
    create(api, hook_map("g"))
    r = api.get(f"{FLOWS}/g")
    assert r.status_code == 200 and r.headers["ETag"] == '"1"'
    assert set(r.json) == {"flow", "revision", "updated_at", "deployed_version", "problems"}
    assert r.json["flow"]["id"] == "g"


def test_an_unknown_flow_is_404_not_found(api):
    for method, path in (("get", f"{FLOWS}/nope"), ("delete", f"{FLOWS}/nope"), ("post", f"{FLOWS}/nope/deploy"),
                         ("post", f"{FLOWS}/nope/undeploy"), ("get", f"{FLOWS}/nope/versions"),
                         ("get", f"{FLOWS}/nope/versions/1"), ("post", f"{FLOWS}/nope/runs")):
        r = getattr(api, method)(path)
        assert r.status_code == 404, path
        assert r.json["error"]["code"] == "not_found"


def test_delete_answers_204_and_stops_the_webhook(api, workspace):
    create(api, hook_map("d"))
    assert deploy(api, "d").status_code == 201
    r = api.delete(f"{FLOWS}/d")
    assert r.status_code == 204 and r.data == b""
    assert api.get(f"{FLOWS}/d").status_code == 404
    assert api.post(f"/hooks/{workspace}/orders", json={}).json["error"]["code"] == "no_webhook"
    assert api.delete(f"{FLOWS}/d").status_code == 404


# --- save with optimistic concurrency --------------------------------------------------------------------

def test_put_with_a_stale_if_match_is_409_and_with_the_current_one_saves(api):
    doc = hook_map("p")
    create(api, doc)
    doc["name"] = "first edit"
    r = api.put(f"{FLOWS}/p", json=doc, headers={"If-Match": '"1"'})
    assert r.status_code == 200 and r.json["revision"] == 2 and r.headers["ETag"] == '"2"'
    doc["name"] = "edit on a stale copy"
    r = api.put(f"{FLOWS}/p", json=doc, headers={"If-Match": '"1"'})
    assert r.status_code == 409
    assert r.json["error"]["code"] == "conflict" and r.json["error"]["details"] == [{"field": "revision"}]
    assert api.get(f"{FLOWS}/p").json["flow"]["name"] == "first edit"
    r = api.put(f"{FLOWS}/p", json=doc, headers={"If-Match": 'W/"2"'})  # a weak ETag is the same revision
    assert r.status_code == 200 and r.json["revision"] == 3 and r.json["flow"]["name"] == "edit on a stale copy"


def test_put_without_if_match_saves_over_the_current_revision(api):
    doc = hook_map("p")
    create(api, doc)
    api.put(f"{FLOWS}/p", json={**doc, "name": "one"})
    r = api.put(f"{FLOWS}/p", json={**doc, "name": "two"})
    assert r.status_code == 200 and r.json["revision"] == 3 and r.json["flow"]["name"] == "two"
    assert [f["name"] for f in api.get(FLOWS).json["flows"]] == ["two"]


def test_put_with_if_match_star_saves_over_any_revision(api):
    create(api, hook_map("p"))
    r = api.put(f"{FLOWS}/p", json={**hook_map("p"), "name": "any"}, headers={"If-Match": "*"})
    assert r.status_code == 200 and r.json["revision"] == 2


def test_put_refuses_an_if_match_that_is_not_a_revision(api):
    create(api, hook_map("p"))
    r = api.put(f"{FLOWS}/p", json=hook_map("p"), headers={"If-Match": '"abc"'})
    assert r.status_code == 400 and r.json["error"]["code"] == "invalid_argument"
    assert api.get(f"{FLOWS}/p").json["revision"] == 1


def test_put_with_another_id_than_the_url_is_400(api):
    create(api, hook_map("p"))
    r = api.put(f"{FLOWS}/p", json=hook_map("q"))
    assert r.status_code == 400
    assert r.json["error"]["code"] == "invalid_document" and r.json["error"]["details"] == [{"field": "id"}]


def test_put_to_an_unknown_flow_is_404_and_creates_nothing(api):
    r = api.put(f"{FLOWS}/ghost", json=hook_map("ghost"))
    assert r.status_code == 404
    assert api.get(FLOWS).json["flows"] == []


def test_put_with_a_malformed_document_is_400_and_keeps_the_draft(api):
    create(api, hook_map("p"))
    r = api.put(f"{FLOWS}/p", json={**hook_map("p"), "edges": [{"id": "e1"}]})
    assert r.status_code == 400
    assert {d["field"] for d in r.json["error"]["details"]} >= {"edges[0].source", "edges[0].target"}
    assert api.get(f"{FLOWS}/p").json["revision"] == 1


def test_two_concurrent_saves_of_one_revision_exactly_one_wins(api):
    create(api, hook_map("race"))
    app = api.application
    ws = api.environ_base["HTTP_X_CROSSDOCK_WORKSPACE"]
    answers: dict[str, int] = {}
    start = threading.Barrier(2)

    def save(name):
        c = identity.twin(api)
        start.wait()
        answers[name] = c.put(f"{FLOWS}/race", json={**hook_map("race"), "name": name},
                              headers={"If-Match": '"1"', "X-Crossdock-Workspace": ws}).status_code

    threads = [threading.Thread(target=save, args=(n,)) for n in ("alice", "bob")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers.values()) == [200, 409]
    winner = next(n for n, status in answers.items() if status == 200)
    saved = api.get(f"{FLOWS}/race").json
    assert saved["revision"] == 2 and saved["flow"]["name"] == winner


# --- validate ---------------------------------------------------------------------------------------------

def test_validate_a_good_flow(api):
    r = api.post(f"{FLOWS}/validate", json=hook_map("v"))
    assert r.status_code == 200
    assert r.json == {"valid": True, "problems": []}


def test_validate_returns_problems_with_node_ids_and_expression_positions(api):
    doc = hook_map("v", expression="{'a': x +}")
    doc["nodes"].append({"id": "lost", "type": "no.such.type"})
    r = api.post(f"{FLOWS}/validate", json=doc)
    assert r.status_code == 200 and r.json["valid"] is False
    by_node = {p.get("node"): p for p in r.json["problems"]}
    assert by_node["map"]["code"] == "expression_invalid" and by_node["map"]["field"] == "expression"
    assert by_node["map"]["line"] == 1 and by_node["map"]["column"] >= 9
    assert by_node["lost"]["severity"] == "error"


def test_validate_includes_schema_errors_as_problems(api):
    r = api.post(f"{FLOWS}/validate", json={**hook_map("v"), "viewport": {"x": 0, "y": 0, "zoom": "big"}})
    assert r.status_code == 200 and r.json["valid"] is False
    assert {"code": "invalid_document", "field": "viewport.zoom"} in [
        {k: p.get(k) for k in ("code", "field")} for p in r.json["problems"]]


def test_validate_a_body_that_is_not_an_object(api):
    for doc in ([1, 2], "a flow", 3, None, True):
        r = api.post(f"{FLOWS}/validate", data=json.dumps(doc), content_type="application/json")
        assert r.status_code == 200
        assert r.json["valid"] is False and r.json["problems"][0]["code"] == "invalid_document"


def test_two_webhooks_of_one_flow_on_one_path_is_a_problem_and_cannot_deploy(api):
    doc = hook_map("twin")
    doc["nodes"].append({"id": "hook2", "type": "event.webhook", "config": {"path": "orders/"}})
    doc["edges"].append(edge(3, "hook2", "map"))
    problems = api.post(f"{FLOWS}/validate", json=doc).json["problems"]
    assert [(p["code"], p.get("node"), p.get("field")) for p in problems] == [("webhook_duplicate", "hook2", "path")]
    create(api, doc)
    r = deploy(api, "twin")
    assert r.status_code == 422 and r.json["error"]["details"][0]["node"] == "hook2"
    doc["nodes"][3]["config"]["method"] = "PUT"  # another method on the same path is another route
    assert api.post(f"{FLOWS}/validate", json=doc).json["valid"] is True


# --- deploy, versions, rollback, undeploy ----------------------------------------------------------------

def test_deploy_is_refused_with_422_and_the_problems_while_the_draft_has_errors(api):
    create(api, hook_map("broken", expression="$sum("))
    r = deploy(api, "broken")
    assert r.status_code == 422
    err = r.json["error"]
    assert err["code"] == "validation_failed"
    assert [(d["code"], d["node"]) for d in err["details"]] == [("expression_invalid", "map")]
    assert api.get(f"{FLOWS}/broken/versions").json == {"versions": []}
    assert api.get(f"{FLOWS}/broken").json["deployed_version"] is None


def test_deploy_numbers_versions_and_a_rollback_switches_the_webhook(client, workspace):
    doc = hook_map("ver", expression="{'v': 1, 'n': n}")
    create(client, doc)
    r = deploy(client, "ver")
    assert r.status_code == 201
    assert set(r.json) == {"flow_id", "version", "deployed_at"} and r.json["deployed_at"].endswith("Z")
    assert (r.json["flow_id"], r.json["version"]) == ("ver", 1)
    assert hook_output(client, workspace, "orders", {"n": 1})["output"] == {"v": 1, "n": 1}

    doc["nodes"][1]["config"]["expression"] = "{'v': 2, 'n': n}"
    assert client.put(f"{FLOWS}/ver", json=doc).status_code == 200
    assert deploy(client, "ver", {}).json["version"] == 2
    run = hook_output(client, workspace, "orders", {"n": 2})
    assert (run["version"], run["output"]) == (2, {"v": 2, "n": 2})

    r = deploy(client, "ver", {"version": 1})  # rollback: no new version, the route points at 1 again
    assert r.status_code == 201 and r.json["version"] == 1
    run = hook_output(client, workspace, "orders", {"n": 3})
    assert (run["version"], run["output"]) == (1, {"v": 1, "n": 3})
    versions = client.get(f"{FLOWS}/ver/versions").json["versions"]
    assert [(v["version"], v["deployed"]) for v in versions] == [(2, False), (1, True)]
    assert all(v["created_at"].endswith("Z") for v in versions)
    assert client.get(f"{FLOWS}/ver").json["deployed_version"] == 1
    old = client.get(f"{FLOWS}/ver/versions/1").json
    assert old["version"] == 1 and old["flow"]["nodes"][1]["config"]["expression"] == "{'v': 1, 'n': n}"


def test_concurrent_deploys_each_get_their_own_version_number(api):
    create(api, hook_map("many"))
    app = api.application
    headers = {"X-Crossdock-Workspace": api.environ_base["HTTP_X_CROSSDOCK_WORKSPACE"]}
    answers: list = []
    gate = threading.Barrier(4)

    def one():
        c = identity.twin(api)
        gate.wait()
        r = c.post(f"{FLOWS}/many/deploy", json={}, headers=headers)
        answers.append((r.status_code, r.json.get("version")))

    threads = [threading.Thread(target=one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [(201, 1), (201, 2), (201, 3), (201, 4)]
    assert api.get(f"{FLOWS}/many").json["deployed_version"] == 4  # deploys are serialised: the last one wins
    assert [v["version"] for v in api.get(f"{FLOWS}/many/versions").json["versions"]] == [4, 3, 2, 1]


def test_rollback_does_not_need_a_valid_draft(api):
    doc = hook_map("rb")
    create(api, doc)
    assert deploy(api, "rb").status_code == 201
    api.put(f"{FLOWS}/rb", json=hook_map("rb", expression="(("))
    assert deploy(api, "rb").status_code == 422
    assert deploy(api, "rb", {"version": 1}).status_code == 201


def test_deploy_with_a_bad_version(api):
    create(api, hook_map("bv"))
    assert deploy(api, "bv").status_code == 201
    for body, status, code in (({"version": 9}, 404, "not_found"), ({"version": "1"}, 400, "invalid_argument"),
                               ({"version": True}, 400, "invalid_argument"),
                               ({"version": 1.5}, 400, "invalid_argument")):
        r = deploy(api, "bv", body)
        assert (r.status_code, r.json["error"]["code"]) == (status, code), body
        assert r.json["error"]["details"] == [{"field": "version"}]
    assert api.get(f"{FLOWS}/bv").json["deployed_version"] == 1


def test_undeploy_removes_the_webhook(api, workspace):
    create(api, hook_map("u"))
    deploy(api, "u")
    r = api.post(f"{FLOWS}/u/undeploy")
    assert r.status_code == 200 and r.json == {"flow_id": "u", "deployed_version": None}
    r = api.post(f"/hooks/{workspace}/orders", json={})
    assert r.status_code == 404 and r.json["error"]["code"] == "no_webhook"
    assert api.get(f"{FLOWS}/u").json["deployed_version"] is None
    assert [v["deployed"] for v in api.get(f"{FLOWS}/u/versions").json["versions"]] == [False]
    assert api.post(f"{FLOWS}/u/runs").json["error"]["code"] == "not_deployed"
    assert deploy(api, "u", {"version": 1}).status_code == 201  # and back
    assert api.post(f"/hooks/{workspace}/orders", json={}).status_code == 202


def test_a_webhook_path_used_by_another_flow_is_409_webhook_taken(client, workspace):
    create(client, hook_map("first"))
    create(client, hook_map("second"))
    assert deploy(client, "first").status_code == 201
    r = deploy(client, "second")
    assert r.status_code == 409
    err = r.json["error"]
    assert err["code"] == "webhook_taken"
    assert [(d["code"], d["node"], d["field"]) for d in err["details"]] == [("webhook_taken", "hook", "path")]
    # the refused deploy left nothing behind: no version, no route
    assert client.get(f"{FLOWS}/second/versions").json["versions"] == []
    assert hook_output(client, workspace, "orders", {})["flow_id"] == "first"
    client.post(f"{FLOWS}/first/undeploy")
    r = deploy(client, "second")
    assert r.status_code == 201 and r.json["version"] == 1
    assert hook_output(client, workspace, "orders", {})["flow_id"] == "second"


def test_rolling_back_to_a_version_whose_path_is_now_taken_is_409(api):
    create(api, hook_map("a"))
    deploy(api, "a")
    doc = hook_map("a", path="moved")
    api.put(f"{FLOWS}/a", json=doc)
    assert deploy(api, "a").json["version"] == 2
    create(api, hook_map("b"))  # takes "orders", which version 1 of a used
    assert deploy(api, "b").status_code == 201
    r = deploy(api, "a", {"version": 1})
    assert r.status_code == 409 and r.json["error"]["code"] == "webhook_taken"
    assert api.get(f"{FLOWS}/a").json["deployed_version"] == 2


def test_the_same_path_in_two_workspaces_is_no_clash(api, workspace, partner):
    api.application.extensions["crossdock.runtime"].ensure_workspace(f"{workspace}-b", partner_id=partner)
    other = {"X-Crossdock-Workspace": f"{workspace}-b"}
    create(api, hook_map("a"))
    assert deploy(api, "a").status_code == 201
    assert api.post(FLOWS, json=hook_map("a"), headers=other).status_code == 201
    assert api.post(f"{FLOWS}/a/deploy", json={}, headers=other).status_code == 201


def test_a_deployed_version_keeps_running_while_the_draft_changes(client, workspace):
    doc = hook_map("keep", expression="{'v': 'deployed'}")
    create(client, doc)
    deploy(client, "keep")
    doc["nodes"][1]["config"]["expression"] = "{'v': 'draft'}"
    client.put(f"{FLOWS}/keep", json=doc)
    assert hook_output(client, workspace, "orders", {})["output"] == {"v": "deployed"}


# --- hostile documents -----------------------------------------------------------------------------------

def _json_values():
    scalars = st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False) | st.text(max_size=30)
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=20)


def _nested(value, depth: int):
    for _ in range(depth):
        value = {"a": value} if isinstance(value, dict) else [value]
    return value


def _mutations():
    """A valid document with one to four places replaced by something hostile: wrong types, huge or deep values."""
    base = http_sink("fz", "http://127.0.0.1:9/x")
    hostile = st.one_of(
        _json_values(),
        st.just("x" * 200_000),
        st.integers(1, 400).map(lambda n: _nested([], n)),
        st.integers(1, 400).map(lambda n: _nested({}, n)),
    )
    paths = st.sampled_from([
        ("id",), ("name",), ("schema",), ("settings",), ("settings", "retry"), ("params",), ("nodes",),
        ("edges",), ("viewport",), ("samples",), ("nodes", 0), ("nodes", 0, "config"), ("nodes", 0, "config", "path"),
        ("nodes", 1, "config", "expression"), ("nodes", 2, "config"), ("nodes", 2, "config", "retry"),
        ("nodes", 2, "config", "url"), ("nodes", 1, "type"), ("nodes", 1, "position"), ("nodes", 1, "id"),
        ("edges", 0), ("edges", 0, "source"), ("edges", 1, "target_port"), ("nodes", 0, "config", "respond"),
        ("nodes", 0, "config", "timeout_s"), ("nodes", 2, "config", "headers"), ("nodes", 2, "config", "auth"),
    ])

    def put(changes):
        doc = copy.deepcopy(base)
        for path, value in changes:
            here = doc
            try:
                for key in path[:-1]:
                    here = here[key]
                here[path[-1]] = value
            except (KeyError, IndexError, TypeError):  # an earlier change replaced this place's parent
                pass
        return doc

    return st.lists(st.tuples(paths, hostile), min_size=1, max_size=4).map(put)


@hypothesis_settings(max_examples=60, deadline=None, derandomize=True,
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(doc=st.one_of(_mutations(), _json_values()))
def test_hostile_documents_never_give_a_500(api, doc):
    raw = json.dumps(doc)
    headers = {"Content-Type": "application/json"}
    r = api.post(f"{FLOWS}/validate", data=raw, headers=headers)
    assert r.status_code in (200, 400), r.json
    created = api.post(FLOWS, data=raw, headers=headers)
    assert created.status_code in (201, 400, 409), created.json
    if created.status_code == 201:
        flow_id = created.json["flow"]["id"]  # a mutated id may still be a valid one
        saved = api.put(f"{FLOWS}/{flow_id}", data=raw, headers=headers)
        assert saved.status_code == 200, saved.json
        assert api.get(f"{FLOWS}/{flow_id}").status_code == 200
        assert api.post(f"{FLOWS}/{flow_id}/deploy", json={}).status_code in (201, 409, 422)
        assert api.delete(f"{FLOWS}/{flow_id}").status_code == 204
    else:
        assert created.json["error"]["code"] in ("invalid_document", "invalid_json")
    api.post(FLOWS, json=http_sink("fz", "http://127.0.0.1:9/x"))
    assert api.put(f"{FLOWS}/fz", data=raw, headers=headers).status_code in (200, 400)
    api.delete(f"{FLOWS}/fz")


def test_deeply_nested_documents_never_give_a_500(api):
    """Deep enough to break a recursive parser or encoder somewhere between the request and the database."""
    headers = {"Content-Type": "application/json"}
    create(api, http_sink("deep", "http://127.0.0.1:9/x"))
    for depth in (900, 100_000):  # parses, then strains whatever recurses after; does not even parse
        for where in ("config", "samples", "settings"):
            doc = http_sink(f"deep{depth}{where}", "http://127.0.0.1:9/x")
            if where == "config":
                doc["nodes"][0]["config"] = "DEEP"
            else:
                doc[where] = "DEEP"
            raw = json.dumps(doc).replace('"DEEP"', '{"a":' * depth + "1" + "}" * depth)
            assert api.post(f"{FLOWS}/validate", data=raw, headers=headers).status_code in (200, 400)
            created = api.post(FLOWS, data=raw, headers=headers)
            assert created.status_code in (201, 400), (depth, where)
            assert api.put(f"{FLOWS}/deep", data=raw.replace(doc["id"], "deep"),
                              headers=headers).status_code in (200, 400)
            assert api.get(f"{FLOWS}/deep").status_code == 200
    assert api.get(FLOWS).status_code == 200
