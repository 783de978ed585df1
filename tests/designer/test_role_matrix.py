"""Acceptance 1 of issue 11, the role matrix: every /api/v1 endpoint (walked from the app's URL map, so a new
one cannot be left out) is called as each role of a workspace (partner admin, consultant, mapper, operator,
viewer) and as the admin of another partner, both naming this workspace and acting in their own with this
workspace's ids. Each answer must match the role table of the contract: allowed -> neither 401, 403 nor
404 (a 2xx, or a 4xx about the input), denied -> 403 `forbidden`, another partner -> 404 and no byte of
this partner's data in any answer. The world is put back before each call, so every id a call names
exists when an allowed role makes it."""
from __future__ import annotations

import itertools
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import quote

from designer import access
from runtime import accounts, alerts, connections, keys, lookups, tenancy, trading_partners
from runtime.alert_models import Alert
from runtime.models import DeadLetter, Flow, utcnow
from support import identity, wait_for
from support.flowdocs import edge

# the contract's role table (docs/api.md, /tmp/context11.md): kept here, apart from designer/access.py
ROLES = {
    "viewer": {"flows:read", "runs:read"},
    "mapper": {"flows:read", "runs:read", "mappings:write", "lookups:write"},
    "operator": {"flows:read", "runs:read", "runs:write", "audit:read"},
    "consultant": {"flows:read", "runs:read", "mappings:write", "lookups:write", "runs:write", "flows:write",
                   "connections:write", "audit:read"},
}
ADMIN_ONLY = {"keys:write"}
LEAK = "zzleak"  # in every name and value of this partner's data; never in a request of the other partner
_n = itertools.count(1)


@dataclass
class Call:
    """How to call one endpoint: the permission the contract asks for ("partner_admin", "login", "public" or a
    workspace permission), path arguments and body made from the world, and whether the path names a resource
    of this workspace or partner (another partner's caller must then get 404 even in their own workspace)."""
    need: str
    args: Callable[[Any], dict] = lambda w: {}
    json: Callable[[Any], Any] | None = None
    csv: str | None = None
    query: str = ""
    scoped: bool = False
    status: int | None = None  # the one status every caller gets (a login with a wrong password: 401)


def flow_doc(flow_id: str, path: str = "orders", expression: str = "{'echo': $}") -> dict:
    return {"schema": "crossdock.flow/1", "id": flow_id, "name": f"Flow {flow_id} {LEAK}",
            "description": f"{LEAK} description",
            "nodes": [{"id": "hook", "type": "event.webhook", "config": {"path": path}},
                      {"id": "map", "type": "transform.map", "config": {"expression": expression}},
                      {"id": "done", "type": "control.discard", "config": {"reason": "the test reads the run"}}],
            "edges": [edge(1, "hook", "map"), edge(2, "map", "done")]}


def fresh(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


FLOW = {"flow_id": "f1"}
ALERT_RULE = {"kind": "queue_age", "params": {"threshold_s": 60}, "channels": {"emails": [f"ops@{LEAK}.example"]}}
RUN = lambda w: {"run_id": w.run_id}  # noqa: E731
WS_CALLS: dict[str, Call] = {
    "GET /api/v1/node-types": Call("flows:read"),
    "POST /api/v1/preview/map": Call("mappings:write", json=lambda w: {"expression": "{'n': n}", "input": {"n": 1}}),
    "GET /api/v1/flows": Call("flows:read"),
    "POST /api/v1/flows": Call("flows:write", json=lambda w: flow_doc(fresh("new"), fresh("p"))),
    "POST /api/v1/flows/validate": Call("flows:read", json=lambda w: flow_doc("v")),
    "GET /api/v1/flows/<flow_id>": Call("flows:read", lambda w: FLOW, scoped=True),
    "PUT /api/v1/flows/<flow_id>": Call("mappings:write", lambda w: FLOW, json=lambda w: w.mapping_edit(), scoped=True),
    "DELETE /api/v1/flows/<flow_id>": Call("flows:write", lambda w: FLOW, scoped=True),
    "POST /api/v1/flows/<flow_id>/deploy": Call("flows:write", lambda w: FLOW, scoped=True),
    "POST /api/v1/flows/<flow_id>/undeploy": Call("flows:write", lambda w: FLOW, scoped=True),
    "GET /api/v1/flows/<flow_id>/versions": Call("flows:read", lambda w: FLOW, scoped=True),
    "GET /api/v1/flows/<flow_id>/versions/<version>": Call("flows:read", lambda w: {**FLOW, "version": 1}, scoped=True),
    "POST /api/v1/flows/<flow_id>/runs": Call("runs:write", lambda w: FLOW, json=lambda w: {"input": {"n": 1}},
                                              scoped=True),
    "GET /api/v1/runs": Call("runs:read"),
    "GET /api/v1/runs/<run_id>": Call("runs:read", RUN, scoped=True),
    "POST /api/v1/runs/<run_id>/replay": Call("runs:write", RUN, json=lambda w: {}, scoped=True),
    "GET /api/v1/runs/<run_id>/steps/<seq>/<kind>": Call("runs:read", lambda w: {**RUN(w), "seq": 1, "kind": "input"},
                                                         scoped=True),
    "GET /api/v1/dead-letters": Call("flows:read"),
    "GET /api/v1/flows/<flow_id>/stats": Call("flows:read", lambda w: FLOW, scoped=True),
    "GET /api/v1/templates": Call("flows:read"),
    "GET /api/v1/templates/<template_id>": Call("flows:read", lambda w: {"template_id": "order-release"}),
    "POST /api/v1/templates/import": Call("flows:write", json=lambda w: {"template": "returns",
                                                                         "flow_id": fresh("imported")}),
    "GET /api/v1/flows/<flow_id>/export": Call("flows:read", lambda w: FLOW, scoped=True),
    "GET /api/v1/flows/<flow_id>/diff": Call("flows:read", lambda w: FLOW, scoped=True),
    "GET /api/v1/flows/<flow_id>/upgrade": Call("flows:read", lambda w: FLOW, scoped=True),
    "POST /api/v1/flows/<flow_id>/upgrade": Call("flows:write", lambda w: FLOW,
                                                 json=lambda w: {"to_version": 2, "revision": 1}, scoped=True),
    "GET /api/v1/connections": Call("flows:read"),
    "GET /api/v1/connections/<name>": Call("flows:read", lambda w: {"name": "erp"}, scoped=True),
    "PUT /api/v1/connections/<name>": Call("connections:write", lambda w: {"name": "erp"},
                                           json=lambda w: {"system": "erp", "base_url": f"https://{LEAK}.example/erp"}),
    "DELETE /api/v1/connections/<name>": Call("connections:write", lambda w: {"name": "erp"}, scoped=True),
    "POST /api/v1/connections/<name>/test": Call("connections:write", lambda w: {"name": "erp"}, scoped=True),
    "GET /api/v1/lookups": Call("flows:read"),
    "GET /api/v1/lookups/<table>": Call("flows:read", lambda w: {"table": "xref"}),
    "GET /api/v1/lookups/<table>/flows": Call("flows:read", lambda w: {"table": "xref"}),
    "PUT /api/v1/lookups/<table>": Call("lookups:write", lambda w: {"table": "xref"},
                                        json=lambda w: {"rows": {"k1": f"{LEAK} one", "k2": f"{LEAK} two"}}),
    "POST /api/v1/lookups/<table>/import": Call("lookups:write", lambda w: {"table": "xref"},
                                                csv=f"key,value\nk1,{LEAK} one\n"),
    "PUT /api/v1/lookups/<table>/rows/<key>": Call("lookups:write", lambda w: {"table": "xref", "key": "k3"},
                                                   json=lambda w: {"value": f"{LEAK} three"}),
    "DELETE /api/v1/lookups/<table>/rows/<key>": Call("lookups:write", lambda w: {"table": "xref", "key": "k1"},
                                                      scoped=True),
    "GET /api/v1/trading-partners": Call("flows:read"),
    "GET /api/v1/trading-partners/<name>": Call("flows:read", lambda w: {"name": "acme"}, scoped=True),
    "PUT /api/v1/trading-partners/<name>": Call("connections:write", lambda w: {"name": "acme"}, json=lambda w: {
        "description": f"{LEAK} partner", "partner": {"qualifier": "ZZ", "id": "ACME"},
        "us": {"qualifier": "ZZ", "id": "CROSSDOCK"}}),
    "DELETE /api/v1/trading-partners/<name>": Call("connections:write", lambda w: {"name": "acme"}, scoped=True),
    "GET /api/v1/trading-partners/<name>/interchanges": Call("runs:read", lambda w: {"name": "acme"}, scoped=True),
    "GET /api/v1/events": Call("runs:read"),
    "GET /api/v1/threads": Call("runs:read", query="key=PO-4711"),
    "POST /api/v1/mappings/compile": Call("flows:read", json=lambda w: {"mapping": {"fields": [
        {"target": "a", "rule": {"kind": "field", "path": "b"}}]}}),
    "POST /api/v1/mappings/parse": Call("flows:read", json=lambda w: {"expression": '{"a": b}'}),
    "GET /api/v1/schemas": Call("flows:read"),
    "GET /api/v1/schemas/<schema_id>": Call("flows:read", lambda w: {"schema_id": "canonical.order"}),
    "GET /api/v1/flows/<flow_id>/nodes/<node_id>/mapping-context": Call(
        "flows:read", lambda w: {**FLOW, "node_id": "map"}, scoped=True),
    "POST /api/v1/flows/<flow_id>/nodes/<node_id>/preview-samples": Call(
        "mappings:write", lambda w: {**FLOW, "node_id": "map"}, json=lambda w: {"expression": "{'n': n}"}, scoped=True),
    "GET /api/v1/dashboard": Call("runs:read"),
    "GET /api/v1/kpis": Call("runs:read"),
    "GET /api/v1/reports/sla": Call("runs:read"),
    "GET /api/v1/flows/health": Call("runs:read"),
    "GET /api/v1/exceptions": Call("runs:read"),
    "GET /api/v1/exceptions/groups": Call("runs:read"),
    "GET /api/v1/exceptions/<exception_id>": Call("runs:read", lambda w: {"exception_id": w.letter_id}, scoped=True),
    "POST /api/v1/exceptions/<exception_id>/assign": Call("runs:write", lambda w: {"exception_id": w.letter_id},
                                                          json=lambda w: {"assignee": "dana"}, scoped=True),
    "POST /api/v1/exceptions/<exception_id>/comments": Call("runs:write", lambda w: {"exception_id": w.letter_id},
                                                            json=lambda w: {"text": "looking"}, scoped=True),
    "POST /api/v1/exceptions/<exception_id>/resolve": Call("runs:write", lambda w: {"exception_id": w.letter_id},
                                                           scoped=True),
    "POST /api/v1/exceptions/resolve": Call("runs:write", json=lambda w: {"ids": [w.letter_id]}),
    "POST /api/v1/exceptions/retry": Call("runs:write", json=lambda w: {"ids": [w.letter_id]}),
    "POST /api/v1/exceptions/dry-run": Call("runs:write", json=lambda w: {"ids": [w.letter_id]}),
    "GET /api/v1/alert-rules": Call("runs:read"),
    "POST /api/v1/alert-rules": Call("flows:write", json=lambda w: {**ALERT_RULE, "name": fresh(f"{LEAK} rule")}),
    "PUT /api/v1/alert-rules/<rule_id>": Call("flows:write", lambda w: {"rule_id": w.alert_rule},
                                              json=lambda w: {**ALERT_RULE, "name": f"{LEAK} rule"}, scoped=True),
    "DELETE /api/v1/alert-rules/<rule_id>": Call("flows:write", lambda w: {"rule_id": w.alert_rule}, scoped=True),
    "GET /api/v1/alerts": Call("runs:read"),
    "POST /api/v1/alerts/<alert_id>/acknowledge": Call("runs:write", lambda w: {"alert_id": w.alert_id}, scoped=True),
    "POST /api/v1/alerts/<alert_id>/resolve": Call("runs:write", lambda w: {"alert_id": w.alert_id}, scoped=True),
    "GET /api/v1/records": Call("flows:read"),
    "GET /api/v1/records/<name>": Call("flows:read", lambda w: {"name": "order"}),
    "POST /api/v1/flows/<flow_id>/publish": Call("flows:write", lambda w: FLOW,
                                                 json=lambda w: {"name": fresh("pub"), "version": 1}, scoped=True),
    "GET /api/v1/published": Call("flows:read"),
    "DELETE /api/v1/published/<name>/<version>": Call("flows:write", lambda w: {"name": "orders", "version": 1},
                                                      scoped=True),
    "GET /api/v1/keys": Call("keys:write"),
    "GET /api/v1/keys/scopes": Call("keys:write"),
    "POST /api/v1/keys": Call("keys:write", json=lambda w: {"name": f"{LEAK} key", "scopes": ["hooks:write"]}),
    "DELETE /api/v1/keys/<key_id>": Call("keys:write", lambda w: {"key_id": w.key_id}, scoped=True),
    "GET /api/v1/audit": Call("audit:read"),
    "GET /api/v1/audit/export": Call("audit:read", query="format=csv"),
}
PARTNER_CALLS: dict[str, Call] = {
    "GET /api/v1/workspaces": Call("login"),
    "POST /api/v1/workspaces": Call("partner_admin", json=lambda w: {"id": fresh("new"), "name": f"{LEAK} customer"}),
    "PATCH /api/v1/workspaces/<workspace>": Call("partner_admin", lambda w: {"workspace": w.customer},
                                                 json=lambda w: {"name": f"{LEAK} renamed"}, scoped=True),
    "DELETE /api/v1/workspaces/<workspace>": Call("partner_admin", lambda w: {"workspace": w.doomed_workspace()},
                                                  scoped=True),
    "GET /api/v1/users": Call("partner_admin"),
    "POST /api/v1/users": Call("partner_admin", json=lambda w: {"email": f"{fresh('u')}@{LEAK}.example",
                                                                "name": f"{LEAK} user"}),
    "PATCH /api/v1/users/<user_id>": Call("partner_admin", lambda w: {"user_id": w.colleague},
                                          json=lambda w: {"name": f"{LEAK} colleague"}, scoped=True),
    "DELETE /api/v1/users/<user_id>": Call("partner_admin", lambda w: {"user_id": w.doomed_user()}, scoped=True),
    "POST /api/v1/templates/publish": Call("partner_admin", json=lambda w: {"flow_id": "f1",
                                                                            "template_id": fresh("tpl")}),
    "GET /api/v1/partner": Call("partner_admin"),
    "GET /api/v1/partner/dashboard": Call("partner_admin"),
    "PUT /api/v1/partner": Call("partner_admin", json=lambda w: {"name": f"{LEAK} partner"}),
    "GET /api/v1/partner/smtp": Call("partner_admin"),
    "PUT /api/v1/partner/smtp": Call("partner_admin", json=lambda w: {"host": "smtp.example.com",
                                                                      "from": f"alerts@{LEAK}.example"}),
    "DELETE /api/v1/partner/smtp": Call("partner_admin"),
    "GET /api/v1/branding": Call("public"),
    "GET /api/v1/openapi.json": Call("public"),
    # sessions: a wrong password and a password change without its fields are input errors, never a login
    "POST /api/v1/session": Call("public", json=lambda w: {"email": f"nobody@{LEAK}.example", "password": "x" * 12},
                                 status=401),
    "GET /api/v1/session": Call("public"),
    "DELETE /api/v1/session": Call("public"),
    "POST /api/v1/session/password": Call("login", json=lambda w: {}),
}
CALLS = {**WS_CALLS, **PARTNER_CALLS}


def endpoints(app) -> list[str]:
    """Every "METHOD /api/v1/rule" of the app, converters left out of the rule."""
    out = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            plain = re.sub(r"<(?:[^>]*:)?(\w+)>", r"<\1>", rule.rule)
            out += [f"{m} {plain}" for m in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return out


class World:
    """This partner's workspace with a row of every kind, each named with LEAK; `restore` puts back what
    the previous call deleted or changed."""

    def __init__(self, rt, admin, workspace: str, partner: str):
        self.rt, self.admin, self.workspace, self.partner = rt, admin, workspace, partner
        self.key_id: str | None = None
        self.alert_rule: int | None = None
        self.alert_id: int | None = None
        assert admin.put("/api/v1/partner", json={"name": f"{LEAK} partner", "branding": {
            "product_name": f"{LEAK} brand"}}).status_code == 200
        self.restore()
        r = admin.post("/api/v1/flows/f1/runs", json={"input": {"secret": f"{LEAK} input"}})
        assert r.status_code == 202, r.json
        self.run_id = r.json["run"]["id"]
        wait_for(lambda: admin.get(f"/api/v1/runs/{self.run_id}").json["run"]["status"] in ("succeeded", "failed"))
        with rt.sessions.begin() as s:
            letter = DeadLetter(workspace=workspace, run_id=self.run_id, flow_id="f1", version=1, node_id="map",
                                error_class="business", code="unknown_sku", message=f"{LEAK} dead letter",
                                payload={"secret": LEAK})
            s.add(letter)
            s.flush()
            self.letter_id = letter.id  # the exception workbench's
        self.customer = tenancy.create(rt, partner, fresh("cust"), f"{LEAK} customer")[0]["id"]
        self.colleague = identity.make_user(rt, partner, "viewer", workspace, email=f"{fresh('c')}@{LEAK}.example",
                                            name=f"{LEAK} colleague")
        self.restore()

    def restore(self) -> None:
        admin, ws = self.admin, self.workspace
        with self.rt.sessions() as s:
            flow = s.get(Flow, (ws, "f1"))
        if flow is None:
            assert admin.post("/api/v1/flows", json=flow_doc("f1")).status_code == 201
        if flow is None or flow.deployed_version is None:
            assert admin.post("/api/v1/flows/f1/deploy").status_code == 201
        if connections.get_row(self.rt, ws, "erp") is None:
            assert admin.put("/api/v1/connections/erp", json={
                "system": "erp", "base_url": f"https://{LEAK}.example/erp",
                "auth": {"type": "bearer", "token": f"{LEAK}-token"}}).status_code == 200
        if trading_partners.describe(self.rt, ws, "acme") is None:
            trading_partners.save(self.rt, ws, "acme", {"description": f"{LEAK} partner", "partner": {
                "qualifier": "ZZ", "id": "ACME"}, "us": {"qualifier": "ZZ", "id": "CROSSDOCK"}})
        if "k1" not in lookups.rows(self.rt, ws, "xref"):
            assert admin.put("/api/v1/lookups/xref/rows/k1", json={"value": f"{LEAK} one"}).status_code == 200
        published = admin.get("/api/v1/published").json["published"]
        if not any(p["name"] == "orders" and p["version"] == 1 for p in published):
            r = admin.post("/api/v1/flows/f1/publish", json={"name": "orders", "version": 1})
            assert r.status_code == 201, r.json
        if not any(r["id"] == self.alert_rule for r in alerts.rules(self.rt, ws)):
            self.alert_rule = alerts.create(self.rt, ws, {**ALERT_RULE, "name": f"{LEAK} rule"})["id"]
            now = utcnow()
            with self.rt.sessions.begin() as s:
                alert = Alert(workspace=ws, rule_id=self.alert_rule, key=f"{LEAK} key", open_key=f"{LEAK} key",
                              status="firing", count=1, first_seen=now, last_seen=now)
                s.add(alert)
                s.flush()
                self.alert_id = alert.id
        live = [k for k in keys.list_for(self.rt, ws) if k["id"] == self.key_id and not k["revoked_at"]]
        if not live:
            self.key_id = keys.create(self.rt, ws, f"{LEAK} key", ["hooks:write"], "tests")[0]["id"]

    def mapping_edit(self) -> dict:
        with self.rt.sessions() as s:
            doc = s.get(Flow, (self.workspace, "f1")).document
        doc = {**doc, "nodes": [{**n, "config": {"expression": f"{{'n': {next(_n)}}}"}} if n["id"] == "map" else n
                                for n in doc["nodes"]]}
        return doc

    def doomed_workspace(self) -> str:
        return tenancy.create(self.rt, self.partner, fresh("doomed"), f"{LEAK} doomed")[0]["id"]

    def doomed_user(self) -> int:
        return identity.make_user(self.rt, self.partner, "viewer", self.workspace,
                                  email=f"{fresh('d')}@{LEAK}.example", name=f"{LEAK} doomed")


def request(client, key: str, call: Call, world: World, stranger: bool):
    """The call made by a twin of `client`; a stranger's bodies carry none of LEAK, so that an answer
    echoing what they sent is not taken for this partner's data."""
    method, rule = key.split(" ", 1)
    args = call.args(world)
    url = re.sub(r"<(\w+)>", lambda m: quote(str(args[m.group(1)]), safe=""), rule)
    if call.query:
        url += f"?{call.query}"
    c = identity.twin(client)  # its own cookie jar: DELETE /session logs out that twin only
    kwargs: dict = {}
    if call.json is not None:
        kwargs["json"] = call.json(world)
        if stranger:
            kwargs["json"] = json.loads(json.dumps(kwargs["json"]).replace(LEAK, "other"))
    elif call.csv is not None:
        kwargs.update(data=(call.csv.replace(LEAK, "other") if stranger else call.csv).encode(),
                      content_type="text/csv")
    return getattr(c, method.lower())(url, **kwargs)


def allowed(role: str, need: str) -> bool:
    if need in ("public", "login"):
        return True
    if need == "partner_admin" or need in ADMIN_ONLY:
        return role == "admin"
    return role == "admin" or need in ROLES[role]


def verdict(who: str, key: str, call: Call, r) -> str | None:
    """What is wrong with the answer `r` to `who`, or None."""
    text = r.get_data(as_text=True)
    code = (r.get_json(silent=True) or {}).get("error", {}).get("code") if r.is_json else None
    if r.status_code >= 500:
        return f"{r.status_code} {text[:200]}"
    if call.status is not None and r.status_code != call.status:
        return f"{r.status_code} where {call.status} was due: {text[:200]}"
    if who.startswith("stranger"):
        if LEAK in text.lower():
            return f"{r.status_code}: another partner's data in the answer: {text[:300]}"
        naming_ours = who == "stranger in ours" and call.need not in ("public", "login", "partner_admin")
        if (naming_ours or call.scoped) and r.status_code != 404:
            return f"{r.status_code} where another partner's id must be 404: {text[:200]}"
        return None
    if call.status is not None:
        return None
    if allowed(who, call.need):
        if r.status_code in (401, 403, 404):
            return f"{r.status_code} for an allowed call: {text[:200]}"
        return None
    if r.status_code != 403 or code != "forbidden":
        return f"{r.status_code} where 403 forbidden was due: {text[:200]}"
    return None


def test_every_endpoint_answers_each_role_as_the_role_table_says(client, rt, workspace, partner):
    app = client.application
    listed = endpoints(app)
    assert sorted(set(listed) - set(CALLS)) == [], "endpoints the matrix does not call yet: add them to CALLS"
    assert sorted(set(CALLS) - set(listed)) == [], "CALLS names endpoints the app does not have"

    world = World(rt, client, workspace, partner)
    callers = {"admin": client}
    for role in ROLES:
        callers[role] = identity.login_as(client, role, workspace)
    other = identity.make_partner(rt)
    stranger = identity.client_for(app, identity.make_user(rt, other, "admin"), workspace)
    callers["stranger in ours"] = stranger  # names this workspace
    callers["stranger in theirs"] = stranger  # acts in a new, empty workspace of their own with this one's ids

    wrong = []
    changed = True
    for key in listed:
        for who, c in callers.items():
            if changed:  # a GET changes nothing to put back: restoring after each cost ~30 % of this test
                world.restore()
            if who == "stranger in theirs":
                c = identity.twin(stranger)
                c.environ_base["HTTP_X_CROSSDOCK_WORKSPACE"] = tenancy.create(rt, other, fresh("theirs"), "Theirs")[0]["id"]
            r = request(c, key, CALLS[key], world, who.startswith("stranger"))
            changed = not key.startswith("GET ")
            problem = verdict(who, key, CALLS[key], r)
            if problem:
                wrong.append(f"{key} as {who}: {problem}")
    assert wrong == [], "\n".join(wrong)


def test_a_mapper_may_change_mappings_but_not_the_structure(client, workspace):
    assert client.post("/api/v1/flows", json=flow_doc("f2", "two")).status_code == 201
    mapper = identity.login_as(client, "mapper", workspace)
    doc = mapper.get("/api/v1/flows/f2").json["flow"]
    mapped = {**doc, "nodes": [{**n, "config": {"expression": "{'x': 1}"}} if n["id"] == "map" else n
                               for n in doc["nodes"]]}
    r = mapper.put("/api/v1/flows/f2", json=mapped)
    assert r.status_code == 200, r.json
    rewired = {**r.json["flow"], "edges": r.json["flow"]["edges"][:1]}
    r = mapper.put("/api/v1/flows/f2", json=rewired)
    assert r.status_code == 403 and r.json["error"]["code"] == "forbidden"
    assert any(d.get("code") == "edge_removed" for d in r.json["error"]["details"]), r.json
    renamed = {**mapped, "nodes": [{**n, "type": "transform.conform"} if n["id"] == "map" else n for n in doc["nodes"]]}
    assert mapper.put("/api/v1/flows/f2", json=renamed).status_code == 403
    assert client.get("/api/v1/flows/f2").json["flow"]["nodes"][1]["config"] == {"expression": "{'x': 1}"}


def test_the_matrix_knows_every_permission_a_view_asks_for(client):
    """The matrix's table and the views' decorators name the same permission for each endpoint, so a view
    guarded differently from the contract shows up by name, not only as a wrong status."""
    app = client.application
    found = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            mark = getattr(app.view_functions[rule.endpoint], access.ACCESS_MARK)
            plain = re.sub(r"<(?:[^>]*:)?(\w+)>", r"<\1>", rule.rule)
            for m in rule.methods - {"HEAD", "OPTIONS"}:
                found[f"{m} {plain}"] = mark[1] if mark[0] == "requires" else mark[0]
    expected = {k: c.need for k, c in CALLS.items()}
    expected["GET /api/v1/branding"] = expected["GET /api/v1/openapi.json"] = "public"
    differ = {k: (found.get(k), need) for k, need in expected.items()
              if not (found.get(k) == need or (isinstance(found.get(k), tuple) and need in found[k])
                      or (need == "partner_admin" and found.get(k) == "partner_admin")
                      or (need == "login" and found.get(k) == "login"))}
    assert differ == {}, differ
    assert set(accounts.ROLES) == set(ROLES)
