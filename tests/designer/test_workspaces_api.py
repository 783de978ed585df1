"""Workspaces API: a partner admin lists, creates (with a template in the same step), renames, suspends,
sets egress and deletes customer workspaces; a deletion leaves no row of the workspace in any table but
the audit log, and the caches of this process forget it; a suspended workspace takes no webhook."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import func, select

from runtime import exceptions
from runtime import audit, connections, edi_register, egress, keys, lookups, trading_partners
from runtime.identity_models import AuditEntry, Membership, PublishedEndpoint
from runtime.kpi_models import KpiFact
from runtime.models import Base, DeadLetter, LedgerEntry, Payload, Run, ScheduleFire, Step, Workspace, utcnow
from runtime.file_models import FilePickup, FileWatch
from runtime.poll_models import PollCursor
from runtime.aggregate_models import AggregateGroup, AggregatePart
from runtime.throttle_models import ThrottleBucket
from runtime.event_models import BusinessEvent, EventDelivery
from runtime.thread_models import ThreadEntry
from runtime.alert_models import Alert, AlertDelivery
from runtime.wait_models import WaitArrival, WaitRow
from support import identity
from support.flowdocs import edge


@pytest.fixture
def admin(api):
    """The admin of the partner owning the test's workspace (conftest's `api`)."""
    return api


@pytest.fixture
def app(api):
    return api.application


@pytest.fixture
def stranger(app, store):
    """The admin of another partner, in a workspace of their own."""
    other = identity.make_partner(store)
    ws = f"x{other}"
    store.ensure_workspace(ws, partner_id=other)
    return identity.client_for(app, identity.make_user(store, other, "admin"), ws)


def hook_flow(flow_id: str = "f", path: str = "orders") -> dict:
    return {"schema": "crossdock.flow/1", "id": flow_id,
            "nodes": [{"id": "hook", "type": "event.webhook", "config": {"path": path}},
                      {"id": "map", "type": "transform.map", "config": {"expression": "$"}},
                      {"id": "end", "type": "control.discard", "config": {"reason": "test"}}],
            "edges": [edge(1, "hook", "map"), edge(2, "map", "end")]}


def new_id(prefix: str = "c") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def test_the_list_shows_the_partners_workspaces_with_the_callers_role(admin, stranger, workspace, partner):
    listed = admin.get("/api/v1/workspaces").json["workspaces"]
    assert [w["id"] for w in listed] == [workspace]
    assert listed[0]["role"] == "admin" and listed[0]["partner_id"] == partner and listed[0]["status"] == "active"
    assert set(listed[0]) >= {"id", "name", "status", "partner_id", "role", "created_at"}
    assert workspace not in str(stranger.get("/api/v1/workspaces").json)


def test_a_member_lists_only_the_workspaces_they_belong_to(app, store, admin, partner, workspace):
    other = new_id()
    assert admin.post("/api/v1/workspaces", json={"id": other, "name": "Other"}).status_code == 201
    assert admin.patch(f"/api/v1/workspaces/{workspace}", json={"settings": {"egress": {"allow": ["10.1.2.3:80"]}}}
                       ).status_code == 200
    mapper = identity.login_as(app, "mapper", workspace)
    listed = mapper.get("/api/v1/workspaces").json["workspaces"]
    assert [(w["id"], w["role"]) for w in listed] == [(workspace, "mapper")]
    assert "settings" not in listed[0] and "10.1.2.3" not in mapper.get("/api/v1/workspaces").get_data(as_text=True)


def test_create_rename_and_list(admin, partner):
    ws = new_id()
    r = admin.post("/api/v1/workspaces", json={"id": ws, "name": "ACME Distribution"})
    assert r.status_code == 201, r.json
    assert r.json["installed"] == []
    assert r.json["workspace"]["id"] == ws and r.json["workspace"]["partner_id"] == partner
    assert r.json["workspace"]["status"] == "active"
    r = admin.patch(f"/api/v1/workspaces/{ws}", json={"name": "ACME"})
    assert r.status_code == 200 and r.json["workspace"]["name"] == "ACME"
    assert {w["id"]: w["name"] for w in admin.get("/api/v1/workspaces").json["workspaces"]}[ws] == "ACME"
    # the new workspace is the admin's to act in at once
    assert admin.get("/api/v1/flows", headers={"X-Crossdock-Workspace": ws}).status_code == 200


@pytest.mark.parametrize("bad", ["A", "x", "Upper-case", "under_score", "dots.no", "a" * 65, "", 5, None, "sp ace"])
def test_workspace_ids(admin, bad):
    r = admin.post("/api/v1/workspaces", json={"id": bad, "name": "n"})
    assert r.status_code == 400 and r.json["error"]["details"] == [{"field": "id"}]


def test_a_taken_id_is_a_conflict_also_across_partners(admin, stranger, workspace):
    assert admin.post("/api/v1/workspaces", json={"id": workspace, "name": "n"}).status_code == 409
    r = stranger.post("/api/v1/workspaces", json={"id": workspace, "name": "n"})
    assert r.status_code == 409 and r.json["error"]["code"] == "conflict"


def test_create_with_the_order_release_template_installs_it_in_the_new_workspace(admin, store):
    ws = new_id()
    r = admin.post("/api/v1/workspaces", json={"id": ws, "name": "ACME", "template": "order-release",
                                                 "params": {"ship_method": "EXPRESS"}})
    assert r.status_code == 201, r.json
    assert r.json["installed"] == ["order-release"]
    in_ws = {"X-Crossdock-Workspace": ws}
    flow = admin.get("/api/v1/flows/order-release", headers=in_ws)
    assert flow.status_code == 200 and flow.json["deployed_version"] == 1
    assert flow.json["flow"]["params"]["ship_method"]["default"] == "EXPRESS"
    assert {t["table"] for t in admin.get("/api/v1/lookups", headers=in_ws).json["tables"]} >= {"carriers"}
    # only there: the admin's first workspace is untouched
    assert admin.get("/api/v1/flows/order-release").status_code == 404


@pytest.mark.parametrize("body, status", [
    ({"template": "no-such-template"}, 404),
    ({"template": "order-release", "params": {"nope": 1}}, 400),
    ({"template": "order-release", "params": {"ship_method": 5}}, 400),
    ({"template": 7}, 400),
    ({"params": {"x": 1}}, 400),
    ({"other": 1}, 400),
])
def test_a_refused_template_leaves_no_workspace(admin, store, body, status):
    ws = new_id()
    r = admin.post("/api/v1/workspaces", json={"id": ws, "name": "n", **body})
    assert r.status_code == status, r.json
    with store.sessions() as s:
        assert s.get(Workspace, ws) is None
    assert admin.post("/api/v1/workspaces", json={"id": ws, "name": "n"}).status_code == 201  # id still free


def test_a_template_imported_by_another_partner_is_not_offered(admin, stranger, store):
    bundle = admin.get("/api/v1/templates/order-release").json
    bundle = {**bundle, "id": "their-own", "flow": {**bundle["flow"], "id": "their-own"}}
    assert stranger.post("/api/v1/templates/import", json={"bundle": bundle}).status_code == 201
    r = admin.post("/api/v1/workspaces", json={"id": new_id(), "name": "n", "template": "their-own"})
    assert r.status_code == 404


def test_a_template_imported_into_one_of_the_partners_workspaces_is_offered(admin):
    bundle = admin.get("/api/v1/templates/returns").json
    bundle = {**bundle, "id": "mine", "flow": {**bundle["flow"], "id": "mine"}}
    assert admin.post("/api/v1/templates/import", json={"bundle": bundle}).status_code == 201
    r = admin.post("/api/v1/workspaces", json={"id": new_id(), "name": "n", "template": "mine"})
    assert r.status_code == 201 and r.json["installed"] == ["mine"]


def test_egress_settings(admin, store, workspace):
    assert egress.policy(store, workspace).denies("10.9.8.7", 80, ["10.9.8.7"])  # kept by this process now
    allow = ["erp.internal:8443", "127.0.0.1:5001", "10.0.0.0/8", "[::1]:80", "fd00::/8", "192.168.1.7/32",
             "172.16.0.9"]
    r = admin.patch(f"/api/v1/workspaces/{workspace}", json={"settings": {"egress": {"allow": allow}}})
    assert r.status_code == 200, r.json
    assert r.json["workspace"]["settings"] == {"egress": {"allow": allow}}
    # the policy connectors obey changed at once in this process
    assert egress.policy(store, workspace).denies("10.9.8.7", 80, ["10.9.8.7"]) is None
    assert egress.policy(store, workspace).denies("erp.internal", 8443, ["192.168.5.5"]) is None
    assert egress.policy(store, workspace).denies("erp.internal", 8444, ["192.168.5.5"])
    r = admin.patch(f"/api/v1/workspaces/{workspace}", json={"settings": {"egress": {"allow": [
        " 10.0.0.5/8", "[0::1]:80", "ERP.Internal:08443"]}}})
    assert r.json["workspace"]["settings"]["egress"]["allow"] == ["10.0.0.0/8", "[::1]:80", "erp.internal:8443"]
    assert admin.patch(f"/api/v1/workspaces/{workspace}", json={"settings": {"egress": {"allow": allow}}}
                       ).status_code == 200
    listed = admin.get("/api/v1/workspaces").json["workspaces"][0]
    assert listed["settings"]["egress"]["allow"] == allow


@pytest.mark.parametrize("value, field", [
    ({"egress": {"allow": ["no-port"]}}, "settings.egress.allow[0]"),
    ({"egress": {"allow": ["ok:80", "host:0"]}}, "settings.egress.allow[1]"),
    ({"egress": {"allow": ["host:70000"]}}, "settings.egress.allow[0]"),
    ({"egress": {"allow": ["10.0.0.0/33"]}}, "settings.egress.allow[0]"),
    ({"egress": {"allow": ["http://x:80"]}}, "settings.egress.allow[0]"),
    ({"egress": {"allow": ["[zz]:80"]}}, "settings.egress.allow[0]"),
    ({"egress": {"allow": [5]}}, "settings.egress.allow[0]"),
    ({"egress": {"allow": "10.0.0.0/8"}}, "settings.egress.allow"),
    ({"egress": {"deny": []}}, "settings.egress.deny"),
    ({"other": 1}, "settings.other"),
    ("x", "settings"),
])
def test_bad_egress_settings(admin, workspace, value, field):
    r = admin.patch(f"/api/v1/workspaces/{workspace}", json={"settings": value})
    assert r.status_code == 400 and r.json["error"]["details"] == [{"field": field}], r.json


@pytest.mark.parametrize("body", [{"status": "paused"}, {"name": ""}, {"name": 5}, {"id": "x"}, []])
def test_bad_updates(admin, workspace, body):
    assert admin.patch(f"/api/v1/workspaces/{workspace}", json=body).status_code == 400


def test_another_partners_workspace_is_no_workspace(admin, stranger, workspace):
    for r in (stranger.patch(f"/api/v1/workspaces/{workspace}", json={"name": "mine now"}),
              stranger.patch(f"/api/v1/workspaces/{workspace}", json={"status": "suspended"}),
              stranger.delete(f"/api/v1/workspaces/{workspace}")):
        assert r.status_code == 404 and r.json["error"]["code"] == "not_found"
        assert workspace not in r.get_data(as_text=True) or "no workspace" in r.json["error"]["message"]
    listed = admin.get("/api/v1/workspaces").json["workspaces"][0]
    assert listed["name"] != "mine now" and listed["status"] == "active"


def test_a_suspended_workspace_takes_no_webhook_and_no_change(app, admin, store, workspace):
    assert admin.post("/api/v1/flows", json=hook_flow()).status_code == 201
    assert admin.post("/api/v1/flows/f/deploy").status_code == 201
    sender = identity.client_for(app, None, workspace, hook_key=identity.hook_key(store, workspace))
    assert sender.post(f"/hooks/{workspace}/orders", json={"n": 1}).status_code == 202
    assert admin.patch(f"/api/v1/workspaces/{workspace}", json={"status": "suspended"}).status_code == 200
    r = sender.post(f"/hooks/{workspace}/orders", json={"n": 2})
    assert r.status_code == 403 and r.json["error"]["code"] == "workspace_suspended"
    with store.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Run).where(Run.workspace == workspace)) == 1
    r = admin.post("/api/v1/flows", json=hook_flow("g", "other"))
    assert r.status_code == 403 and r.json["error"]["code"] == "workspace_suspended"
    assert admin.get("/api/v1/flows/f").status_code == 200  # reading goes on
    assert admin.patch(f"/api/v1/workspaces/{workspace}", json={"status": "active"}).status_code == 200
    assert sender.post(f"/hooks/{workspace}/orders", json={"n": 3}).status_code == 202


def populate(rt, app, admin, workspace: str) -> dict:
    """A row of the workspace in every table that holds one: through the API where it makes them, directly
    where only runs do (runs, steps, payloads, dead letters, ledger, schedule fires, published endpoints)."""
    assert admin.post("/api/v1/flows", json=hook_flow()).status_code == 201
    assert admin.post("/api/v1/flows/f/deploy").status_code == 201  # versions, routes
    assert admin.put("/api/v1/connections/erp", json={"system": "erp", "base_url": "https://erp.example",
                                                      "auth": {"type": "bearer", "token": "t0ken"}}).status_code == 200
    assert admin.put("/api/v1/lookups/skus", json={"rows": {"A": "1"}}).status_code == 200
    bundle = admin.get("/api/v1/templates/returns").json
    assert admin.post("/api/v1/templates/import", json={"bundle": bundle}).status_code == 201
    partner = {"partner": {"qualifier": "ZZ", "id": "ACMEHW"}, "us": {"qualifier": "ZZ", "id": "CROSSDOCK"},
               "version": "005010", "usage": "T", "ack": {"expected": True, "window_minutes": 120}}
    assert admin.put("/api/v1/trading-partners/acme", json=partner).status_code in (200, 201)
    number = trading_partners.take_control_number(rt.engine, workspace, "acme")  # edi_control_numbers
    edi_register.sent(rt, workspace, "acme", number, [{"functional_id": "PR", "control_number": number,
                                                         "set_count": 1}])  # edi_interchanges and their groups
    keys.create(rt, workspace, "k", ["hooks:write"], "test")
    identity.make_user(rt, identity.partner_of(rt, workspace), "viewer", workspace)
    now = utcnow()
    with rt.sessions.begin() as s:
        run = Run(workspace=workspace, flow_id="f", version=1, status="succeeded", trigger="manual", created_at=now)
        s.add(run)
        s.flush()
        s.add(Step(run_id=run.id, seq=1, node_id="hook", node_type="event.webhook", status="succeeded", started_at=now))
        s.add(Payload(run_id=run.id, step_seq=1, kind="input", data={"big": True}))
        s.add(DeadLetter(workspace=workspace, run_id=run.id, flow_id="f", version=1, node_id="map",
                         error_class="business", code="x", message="m"))
        s.add(LedgerEntry(workspace=workspace, scope="s", key="k", run_id=run.id))
        s.add(ScheduleFire(workspace=workspace, flow_id="f", node_id="hook", due_at=now))
        s.add(PublishedEndpoint(workspace=workspace, name="orders", version=1, flow_id="f"))
        s.add(PollCursor(workspace=workspace, flow_id="f", node_id="poll"))
        s.add(WaitRow(workspace=workspace, flow_id="f", node_id="wait", key="4711", run_id=run.id, status="waiting",
                      deadline=now))  # control.wait's
        s.add(WaitArrival(workspace=workspace, flow_id="f", version=1, node_id="wait", key="4711", ref=f"{run.id}:",
                          run_id=run.id, status="held", held_until=now))
        group = AggregateGroup(workspace=workspace, flow_id="f", node_id="gather", correlation="PO-1", expected=2,
                               received=1, status="open", owner_run=run.id, owner_position=0, deadline=now)
        s.add(group)
        s.flush()
        s.add(AggregatePart(group_id=group.id, position=0, workspace=workspace, run_id=run.id, part={"sku": "A"}))
        s.add(ThrottleBucket(workspace=workspace, target="erp", tokens=1.0, at=0.0))
        s.add(FileWatch(workspace=workspace, flow_id="f", node_id="pick"))
        s.add(FilePickup(workspace=workspace, flow_id="f", node_id="pick", name="a.csv", size=1, mtime=1.0,
                         status="archived", seen_at=now))
        event = BusinessEvent(workspace=workspace, name="shipment.departed", flow_id="f", flow_version=1,
                              run_id=run.id, node_id="emit", idempotency_key="k", hops=1, subscribers=1)
        s.add(event)
        s.flush()
        s.add(EventDelivery(event_id=event.id, workspace=workspace, flow_id="f", flow_version=1, node_id="on",
                            run_id=run.id))
        s.add(ThreadEntry(workspace=workspace, kind="po", value="4711", run_id=run.id, flow_id="f", label="f"))
        s.add(KpiFact(workspace=workspace, kind="order", document="4711", order_no="4711", at=now,
                      day=now.date().isoformat(), quantity=1.0, run_id=run.id))
        run_id = run.id
    rule = admin.post("/api/v1/alert-rules", json={"name": "r", "kind": "queue_age", "params": {"threshold_s": 60},
                                                   "channels": {"emails": ["ops@example.com"]}})
    assert rule.status_code == 201, rule.json
    with rt.sessions.begin() as s:  # alert_rules, alerts, alert_deliveries
        alert = Alert(workspace=workspace, rule_id=rule.json["rule"]["id"], key="queue", open_key="queue",
                      status="firing", count=1, first_seen=now, last_seen=now)
        s.add(alert)
        s.flush()
        s.add(AlertDelivery(workspace=workspace, alert_id=alert.id, event="fired", channel="email",
                            target="ops@example.com", status="pending", attempts=0, next_at=now))
    assert exceptions.index(rt, workspace) >= 1  # the exception workbench's state of the dead letter
    audit.record(rt, partner_id=identity.partner_of(rt, workspace), workspace=workspace, actor="t", action="x.y")
    return {"run_ids": [run_id]}


def counts(rt, workspace: str, run_ids: list[int]) -> dict[str, int]:
    """Rows of the workspace, table by table, over every table of the schema."""
    out = {}
    with rt.sessions() as s:
        for table in Base.metadata.sorted_tables:
            if "workspace" in table.c:
                where = table.c.workspace == workspace
            elif table.name == "workspaces":
                where = table.c.id == workspace
            elif "run_id" in table.c:
                where = table.c.run_id.in_(run_ids)
            else:  # partners, users: not the workspace's
                continue
            out[table.name] = s.scalar(select(func.count()).select_from(table).where(where))
    return out


def test_delete_leaves_no_row_of_the_workspace_in_any_table(app, store, admin, workspace, partner):
    ws = new_id("gone")
    assert admin.post("/api/v1/workspaces", json={"id": ws, "name": "Gone soon"}).status_code == 201
    in_ws = identity.twin(admin)
    in_ws.environ_base["HTTP_X_CROSSDOCK_WORKSPACE"] = ws
    made = populate(store, app, in_ws, ws)
    neighbour = populate(store, app, admin, workspace)
    before = counts(store, ws, made["run_ids"])
    empty = sorted(t for t, n in before.items() if n == 0)
    assert empty == [], f"the test made no row in {empty}: add one to populate()"
    kept_neighbour = counts(store, workspace, neighbour["run_ids"])

    r = admin.delete(f"/api/v1/workspaces/{ws}")
    assert r.status_code == 204
    after = counts(store, ws, made["run_ids"])
    assert {t: n for t, n in after.items() if n and t != "audit_entries"} == {}
    assert after["audit_entries"] >= before["audit_entries"]  # history stays
    assert counts(store, workspace, neighbour["run_ids"]) == kept_neighbour
    assert ws not in [w["id"] for w in admin.get("/api/v1/workspaces").json["workspaces"]]
    assert admin.delete(f"/api/v1/workspaces/{ws}").status_code == 404
    # its id is not given out again: its audit history is kept under it
    assert admin.post("/api/v1/workspaces", json={"id": ws, "name": "again"}).status_code == 409
    with store.sessions() as s:  # memberships of the deleted workspace went with it, the users stay
        assert s.scalar(select(func.count()).select_from(Membership).where(Membership.workspace == ws)) == 0
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.workspace == ws)) >= 1


def test_a_deleted_workspaces_webhooks_connections_and_keys_are_forgotten(app, store, admin):
    ws = new_id()
    assert admin.post("/api/v1/workspaces", json={"id": ws, "name": "n"}).status_code == 201
    h = {"X-Crossdock-Workspace": ws}
    assert admin.post("/api/v1/flows", json=hook_flow(), headers=h).status_code == 201
    assert admin.post("/api/v1/flows/f/deploy", headers=h).status_code == 201
    assert admin.put("/api/v1/connections/erp", json={"system": "erp", "base_url": "https://erp.example"},
                     headers=h).status_code == 200
    lookups.replace(store, ws, "t", {"k": "v"})
    secret = identity.hook_key(store, ws)
    sender = identity.client_for(app, None, ws, hook_key=secret)
    assert sender.post(f"/hooks/{ws}/orders", json={}).status_code == 202  # routes and the key now cached
    assert connections.resolve(store, ws, "erp")["base_url"] == "https://erp.example"
    assert lookups.get(store, ws, "t", "k") == "v"
    assert keys.verify(store, secret) is not None

    assert admin.delete(f"/api/v1/workspaces/{ws}").status_code == 204
    assert sender.post(f"/hooks/{ws}/orders", json={}).status_code in (401, 404)
    assert keys.verify(store, secret) is None
    with pytest.raises(KeyError):
        connections.resolve(store, ws, "erp")
    assert lookups.get(store, ws, "t", "k") is None
    with store.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Run).where(Run.workspace == ws)) == 0


def test_only_a_partner_admin_manages_workspaces(app, admin, workspace):
    consultant = identity.login_as(app, "consultant", workspace)
    assert consultant.get("/api/v1/workspaces").status_code == 200
    for r in (consultant.post("/api/v1/workspaces", json={"id": new_id(), "name": "n"}),
              consultant.patch(f"/api/v1/workspaces/{workspace}", json={"name": "n"}),
              consultant.delete(f"/api/v1/workspaces/{workspace}")):
        assert r.status_code == 403 and r.json["error"]["code"] == "forbidden"


def test_created_at_is_a_timestamp(admin):
    r = admin.post("/api/v1/workspaces", json={"id": new_id(), "name": "n"})
    dt.datetime.fromisoformat(r.json["workspace"]["created_at"].replace("Z", "+00:00"))
