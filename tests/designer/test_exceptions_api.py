"""The exception workbench's API (issue 14): business exceptions of unknown SKUs grouped by root cause, filtered,
assigned, commented, resolved, and retried one, a selection or all matching, resolving themselves when the retry
succeeds; another workspace's are 404; viewers read and cannot handle; bulk actions are bounded."""
from __future__ import annotations

import uuid

from runtime import exceptions
from support import identity, wait_for
from support.api import deploy, finished
from support.flowdocs import done, edge

from .test_trading_partners_api import documented

FLOW = {"schema": "crossdock.flow/1", "id": "skus", "name": "SKU check",
        "settings": {"business_key": "po"},
        "nodes": [{"id": "hook", "type": "event.webhook", "config": {"path": "skus"}},
                  {"id": "lookup", "type": "transform.lookup",
                   "config": {"table": "skus", "items": "lines", "key": "sku", "business_class": "unknown_sku"}},
                  {"id": "reject", "type": "control.dead_letter", "config": {}},
                  done()],
        "edges": [edge(1, "hook", "lookup"), edge(2, "lookup", "done"),
                  {"id": "e3", "source": "lookup", "source_port": "not_found", "target": "reject",
                   "target_port": "in"}]}


def post(client, workspace: str, po: str, sku: str) -> int:
    r = client.post(f"/hooks/{workspace}/skus", json={"po": po, "lines": [{"sku": "A", "qty": 1}, {"sku": sku}]})
    assert r.status_code == 202, r.json
    return r.json["run_id"]


def setup(client, workspace: str, unknown: dict[str, int]) -> list[int]:
    assert client.put("/api/v1/lookups/skus", json={"rows": {"A": "SKU-A"}}).status_code == 200
    deploy(client, FLOW)
    runs = [post(client, workspace, f"PO-{sku}-{i}", sku) for sku, n in unknown.items() for i in range(n)]
    assert {finished(client, run)["status"] for run in runs} == {"failed"}
    return runs


def test_unknown_skus_group_by_root_cause_and_a_retry_after_the_fix_resolves_them(client, workspace):
    setup(client, workspace, {"X-1": 3, "Y-2": 2})

    r = client.get("/api/v1/exceptions/groups?class=unknown_sku")
    assert r.status_code == 200
    documented(client, r, "/api/v1/exceptions/groups")
    groups = r.json["groups"]
    assert [(g["count"], g["class"], g["flow_id"]) for g in groups] == [(3, "unknown_sku", "skus"),
                                                                        (2, "unknown_sku", "skus")]
    assert "'X-1'" in groups[0]["root_cause"] and "lines[].sku" in groups[0]["root_cause"]

    listed = client.get("/api/v1/exceptions", query_string={"root_cause": groups[0]["root_cause"]})
    documented(client, listed, "/api/v1/exceptions")
    assert len(listed.json["exceptions"]) == 3
    assert {e["business_key"] for e in listed.json["exceptions"]} == {f"PO-X-1-{i}" for i in range(3)}
    assert client.get("/api/v1/exceptions?business_key=PO-Y-2-1").json["exceptions"][0]["code"] == "unknown_sku"
    assert client.get("/api/v1/exceptions?class=timeout").json["exceptions"] == []
    assert len(client.get("/api/v1/exceptions?flow_id=skus&assignee=").json["exceptions"]) == 5
    assert client.get("/api/v1/exceptions?since=2999-01-01T00:00:00Z").json["exceptions"] == []

    # the fix: the SKU goes into the lookup table; then everything matching the group is retried
    assert client.put("/api/v1/lookups/skus/rows/X-1", json={"value": "SKU-X"}).status_code == 200
    r = client.post("/api/v1/exceptions/retry", json={"filter": {"root_cause": groups[0]["root_cause"]}})
    assert r.status_code == 202, r.json
    documented(client, r, "/api/v1/exceptions/retry", "post")
    assert len(r.json["retries"]) == 3 and r.json["problems"] == [] and r.json["remaining"] == 0
    assert {finished(client, x["run_id"])["status"] for x in r.json["retries"]} == {"succeeded"}
    wait_for(lambda: len(client.get("/api/v1/exceptions").json["exceptions"]) == 2)
    resolved = client.get("/api/v1/exceptions?status=resolved").json["exceptions"]
    assert {(e["resolution"], e["retry"]["status"]) for e in resolved} == {("retried", "succeeded")}
    assert len(resolved) == 3
    [audited] = [e for e in client.get("/api/v1/audit", query_string={"action": "exception."}).json["entries"]
                 if e["action"] == "exception.retry"]
    assert audited["summary"] == {"retries": 3, "filtered": True}

    # retrying the other group without a fix: it fails again, and the new exception takes over the old one
    [one, _] = client.get("/api/v1/exceptions").json["exceptions"]
    r = client.post("/api/v1/exceptions/retry", json={"ids": [one["id"]]})
    assert finished(client, r.json["retries"][0]["run_id"])["status"] == "failed"
    wait_for(lambda: client.get(f"/api/v1/exceptions/{one['id']}").json["exception"]["resolution"] == "superseded")
    assert len(client.get("/api/v1/exceptions").json["exceptions"]) == 2


def test_assign_comment_and_resolve_and_roles(client, workspace):
    setup(client, workspace, {"Z-9": 2})
    [first, second] = client.get("/api/v1/exceptions").json["exceptions"]

    r = client.post(f"/api/v1/exceptions/{first['id']}/assign", json={"assignee": "dana"})
    assert r.status_code == 200 and r.json["exception"]["assignee"] == "dana"
    assert [e["id"] for e in client.get("/api/v1/exceptions?assignee=dana").json["exceptions"]] == [first["id"]]
    r = client.post(f"/api/v1/exceptions/{first['id']}/comments", json={"text": "asked purchasing for Z-9"})
    assert r.status_code == 201 and r.json["exception"]["comments"][0]["text"] == "asked purchasing for Z-9"
    assert client.post(f"/api/v1/exceptions/{first['id']}/comments", json={"text": ""}).status_code == 400
    assert client.post(f"/api/v1/exceptions/{first['id']}/assign", json={"assignee": 5}).status_code == 400

    viewer = identity.login_as(client, "viewer", workspace)
    assert viewer.get(f"/api/v1/exceptions/{first['id']}").status_code == 200
    assert viewer.post(f"/api/v1/exceptions/{first['id']}/resolve").status_code == 403
    assert viewer.post("/api/v1/exceptions/retry", json={"ids": [first["id"]]}).status_code == 403

    r = client.post(f"/api/v1/exceptions/{first['id']}/resolve")
    assert r.status_code == 200 and r.json["exception"]["status"] == "resolved"
    assert r.json["exception"]["resolution"] == "manual"
    r = client.post("/api/v1/exceptions/resolve", json={"filter": {"class": "unknown_sku"}})
    assert r.json == {"resolved": 1, "remaining": 0}
    assert client.get("/api/v1/exceptions").json["exceptions"] == []
    assert client.get(f"/api/v1/exceptions/{second['id']}").json["exception"]["status"] == "resolved"


def test_another_workspaces_exceptions_are_404_and_bulk_actions_are_bounded(client, workspace):
    setup(client, workspace, {"Q-1": 1})
    [mine] = client.get("/api/v1/exceptions").json["exceptions"]
    other = f"ws-{uuid.uuid4().hex[:8]}"
    assert client.post("/api/v1/workspaces", json={"id": other, "name": "other"}).status_code == 201
    stranger = identity.login_as(client, "operator", other)
    assert stranger.get(f"/api/v1/exceptions/{mine['id']}").status_code == 404
    assert stranger.post(f"/api/v1/exceptions/{mine['id']}/assign", json={"assignee": "x"}).status_code == 404
    assert stranger.post(f"/api/v1/exceptions/{mine['id']}/resolve").status_code == 404
    r = stranger.post("/api/v1/exceptions/retry", json={"ids": [mine["id"]]})
    assert r.status_code == 202 and r.json["retries"] == []
    assert stranger.get("/api/v1/exceptions").json["exceptions"] == []
    assert client.get(f"/api/v1/exceptions/{mine['id']}").json["exception"]["status"] == "open"

    too_many = list(range(1, exceptions.MAX_RETRY + 2))
    assert client.post("/api/v1/exceptions/retry", json={"ids": too_many}).status_code == 413
    assert client.post("/api/v1/exceptions/retry", json={}).status_code == 400
    assert client.post("/api/v1/exceptions/retry", json={"ids": ["1"]}).status_code == 400
    assert client.get("/api/v1/exceptions?status=nope").status_code == 400
    assert client.get("/api/v1/exceptions?since=yesterday").status_code == 400


def test_a_dry_run_shows_before_and_after_per_record_and_writes_nothing(client, workspace):
    setup(client, workspace, {"D-1": 2})
    [one, two] = client.get("/api/v1/exceptions").json["exceptions"]
    assert client.put("/api/v1/lookups/skus/rows/D-1", json={"value": "SKU-D"}).status_code == 200
    runs_before = len(client.get("/api/v1/runs?limit=200").json["runs"])

    r = client.post("/api/v1/exceptions/dry-run", json={"ids": [one["id"], two["id"]]})
    assert r.status_code == 200, r.json
    documented(client, r, "/api/v1/exceptions/dry-run", "post")
    results = {x["id"]: x for x in r.json["results"]}
    assert set(results) == {one["id"], two["id"]} and r.json["remaining"] == 0
    lookup = next(s for s in results[one["id"]]["steps"] if s["node_id"] == "lookup")
    assert lookup["before"]["output"]["rejection"]["class"] == "unknown_sku"  # the original went to not_found
    assert lookup["port"] == "out" and lookup["changed"] is True
    assert [line["sku"] for line in lookup["after"]["lines"]] == ["SKU-A", "SKU-D"]
    assert results[one["id"]]["outcome"] == "ends"
    # nothing happened: no run, the exceptions still open
    assert len(client.get("/api/v1/runs?limit=200").json["runs"]) == runs_before
    assert {e["status"] for e in client.get("/api/v1/exceptions?status=all").json["exceptions"]} == {"open"}
    assert client.post("/api/v1/exceptions/dry-run", json={"ids": "x"}).status_code == 400


def test_a_partner_admin_sees_every_customers_exceptions_and_handles_each_in_its_workspace(rt, client, workspace,
                                                                                            admin_id):
    from runtime.models import DeadLetter, utcnow

    setup(client, workspace, {"P-1": 2})
    second = f"ws-{uuid.uuid4().hex[:8]}"
    assert client.post("/api/v1/workspaces", json={"id": second, "name": "second"}).status_code == 201
    there = identity.client_for(client.application, admin_id, second, identity.hook_key(rt, second))
    setup(there, second, {"P-2": 1})
    stranger_ws = f"ws-{uuid.uuid4().hex[:8]}"  # another partner's customer, with an exception of its own
    rt.ensure_workspace(stranger_ws, partner_id=identity.make_partner(rt))
    with rt.sessions.begin() as s:
        s.add(DeadLetter(workspace=stranger_ws, run_id=1, flow_id="skus", version=1, node_id="lookup",
                         error_class="business", code="unknown_sku", message="'P-3' is not in lookup table 'skus'",
                         payload={}, status="open", created_at=utcnow()))

    r = client.get("/api/v1/exceptions?scope=partner")
    assert r.status_code == 200
    documented(client, r, "/api/v1/exceptions")
    assert sorted((e["workspace"], e["business_key"][:6]) for e in r.json["exceptions"]) == sorted([
        (workspace, "PO-P-1"), (workspace, "PO-P-1"), (second, "PO-P-2")])
    groups = client.get("/api/v1/exceptions/groups?scope=partner").json["groups"]
    assert [(g["workspace"], g["count"]) for g in groups] == [(workspace, 2), (second, 1)]
    only = client.get("/api/v1/exceptions", query_string={"scope": "partner", "workspace": second}).json
    assert [e["workspace"] for e in only["exceptions"]] == [second]
    assert client.get(f"/api/v1/exceptions?scope=partner&workspace={stranger_ws}").status_code == 404
    assert client.get(f"/api/v1/exceptions?workspace={second}").status_code == 400  # scope=partner only
    assert client.get("/api/v1/exceptions?scope=everything").status_code == 400

    # handled in its own workspace: the change names it in the workspace header
    [theirs] = only["exceptions"]
    assert client.post(f"/api/v1/exceptions/{theirs['id']}/resolve").status_code == 404  # not in the header's
    r = client.post(f"/api/v1/exceptions/{theirs['id']}/resolve", headers={"X-Crossdock-Workspace": second})
    assert r.status_code == 200 and r.json["exception"]["status"] == "resolved"
    left = client.get("/api/v1/exceptions?scope=partner").json["exceptions"]
    assert [e["workspace"] for e in left] == [workspace, workspace]
    ids = [e["id"] for e in left]
    r = client.post("/api/v1/exceptions/retry", json={"ids": ids}, headers={"X-Crossdock-Workspace": second})
    assert r.status_code == 202 and r.json["retries"] == []  # not that workspace's: nothing is done there
    r = client.post("/api/v1/exceptions/retry", json={"ids": ids}, headers={"X-Crossdock-Workspace": workspace})
    assert sorted(i for x in r.json["retries"] for i in x["exceptions"]) == sorted(ids)

    operator = identity.login_as(client, "operator", workspace)
    assert operator.get("/api/v1/exceptions?scope=partner").status_code == 403
    assert operator.get("/api/v1/exceptions").status_code == 200
