"""designer.drafts against the database: create, save with a revision (compare-and-set under races),
remove, and the checks a draft gets. Each test runs on both backends."""
from __future__ import annotations

import threading

import pytest

from designer import drafts
from designer.errors import ApiError
from runtime import deployments, intake
from support.flowdocs import edge, http_sink


def doc(flow_id="d", **extra) -> dict:
    return {**http_sink(flow_id, "http://127.0.0.1:9/erp"), **extra}


def race(n: int, action) -> list:
    """Run `action(i)` on n threads released together; each result or ApiError code, in thread order."""
    results: list = [None] * n
    gate = threading.Barrier(n)

    def one(i):
        gate.wait()
        try:
            results[i] = action(i)
        except ApiError as err:
            results[i] = err.code

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_create_stores_the_normalised_document_at_revision_1(store, workspace):
    f = drafts.create(store, workspace, doc(description="to the ERP"))
    assert (f.id, f.revision, f.name, f.description, f.deployed_version) == ("d", 1, "d", "to the ERP", None)
    stored = drafts.get(store, workspace, "d").document
    assert stored["nodes"][0]["type_version"] == 1 and stored["params"] == {} and stored["settings"] == {}
    assert list(stored) == ["schema", "id", "name", "description", "params", "settings", "nodes", "edges"]


def test_create_refuses_a_malformed_document_and_an_existing_id(store, workspace):
    with pytest.raises(ApiError) as err:
        drafts.create(store, workspace, {"schema": "crossdock.flow/1", "id": "has space"})
    assert err.value.status == 400 and err.value.details[0]["field"] == "id"
    drafts.create(store, workspace, doc())
    with pytest.raises(ApiError) as err:
        drafts.create(store, workspace, doc())
    assert (err.value.status, err.value.code) == (409, "conflict")


def test_racing_creates_of_one_id_leave_one_flow_and_409s(store, workspace):
    results = race(5, lambda i: drafts.create(store, workspace, doc(name=f"writer {i}")).name)
    winners = [r for r in results if r != "conflict"]
    assert len(winners) == 1 and results.count("conflict") == 4
    assert drafts.get(store, workspace, "d").name == winners[0]


def test_save_bumps_the_revision_and_checks_if_match(store, workspace):
    drafts.create(store, workspace, doc())
    assert drafts.save(store, workspace, "d", doc(name="two"), if_match=1).revision == 2
    assert drafts.save(store, workspace, "d", doc(name="three"), if_match=None).revision == 3
    with pytest.raises(ApiError) as err:
        drafts.save(store, workspace, "d", doc(name="stale"), if_match=2)
    assert (err.value.status, err.value.code) == (409, "conflict")
    f = drafts.get(store, workspace, "d")
    assert (f.revision, f.name) == (3, "three")
    with pytest.raises(ApiError) as err:
        drafts.save(store, workspace, "ghost", doc("ghost"), if_match=None)
    assert err.value.status == 404


def test_racing_saves_of_one_revision_let_exactly_one_win(store, workspace):
    drafts.create(store, workspace, doc())
    results = race(6, lambda i: drafts.save(store, workspace, "d", doc(name=f"writer {i}"), if_match=1).name)
    winners = [r for r in results if r != "conflict"]
    assert len(winners) == 1 and results.count("conflict") == 5
    f = drafts.get(store, workspace, "d")
    assert (f.revision, f.name) == (2, winners[0])


def test_remove_drops_draft_and_routes_but_keeps_versions_for_old_runs(store, workspace):
    f = drafts.create(store, workspace, doc())
    version = deployments.deploy(store, workspace, "d", f.document)
    drafts.remove(store, workspace, "d")
    with pytest.raises(ApiError):
        drafts.get(store, workspace, "d")
    with pytest.raises(intake.NotFound):
        intake.find_route(store, workspace, "orders", "POST")
    assert deployments.document(store, workspace, "d", version)["id"] == "d"
    with pytest.raises(ApiError) as err:
        drafts.remove(store, workspace, "d")
    assert err.value.status == 404


def test_the_flow_list_is_sorted_by_name_whatever_the_case_then_by_id(store, workspace):
    for flow_id, name in (("z", "zed"), ("b2", "beta"), ("a", "Alpha"), ("b1", "beta"), ("y", "Yak")):
        drafts.create(store, workspace, doc(flow_id, name=name))
    assert [(f["name"], f["id"]) for f in drafts.list_flows(store, workspace)] == [
        ("Alpha", "a"), ("beta", "b1"), ("beta", "b2"), ("Yak", "y"), ("zed", "z")]


def test_drafts_are_per_workspace(store, workspace):
    store.ensure_workspace(workspace + "-b")
    drafts.create(store, workspace, doc(name="Zeta"))
    drafts.create(store, workspace, doc("a", name="Alpha"))
    drafts.create(store, workspace + "-b", doc())
    assert [f["id"] for f in drafts.list_flows(store, workspace)] == ["a", "d"]
    assert [f["id"] for f in drafts.list_flows(store, workspace + "-b")] == ["d"]


def test_check_names_the_second_webhook_on_a_shared_route(store):
    d = doc()
    d["nodes"] += [{"id": "again", "type": "event.webhook", "config": {"path": "orders/", "method": "post"}},
                   {"id": "off", "type": "event.webhook", "disabled": True, "config": {"path": "orders"}}]
    d["edges"] += [edge(3, "again", "map"), edge(4, "off", "map")]
    shared = [p for p in drafts.check(d) if p.code == "webhook_duplicate"]
    assert [(p.node, p.field, p.severity) for p in shared] == [("again", "path", "error")]
    assert "hook" in shared[0].message


def test_check_never_raises_on_garbage(store):
    for garbage in (None, [], "x", {"nodes": [None, 1, {"type": "event.webhook", "config": []}]},
                    {"nodes": [{"type": "event.webhook", "config": {"path": 5}}]}, {"nodes": "x"}):
        assert isinstance(drafts.check(garbage), list)


def test_save_answers_what_a_later_read_of_the_flow_gives(store, workspace):
    drafts.create(store, workspace, doc())
    deployments.deploy(store, workspace, "d", drafts.get(store, workspace, "d").document)
    saved = drafts.detail(drafts.save(store, workspace, "d", doc(name="two", description="again"), if_match=1))
    assert saved == drafts.detail(drafts.get(store, workspace, "d"))
    assert (saved["revision"], saved["deployed_version"], saved["flow"]["name"]) == (2, 1, "two")


def _bundled_flows() -> dict:
    import json
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[2] / "flows"
    found = {p.stem: json.loads(p.read_text())["flow"] for p in sorted((root / "templates").glob("*.json"))}
    found["order-sync"] = json.loads((root / "samples" / "order-sync.json").read_text())
    return found


@pytest.mark.parametrize("name", list(_bundled_flows()))
def test_a_bundled_flow_checks_the_same_fresh_remembered_and_after_an_edit_is_undone(name):
    import copy

    from flows import graph

    flow = _bundled_flows()[name]
    graph._config_problems.cache_clear()
    fresh = drafts.check(copy.deepcopy(flow))
    assert drafts.check(copy.deepcopy(flow)) == fresh
    edited = copy.deepcopy(flow)
    mapping = next(n for n in edited["nodes"] if n["type"] == "transform.map")
    mapping["config"]["expression"] = "order.(("
    broken = drafts.check(edited)
    assert [p for p in broken if p not in fresh and p.node == mapping["id"]]
    graph._config_problems.cache_clear()
    assert drafts.check(edited) == broken
    assert drafts.check(copy.deepcopy(flow)) == fresh


def test_reading_a_revision_again_does_not_validate_it_again_but_checks_its_references(store, workspace,
                                                                                        monkeypatch):
    from flows import graph
    from flows.references import Workspace

    flow = {"schema": "crossdock.flow/1", "id": "d", "name": "d",
            "nodes": [{"id": "hook", "type": "event.webhook", "config": {"path": "d"}},
                      {"id": "to_erp", "type": "connector.erp", "config": {
                          "connection": "erp", "operation": "upsert_sales_order", "body": "order.(("}}],
            "edges": [edge(1, "hook", "to_erp")]}
    drafts.create(store, workspace, flow)
    validated, real = [], graph.validate
    monkeypatch.setattr(graph, "validate", lambda *a: validated.append(1) or real(*a))

    def problems(connections):
        found = drafts.detail(drafts.get(store, workspace, "d"), Workspace(workspace, connections=connections))
        return [(p["code"], p["node"], p.get("field")) for p in found["problems"]]

    first = problems(frozenset())
    assert ("expression_invalid", "to_erp", "body") in first and ("unknown_connection", "to_erp", "connection") in first
    assert problems(frozenset({"erp"})) == [p for p in first if p[0] != "unknown_connection"]
    assert problems(frozenset()) == first
    # the create checked the revision it wrote; reading it (three times) validated nothing again, while the
    # references were checked each time; a save checks the new revision as it writes it
    drafts.save(store, workspace, "d", {**flow, "name": "renamed"}, if_match=1)
    assert problems(frozenset()) == first
    assert validated == []
    monkeypatch.setattr(drafts, "_revisions", drafts._Revisions())  # another process: validates it once
    assert problems(frozenset()) == problems(frozenset()) == first
    assert validated == [1]
